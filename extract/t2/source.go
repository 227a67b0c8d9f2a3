package t2

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/calletl/calletl/extract/httpx"
	"github.com/calletl/calletl/load"
	"github.com/calletl/calletl/model"
	"github.com/calletl/calletl/pipeline"
	"github.com/calletl/calletl/transform"
)

// Name is the source name in the lake and in state.
const Name = "t2"

// Stream names.
const (
	StreamCallRecords = "call_records"
	StreamMissed      = "missed"
	StreamDailyStats  = "daily_stats"
	// StreamJournal writes t2_journal and StreamEmployeeStats
	// t2_employee_stats: one request per employee number and day each.
	StreamJournal       = "journal"
	StreamEmployeeStats = "employee_stats"
)

var (
	_ pipeline.Source      = (*Source)(nil)
	_ pipeline.Snapshotter = (*Source)(nil)
)

// Source adapts the client to the pipeline: streams call_records, missed,
// daily_stats, journal and employee_stats (account "company"), extracted
// by business-day windows, and a per-run snapshot of the employees and the
// managers.
type Source struct {
	c *Client

	// numbers caches the employee numbers of one run for journal and
	// employee_stats (see employeeNumbers).
	mu      sync.Mutex
	numsRun string
	nums    []employeeNumber
}

// NewSource returns the T2 source.
func NewSource(c *Client) *Source { return &Source{c: c} }

// Name returns "t2".
func (s *Source) Name() string { return Name }

// Concurrency is how many streams may run at once: the HTTP concurrency,
// at most the number of streams.
func (s *Source) Concurrency() int {
	return max(1, min(s.c.cfg.HTTP.Concurrency, len(s.Streams())))
}

// Streams lists call_records, missed, daily_stats and, unless
// per_number_stats is off, journal and employee_stats.
func (s *Source) Streams() []model.StreamKey { return streams(s.c.cfg.PerNumberStats) }

func streams(perNumber bool) []model.StreamKey {
	keys := []model.StreamKey{
		{Source: Name, Stream: StreamCallRecords, Account: Account},
		{Source: Name, Stream: StreamMissed, Account: Account},
		{Source: Name, Stream: StreamDailyStats, Account: Account},
	}
	if perNumber {
		keys = append(keys,
			model.StreamKey{Source: Name, Stream: StreamJournal, Account: Account},
			model.StreamKey{Source: Name, Stream: StreamEmployeeStats, Account: Account})
	}
	return keys
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
	case StreamJournal, StreamEmployeeStats:
		err = s.perNumber(ctx, key.Stream, w, sink, &mc, &pages)
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

// Snapshot records the employees and the managers, each replaced per run
// day. The employees' numbers serve the run's journal and employee_stats
// windows.
func (s *Source) Snapshot(ctx context.Context, begin pipeline.BeginFunc, run model.Run) (model.Counts, error) {
	var n model.Counts
	err1 := s.snapshotEmployees(ctx, begin, run, &n)
	if httpx.IsFatal(err1) {
		return n, err1 // the managers would be refused too
	}
	err2 := s.snapshotManagers(ctx, begin, run, &n)
	return n, errors.Join(err1, err2)
}

func (s *Source) snapshotEmployees(ctx context.Context, begin pipeline.BeginFunc, run model.Run, n *model.Counts) error {
	rows, err := s.c.Employees(ctx)
	if err != nil {
		return err
	}
	n.Pages++
	day := run.Day()
	now := run.StartedAt.UTC()
	tx, err := begin("employees")
	if err != nil {
		return err
	}
	defer tx.Abort()
	if err := tx.Cover(day); err != nil {
		return err
	}
	sink := pipeline.NewSink(tx, run, model.Origin{Key: model.StreamKey{Source: Name, Stream: "employees", Account: Account}})
	out := pipeline.Records(sink, EmployeesTable)
	var emps []EmployeeRow
	for _, raw := range rows {
		e, err := mapEmployee(raw)
		if err != nil {
			if err := sink.Reject(day, "employees", err.Error(), string(raw)); err != nil {
				return err
			}
			continue
		}
		e.RunID, e.SnapshotAt = run.ID, now
		if err := out.Add(day, &e); err != nil {
			return err
		}
		emps = append(emps, e)
	}
	n.Add(sink.Counts())
	if _, err = tx.Commit(); err != nil {
		return err
	}
	s.remember(run.ID, emps)
	return nil
}

// snapshotManagers records GET /managers into t2_managers: one row per
// customer (see DecodeManager); invalid managers and customers are
// rejects.
func (s *Source) snapshotManagers(ctx context.Context, begin pipeline.BeginFunc, run model.Run, n *model.Counts) error {
	rows, err := s.c.Managers(ctx)
	if err != nil {
		return err
	}
	n.Pages++
	day := run.Day()
	now := run.StartedAt.UTC()
	tx, err := begin("managers")
	if err != nil {
		return err
	}
	defer tx.Abort()
	if err := tx.Cover(day); err != nil {
		return err
	}
	sink := pipeline.NewSink(tx, run, model.Origin{Key: model.StreamKey{Source: Name, Stream: "managers", Account: Account}})
	out := pipeline.Records(sink, ManagersTable)
	seen := map[int64]bool{}
	for _, raw := range rows {
		ms, rejects, err := DecodeManager(raw)
		if err == nil && len(ms) > 0 && seen[ms[0].ManagerID] {
			err = fmt.Errorf("manager %d is listed twice", ms[0].ManagerID)
		}
		if err != nil {
			if err := sink.Reject(day, "managers", err.Error(), string(raw)); err != nil {
				return err
			}
			continue
		}
		for _, r := range rejects {
			if err := sink.Reject(day, "managers", r.Reason, string(r.Raw)); err != nil {
				return err
			}
		}
		for i := range ms {
			seen[ms[i].ManagerID] = true
			ms[i].RunID, ms[i].SnapshotAt = run.ID, now
			if err := out.Add(day, &ms[i]); err != nil {
				return err
			}
		}
	}
	n.Add(sink.Counts())
	_, err = tx.Commit()
	return err
}

// employeeNumber is an employee's full number as journal and
// employee_stats ask for it.
type employeeNumber struct {
	number string // 7XXXXXXXXXX
	id     sql.Null[int64]
}

// numbersOf returns the numbers of emps: every employee whose fullNumber
// normalises to 7XXXXXXXXXX, once, in number order; only those in only
// when it is not empty (stats_numbers).
func numbersOf(emps []EmployeeRow, only []string) []employeeNumber {
	byNumber := map[string]sql.Null[int64]{}
	for _, e := range emps {
		n := transform.Phone(e.FullNumber)
		if !fullNumber(n) {
			continue // no number, or not one the statistics take
		}
		if len(only) > 0 && !slices.Contains(only, n) {
			continue
		}
		if _, dup := byNumber[n]; !dup {
			byNumber[n] = e.EmployeeID
		}
	}
	nums := make([]employeeNumber, 0, len(byNumber))
	for _, n := range slices.Sorted(maps.Keys(byNumber)) {
		nums = append(nums, employeeNumber{n, byNumber[n]})
	}
	return nums
}

// remember keeps the numbers of the employees of run's snapshot.
func (s *Source) remember(runID string, emps []EmployeeRow) {
	nums := numbersOf(emps, s.c.cfg.StatsNumbers)
	s.mu.Lock()
	s.numsRun, s.nums = runID, nums
	s.mu.Unlock()
}

// employeeNumbers returns the employee numbers journal and employee_stats
// ask for in run: those of the run's employees snapshot, or, when this
// process has not taken it (a run without snapshots, or the snapshot
// failed), of one GET /employees per run; windows wait for it rather than
// each asking.
func (s *Source) employeeNumbers(ctx context.Context, runID string) ([]employeeNumber, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.numsRun == runID && s.nums != nil {
		return s.nums, nil
	}
	rows, err := s.c.Employees(ctx)
	if err != nil {
		return nil, err
	}
	var emps []EmployeeRow
	for _, raw := range rows {
		if e, err := mapEmployee(raw); err == nil { // the snapshot rejects the others
			emps = append(emps, e)
		}
	}
	s.numsRun, s.nums = runID, numbersOf(emps, s.c.cfg.StatsNumbers)
	return s.nums, nil
}

// perNumber writes one row per employee number for the window's day:
// t2_journal (statistics/journal) or t2_employee_stats
// (statistics/common?subscriberNumber). An answer that fails validation is
// a reject naming the number; a request that fails fails the window.
func (s *Source) perNumber(ctx context.Context, stream string, w model.Window, sink *pipeline.Sink, mc *MapContext, pages *int64) error {
	nums, err := s.employeeNumbers(ctx, mc.RunID)
	if err != nil {
		return fmt.Errorf("employee numbers: %w", err)
	}
	if len(nums) == 0 {
		s.c.log.Warn("t2: no employee number to ask statistics for: no employee has a full number (7XXXXXXXXXX)", "source", Name, "stream", stream, "window", w.String())
	}
	journal := pipeline.Records(sink, JournalTable)
	stats := pipeline.Records(sink, EmployeeStatsTable)
	for _, en := range nums {
		if stream == StreamJournal {
			raw, err := s.c.Journal(ctx, en.number, w.From, w.To, mc.Business)
			if err != nil {
				return err
			}
			*pages++
			r, err := DecodeJournal(raw, en.number)
			if err != nil {
				if err := sink.Reject(w.Day, "statistics/journal", "number "+en.number+": "+err.Error(), string(raw)); err != nil {
					return err
				}
				continue
			}
			r.Date, r.EmployeeID, r.Start, r.End, r.RunID, r.ExtractedAt = w.Day, en.id, w.From.UTC(), w.To.UTC(), mc.RunID, mc.ExtractedAt
			if err := journal.Add(w.Day, &r); err != nil {
				return err
			}
			continue
		}
		raw, err := s.c.NumberStats(ctx, en.number, w.From, w.To, mc.Business)
		if err != nil {
			return err
		}
		*pages++
		vals, err := parseStats(raw)
		if err != nil {
			if err := sink.Reject(w.Day, "statistics/common", "subscriberNumber "+en.number+": "+err.Error(), string(raw)); err != nil {
				return err
			}
			continue
		}
		row := EmployeeStatsRow{Number: en.number, EmployeeID: en.id, DailyStatsRow: DailyStatsRow{Date: w.Day, Start: w.From.UTC(), End: w.To.UTC(),
			Values: vals, Raw: string(raw), RunID: mc.RunID, ExtractedAt: mc.ExtractedAt}}
		if err := stats.Add(w.Day, &row); err != nil {
			return err
		}
	}
	return nil
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
