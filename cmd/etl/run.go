package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime/debug"
	"slices"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/calletl/calletl/extract/mtt"
	"github.com/calletl/calletl/load"
	"github.com/calletl/calletl/model"
	"github.com/calletl/calletl/pipeline"
	"github.com/calletl/calletl/recordings"
	"github.com/calletl/calletl/recordings/blob"
	"github.com/calletl/calletl/secret"
	"github.com/calletl/calletl/state"
)

// env is an opened config: lake, state (locked), sources.
type env struct {
	cfg      *Config
	lake     *load.Lake
	state    *state.Store
	sources  []source
	fetchers []recordings.Fetcher // empty when recordings are off
	unlock   func()
}

func (e *env) close() {
	if e.unlock != nil {
		e.unlock()
	}
}

// open loads the config, builds the sources and, when lock is set, takes
// the state lock so no other run works on the same lake.
func (a *app) open(lock bool) (*env, error) {
	cfg, err := a.loadConfig()
	if err != nil {
		return nil, err
	}
	e := &env{cfg: cfg}
	if os.Getenv("GOMEMLIMIT") == "" { // the environment wins over the config
		debug.SetMemoryLimit(cfg.memoryLimit)
	}
	if e.state, err = state.Open(cfg.path(cfg.State)); err != nil {
		return nil, err
	}
	if lock {
		if e.unlock, err = e.state.Lock(); err != nil {
			return nil, err
		}
	}
	if e.lake, err = load.Open(cfg.path(cfg.Lake), load.Options{}); err != nil {
		e.close()
		return nil, err
	}
	if e.sources, e.fetchers, err = buildSources(cfg, a.redactor, a.log); err != nil {
		e.close()
		return nil, &usageError{err.Error()}
	}
	return e, nil
}

// loadConfig loads the config and logs its warnings (valid but suspicious
// settings, each naming the field).
func (a *app) loadConfig() (*Config, error) {
	cfg, err := LoadConfig(a.configPath)
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
		Logger:     a.log, Progress: p,
	})
}

func (a *app) cmdRun(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	only := fs.String("source", "", "run only these sources (comma-separated names, e.g. mtt)")
	if err := a.parseFlags(fs, args, "etl run [--source S]: the nightly job. Every stream runs from its cursor (or today − lookback_days, whichever is earlier) through today; each day window is committed to the lake before its cursor moves."); err != nil {
		return err
	}
	e, err := a.open(true)
	if err != nil {
		return err
	}
	defer e.close()
	srcs, err := pick(e.sources, splitComma(*only))
	if err != nil {
		return err
	}
	bar := a.newProgress("extracting")
	windowed, items := split(srcs)
	sum, err := a.pipeline(e, bar).Run(ctx, windowed, items...)
	bar.finish()
	if err != nil {
		return err
	}
	runErr := a.summarize(ctx, sum)
	// Recordings come after the call rows are committed: the calls table
	// is what says which recordings exist.
	if recErr := a.fetchRecordings(ctx, e); recErr != nil && runErr == nil {
		runErr = recErr
	}
	// Compaction last, when every write of the run is committed.
	if e.cfg.CompactAfterRun && ctx.Err() == nil {
		if err := a.compact(ctx, e, "", time.Now()); err != nil && runErr == nil {
			runErr = err
		}
	}
	return runErr
}

// fetchRecordings runs the recordings backlog, when recordings are on.
func (a *app) fetchRecordings(ctx context.Context, e *env) error {
	if len(e.fetchers) == 0 || ctx.Err() != nil {
		return nil
	}
	store, err := openStore(ctx, e.cfg)
	if err != nil {
		return err
	}
	if l, ok := store.(*blob.Local); ok {
		// Runs on one state directory never overlap (the state lock), and
		// SweepTemp spares files a live Put of another process holds.
		n, err := l.SweepTemp(ctx, blob.StaleTempAge)
		if err != nil {
			a.log.Warn("recordings: could not remove every temp file left by a killed run", "err", err)
		}
		if n > 0 {
			a.log.Info("recordings: removed temp files left by a killed run", "files", n, "store", l.Dir())
		}
	}
	r := e.cfg.Recordings
	run := model.Run{ID: pipeline.NewRunID(time.Now()), Mode: "recordings", StartedAt: time.Now().UTC(), Location: e.cfg.location}
	bar := a.newByteProgress()
	sum, err := recordings.Run(ctx, recordings.Config{
		Store: store, Lake: e.lake, LakeDir: e.lake.Root(),
		Concurrency: r.Concurrency, PerHost: r.PerHost, MaxAttempts: r.MaxAttempts, RetryBase: r.RetryBase,
		Logger: a.log, Progress: bar,
	}, run, e.fetchers...)
	bar.finish()
	fmt.Fprintf(a.stderr, "recordings: %d calls: %d stored (%d already there), %d missing at the vendor, %d failed (retried later), %d deferred by backoff, %.1f MB\n",
		sum.Calls, sum.Stored, sum.Reused, sum.Missing, sum.Failed, sum.Deferred, float64(sum.Bytes)/1e6)
	if sum.Transcripts+sum.TranscriptsMissing+sum.TranscriptsFailed+sum.Backfilled > 0 {
		fmt.Fprintf(a.stderr, "transcripts: %d stored, %d missing at the vendor, %d failed; %d of them for calls fetched before (backfill)\n",
			sum.Transcripts, sum.TranscriptsMissing, sum.TranscriptsFailed, sum.Backfilled)
	}
	if err != nil {
		return fmt.Errorf("recordings: %w", err)
	}
	return nil
}

// openStore opens the configured blob store.
func openStore(ctx context.Context, c *Config) (blob.Store, error) {
	r := c.Recordings
	if r.Local != "" {
		return blob.NewLocal(c.path(r.Local))
	}
	s3 := r.S3
	cfg := blob.S3Config{Endpoint: s3.Endpoint, Region: s3.Region, Bucket: s3.Bucket, Prefix: s3.Prefix,
		PathStyle: s3.PathStyle, PartSize: s3.partSize, Checksums: s3.Checksums}
	if s3.AccessKey != (SecretRef{}) {
		var err error
		if cfg.AccessKey, err = secret.Load(s3.AccessKey.Env, c.path(s3.AccessKey.File)); err != nil {
			return nil, fmt.Errorf("recordings.s3.access_key: %w", err)
		}
		if cfg.SecretKey, err = secret.Load(s3.SecretKey.Env, c.path(s3.SecretKey.File)); err != nil {
			return nil, fmt.Errorf("recordings.s3.secret_key: %w", err)
		}
	}
	return blob.NewS3(ctx, cfg)
}

func (a *app) cmdRecordings(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("recordings", flag.ContinueOnError)
	if err := a.parseFlags(fs, args, "etl recordings: fetch the recordings backlog alone (calls the lake says were recorded that are not stored yet), without extracting calls."); err != nil {
		return err
	}
	e, err := a.open(true)
	if err != nil {
		return err
	}
	defer e.close()
	if len(e.fetchers) == 0 {
		return &usageError{"recordings are off: add a recordings section (local: DIR or s3: …) to the config; see configs/etl.example.yaml"}
	}
	return a.fetchRecordings(ctx, e)
}

func (a *app) cmdBackfill(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("backfill", flag.ContinueOnError)
	src := fs.String("source", "", "source to backfill (required), e.g. mtt")
	from := fs.String("from", "", "first day, YYYY-MM-DD (required)")
	to := fs.String("to", "", "last day, YYYY-MM-DD, inclusive (required)")
	if err := a.parseFlags(fs, args, "etl backfill --source S --from YYYY-MM-DD --to YYYY-MM-DD: load history for every stream of a source. Progress is saved per day: the same command resumes where it stopped. Run cursors are not moved."); err != nil {
		return err
	}
	if *src == "" || *from == "" || *to == "" {
		return &usageError{"backfill needs --source, --from and --to (see etl backfill --help)"}
	}
	e, err := a.open(true)
	if err != nil {
		return err
	}
	defer e.close()
	srcs, err := pick(e.sources, []string{*src})
	if err != nil {
		return err
	}
	windowed, ok := srcs[0].(pipeline.Source)
	if !ok {
		return &usageError{fmt.Sprintf("source %s has no day windows to backfill: its items are polled by every etl run until final", *src)}
	}
	bar := a.newProgress("backfilling")
	sum, err := a.pipeline(e, bar).Backfill(ctx, windowed, *from, *to)
	bar.finish()
	if err != nil {
		return &usageError{err.Error()}
	}
	return a.summarize(ctx, sum)
}

// summarize prints what the run did and turns failed streams into exit 1.
func (a *app) summarize(ctx context.Context, sum *pipeline.Summary) error {
	windows, c := sum.Totals()
	fmt.Fprintf(a.stderr, "run %s: %d windows, %d pages, %d rows, %d rejects\n", sum.RunID, windows, c.Pages, c.Rows, c.Rejects)
	if c.Rejects > 0 {
		fmt.Fprintf(a.stderr, "  %d rows failed validation and are kept in the rejects table: etl report rejects --from <day>\n", c.Rejects)
	}
	failed := sum.Failed()
	if len(failed) == 0 {
		return nil
	}
	fmt.Fprintf(a.stderr, "%d of %d streams did not finish:\n", len(failed), len(sum.Streams))
	for _, r := range failed {
		fmt.Fprintf(a.stderr, "  %s/%s/%s %s at %s: %s\n", r.Source, r.Stream, r.Account, r.Status, r.LastDay, a.redactor.Redact(r.Error))
	}
	err := fmt.Errorf("%d streams failed; committed windows are kept and the next run resumes at each failed day", len(failed))
	if ctx.Err() != nil {
		return fmt.Errorf("run interrupted: %w", ctx.Err())
	}
	return &exitError{code: exitFailed, err: err}
}

func (a *app) cmdState(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("state", flag.ContinueOnError)
	if err := a.parseFlags(fs, args, "etl state: show every stream's cursor (the last day committed to the lake)."); err != nil {
		return err
	}
	cfg, err := a.loadConfig()
	if err != nil {
		return err
	}
	st, err := state.Open(cfg.path(cfg.State))
	if err != nil {
		return err
	}
	keys, cursors := st.Cursors()
	if len(keys) == 0 {
		fmt.Fprintln(a.stdout, "no cursors yet: `etl run` has not committed a window")
		return nil
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STREAM\tLAST DAY\tRUN\tUPDATED")
	for _, k := range keys {
		c := cursors[k]
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", k, c.Day, c.RunID, c.UpdatedAt.Format(time.RFC3339))
	}
	return tw.Flush()
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

func (a *app) cmdCheck(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	total := fs.Duration("timeout", defaultCheckTimeout, "bound on the whole check: probes without an answer by then are reported failed")
	each := fs.Duration("probe-timeout", defaultProbeTimeout, "bound on one probe (one source, or one of its customers), retries included")
	if err := a.parseFlags(fs, args, "etl check: validate the config (errors name the field) and test the credentials of every source with one cheap call per configured customer/account, all at once, within --timeout."); err != nil {
		return err
	}
	if *total <= 0 || *each <= 0 {
		return &usageError{"check: --timeout and --probe-timeout must be positive durations such as 10s"}
	}
	e, err := a.open(false)
	if err != nil {
		return err
	}
	defer e.close()
	fmt.Fprintf(a.stdout, "config %s: ok (lake %s, state %s, timezone %s)\n", a.configPath, e.lake.Root(), e.state.Dir(), e.cfg.Timezone)
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
		case p.account != "" && errors.Is(r.err, mtt.ErrNoData):
			warned++
			fmt.Fprintf(a.stdout, "%s: WARNING: no data (-32001 Data not found): the credentials work; the customer has no data yet, or MTT does not know this name (check sources.%s.customers)\n", p.label, p.src.Name())
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

func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}
