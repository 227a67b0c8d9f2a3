package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/calletl/calletl/extract/httpx"
	"github.com/calletl/calletl/load"
	"github.com/calletl/calletl/model"
	"github.com/calletl/calletl/pipeline"
	"github.com/calletl/calletl/recordings"
	"github.com/calletl/calletl/shard"
	"github.com/calletl/calletl/state"
	"github.com/calletl/calletl/storage"
)

// env is an opened config: lake, state (locked), sources.
type env struct {
	cfg      *Config
	lake     *load.Lake
	state    *state.Store
	sources  []source
	fetchers []recordings.Fetcher // empty when recordings are off
	recSum   *recordings.Summary  // what fetchRecordings did; nil when it did not run
	shard    shard.Shard          // this process's part of a sharded run; zero: the whole run
	// ctx is the context of the locked work: with the state on S3 it is
	// cancelled, cause state.ErrLeaseLost, if the run's lease is lost.
	ctx    context.Context
	unlock func()
}

func (e *env) close() {
	if e.unlock != nil {
		e.unlock()
	}
}

// leaseLost turns err, the result of work done under e.ctx, into exit 5
// when the lease was lost: another process took the run over (its lease
// seemed expired to it), so this one stopped; committed work is kept.
func (e *env) leaseLost(err error) error {
	if err == nil || e.ctx == nil || !errors.Is(context.Cause(e.ctx), state.ErrLeaseLost) {
		return err
	}
	return &exitError{code: exitLeaseLost, err: fmt.Errorf("%w: stopped; committed windows are kept. "+
		"Another process took over this run's lease in %s (it could not be renewed in time: a long pause, "+
		"or the store unreachable); check that only one copy of this run (or shard) was started, then run again", context.Cause(e.ctx), e.state.Dir())}
}

// open loads the config, builds the sources and, when lock is set, takes
// the state lock so no other run works on the same lake.
func (a *app) open(ctx context.Context, lock bool) (*env, error) {
	return a.openShard(ctx, lock, shard.Shard{})
}

// openShard is open for one shard of a sharded run: the lock it takes is
// the shard's, so the other shards run alongside (a flock in a state
// directory, a lease in a state on S3: see state.Store.Acquire). The work
// must run under e.ctx.
func (a *app) openShard(ctx context.Context, lock bool, sh shard.Shard) (*env, error) {
	cfg, err := a.loadConfig()
	if err != nil {
		return nil, err
	}
	e := &env{cfg: cfg, shard: sh, ctx: ctx}
	if os.Getenv("GOMEMLIMIT") == "" { // the environment wins over the config
		debug.SetMemoryLimit(cfg.memoryLimit)
	}
	if e.state, err = cfg.openState(ctx, a.log); err != nil {
		return nil, err
	}
	if lock {
		if e.ctx, e.unlock, err = e.state.Acquire(ctx, sh.Label()); err != nil {
			return nil, err
		}
	}
	if e.lake, err = cfg.openLake(ctx); err != nil {
		e.close()
		return nil, err
	}
	if e.sources, e.fetchers, err = buildSources(cfg, e.state.Storage(), a.redactor, a.log); err != nil {
		e.close()
		return nil, &usageError{err.Error()}
	}
	return e, nil
}

// loadConfig loads the config and logs its warnings (valid but suspicious
// settings, each naming the field).
func (a *app) loadConfig() (*Config, error) {
	cfg, err := readConfig(a.registry(), a.configPath)
	if err != nil {
		return nil, err
	}
	for _, w := range cfg.warnings {
		a.log.Warn("config: "+w.Field+": "+w.Msg, "file", w.File, "field", w.Field, "line", w.Line)
	}
	return cfg, nil
}

func (a *app) pipeline(e *env, p pipeline.Progress) *pipeline.Pipeline {
	return pipeline.New(pipeline.Config{
		Lake: e.lake, State: e.state, Location: e.cfg.location,
		LookbackDays: *e.cfg.LookbackDays, StartDay: e.cfg.StartDate,
		ItemMaxAge: time.Duration(*e.cfg.ItemMaxAge) * 24 * time.Hour,
		Shard:      assigner(a.vendors, e.shard),
		Logger:     a.log, Progress: p,
	})
}

func (a *app) runCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "run",
		Short: "The nightly job: every source, every stream, from its cursor to today",
		Long: `The nightly job. Every configured source's every stream runs from its cursor
(or today − lookback_days, whichever is earlier) through today; each day window is
committed to the lake before its cursor moves, so an interrupted run resumes.

With --shard i/n (or --shards n and $JOB_COMPLETION_INDEX, or $CALLETL_SHARD) this
process does its 1/n of the work; the n shards share one lake and one state.
--dry-run prints that plan (streams × day windows, items; computed as the run
computes it) without calling a vendor, locking or writing anything.`,
		Example: `  etl run
  etl run --source mtt,t2 --config /etc/calletl/etl.yaml
  etl run --dry-run --format json
  etl run --shard 0/4                   # or --shards 4 with $JOB_COMPLETION_INDEX set
  etl run --metrics-file /var/lib/node_exporter/textfile/calletl.prom --fail-on-data-quality`,
		Args:              noArgs,
		ValidArgsFunction: cobra.NoFileCompletions,
	}
	fs := c.Flags()
	only := fs.String("source", "", "run only these sources (comma-separated names, e.g. mtt)")
	dry := fs.Bool("dry-run", false, "print what the run would extract (streams × day windows, items) and stop: no vendor is called, nothing is locked or written")
	format := fs.String("format", "table", "with --dry-run: table (for people) or json (for scripts)")
	maxRun := maxRunTimeFlag(fs)
	sf := addShardFlags(fs)
	obs := a.observe(fs, "run")
	completeValues(c, "format", "table", "json")
	a.completeSources(c, true)
	c.RunE = a.runs(func(ctx context.Context, c *cobra.Command, _ []string) error {
		return a.cmdRun(ctx, c.Flags(), only, dry, format, maxRun, sf, obs)
	})
	return c
}

func (a *app) cmdRun(ctx context.Context, fs *pflag.FlagSet, only *string, dry *bool, format *string, maxRun *time.Duration, sf *shardFlags, obs *observer) error {
	sh, err := sf.resolve(fs)
	if err != nil {
		return err
	}
	if *format != "table" && *format != "json" {
		return &usageError{fmt.Sprintf("run --format %q: want table or json", *format)}
	}
	if *dry {
		return a.dryRun(ctx, sh, splitComma(*only), *format)
	}
	formatSet := false
	fs.Visit(func(f *pflag.Flag) { formatSet = formatSet || f.Name == "format" })
	if formatSet {
		return &usageError{"run --format is for --dry-run: a run reports on stderr (see --log-format)"}
	}
	e, err := a.openShard(ctx, true, sh)
	if err != nil {
		return err
	}
	defer e.close()
	ctx = e.ctx
	srcs, err := pick(e.sources, splitComma(*only))
	if err != nil {
		return err
	}
	ctx, limit := a.limitRun(ctx, fs, *maxRun, e.cfg)
	began := time.Now()
	bar := a.newProgress("extracting")
	windowed, items := split(srcs)
	sum, err := a.pipeline(e, bar).Run(ctx, windowed, items...)
	bar.finish()
	if err != nil {
		return e.leaseLost(limit.end(ctx, obs.end(ctx, e, nil, err)))
	}
	runErr := a.summarize(ctx, sum, began)
	// Recordings come after the call rows are committed: the calls table
	// is what says which recordings exist.
	if recErr := a.fetchRecordings(ctx, e); recErr != nil && runErr == nil {
		runErr = recErr
	}
	// Compaction last, when every write of the run is committed. A shard
	// does not compact: other shards' processes may still be writing old
	// days (lagging streams, re-polled items) into the same partitions, and
	// the partition lock that orders them lives inside one process.
	if e.cfg.CompactAfterRun && ctx.Err() == nil {
		if !e.shard.Whole() {
			a.log.Warn("compact_after_run skipped in a sharded run: run `etl compact` after every shard has finished", "shard", e.shard.Label())
		} else if err := a.compact(ctx, e, "", time.Now()); err != nil && runErr == nil {
			runErr = err
		}
	}
	return e.leaseLost(limit.end(ctx, obs.end(ctx, e, sum, runErr)))
}

// fetchRecordings runs the recordings backlog, when recordings are on.
func (a *app) fetchRecordings(ctx context.Context, e *env) error {
	if len(e.fetchers) == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("recordings: not fetched, the run was stopped: %w", err)
	}
	store, err := openStore(ctx, e.cfg)
	if err != nil {
		return err
	}
	if l, ok := store.(*storage.Local); ok {
		// Runs on one state directory never overlap (the state lock), and
		// SweepTemp spares files a live Put of another process holds.
		n, err := l.SweepTemp(ctx, storage.StaleTempAge)
		if err != nil {
			a.log.Warn("recordings: could not remove every temp file left by a killed run", "err", err)
		}
		if n > 0 {
			a.log.Info("recordings: removed temp files left by a killed run", "files", n, "store", l.Dir())
		}
	}
	r := e.cfg.Recordings
	id := pipeline.NewRunID(time.Now())
	if l := e.shard.Label(); l != "" {
		id += "-" + l // the shard's manifest unit, manifest-<run id>, is its own
	}
	run := model.Run{ID: id, Mode: "recordings", StartedAt: time.Now().UTC(), Location: e.cfg.location}
	as := assigner(a.vendors, e.shard)
	bar := a.newByteProgress()
	lakeDir, sync := e.lake.Root(), func(context.Context) error { return nil }
	if ls := e.lake.Store(); ls != nil {
		// The lake is on S3: the recordings read a local mirror of the
		// tables they need, brought up to date before each read.
		// One mirror per shard: shards on one machine share the spool
		// directory, and two mirrors of one directory would remove each
		// other's files (the same shard never runs twice at once).
		lakeDir = e.lake.Root() + ".mirror"
		if l := e.shard.Label(); l != "" {
			lakeDir += "-" + l
		}
		sync = func(ctx context.Context) error {
			st, err := load.Mirror(ctx, ls, e.lake.Prefix(), lakeDir, load.Calls.Name, recordings.Manifest.Name, recordings.Days.Name)
			a.log.Debug("recordings: lake mirrored", "dir", lakeDir, "objects", st.Objects, "downloaded", st.Downloaded, "removed", st.Removed, "bytes", st.Bytes)
			return err
		}
	}
	sum, err := recordings.Run(ctx, recordings.Config{
		Store: store, Lake: e.lake, LakeDir: lakeDir, Sync: sync,
		Concurrency: r.Concurrency, PerHost: r.PerHost, MaxAttempts: r.MaxAttempts, RetryBase: r.RetryBase,
		Owns:     func(source, callID string) bool { return as.Owns(source, "call", callID) },
		DaysLock: func() (func(), error) { return e.state.Exclusive("recording_days") },
		Logger:   a.log, Progress: bar,
	}, run, e.fetchers...)
	bar.finish()
	e.recSum = &sum
	text := fmt.Sprintf("recordings: %d calls: %d stored (%d already there), %d missing at the vendor, %d failed (retried later), %d deferred by backoff, %.1f MB",
		sum.Calls, sum.Stored, sum.Reused, sum.Missing, sum.Failed, sum.Deferred, float64(sum.Bytes)/1e6)
	attrs := []slog.Attr{slog.Int("calls", sum.Calls), slog.Int("stored", sum.Stored), slog.Int("reused", sum.Reused),
		slog.Int("missing", sum.Missing), slog.Int("failed", sum.Failed), slog.Int("deferred", sum.Deferred),
		slog.Int64("bytes", sum.Bytes), slog.Float64("took_s", time.Since(run.StartedAt).Seconds())}
	if sum.Transcripts+sum.TranscriptsMissing+sum.TranscriptsFailed+sum.Backfilled > 0 {
		text += fmt.Sprintf("\ntranscripts: %d stored, %d missing at the vendor, %d failed; %d of them for calls fetched before (backfill)",
			sum.Transcripts, sum.TranscriptsMissing, sum.TranscriptsFailed, sum.Backfilled)
		attrs = append(attrs, slog.Int("transcripts", sum.Transcripts), slog.Int("transcripts_missing", sum.TranscriptsMissing),
			slog.Int("transcripts_failed", sum.TranscriptsFailed), slog.Int("transcripts_backfilled", sum.Backfilled))
	}
	a.note(slog.LevelInfo, "recordings summary", text, attrs...)
	if err != nil {
		return fmt.Errorf("recordings: %w", err)
	}
	return nil
}

// openStore opens the configured blob store.
func openStore(ctx context.Context, c *Config) (storage.Store, error) {
	r := c.Recordings
	if r.Local != "" {
		return storage.NewLocal(c.path(r.Local))
	}
	return c.openS3(ctx, "recordings.s3", r.S3.Bucket, r.S3.Prefix, r.S3)
}

func (a *app) recordingsCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "recordings",
		Short: "Fetch the recordings backlog alone",
		Long: `Fetch the recordings backlog alone (calls the lake says were recorded that are
not stored yet), without extracting calls. etl run fetches them too, after the
call rows are committed, when a recordings section is configured.`,
		Example: `  etl recordings
  etl recordings --max-run-time 2h
  etl recordings --shard 1/4`,
		Args:              noArgs,
		ValidArgsFunction: cobra.NoFileCompletions,
	}
	fs := c.Flags()
	maxRun := maxRunTimeFlag(fs)
	sf := addShardFlags(fs)
	obs := a.observe(fs, "recordings")
	c.RunE = a.runs(func(ctx context.Context, c *cobra.Command, _ []string) error {
		return a.cmdRecordings(ctx, c.Flags(), maxRun, sf, obs)
	})
	return c
}

func (a *app) cmdRecordings(ctx context.Context, fs *pflag.FlagSet, maxRun *time.Duration, sf *shardFlags, obs *observer) error {
	sh, err := sf.resolve(fs)
	if err != nil {
		return err
	}
	e, err := a.openShard(ctx, true, sh)
	if err != nil {
		return err
	}
	defer e.close()
	ctx = e.ctx
	if len(e.fetchers) == 0 {
		return &usageError{"recordings are off: add a recordings section (local: DIR or s3: …) to the config; see configs/etl.example.yaml"}
	}
	ctx, limit := a.limitRun(ctx, fs, *maxRun, e.cfg)
	return e.leaseLost(limit.end(ctx, obs.end(ctx, e, nil, a.fetchRecordings(ctx, e))))
}

func (a *app) backfillCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "backfill",
		Short: "Load history for every stream of a source",
		Long: `Load history for every stream of a source, from --from through --to. Progress is
saved per day: re-running the same command resumes after the last committed day.
Run cursors are not moved.`,
		Example: `  etl backfill --source mtt --from 2026-01-01 --to 2026-03-31
  etl backfill --source t2 --from 2025-12-01 --to 2025-12-31 --max-run-time 6h`,
		Args:              noArgs,
		ValidArgsFunction: cobra.NoFileCompletions,
	}
	fs := c.Flags()
	src := fs.String("source", "", "source to backfill (required), e.g. mtt")
	from := fs.String("from", "", "first day, YYYY-MM-DD (required)")
	to := fs.String("to", "", "last day, YYYY-MM-DD, inclusive (required)")
	maxRun := maxRunTimeFlag(fs)
	obs := a.observe(fs, "backfill")
	a.completeSources(c, false)
	c.RunE = a.runs(func(ctx context.Context, c *cobra.Command, _ []string) error {
		return a.cmdBackfill(ctx, c.Flags(), src, from, to, maxRun, obs)
	})
	return c
}

func (a *app) cmdBackfill(ctx context.Context, fs *pflag.FlagSet, src, from, to *string, maxRun *time.Duration, obs *observer) error {
	if *src == "" || *from == "" || *to == "" {
		return &usageError{"backfill needs --source, --from and --to (see etl backfill --help)"}
	}
	e, err := a.open(ctx, true)
	if err != nil {
		return err
	}
	defer e.close()
	ctx = e.ctx
	srcs, err := pick(e.sources, []string{*src})
	if err != nil {
		return err
	}
	windowed, ok := srcs[0].(pipeline.Source)
	if !ok {
		return &usageError{fmt.Sprintf("source %s has no day windows to backfill: its items are polled by every etl run until final", *src)}
	}
	ctx, limit := a.limitRun(ctx, fs, *maxRun, e.cfg)
	began := time.Now()
	bar := a.newProgress("backfilling")
	sum, err := a.pipeline(e, bar).Backfill(ctx, windowed, *from, *to)
	bar.finish()
	if _, bad := errors.AsType[*pipeline.ArgError](err); bad {
		err = &usageError{err.Error()} // bad --from/--to: exit 2; any other error (the lake, the state) exits 1
	}
	if err != nil {
		return e.leaseLost(limit.end(ctx, obs.end(ctx, e, nil, err)))
	}
	return e.leaseLost(limit.end(ctx, obs.end(ctx, e, sum, a.summarize(ctx, sum, began))))
}

// summarize prints what the run did (started at began) and turns failed
// streams into exit 1. On a JSON log the summary is one record, msg "run
// summary", and each failed stream one error record, msg "stream did not
// finish".
func (a *app) summarize(ctx context.Context, sum *pipeline.Summary, began time.Time) error {
	windows, c := sum.Totals()
	failed := sum.Failed()
	text := fmt.Sprintf("run %s: %d windows, %d pages, %d rows, %d rejects", sum.RunID, windows, c.Pages, c.Rows, c.Rejects)
	if c.Rejects > 0 {
		text += fmt.Sprintf("\n  %d rows failed validation and are kept in the rejects table: etl report rejects --from <day>", c.Rejects)
	}
	level := slog.LevelInfo
	if len(failed) > 0 {
		level = slog.LevelWarn
	}
	a.note(level, "run summary", text, slog.String("run_id", sum.RunID), slog.Int64("windows", windows),
		slog.Int64("pages", c.Pages), slog.Int64("rows", c.Rows), slog.Int64("rejects", c.Rejects),
		slog.Int("streams", len(sum.Streams)), slog.Int("failed_streams", len(failed)),
		slog.Float64("took_s", time.Since(began).Seconds()))
	if len(failed) == 0 {
		return nil
	}
	if a.format != "json" {
		fmt.Fprintf(a.errOut(), "%d of %d streams did not finish:\n", len(failed), len(sum.Streams))
	}
	for _, err := range sum.Errors() { // a source stopped by a dead credential is one line
		msg := a.redactor.Redact(err.Error())
		a.note(slog.LevelError, "stream did not finish", "  "+msg, slog.String("err", msg),
			slog.Int("failed_streams", len(failed)), slog.Int("streams", len(sum.Streams)))
	}
	err := fmt.Errorf("%d streams failed; committed windows are kept and the next run resumes at each failed day", len(failed))
	if ctx.Err() != nil {
		return fmt.Errorf("run interrupted: %w", ctx.Err())
	}
	return &exitError{code: exitFailed, err: err}
}

// Bounds of `etl check`: every probe starts at once (each source's HTTP
// concurrency still queues its own), each has probeTimeout, and the whole
// check reports within checkTimeout whatever the vendors do: retries of a
// vendor that is down stop at the probe's deadline.
const (
	defaultCheckTimeout = 10 * time.Second
	defaultProbeTimeout = 5 * time.Second
)

// accountProber is a source with several configured accounts (MTT
// customers): `etl check` probes each one, not just the first.
type accountProber interface {
	ProbeAccounts() []string
	PingAccount(ctx context.Context, account string) error
}

// probe is one call `etl check` makes: a source's Ping, or one account's.
type probe struct {
	src     source
	account string // "" for the source's Ping
	label   string // "source mtt customer 110011256"
}

// probeResult is how a probe ended; done is false when it had not ended
// by the check's bound.
type probeResult struct {
	err  error
	done bool
}

func (a *app) checkCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "check",
		Short: "Validate the config and test every source's credentials",
		Long: `Validate the config (errors name the field) and test the credentials of every
source with one cheap call per configured customer/account, all at once, within
--timeout (each call within --probe-timeout).`,
		Example: `  etl check
  etl check --config /etc/calletl/etl.yaml --timeout 30s`,
		Args:              noArgs,
		ValidArgsFunction: cobra.NoFileCompletions,
	}
	total := c.Flags().Duration("timeout", defaultCheckTimeout, "bound on the whole check: probes without an answer by then are reported failed")
	each := c.Flags().Duration("probe-timeout", defaultProbeTimeout, "bound on one probe (one source, or one of its customers), retries included")
	c.RunE = a.runs(func(ctx context.Context, _ *cobra.Command, _ []string) error { return a.cmdCheck(ctx, total, each) })
	return c
}

func (a *app) cmdCheck(ctx context.Context, total, each *time.Duration) error {
	if *total <= 0 || *each <= 0 {
		return &usageError{"check: --timeout and --probe-timeout must be positive durations such as 10s"}
	}
	e, err := a.open(ctx, false)
	if err != nil {
		return err
	}
	defer e.close()
	fmt.Fprintf(a.stdout, "config %s: ok (lake %s, state %s, timezone %s)\n", a.configPath, e.cfg.lakeName(), e.state.Dir(), e.cfg.Timezone)
	for _, w := range e.cfg.warnings {
		fmt.Fprintf(a.stdout, "WARNING: %s\n", w)
	}
	var probes []*probe
	for _, s := range e.sources {
		if ap, ok := s.(accountProber); ok && len(ap.ProbeAccounts()) > 0 {
			for _, acct := range ap.ProbeAccounts() {
				probes = append(probes, &probe{src: s, account: acct, label: fmt.Sprintf("source %s customer %s", s.Name(), acct)})
			}
			continue
		}
		probes = append(probes, &probe{src: s, label: "source " + s.Name()})
	}
	results := runProbes(ctx, probes, *total, *each)

	var errs []error
	ok, warned := 0, 0
	for i, p := range probes {
		r := results[i]
		switch {
		case !r.done:
			r.err = fmt.Errorf("no answer within the check's %s bound (a vendor that is down or very slow)", *total)
		case p.account != "" && errors.Is(r.err, httpx.ErrNoData):
			warned++
			fmt.Fprintf(a.stdout, "%s: WARNING: no data (%s): the credentials work; the account has no data yet, or the vendor does not know this name (check its entry in sources.%s)\n",
				p.label, a.redactor.Redact(r.err.Error()), p.src.Name())
			continue
		}
		if r.err != nil {
			fmt.Fprintf(a.stdout, "%s: FAILED: %s\n", p.label, a.redactor.Redact(r.err.Error()))
			errs = append(errs, fmt.Errorf("%s: %w", p.label, r.err))
			continue
		}
		ok++
		fmt.Fprintf(a.stdout, "%s: credentials ok\n", p.label)
		if w, isW := p.src.(interface{ Warnings(time.Time) []string }); isW && p.account == "" {
			for _, msg := range w.Warnings(time.Now()) {
				warned++
				fmt.Fprintf(a.stdout, "%s: WARNING: %s\n", p.label, a.redactor.Redact(msg))
			}
		}
	}
	fmt.Fprintf(a.stdout, "check: %d probes: %d ok, %d failed, %d warnings\n", len(probes), ok, len(errs), warned)
	if len(errs) > 0 {
		return &exitError{code: exitFailed, err: errors.Join(errs...)}
	}
	return nil
}

// runProbes runs every probe at once, each bounded by each, and returns
// their results when all are done or total has passed; a probe still
// running then is left !done (and abandoned: its context is cancelled).
func runProbes(ctx context.Context, probes []*probe, total, each time.Duration) []probeResult {
	ctx, cancel := context.WithTimeout(ctx, total)
	defer cancel()
	var mu sync.Mutex
	results := make([]probeResult, len(probes))
	var wg sync.WaitGroup
	for i, p := range probes {
		wg.Go(func() {
			pctx, cancel := context.WithTimeout(ctx, each)
			defer cancel()
			var err error
			if p.account != "" {
				err = p.src.(accountProber).PingAccount(pctx, p.account)
			} else {
				err = p.src.Ping(pctx)
			}
			mu.Lock()
			results[i] = probeResult{err: err, done: true}
			mu.Unlock()
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		// Every probe saw the same deadline; give them a moment to return
		// their own errors (the last attempt's cause) before giving up.
		grace := time.NewTimer(250 * time.Millisecond)
		defer grace.Stop()
		select {
		case <-done:
		case <-grace.C:
		}
	}
	mu.Lock() // a probe ending later writes results, not this copy
	defer mu.Unlock()
	return slices.Clone(results)
}

func pick(all []source, names []string) ([]source, error) {
	if len(names) == 0 {
		return all, nil
	}
	var out []source
	for _, n := range names {
		found := false
		for _, s := range all {
			if s.Name() == n {
				out = append(out, s)
				found = true
			}
		}
		if !found {
			var have []string
			for _, s := range all {
				have = append(have, s.Name())
			}
			return nil, &usageError{fmt.Sprintf("source %q is not configured (configured: %v)", n, have)}
		}
	}
	return out, nil
}
