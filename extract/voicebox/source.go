package voicebox

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/calletl/calletl/load"
	"github.com/calletl/calletl/model"
	"github.com/calletl/calletl/pipeline"
)

// Name is the source name in the lake and in state.
const Name = "voicebox"

// Stream is the one stream of every customer.
const Stream = "callhistory"

// HistoryEndpoint names the call history endpoint in rejects.
const HistoryEndpoint = "GET /customers/{id}/callhistory"

var (
	_ pipeline.Source      = (*Source)(nil)
	_ pipeline.Snapshotter = (*Source)(nil)
)

// Source adapts the client to the pipeline: one stream per customer
// ("callhistory"), extracted by business-day windows from one read of the
// customer's whole history per run, and a per-run snapshot of campaigns
// and balances. It is safe for concurrent use.
type Source struct {
	c *Client

	mu   sync.Mutex
	hist map[string]*history // by customer
}

// NewSource returns the VoiceBox source.
func NewSource(c *Client) *Source { return &Source{c: c, hist: make(map[string]*history)} }

// Name returns "voicebox".
func (s *Source) Name() string { return Name }

// Concurrency is how many customers may be extracted at once: the HTTP
// client's request concurrency. Each holds its history in memory (see the
// package documentation).
func (s *Source) Concurrency() int { return max(1, s.c.cfg.HTTP.Concurrency) }

// Streams lists one callhistory stream per customer, in configuration order.
func (s *Source) Streams() []model.StreamKey {
	keys := make([]model.StreamKey, 0, len(s.c.cfg.Customers))
	for _, cust := range s.c.cfg.Customers {
		keys = append(keys, model.StreamKey{Source: Name, Stream: Stream, Account: cust})
	}
	return keys
}

// Tables lists the detail tables this source writes.
func (s *Source) Tables() []load.TableInfo { return Tables() }

// Ping obtains a token and reads one row of the first customer's campaigns.
func (s *Source) Ping(ctx context.Context) error { return s.c.Ping(ctx) }

// ProbeAccounts lists the configured customers, each of which `etl check`
// probes with PingAccount.
func (s *Source) ProbeAccounts() []string { return s.c.cfg.Customers }

// PingAccount obtains a token and reads one row of customer's campaigns.
func (s *Source) PingAccount(ctx context.Context, customer string) error {
	return s.c.list(ctx, customer, ListCampaigns, 1, 1, func(Page) error { return nil })
}

// history is one customer's call history as read once in one run, bucketed
// by business day. Windows take their day's bucket; rows of days before the
// first window are not kept.
type history struct {
	mu          sync.Mutex // held for a whole Extract: one window of a customer at a time
	runID       string
	loaded      bool
	first       string // earliest day kept
	undatedDay  string // the window that gets the rows without a day; "" = none
	undatedDone bool
	pages       int64
	days        map[string]*bucket
	taken       map[string]bool
	undated     []pending
}

// bucket is what one day's window writes.
type bucket struct {
	rows    []Row
	rejects []pending
}

// pending is a reject waiting for its window.
type pending struct {
	raw    []byte
	reason string
}

// entry returns the customer's history of run runID, replacing one of an
// earlier run.
func (s *Source) entry(customer, runID string) *history {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := s.hist[customer]
	if h == nil || h.runID != runID {
		h = &history{runID: runID}
		s.hist[customer] = h
	}
	return h
}

// Extract writes the window's day of one customer's call history through
// the sink: canonical calls, voicebox_calls and rejects. The first window of a run
// (and any window the cache cannot serve: an earlier day, or a day taken
// already) reads the customer's whole history; later windows of the run
// use what it read. The pipeline covers the window's day, so re-extracting
// it replaces what an earlier run wrote.
func (s *Source) Extract(ctx context.Context, key model.StreamKey, w model.Window, sink *pipeline.Sink) (int64, error) {
	var pages int64
	if key.Source != Name || key.Stream != Stream {
		return 0, fmt.Errorf("voicebox: unknown stream %s", key)
	}
	details := pipeline.Detail(sink, CallsTable)
	run := sink.Run()
	if run.Location == nil {
		run.Location = time.UTC
	}
	h := s.entry(key.Account, run.ID)
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.loaded || w.Day < h.first || h.taken[w.Day] {
		if err := h.load(ctx, s.c, key.Account, w.Day, run); err != nil {
			return 0, fmt.Errorf("voicebox: callhistory %s window %s: %w", key.Account, w.Day, err)
		}
		pages = h.pages
	}
	b := h.days[w.Day]
	delete(h.days, w.Day)
	h.taken[w.Day] = true

	mc := MapContext{Customer: key.Account, Business: run.Location, RunID: run.ID, ExtractedAt: run.StartedAt.UTC()}
	reject := func(p pending) error {
		return sink.Reject(w.Day, HistoryEndpoint, p.reason, string(p.raw))
	}
	if b != nil {
		for i := range b.rows {
			c, d := Map(&mc, &b.rows[i])
			if err := sink.Call(&c); err != nil {
				return pages, err
			}
			if err := details.Add(d.Date, &d); err != nil {
				return pages, err
			}
		}
		for _, p := range b.rejects {
			if err := reject(p); err != nil {
				return pages, err
			}
		}
	}
	if w.Day == h.undatedDay && !h.undatedDone {
		for _, p := range h.undated {
			if err := reject(p); err != nil {
				return pages, err
			}
		}
		h.undatedDone = true
	}
	if run.Mode == "run" && w.Day >= run.Day() {
		// The nightly run's last window: free the rows. A later window
		// (none is expected) would read the history again.
		h.loaded, h.days, h.undated = false, nil, nil
	}
	return pages, nil
}

// load reads the customer's whole history and buckets it by business day,
// keeping the days from first on. Rows without a usable start time wait
// for the window of the run's own day (a nightly run's last window); a
// backfill does not write them (the nightly run does, once).
func (h *history) load(ctx context.Context, c *Client, customer, first string, run model.Run) error {
	h.loaded, h.first, h.pages = false, first, 0
	h.days, h.taken, h.undated, h.undatedDone = make(map[string]*bucket), make(map[string]bool), nil, false
	h.undatedDay = "" // a backfill leaves them to the nightly run
	if run.Mode == "run" {
		h.undatedDay = run.Day()
	}
	at := func(day string) *bucket {
		b := h.days[day]
		if b == nil {
			b = &bucket{}
			h.days[day] = b
		}
		return b
	}
	seen := make(map[string][sha256.Size]byte) // call id → row hash
	undatedSeen := make(map[[sha256.Size]byte]bool)
	err := c.List(ctx, customer, ListCallHistory, func(p Page) error {
		h.pages++
		for _, raw := range p.Rows {
			sum := sha256.Sum256(raw)
			r, err := LiftRow(raw, c.cfg.Vendor)
			if r.Start.IsZero() {
				if !undatedSeen[sum] { // a row repeated by a shifting list is one reject
					undatedSeen[sum] = true
					h.undated = append(h.undated, pending{raw: bytes.Clone(raw), reason: err.Error()})
				}
				continue
			}
			day := model.Day(r.Start, run.Location)
			if day < first {
				continue
			}
			if err != nil {
				at(day).rejects = append(at(day).rejects, pending{raw: bytes.Clone(raw), reason: err.Error()})
				continue
			}
			if prev, dup := seen[r.ID]; dup {
				// The list shifted between pages (newer calls arrived) and
				// served the row again: the same row is skipped, a
				// different row with the same id is rejected.
				if prev != sum {
					at(day).rejects = append(at(day).rejects, pending{raw: bytes.Clone(raw),
						reason: fmt.Sprintf("duplicate call id %q with different content: the first row read is kept", r.ID)})
				}
				continue
			}
			seen[r.ID] = sum
			r.Raw = bytes.Clone(raw)
			at(day).rows = append(at(day).rows, r)
		}
		return nil
	})
	if err != nil {
		h.days, h.undated = nil, nil
		return err
	}
	h.loaded = true
	return nil
}

// Snapshot records every customer's campaigns, customer object and numbers
// with their monthly fees (each replaced per run day) and balance (one
// canonical balances row per run). Errors of one customer do not stop the
// others.
func (s *Source) Snapshot(ctx context.Context, begin pipeline.BeginFunc, run model.Run) (model.Counts, error) {
	var n model.Counts
	var errs []error
	now := run.StartedAt.UTC()
	day := run.Day()
	for _, cust := range s.c.cfg.Customers {
		if err := ctx.Err(); err != nil {
			errs = append(errs, err)
			break
		}
		if err := s.snapshotCampaigns(ctx, begin, run, cust, day, now, &n); err != nil {
			errs = append(errs, err)
			if errors.Is(err, ErrAuth) {
				break // refused credentials: every request would be
			}
		}
		if err := s.snapshotBalance(ctx, begin, run, cust, day, now, &n); err != nil {
			errs = append(errs, err)
		}
		if err := s.snapshotCustomer(ctx, begin, run, cust, day, now, &n); err != nil {
			errs = append(errs, err)
		}
		if err := s.snapshotNumbers(ctx, begin, run, cust, day, now, &n); err != nil {
			errs = append(errs, err)
		}
	}
	return n, errors.Join(errs...)
}

// snapshotCampaigns reads both campaign lists, then replaces the
// customer's campaigns file of the run's day.
func (s *Source) snapshotCampaigns(ctx context.Context, begin pipeline.BeginFunc, run model.Run, cust, day string, now time.Time, n *model.Counts) error {
	var rows []CampaignRow
	var pages int64
	for _, l := range []struct{ list, listedIn string }{{ListCampaigns, "campaigns"}, {ListHistoryCamp, "callhistory"}} {
		seen := make(map[[sha256.Size]byte]bool)
		err := s.c.List(ctx, cust, l.list, func(p Page) error {
			pages++
			for _, raw := range p.Rows {
				sum := sha256.Sum256(raw)
				if seen[sum] {
					continue
				}
				seen[sum] = true
				r, _ := LiftCampaign(raw) // a row that is not an object is kept, raw, under its hash
				if r.CampaignID == "" {
					r.CampaignID = HashID(raw)
				}
				r.Customer, r.ListedIn, r.RunID, r.SnapshotAt = cust, l.listedIn, run.ID, now
				rows = append(rows, r)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("voicebox: %s of %s: %w", l.list, cust, err)
		}
	}
	if err := pipeline.WriteSnapshot(begin, "campaigns-"+cust, day, CampaignsTable, rows); err != nil {
		return fmt.Errorf("voicebox: campaigns of %s: %w", cust, err)
	}
	n.Pages += pages
	n.Rows += int64(len(rows))
	return nil
}

// snapshotBalance writes the customer's balance as one canonical balances
// row in its own unit, so every run keeps its reading.
func (s *Source) snapshotBalance(ctx context.Context, begin pipeline.BeginFunc, run model.Run, cust, day string, now time.Time, n *model.Counts) error {
	body, err := s.c.Balance(ctx, cust)
	if err != nil {
		return fmt.Errorf("voicebox: balance of %s: %w", cust, err)
	}
	amount, raw, currency, err := LiftBalance(body)
	if err != nil {
		return fmt.Errorf("voicebox: balance of %s: %w", cust, err)
	}
	if err := pipeline.WriteBalance(begin, "balance-"+cust+"-"+run.ID, model.Balance{Source: Name, Date: day, Account: cust,
		Balance: amount, Currency: currency, Raw: raw, RunID: run.ID, TakenAt: now}); err != nil {
		return fmt.Errorf("voicebox: balance of %s: %w", cust, err)
	}
	n.Pages++
	n.Rows++
	return nil
}
