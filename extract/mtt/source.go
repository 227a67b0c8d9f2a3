package mtt

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/calletl/calletl/extract/httpx"
	"github.com/calletl/calletl/load"
	"github.com/calletl/calletl/model"
	"github.com/calletl/calletl/pipeline"
	"github.com/calletl/calletl/transform"
)

// Name is the source name in the lake and in state.
const Name = "mtt"

var (
	_ pipeline.Source             = (*Source)(nil)
	_ pipeline.Snapshotter        = (*Source)(nil)
	_ pipeline.AccountSnapshotter = (*Source)(nil)
)

// Source adapts the client to the pipeline: one stream per (history type,
// customer), extracted by business-day windows, plus per-run snapshots of
// accounts and balances.
type Source struct{ c *Client }

// NewSource returns the MTT source.
func NewSource(c *Client) *Source { return &Source{c: c} }

// Name returns "mtt".
func (s *Source) Name() string { return Name }

// Concurrency is how many streams may run at once: the HTTP client's
// request concurrency, so no stream waits on a slot for long.
func (s *Source) Concurrency() int { return max(1, s.c.cfg.HTTP.Concurrency) }

// Streams lists (type, customer) pairs, types in API order.
func (s *Source) Streams() []model.StreamKey {
	var keys []model.StreamKey
	for _, cust := range s.c.cfg.Customers {
		for _, typ := range s.c.cfg.Types {
			keys = append(keys, model.StreamKey{Source: Name, Stream: typ, Account: cust})
		}
	}
	return keys
}

// Tables lists the detail tables this source writes.
func (s *Source) Tables() []load.TableInfo { return Tables() }

// Ping tests the credentials with one cheap call.
func (s *Source) Ping(ctx context.Context) error { return s.c.Ping(ctx) }

// ProbeAccounts lists the configured customers, each of which `etl check`
// probes with PingAccount.
func (s *Source) ProbeAccounts() []string { return s.c.cfg.Customers }

// PingAccount reads one customer's balance. A customer with no data
// answers -32001: the credentials work, so the error wraps ErrNoData for
// the caller to report as a warning rather than a failure.
func (s *Source) PingAccount(ctx context.Context, customer string) error {
	_, err := s.c.Balance(ctx, customer)
	return err
}

// Extract loads one window of one stream through sink: canonical calls,
// mtt_calls, and rejects for rows that fail validation. The pipeline covers
// the window's day, so re-extracting it replaces what an earlier run wrote.
func (s *Source) Extract(ctx context.Context, key model.StreamKey, w model.Window, sink *pipeline.Sink) (int64, error) {
	details := pipeline.Detail(sink, CallsTable)
	run := sink.Run()
	mc := MapContext{
		Customer: key.Account, Type: key.Stream,
		Vendor: s.c.cfg.Vendor, Business: run.Location,
		RunID: run.ID, ExtractedAt: run.StartedAt.UTC(),
	}
	reject := func(raw []byte, reason string) error {
		return sink.Reject(w.Day, "getServiceHistoryByCustomer", reason, string(raw))
	}
	var (
		pages int64
		c     model.Call // reused: one allocation per window, not two per row
		d     Detail
		err   error
	)
	err = s.c.History(ctx, key.Account, key.Stream, w.From, w.To, func(p Page) error {
		pages++
		for i := range p.Rows {
			c, d, err = Map(&mc, &p.Rows[i])
			if err == nil && c.Date != w.Day {
				err = fmt.Errorf("connect_time %s falls on %s, outside the requested window", p.Rows[i].ConnectTime, c.Date)
			}
			if err != nil {
				if err := reject(p.Rows[i].Raw, err.Error()); err != nil {
					return err
				}
				continue
			}
			if err := sink.Call(&c); err != nil {
				return err
			}
			if err := details.Add(d.Date, &d); err != nil {
				return err
			}
		}
		for i := range p.Broken {
			if err := reject(p.Broken[i].Raw, errNotObject.Error()); err != nil {
				return err
			}
		}
		// c and d share the page body's memory, released after fn.
		c, d = model.Call{}, Detail{}
		return nil
	})
	if err != nil {
		return pages, fmt.Errorf("mtt: %s %s window %s: %w", key.Stream, key.Account, w, err)
	}
	return pages, nil
}

// Snapshot records every customer's accounts (replaced per run day) and
// balance (one row per run). Errors of one customer do not stop the others,
// except one fatal for the source (refused credentials), which all would meet.
func (s *Source) Snapshot(ctx context.Context, begin pipeline.BeginFunc, run model.Run) (model.Counts, error) {
	var n model.Counts
	var errs []error
	for _, cust := range s.c.cfg.Customers {
		c, err := s.SnapshotAccount(ctx, begin, run, cust)
		n.Add(c)
		if err != nil {
			errs = append(errs, err)
			if httpx.IsFatal(err) {
				break
			}
		}
	}
	return n, errors.Join(errs...)
}

// SnapshotAccounts lists the customers Snapshot covers: a sharded run
// spreads their snapshots over its shards.
func (s *Source) SnapshotAccounts() []string { return s.c.cfg.Customers }

// SnapshotAccount records one customer's accounts and balance, as
// Snapshot does for each.
func (s *Source) SnapshotAccount(ctx context.Context, begin pipeline.BeginFunc, run model.Run, cust string) (model.Counts, error) {
	var n model.Counts
	now := run.StartedAt.UTC()
	day := run.Day()
	err1 := s.snapshotAccounts(ctx, begin, run, cust, day, now, &n)
	if httpx.IsFatal(err1) {
		return n, err1 // the balance would be refused too
	}
	err2 := s.snapshotBalance(ctx, begin, run, cust, day, now, &n)
	return n, errors.Join(err1, err2)
}

func (s *Source) snapshotAccounts(ctx context.Context, begin pipeline.BeginFunc, run model.Run, cust, day string, now time.Time, n *model.Counts) error {
	accounts, err := s.c.Accounts(ctx, cust)
	if errors.Is(err, ErrNoData) {
		accounts, err = nil, nil // a customer with no numbers
	}
	if err != nil {
		return fmt.Errorf("mtt: accounts of %s: %w", cust, err)
	}
	rows := make([]AccountRow, len(accounts))
	for i, a := range accounts {
		rows[i] = AccountRow{Customer: cust, AccountNumber: a.Number, Status: a.Status, RunID: run.ID, SnapshotAt: now}
		if t, err := time.ParseInLocation("02.01.2006 15:04:05", a.ActivationDate, s.c.cfg.Vendor); err == nil {
			rows[i].ActivationDate = sql.Null[time.Time]{V: t.UTC(), Valid: true}
		}
	}
	n.Pages++
	if err := pipeline.WriteSnapshot(begin, "accounts-"+cust, day, AccountsTable, rows); err != nil {
		return err
	}
	n.Rows += int64(len(rows))
	return nil
}

// snapshotBalance records the customer's balance. A customer with no data
// answers -32001 to getCustomerBalance as it does to the history and
// account calls: that is "no balance", not a failure. It is recorded as an
// mtt_balances row whose balance and real_balance are NULL — finance can
// tell "asked, MTT has none" (that row) from "not taken" (no row, and a
// failed snapshot in runs) — and no row in the canonical balances table,
// where a balance movement is computed only between known balances.
func (s *Source) snapshotBalance(ctx context.Context, begin pipeline.BeginFunc, run model.Run, cust, day string, now time.Time, n *model.Counts) error {
	b, err := s.c.Balance(ctx, cust)
	if errors.Is(err, ErrNoData) {
		s.c.log.Warn("no balance: getCustomerBalance answered -32001 Data not found (a customer with no data yet, "+
			"or a name MTT does not know: check sources.mtt.customers)", "source", Name, "customer", cust)
		b, err = Balance{}, nil
	}
	if err != nil {
		return fmt.Errorf("mtt: balance of %s: %w", cust, err)
	}
	row := BalanceRow{Customer: cust, Currency: "RUB", RunID: run.ID, TakenAt: now, Raw: b.Raw}
	row.PendingPayment = s.pendingPayment(cust, b.PendingPayment)
	for _, f := range []struct {
		text string
		dst  *sql.Null[model.Money]
	}{{b.Balance, &row.Balance}, {b.RealBalance, &row.RealBalance}} {
		if f.text == "" {
			continue
		}
		m, err := transform.Money(f.text)
		if err != nil {
			return fmt.Errorf("mtt: balance of %s: %w", cust, err)
		}
		*f.dst = sql.Null[model.Money]{V: m, Valid: true}
	}
	tx, err := begin("balance-" + cust + "-" + run.ID)
	if err != nil {
		return err
	}
	defer tx.Abort()
	if err := load.Writer(tx, BalancesTable).Add(day, &row); err != nil {
		return err
	}
	// The canonical row finance joins across vendors: only a known balance.
	canonical := load.Writer(tx, load.Balances)
	if row.Balance.Valid {
		if err := canonical.Add(day, &model.Balance{Source: Name, Date: day, Account: cust, Balance: row.Balance.V,
			Currency: row.Currency, Raw: b.Balance, RunID: run.ID, TakenAt: now}); err != nil {
			return err
		}
	}
	n.Pages++
	n.Rows++
	_, err = tx.Commit()
	return err
}
