package mobilgroup

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/calletl/calletl/extract/itemids"
	"github.com/calletl/calletl/load"
	"github.com/calletl/calletl/model"
	"github.com/calletl/calletl/pipeline"
)

var (
	_ pipeline.ItemSource  = (*Source)(nil)
	_ pipeline.Snapshotter = (*Source)(nil)
)

// Source adapts the client to the pipeline as an item source whose items
// are broadcasts, extracted whole on every run until final, and as a
// snapshotter of the account balance.
type Source struct{ c *Client }

// NewSource returns the Mobilgroup source. The business zone (the date
// partition) comes from each run's Location.
func NewSource(c *Client) *Source { return &Source{c: c} }

// Name returns "mobilgroup".
func (s *Source) Name() string { return Name }

// Kind returns "broadcast".
func (s *Source) Kind() string { return Kind }

// Concurrency is how many broadcasts may be extracted at once: the HTTP
// concurrency (one request per broadcast).
func (s *Source) Concurrency() int { return max(1, s.c.cfg.HTTP.Concurrency) }

// Tables lists the vendor tables this source writes.
func (s *Source) Tables() []load.TableInfo { return Tables() }

// Ping requests the balance once.
func (s *Source) Ping(ctx context.Context) error { return s.c.Ping(ctx) }

// Items returns, sorted and without duplicates, Config.BroadcastIDs, the
// ids in Config.IDsFile (read now; a missing file has none) and pending.
// File and pending ids that are not valid keys are dropped with a warning.
func (s *Source) Items(ctx context.Context, pending []string) ([]string, error) {
	keys := slices.Clone(s.c.cfg.BroadcastIDs)
	if s.c.cfg.IDsFile != "" {
		ids, err := ReadIDsFile(s.c.cfg.IDsFile)
		if err != nil {
			return nil, fmt.Errorf("%s: ids file: %w", Name, err)
		}
		for _, id := range ids {
			if !ValidKey(id) {
				s.c.log.Warn("ignoring an invalid broadcast id in the ids file", "file", s.c.cfg.IDsFile, "id", id)
				continue
			}
			keys = append(keys, id)
		}
	}
	for _, k := range pending {
		if !ValidKey(k) {
			s.c.log.Warn("ignoring a pending broadcast id that is not a valid key", "broadcast", k)
			continue
		}
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return slices.Compact(keys), nil
}

// ReadIDsFile reads an ids file (itemids.ReadFile): one id per line,
// whitespace trimmed, blank lines and everything from a '#' to the end of
// the line ignored. A missing file has no ids and is not an error.
func ReadIDsFile(path string) ([]string, error) { return itemids.ReadFile(path) }

// ExtractItem requests the state of broadcast key and writes its
// mobilgroup_broadcasts row, a mobilgroup_calls row per subscriber, a
// canonical calls row per subscriber with a date, and rejects for
// subscribers that fail validation. final is true when the broadcast has at
// least one subscriber, every one is final (SubscriberFinal by the run's
// clock, run.StartedAt: no redial can still come) and none was rejected.
func (s *Source) ExtractItem(ctx context.Context, key string, sink *pipeline.Sink) (int64, bool, error) {
	var pages int64
	run := sink.Run()
	sink.SetAccount(s.c.cfg.Account)
	mc := MapContext{Vendor: s.c.cfg.Vendor, Business: run.Location, Account: s.c.cfg.Account,
		RunID: run.ID, ExtractedAt: run.StartedAt.UTC(), Now: run.StartedAt, RedialWindow: s.c.cfg.RedialWindow}
	if mc.Business == nil {
		mc.Business = time.UTC
	}
	if run.Location == nil {
		run.Location = time.UTC
	}
	fail := func(err error) (int64, bool, error) {
		return pages, false, fmt.Errorf("%s: broadcast %s: %w", Name, key, err)
	}
	// Register every table first: the transaction then replaces them in
	// every covered date even when this extraction writes none of their rows.
	// The records are the subscribers (mobilgroup_calls): one without a
	// date has no calls row.
	broadcasts := pipeline.Detail(sink, BroadcastsTable)
	details := pipeline.Records(sink, CallsTable)

	st, err := s.c.State(ctx, key)
	if errors.Is(err, ErrNotFound) {
		// A mistyped id stays wrong: say so once, then stop polling it.
		return pages, false, fmt.Errorf("%w (%w)", err, pipeline.ErrItemGone)
	}
	if err != nil {
		return pages, false, err // already "mobilgroup: api/get state <id>: …"
	}
	pages++
	if id := strings.TrimSpace(st.ID); id != "" && id != key {
		return fail(fmt.Errorf("the state answer is for broadcast %q", st.ID))
	}
	row := BroadcastRow{BroadcastID: key, ByStatus: map[string]int64{}, Extras: fieldsJSON(st.Extras),
		RunID: run.ID, ExtractedAt: mc.ExtractedAt}
	if row.Phones, err = parseCount("phones", st.Phones); err != nil {
		return fail(err)
	}
	if row.Budget, err = ParseMoney(st.Budget); err != nil {
		return fail(fmt.Errorf("budget: %w", err))
	}

	type mapped struct {
		row  CallRow
		call *model.Call
		err  error
	}
	subs := make([]mapped, len(st.Subscribers))
	var good []CallRow
	for i := range st.Subscribers {
		r, c, err := Map(&mc, key, &st.Subscribers[i])
		subs[i] = mapped{r, c, err}
		if err == nil {
			good = append(good, r)
		}
	}
	day := BroadcastDay(good, &mc, run)
	row.Date = day
	if err := sink.Cover(day); err != nil {
		return fail(err)
	}

	final := len(subs) > 0
	unknown := map[string]bool{}
	var legsOver, redials int
	var redialsUntil time.Time
	for i := range subs {
		m := &subs[i]
		row.Subscribers++
		if m.err != nil {
			row.Rejected++
			final = false
			if err := sink.Reject(day, "api/get state", m.err.Error(), st.Subscribers[i].Raw); err != nil {
				return fail(err)
			}
			continue
		}
		r := &m.row
		if r.Date == "" {
			r.Date = day
		}
		row.ByStatus[r.Status]++
		if r.Status == StatusUnknown && !unknown[r.StatusText] {
			unknown[r.StatusText] = true
			s.c.log.Warn("unknown subscriber status: the broadcast stays pending until the mapping knows it",
				"broadcast", key, "status", r.StatusText)
		}
		if !r.Final {
			final = false
			if FinalStatus(r.Status) && !r.CalledAt.IsZero() {
				redials++
				if t := r.CalledAt.Add(s.c.cfg.RedialWindow); t.After(redialsUntil) {
					redialsUntil = t
				}
			}
		}
		if r.Price.Valid {
			row.PriceTotal += r.Price.V
			if r.LegsPrice() > r.Price.V {
				legsOver++
			}
		}
		if t := r.CalledAt; !t.IsZero() {
			row.Called++
			if row.FirstCalledAt.IsZero() || t.Before(row.FirstCalledAt) {
				row.FirstCalledAt = t
			}
			if t.After(row.LastCalledAt) {
				row.LastCalledAt = t
			}
		}
		if err := details.Add(r.Date, r); err != nil {
			return fail(err)
		}
		if m.call != nil {
			if err := sink.Call(m.call); err != nil {
				return fail(err)
			}
		}
	}
	if legsOver > 0 {
		s.c.log.Warn("subscriber prices below their transfer and SMS prices: the document's accounting (price includes the legs) may not hold",
			"broadcast", key, "subscribers", legsOver)
	}
	if redials > 0 {
		s.c.log.Info("broadcast kept pending: not-answered subscribers may still be redialled",
			"broadcast", key, "subscribers", redials, "until", redialsUntil.Format(time.RFC3339))
	}
	row.Final = final
	if err := broadcasts.Add(day, &row); err != nil {
		return fail(err)
	}
	return pages, final, nil
}

// Snapshot requests the balance and writes one canonical balances row for
// the run, in its own lake transaction (unit "balance-<run id>"), on the
// run's day.
func (s *Source) Snapshot(ctx context.Context, begin pipeline.BeginFunc, run model.Run) (model.Counts, error) {
	var n model.Counts
	now := run.StartedAt.UTC()
	if run.Location == nil {
		run.Location = time.UTC
	}
	day := run.Day()
	b, err := s.c.Balance(ctx)
	if err != nil {
		return n, err // already "mobilgroup: api/get balance: …"
	}
	n.Pages++
	m, err := ParseMoney(b.Balance)
	if err == nil && !m.Valid {
		err = errors.New("empty")
	}
	if err != nil {
		return n, fmt.Errorf("%s: balance %q: %w", Name, b.Balance, err)
	}
	if err := pipeline.WriteBalance(begin, "balance-"+run.ID, model.Balance{Source: Name, Date: day, Account: s.c.cfg.Account,
		Balance: m.V, Currency: CurrencyCode(b.Currency), Raw: b.Balance, RunID: run.ID, TakenAt: now}); err != nil {
		return n, err
	}
	n.Rows++
	return n, nil
}

// CurrencyCode turns the balance answer's currency ("Rub") into an ISO 4217
// code: upper case; "РУБ", "RUR" and "" are RUB.
func CurrencyCode(s string) string {
	c := strings.ToUpper(strings.TrimSuffix(strings.TrimSpace(s), "."))
	switch c {
	case "", "РУБ", "RUR", "РУБЛЬ", "РУБЛИ", "РУБЛЕЙ":
		return Currency
	}
	return c
}
