// Package pipeline runs sources into the lake. It is the one place where
// work fans out: sources run side by side, each source's streams run in
// parallel up to the source's concurrency, and each stream's day windows run
// in order. A window is extracted into a lake transaction, committed, and
// only then does the stream's cursor advance, so a crash or a kill at any
// point loses nothing that the next run will not redo.
package pipeline

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/calletl/calletl/extract/httpx"
	"github.com/calletl/calletl/load"
	"github.com/calletl/calletl/model"
	"github.com/calletl/calletl/shard"
	"github.com/calletl/calletl/state"
)

// StaleTempAge is how old a lake temp file must be before a sharded run
// removes it: other shards' live transactions write theirs continuously.
const StaleTempAge = time.Hour

// Source is one vendor's extractor as the pipeline drives it.
type Source interface {
	// Name is the source's partition value and state prefix ("mtt").
	Name() string
	// Concurrency is how many of its streams may run at once.
	Concurrency() int
	// Streams lists the incremental streams; each has its own cursor.
	Streams() []model.StreamKey
	// Extract writes one window of one stream through sink: calls, rejects
	// and the source's detail tables (Detail, Records). The pipeline has
	// covered the window's day and registered the canonical tables, so
	// re-extraction replaces them; a detail table the source registers is
	// replaced too. The run (id, clock, time zone) is sink.Run(); the rows
	// and rejects are counted by the sink, the pages the source read are
	// returned. It runs in the calling goroutine; the pipeline commits or
	// aborts the transaction.
	Extract(ctx context.Context, key model.StreamKey, w model.Window, sink *Sink) (pages int64, err error)
}

// Snapshotter is a source with per-run snapshots (accounts, balances).
// Snapshot writes through transactions it opens with begin and commits or
// aborts itself; it sees no more of the lake than its own source.
type Snapshotter interface {
	Snapshot(ctx context.Context, begin BeginFunc, run model.Run) (model.Counts, error)
}

// BeginFunc opens a lake transaction on one unit of a snapshot's source
// (load.Lake.Begin with the source bound): the caller commits or aborts it.
type BeginFunc func(unit string) (*load.Tx, error)

// LakeBegin returns the BeginFunc of source's units in lake.
func LakeBegin(lake *load.Lake, source string) BeginFunc {
	return func(unit string) (*load.Tx, error) { return lake.Begin(source, unit) }
}

// AccountSnapshotter is a Snapshotter whose snapshot is one per account
// (MTT: per customer). A sharded run takes each account's snapshot on the
// shard of "source/snapshot/account", so hundreds of customers' snapshots
// spread over the shards; a whole run calls Snapshot.
type AccountSnapshotter interface {
	SnapshotAccounts() []string
	SnapshotAccount(ctx context.Context, begin BeginFunc, run model.Run, account string) (model.Counts, error)
}

// Progress hears about planned and finished windows (and items, as windows
// with an empty day). Plan may be called more than once: totals add up.
// Calls may come from several goroutines at once.
type Progress interface {
	Plan(windows int)
	Window(key model.StreamKey, day string, c model.Counts, err error)
}

type noProgress struct{}

func (noProgress) Plan(int)                                            {}
func (noProgress) Window(model.StreamKey, string, model.Counts, error) {}

// Config configures a pipeline.
type Config struct {
	Lake         *load.Lake
	State        *state.Store
	Location     *time.Location // business time zone: window days and date partitions
	LookbackDays int            // days before today re-extracted on every run
	StartDay     string         // first day of a stream with no cursor; "" = today − LookbackDays
	// ItemMaxAge bounds how long an item (a VotBox task, a Mobilgroup
	// broadcast) is polled: one still not final this long after the
	// pipeline first saw it is given up — kept in the lake as last
	// extracted, remembered as final, skipped with a warning. 0 = forever.
	ItemMaxAge time.Duration
	// Shard is this process's part of a sharded run: only the streams,
	// items and snapshots it owns are extracted, the run id ends in the
	// shard's label (so its runs file is its own), and only stale temp
	// files are swept (the other shards write the lake at the same time).
	// The zero value is the whole run.
	Shard    shard.Assigner
	Now      func() time.Time
	Logger   *slog.Logger
	Progress Progress
}

// Pipeline runs sources into the lake.
type Pipeline struct{ cfg Config }

// New returns a pipeline; nil Logger, Progress and Now get defaults.
func New(cfg Config) *Pipeline {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Progress == nil {
		cfg.Progress = noProgress{}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Location == nil {
		cfg.Location = time.UTC
	}
	return &Pipeline{cfg: cfg}
}

// Summary is what a run did.
type Summary struct {
	RunID   string
	Streams []model.RunStream // one per stream, plus one "snapshot" row per source that has one

	fatal []bool           // by index of Streams: the row failed on an error fatal for its source, or was not attempted after one
	halts map[string]*halt // by source: the sources a fatal error stopped
}

// add appends a row; err is its error (nil when it succeeded).
func (s *Summary) add(r model.RunStream, err error) {
	s.Streams = append(s.Streams, r)
	s.fatal = append(s.fatal, err != nil && httpx.IsFatal(err))
}

// Failed returns the streams that did not finish.
func (s *Summary) Failed() []model.RunStream {
	var out []model.RunStream
	for _, r := range s.Streams {
		if r.Status != model.RunOK {
			out = append(out, r)
		}
	}
	return out
}

// Totals sums the counts over every stream.
func (s *Summary) Totals() (windows int64, c model.Counts) {
	for _, r := range s.Streams {
		windows += r.Windows
		c.Add(model.Counts{Pages: r.Pages, Rows: r.Rows, Rejects: r.Rejects})
	}
	return windows, c
}

// Err is nil when every stream succeeded, else Errors joined.
func (s *Summary) Err() error { return errors.Join(s.Errors()...) }

// Errors returns one error per failed stream, naming it and its cause,
// except that the streams of a source stopped by an error fatal for the
// source (see httpx.IsFatal) are one error together: that first error,
// which says what to do, and how many streams it failed.
func (s *Summary) Errors() []error {
	var errs []error
	n := map[string]int{} // fatal rows by source
	for i, r := range s.Streams {
		if r.Status != model.RunOK && i < len(s.fatal) && s.fatal[i] {
			n[r.Source]++
		}
	}
	done := map[string]bool{}
	for i, r := range s.Streams {
		if r.Status == model.RunOK {
			continue
		}
		if h := s.halts[r.Source]; h != nil && n[r.Source] > 0 && i < len(s.fatal) && s.fatal[i] {
			if !done[r.Source] {
				done[r.Source] = true
				errs = append(errs, fmt.Errorf("%s: %s failed on one error no retry can fix, first met at %s; the source's remaining work was not attempted: fix it, then run again: %w",
					r.Source, plural(n[r.Source], "stream"), h.at, h.err))
			}
			continue
		}
		at := ""
		if r.LastDay != "" {
			at = " at " + r.LastDay
		}
		errs = append(errs, fmt.Errorf("%s/%s/%s %s%s: %s", r.Source, r.Stream, r.Account, r.Status, at, r.Error))
	}
	return errs
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// NewRunID returns a sortable, unique run id such as 20261123T021500Z-3f9a.
func NewRunID(now time.Time) string {
	var b [2]byte
	_, _ = rand.Read(b[:])
	return now.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:])
}

// plan is the days one stream will extract and how a committed day is
// recorded.
type plan struct {
	key    model.StreamKey
	days   []string
	commit func(day string, runID string) error
}

// Run is the nightly job: every stream of every windowed source from its
// cursor (or the lookback, whichever is earlier) through today, and every
// item of every item source that is not final yet.
func (p *Pipeline) Run(ctx context.Context, sources []Source, items ...ItemSource) (*Summary, error) {
	run := p.newRun("run")
	plans, err := p.planStreams(run.Day(), sources)
	if err != nil {
		return nil, err
	}
	return p.execute(ctx, run, sources, plans, items, true)
}

// planStreams is the days every stream of sources (this shard's) extracts
// in a run on today: from its cursor's next day, or the lookback start
// (today − LookbackDays) when that is earlier; from StartDay, or the
// lookback start, for a stream without a cursor; through today. Run and
// Plan both use it.
func (p *Pipeline) planStreams(today string, sources []Source) ([][]plan, error) {
	lookbackStart, err := addDays(today, -p.cfg.LookbackDays)
	if err != nil {
		return nil, fmt.Errorf("pipeline: today: %w", err)
	}
	if p.cfg.StartDay != "" {
		if _, err := addDays(p.cfg.StartDay, 0); err != nil {
			return nil, fmt.Errorf("pipeline: start day: %w", err)
		}
	}
	var plans [][]plan
	for _, src := range sources {
		var sp []plan
		for _, key := range p.owned(src.Streams()) {
			start := lookbackStart
			if c, ok := p.cfg.State.Cursor(key.String()); ok {
				next, err := addDays(c.Day, 1)
				if err != nil {
					return nil, fmt.Errorf("pipeline: cursor of %s: %w", key, err)
				}
				start = min(next, lookbackStart)
			} else if p.cfg.StartDay != "" {
				start = p.cfg.StartDay
			}
			sp = append(sp, plan{key: key, days: days(start, today), commit: p.advanceCursor(key)})
		}
		plans = append(plans, sp)
	}
	return plans, nil
}

// ArgError is an error about the arguments of a call (Backfill's from and
// to): the caller's mistake, to be fixed in the command line. Any other
// error of Backfill or Run is the run's (the lake, the state).
type ArgError struct{ Err error }

func (e *ArgError) Error() string { return e.Err.Error() }

// Unwrap returns the cause.
func (e *ArgError) Unwrap() error { return e.Err }

// Backfill loads [from, to] for every stream of src. Progress is kept per
// stream and range, so running the same backfill again resumes after the
// last committed day. Run cursors are not moved. A from or to that is not
// a day, or a to before from, is an *ArgError.
func (p *Pipeline) Backfill(ctx context.Context, src Source, from, to string) (*Summary, error) {
	if _, err := model.DayWindow(from, p.cfg.Location); err != nil {
		return nil, &ArgError{fmt.Errorf("backfill --from: %w", err)}
	}
	if _, err := model.DayWindow(to, p.cfg.Location); err != nil {
		return nil, &ArgError{fmt.Errorf("backfill --to: %w", err)}
	}
	if to < from {
		return nil, &ArgError{fmt.Errorf("backfill: --to %s is before --from %s", to, from)}
	}
	run := p.newRun("backfill")
	var sp []plan
	for _, key := range p.owned(src.Streams()) {
		bkey := key.String() + "@" + from + ".." + to
		start := from
		if c, ok := p.cfg.State.Backfill(bkey); ok {
			next, err := addDays(c.Day, 1)
			if err != nil {
				return nil, fmt.Errorf("pipeline: backfill progress of %s: %w", bkey, err)
			}
			start = next
		}
		sp = append(sp, plan{key: key, days: days(start, to), commit: func(day, runID string) error {
			return p.cfg.State.SetBackfill(bkey, state.Cursor{Day: day, RunID: runID, UpdatedAt: p.cfg.Now().UTC()})
		}})
	}
	return p.execute(ctx, run, []Source{src}, [][]plan{sp}, nil, false)
}

func (p *Pipeline) newRun(mode string) model.Run {
	now := p.cfg.Now()
	id := NewRunID(now)
	if l := p.cfg.Shard.Shard.Label(); l != "" {
		id += "-" + l
	}
	return model.Run{ID: id, Mode: mode, StartedAt: now.UTC(), Location: p.cfg.Location}
}

// owned returns the keys of this shard, keyed "source/stream/account".
func (p *Pipeline) owned(keys []model.StreamKey) []model.StreamKey {
	var out []model.StreamKey
	for _, k := range keys {
		if p.cfg.Shard.Owns(k.Source, k.Stream, k.Account) {
			out = append(out, k)
		}
	}
	return out
}

// snapshotOwned takes this shard's part of source's snapshot: the whole
// snapshot in a whole run; in a sharded one, the accounts of an
// AccountSnapshotter keyed "source/snapshot/account", else the whole
// snapshot on the shard of "source/snapshot". ok is false when this shard
// has none of it (no runs row).
func (p *Pipeline) snapshotOwned(ctx context.Context, source string, sn Snapshotter, run model.Run, h *halt) (rs model.RunStream, err error, ok bool) {
	as, perAccount := sn.(AccountSnapshotter)
	if p.cfg.Shard.Shard.Whole() || !perAccount {
		if !p.cfg.Shard.Owns(source, "snapshot") {
			return rs, nil, false
		}
		rs, err = p.snapshot(ctx, source, sn, run, h)
		return rs, err, true
	}
	var mine []string
	for _, a := range as.SnapshotAccounts() {
		if p.cfg.Shard.Owns(source, "snapshot", a) {
			mine = append(mine, a)
		}
	}
	if len(mine) == 0 {
		return rs, nil, false
	}
	rs, err = p.snapshot(ctx, source, snapshotFunc(func(ctx context.Context, begin BeginFunc, run model.Run) (model.Counts, error) {
		var n model.Counts
		var errs []error
		for _, a := range mine {
			c, err := as.SnapshotAccount(ctx, begin, run, a)
			n.Add(c)
			if err != nil {
				errs = append(errs, err)
				if httpx.IsFatal(err) {
					break // the other accounts would meet it too
				}
			}
		}
		return n, errors.Join(errs...)
	}), run, h)
	return rs, err, true
}

// snapshotFunc is a function as a Snapshotter.
type snapshotFunc func(ctx context.Context, begin BeginFunc, run model.Run) (model.Counts, error)

func (f snapshotFunc) Snapshot(ctx context.Context, begin BeginFunc, run model.Run) (model.Counts, error) {
	return f(ctx, begin, run)
}

// advanceCursor moves key's cursor forward to day (never back: lookback
// windows re-extract days behind it).
func (p *Pipeline) advanceCursor(key model.StreamKey) func(day, runID string) error {
	return func(day, runID string) error {
		if c, ok := p.cfg.State.Cursor(key.String()); ok && c.Day >= day {
			return nil
		}
		return p.cfg.State.SetCursor(key.String(), state.Cursor{Day: day, RunID: runID, UpdatedAt: p.cfg.Now().UTC()})
	}
}

func (p *Pipeline) execute(ctx context.Context, run model.Run, sources []Source, plans [][]plan, items []ItemSource, snapshots bool) (*Summary, error) {
	sweep := p.cfg.Lake.Sweep
	if !p.cfg.Shard.Shard.Whole() {
		sweep = func() (int, error) { return p.cfg.Lake.SweepStale(StaleTempAge) }
	}
	if n, err := sweep(); err != nil {
		return nil, fmt.Errorf("pipeline: clean temp files of an earlier run: %w", err)
	} else if n > 0 {
		p.cfg.Logger.Info("removed temp files left by an interrupted run", "files", n)
	}
	if p.cfg.Shard.Shard.Whole() {
		// A compaction of a lake on S3 killed between its upload and its
		// deletes left rows visible twice: a whole run (no other writer)
		// finishes it before writing.
		if n, err := p.cfg.Lake.FinishCompactions(ctx); err != nil {
			return nil, fmt.Errorf("pipeline: finish an interrupted compaction: %w", err)
		} else if n > 0 {
			p.cfg.Logger.Info("finished compactions an earlier process left interrupted", "partitions", n)
		}
	}
	total := 0
	for _, sp := range plans {
		for _, pl := range sp {
			total += len(pl.days)
		}
	}
	p.cfg.Progress.Plan(total)
	p.cfg.Logger.Info("run starting", "run_id", run.ID, "mode", run.Mode, "sources", len(sources)+len(items), "windows", total)

	sum := &Summary{RunID: run.ID, halts: map[string]*halt{}}
	var mu sync.Mutex
	record := func(r model.RunStream, err error) {
		mu.Lock()
		sum.add(r, err)
		mu.Unlock()
	}
	halts := make([]*halt, len(sources)+len(items))
	for i := range halts {
		name := ""
		if i < len(sources) {
			name = sources[i].Name()
		} else {
			name = items[i-len(sources)].Name()
		}
		if h, ok := sum.halts[name]; ok {
			// One vendor's windowed and item sources (MTT history and
			// callbacks) share its credentials: one halt stops both.
			halts[i] = h
			continue
		}
		halts[i] = &halt{source: name}
		sum.halts[name] = halts[i]
	}
	var all errgroup.Group
	for i, src := range sources {
		h := halts[i]
		all.Go(func() error {
			if sn, ok := src.(Snapshotter); ok && snapshots {
				if rs, err, ok := p.snapshotOwned(ctx, src.Name(), sn, run, h); ok {
					record(rs, err)
				}
			}
			var g errgroup.Group
			g.SetLimit(max(1, src.Concurrency()))
			for _, pl := range plans[i] {
				g.Go(func() error {
					record(p.stream(ctx, src, pl, run, h))
					return nil
				})
			}
			return g.Wait()
		})
	}
	for i, src := range items {
		h := halts[len(sources)+i]
		all.Go(func() error {
			if sn, ok := src.(Snapshotter); ok && snapshots {
				if rs, err, ok := p.snapshotOwned(ctx, src.Name(), sn, run, h); ok {
					record(rs, err)
				}
			}
			p.runItems(ctx, src, run, record, h)
			return nil
		})
	}
	_ = all.Wait()
	for name, h := range sum.halts {
		if h.stopped() == nil {
			delete(sum.halts, name)
		}
	}

	if err := p.writeRuns(context.WithoutCancel(ctx), run, sum); err != nil {
		return sum, err
	}
	windows, c := sum.Totals()
	p.cfg.Logger.Info("run finished", "run_id", run.ID, "windows", windows, "rows", c.Rows,
		"rejects", c.Rejects, "failed_streams", len(sum.Failed()))
	return sum, nil
}

func (p *Pipeline) snapshot(ctx context.Context, source string, sn Snapshotter, run model.Run, h *halt) (model.RunStream, error) {
	rs := model.RunStream{Source: source, Date: run.Day(), RunID: run.ID, Mode: run.Mode,
		Stream: "snapshot", StartedAt: p.cfg.Now().UTC(), Status: model.RunOK}
	if err := h.stopped(); err != nil {
		return p.skipped(rs, err), err
	}
	c, err := sn.Snapshot(ctx, LakeBegin(p.cfg.Lake, source), run)
	rs.Pages, rs.Rows, rs.FinishedAt = c.Pages, c.Rows, p.cfg.Now().UTC()
	if err != nil {
		rs.Status, rs.Error = failStatus(ctx), err.Error()
		p.cfg.Logger.Error("snapshot failed", "source", source, "err", err)
		h.trip(source+"/snapshot", err)
	}
	return rs, err
}

// stream extracts a stream's days in order and stops at the first failure:
// its cursor must never skip a day. It stops too, before the next window,
// when h says the source met an error fatal for it; the error returned is
// the row's.
func (p *Pipeline) stream(ctx context.Context, src Source, pl plan, run model.Run, h *halt) (model.RunStream, error) {
	key := pl.key
	rs := model.RunStream{Source: key.Source, Date: run.Day(), RunID: run.ID, Mode: run.Mode,
		Stream: key.Stream, Account: key.Account, StartedAt: p.cfg.Now().UTC(), Status: model.RunOK}
	log := p.cfg.Logger.With("source", key.Source, "stream", key.Stream, "account", key.Account)
	var ferr error
	for i, day := range pl.days {
		if rs.FirstDay == "" {
			rs.FirstDay = day
		}
		rs.LastDay = day
		if err := h.stopped(); err != nil {
			// Not logged per stream: the error that stopped the source was.
			rs.Status, rs.Error, ferr = model.RunFailed, err.Error(), err
			for _, d := range pl.days[i:] {
				p.cfg.Progress.Window(key, d, model.Counts{}, err) // planned, not attempted
			}
			break
		}
		c, err := p.window(ctx, src, key, day, run, pl.commit)
		rs.Pages, rs.Rows, rs.Rejects = rs.Pages+c.Pages, rs.Rows+c.Rows, rs.Rejects+c.Rejects
		p.cfg.Progress.Window(key, day, c, err)
		if err != nil {
			rs.Status, rs.Error, ferr = failStatus(ctx), err.Error(), err
			log.Error("window failed; the stream stops here and resumes from this day next run", "day", day, "err", err)
			h.trip(key.String(), err)
			break
		}
		rs.Windows++
		log.Debug("window committed", "day", day, "pages", c.Pages, "rows", c.Rows, "rejects", c.Rejects)
	}
	rs.FinishedAt = p.cfg.Now().UTC()
	if rs.Status == model.RunOK {
		log.Info("stream done", "windows", rs.Windows, "rows", rs.Rows, "rejects", rs.Rejects)
	}
	return rs, ferr
}

func (p *Pipeline) window(ctx context.Context, src Source, key model.StreamKey, day string, run model.Run, commit func(day, runID string) error) (model.Counts, error) {
	if err := ctx.Err(); err != nil {
		return model.Counts{}, err
	}
	w, err := model.DayWindow(day, p.cfg.Location)
	if err != nil {
		return model.Counts{}, err
	}
	c, err := ExtractWindow(ctx, p.cfg.Lake, src, key, w, run)
	if err != nil {
		return c, err
	}
	if err := commit(day, run.ID); err != nil {
		return c, fmt.Errorf("%s window %s: committed, but the cursor could not be saved (the window will be re-extracted next run): %w", key, day, err)
	}
	return c, nil
}

// ExtractWindow extracts window w of stream key of src into lake and
// commits it, as a run does (without moving a cursor): one transaction of
// the stream's unit, the window's day covered, a Sink whose rejects come
// from the window. Tests and tools that drive a source window by window
// use it too, so they extract exactly as the pipeline does.
func ExtractWindow(ctx context.Context, lake *load.Lake, src Source, key model.StreamKey, w model.Window, run model.Run) (model.Counts, error) {
	tx, err := lake.Begin(key.Source, key.Unit())
	if err != nil {
		return model.Counts{}, err
	}
	defer tx.Abort()
	sink := NewSink(tx, run, model.Origin{Key: key, Window: w.String()})
	if err := tx.Cover(w.Day); err != nil {
		return model.Counts{}, err
	}
	pages, err := src.Extract(ctx, key, w, sink)
	c := sink.Counts()
	c.Pages = pages
	if err != nil {
		return c, err
	}
	if _, err := tx.CommitContext(ctx); err != nil {
		return c, fmt.Errorf("%s window %s: commit: %w", key, w.Day, err)
	}
	return c, nil
}

// writeRuns appends the run's rows to the runs table, one file per source,
// unit "run-<run id>" (a shard's run id ends in its label, so every
// shard's rows land in a file of their own).
func (p *Pipeline) writeRuns(ctx context.Context, run model.Run, sum *Summary) error {
	bySource := map[string][]model.RunStream{}
	for _, r := range sum.Streams {
		bySource[r.Source] = append(bySource[r.Source], r)
	}
	for source, rows := range bySource {
		tx, err := p.cfg.Lake.Begin(source, "run-"+run.ID)
		if err != nil {
			return err
		}
		w := load.Writer(tx, load.Runs)
		for i := range rows {
			if err := w.Add(run.Day(), &rows[i]); err != nil {
				tx.Abort()
				return fmt.Errorf("pipeline: runs table: %w", err)
			}
		}
		if _, err := tx.Commit(); err != nil {
			return fmt.Errorf("pipeline: runs table: %w", err)
		}
	}
	return nil
}

func failStatus(ctx context.Context) string {
	if ctx.Err() != nil {
		return model.RunCanceled
	}
	return model.RunFailed
}

// days lists the calendar days from..to inclusive (empty when to < from,
// or when either is not a YYYY-MM-DD day: callers check them first).
func days(from, to string) []string {
	t, err := time.Parse(model.DayLayout, from)
	if err != nil {
		return nil
	}
	last, err := time.Parse(model.DayLayout, to)
	if err != nil {
		return nil
	}
	var out []string
	for ; !t.After(last); t = t.AddDate(0, 0, 1) {
		out = append(out, t.Format(model.DayLayout))
	}
	return out
}

// addDays adds n calendar days to a YYYY-MM-DD day. A day that does not
// parse (a hand-edited cursor such as 2026-13-45) is an error, never a
// panic.
func addDays(day string, n int) (string, error) {
	t, err := time.Parse(model.DayLayout, day)
	if err != nil {
		return "", fmt.Errorf("%q is not a YYYY-MM-DD day", day)
	}
	return t.AddDate(0, 0, n).Format(model.DayLayout), nil
}
