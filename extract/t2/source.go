package t2

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/calletl/calletl/load"
	"github.com/calletl/calletl/model"
	"github.com/calletl/calletl/pipeline"
)

// Name is the source name in the lake and in state.
const Name = "t2"

// Stream names.
const (
	StreamCallRecords = "call_records"
	StreamMissed      = "missed"
	StreamDailyStats  = "daily_stats"
)

var (
	_ pipeline.Source      = (*Source)(nil)
	_ pipeline.Snapshotter = (*Source)(nil)
)

var (
	_ pipeline.Source      = (*Source)(nil)
	_ pipeline.Snapshotter = (*Source)(nil)
)

// Source adapts the client to the pipeline: streams call_records, missed
// and daily_stats (account "company"), extracted by business-day windows,
// and a per-run snapshot of the employees.
type Source struct{ c *Client }

// NewSource returns the T2 source.
func NewSource(c *Client) *Source { return &Source{c: c} }

// Name returns "t2".
func (s *Source) Name() string { return Name }

// Concurrency is how many streams may run at once: the HTTP concurrency,
// at most the number of streams.
func (s *Source) Concurrency() int { return max(1, min(s.c.cfg.HTTP.Concurrency, 3)) }

// Streams lists call_records, missed and daily_stats.
func (s *Source) Streams() []model.StreamKey {
	return []model.StreamKey{
		{Source: Name, Stream: StreamCallRecords, Account: Account},
		{Source: Name, Stream: StreamMissed, Account: Account},
		{Source: Name, Stream: StreamDailyStats, Account: Account},
	}
}

// Tables lists the vendor tables this source writes.
func (s *Source) Tables() []load.TableInfo { return Tables() }

// Ping tests the tokens with one cheap call.
func (s *Source) Ping(ctx context.Context) error { return s.c.Ping(ctx) }

// Warnings reports token problems for `etl check`.
func (s *Source) Warnings(now time.Time) []string { return s.c.Warnings(now) }

// TokenRefreshedAt is when the token pair was last refreshed; zero when
// never (see TokenStore.RefreshedAt). The metrics export its age.
func (s *Source) TokenRefreshedAt() time.Time { return s.c.tokens.RefreshedAt() }

// Extract loads one window of one stream through sink. The pipeline covers
// the window's day, so re-extracting it replaces what an earlier run wrote.
func (s *Source) Extract(ctx context.Context, key model.StreamKey, w model.Window, sink *pipeline.Sink) (int64, error) {
	run := sink.Run()
	mc := MapContext{Business: run.Location, RunID: run.ID, ExtractedAt: run.StartedAt.UTC()}
	if mc.Business == nil {
		mc.Business = time.UTC
	}
	var (
		pages int64
		err   error
	)
	switch key.Stream {
	case StreamCallRecords:
		err = s.callRecords(ctx, w, sink, &mc, &pages)
	case StreamMissed:
		err = s.missed(ctx, w, sink, &mc, &pages)
	case StreamDailyStats:
		err = s.dailyStats(ctx, w, sink, &mc, &pages)
	default:
		err = fmt.Errorf("unknown stream %q", key.Stream)
	}
	if err != nil {
		return pages, fmt.Errorf("t2: %s window %s: %w", key.Stream, w, err)
	}
	return pages, nil
}

// MatchTolerance is how far apart a missed call's startDate and a call
// record's callTimestamp may be for the two to be the same call.
const MatchTolerance = 5 * time.Second

// callRecords writes calls and t2_calls, then adds to calls the missed MCN
// calls that no call record matches (see the package documentation). Rows
// are de-duplicated by natural key within the window (offset paging can
// repeat a row when calls arrive during the run).
func (s *Source) callRecords(ctx context.Context, w model.Window, sink *pipeline.Sink, mc *MapContext, pages *int64) error {
	details := pipeline.Detail(sink, CallsTable)
	seen := map[string]struct{}{}
	starts := map[string][]time.Time{} // caller (E.164) → call record starts
	err := s.c.CallRecords(ctx, w.From, w.To, mc.Business, func(p Page) error {
		*pages++
		for _, raw := range p.Rows {
			r, err := DecodeRecord(raw)
			var (
				c model.Call
				d Detail
			)
			if err == nil {
				c, d, err = Map(mc, &r)
			}
			if err == nil && d.Date != w.Day {
				err = fmt.Errorf("callTimestamp %s falls on %s, outside the requested window", r.CallTimestamp, d.Date)
			}
			if err != nil {
				if err := sink.Reject(w.Day, "call-records/info", err.Error(), string(raw)); err != nil {
					return err
				}
				continue
			}
			if _, dup := seen[d.CallID]; dup {
				continue
			}
			seen[d.CallID] = struct{}{}
			starts[c.Caller] = append(starts[c.Caller], c.StartedAt)
			if err := sink.Call(&c); err != nil {
				return err
			}
			if err := details.Add(d.Date, &d); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	// Missed MCN calls without a call record. Malformed rows are rejected
	// by the missed stream, not here.
	added := map[string]struct{}{}
	return s.c.Missing(ctx, w.From, w.To, mc.Business, func(p Page) error {
		*pages++
		for _, raw := range p.Rows {
			m, err := DecodeMissed(raw)
			if err != nil {
				continue
			}
			r, err := MapMissed(mc, &m)
			if err != nil || r.Date != w.Day {
				continue
			}
			if _, dup := added[r.ID]; dup || matches(starts[r.Caller], r.StartDate) {
				continue
			}
			added[r.ID] = struct{}{}
			c := MissedCall(mc, &r)
			if err := sink.Call(&c); err != nil {
				return err
			}
		}
		return nil
	})
}

// matches reports whether one of starts is within MatchTolerance of t.
func matches(starts []time.Time, t time.Time) bool {
	for _, s := range starts {
		if d := s.Sub(t); d <= MatchTolerance && d >= -MatchTolerance {
			return true
		}
	}
	return false
}

// missed writes t2_missed_calls; the calls rows of missed calls come from
// the call_records stream (see the package documentation).
func (s *Source) missed(ctx context.Context, w model.Window, sink *pipeline.Sink, mc *MapContext, pages *int64) error {
	out := pipeline.Records(sink, MissedTable)
	seen := map[string]struct{}{}
	return s.c.Missing(ctx, w.From, w.To, mc.Business, func(p Page) error {
		*pages++
		for _, raw := range p.Rows {
			m, err := DecodeMissed(raw)
			var r MissedRow
			if err == nil {
				r, err = MapMissed(mc, &m)
			}
			if err == nil && r.Date != w.Day {
				err = fmt.Errorf("startDate %s falls on %s, outside the requested window", m.StartDate, r.Date)
			}
			if err != nil {
				if err := sink.Reject(w.Day, "statistics/missing", err.Error(), string(raw)); err != nil {
					return err
				}
				continue
			}
			if _, dup := seen[r.ID]; dup {
				continue
			}
			seen[r.ID] = struct{}{}
			if err := out.Add(r.Date, &r); err != nil {
				return err
			}
		}
		return nil
	})
}

// dailyStats writes one t2_daily_stats row for the window's day.
func (s *Source) dailyStats(ctx context.Context, w model.Window, sink *pipeline.Sink, mc *MapContext, pages *int64) error {
	out := pipeline.Records(sink, DailyStatsTable)
	raw, err := s.c.CommonStats(ctx, w.From, w.To, mc.Business)
	if err != nil {
		return err
	}
	*pages++
	vals, err := parseStats(raw)
	if err != nil {
		return sink.Reject(w.Day, "statistics/common", err.Error(), string(raw))
	}
	row := DailyStatsRow{Date: w.Day, Start: w.From.UTC(), End: w.To.UTC(), Values: vals, Raw: string(raw), RunID: mc.RunID, ExtractedAt: mc.ExtractedAt}
	return out.Add(w.Day, &row)
}

// Snapshot records the employees, replaced per run day.
func (s *Source) Snapshot(ctx context.Context, begin pipeline.BeginFunc, run model.Run) (model.Counts, error) {
	var n model.Counts
	rows, err := s.c.Employees(ctx)
	if err != nil {
		return n, err
	}
	n.Pages++
	day := run.Day()
	now := run.StartedAt.UTC()
	tx, err := begin("employees")
	if err != nil {
		return n, err
	}
	defer tx.Abort()
	if err := tx.Cover(day); err != nil {
		return n, err
	}
	sink := pipeline.NewSink(tx, run, model.Origin{Key: model.StreamKey{Source: Name, Stream: "employees", Account: Account}})
	out := pipeline.Records(sink, EmployeesTable)
	for _, raw := range rows {
		e, err := mapEmployee(raw)
		if err != nil {
			if err := sink.Reject(day, "employees", err.Error(), string(raw)); err != nil {
				return n, err
			}
			continue
		}
		e.RunID, e.SnapshotAt = run.ID, now
		if err := out.Add(day, &e); err != nil {
			return n, err
		}
	}
	n.Add(sink.Counts())
	_, err = tx.Commit()
	return n, err
}

func mapEmployee(raw json.RawMessage) (EmployeeRow, error) {
	var id string
	e := EmployeeRow{Raw: string(raw)}
	if _, err := fields(raw, map[string]*string{
		"employeeId": &id, "name": &e.Name, "surname": &e.Surname,
		"fullNumber": &e.FullNumber, "shortNumber": &e.ShortNumber, "email": &e.Email,
	}, nil); err != nil {
		return e, err
	}
	if id == "" {
		return e, fmt.Errorf("employeeId is missing")
	}
	v, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return e, fmt.Errorf("employeeId %q is not an integer", id)
	}
	e.EmployeeID.V, e.EmployeeID.Valid = v, true
	return e, nil
}
