package main

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"net/http"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/calletl/calletl/load"
	"github.com/calletl/calletl/metrics"
	"github.com/calletl/calletl/model"
	"github.com/calletl/calletl/pipeline"
	"github.com/calletl/calletl/queries"
	"github.com/calletl/calletl/recordings"
	"github.com/calletl/calletl/report"
)

// exitDataQuality: the run succeeded but the data-quality checks found
// something and data_quality.fail_run (or --fail-on-data-quality) is set.
const exitDataQuality = 5

// Defaults of the data_quality section (the data_quality report's own
// parameter defaults: keep the two in step).
const (
	defaultDQBaselineDays       = 14
	defaultDQLowCallsRatio      = 0.2
	defaultDQMinBaselineCalls   = 20
	defaultDQMaxRejectRate      = 0.01
	defaultDQMaxCostWithoutTalk = 0
	defaultDQCoverageDrop       = 0.2
	defaultMetricsJob           = "calletl"
	defaultMetricsTimeout       = 10 * time.Second
	dqReport                    = "data_quality"
)

// DataQualityConfig is the data_quality section: the checks `etl run` runs
// over the days it extracted (the data_quality report).
type DataQualityConfig struct {
	Enabled            *bool    `yaml:"enabled"`  // default true
	FailRun            bool     `yaml:"fail_run"` // exit 5 on a finding
	BaselineDays       *int     `yaml:"baseline_days"`
	LowCallsRatio      *float64 `yaml:"low_calls_ratio"`
	MinBaselineCalls   *int     `yaml:"min_baseline_calls"`
	MaxRejectRate      *float64 `yaml:"max_reject_rate"`
	MaxCostWithoutTalk *int     `yaml:"max_cost_without_talk"`
	CoverageDrop       *float64 `yaml:"coverage_drop"`
}

// MetricsConfig is the metrics section: where etl run, backfill and
// recordings export their figures (flags --metrics-file and --pushgateway
// override it).
type MetricsConfig struct {
	Textfile    string        `yaml:"textfile"`
	Pushgateway string        `yaml:"pushgateway"`
	Job         string        `yaml:"job"`
	Timeout     time.Duration `yaml:"timeout"`
}

func (d *DataQualityConfig) on() bool { return d == nil || d.Enabled == nil || *d.Enabled }

// validateObservability checks and defaults the data_quality and metrics
// sections.
func (c *Config) validateObservability(bad func(field, format string, args ...any)) {
	if c.DataQuality == nil {
		c.DataQuality = &DataQualityConfig{}
	}
	d := c.DataQuality
	intIn := func(field string, p **int, def, lo, hi int) {
		if *p == nil {
			*p = &def
		} else if **p < lo || **p > hi {
			bad(field, "%d: must be %d..%d (default %d)", **p, lo, hi, def)
		}
	}
	rate := func(field string, p **float64, def float64) {
		if *p == nil {
			*p = &def
		} else if v := **p; math.IsNaN(v) || v < 0 || v > 1 {
			bad(field, "%v: must be a share between 0 and 1, such as %v", v, def)
		}
	}
	intIn("data_quality.baseline_days", &d.BaselineDays, defaultDQBaselineDays, 7, 366)
	rate("data_quality.low_calls_ratio", &d.LowCallsRatio, defaultDQLowCallsRatio)
	intIn("data_quality.min_baseline_calls", &d.MinBaselineCalls, defaultDQMinBaselineCalls, 0, 1<<30)
	rate("data_quality.max_reject_rate", &d.MaxRejectRate, defaultDQMaxRejectRate)
	intIn("data_quality.max_cost_without_talk", &d.MaxCostWithoutTalk, defaultDQMaxCostWithoutTalk, 0, 1<<30)
	rate("data_quality.coverage_drop", &d.CoverageDrop, defaultDQCoverageDrop)

	if c.Metrics == nil {
		c.Metrics = &MetricsConfig{}
	}
	m := c.Metrics
	if m.Textfile != "" && !strings.HasSuffix(m.Textfile, ".prom") {
		bad("metrics.textfile", "%q: node_exporter's textfile collector reads only *.prom files", m.Textfile)
	}
	if m.Pushgateway != "" && !strings.HasPrefix(m.Pushgateway, "http://") && !strings.HasPrefix(m.Pushgateway, "https://") {
		bad("metrics.pushgateway", "%q: want the http(s) URL of the Pushgateway, such as http://pushgateway:9091", m.Pushgateway)
	}
	if m.Job == "" {
		m.Job = defaultMetricsJob
	}
	if m.Timeout == 0 {
		m.Timeout = defaultMetricsTimeout
	} else if m.Timeout < 0 {
		bad("metrics.timeout", "%v: want a positive duration such as 10s", m.Timeout)
	}
}

// dqParams are the data_quality report's parameters from the config.
func (d *DataQualityConfig) params(from, to string) map[string]string {
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	return map[string]string{
		"from": from, "to": to,
		"baseline_days":         strconv.Itoa(*d.BaselineDays),
		"low_ratio":             f(*d.LowCallsRatio),
		"min_baseline":          strconv.Itoa(*d.MinBaselineCalls),
		"max_reject_rate":       f(*d.MaxRejectRate),
		"max_cost_without_talk": strconv.Itoa(*d.MaxCostWithoutTalk),
		"coverage_drop":         f(*d.CoverageDrop),
	}
}

// observer collects what a command did and, at its end, runs the
// data-quality checks and exports the metrics. Its flags are on run,
// backfill and recordings.
type observer struct {
	a        *app
	command  string
	started  time.Time
	textfile *string
	push     *string
	failDQ   *bool // nil: the command has no data-quality checks
}

// observe registers the observer's flags on fs.
func (a *app) observe(fs *pflag.FlagSet, command string) *observer {
	o := &observer{a: a, command: command, started: time.Now()}
	o.textfile = fs.String("metrics-file", "", "write the run's metrics to this node_exporter textfile (NAME.prom, replaced atomically; overrides metrics.textfile)")
	o.push = fs.String("pushgateway", "", "push the run's metrics to this Prometheus Pushgateway URL (overrides metrics.pushgateway)")
	if command == "run" {
		o.failDQ = fs.Bool("fail-on-data-quality", false, "exit 5 when the data-quality checks after the run find something (as data_quality.fail_run: true)")
	}
	return o
}

// dqFinding is one row of the data_quality report.
type dqFinding struct {
	Date, Source, Account, Stream, Finding, Detail string
	Observed, Expected                             float64
}

// end runs the data-quality checks (etl run, when the run got as far as a
// summary) and writes the metrics, also when the command failed: a failed
// run's metrics are what the alerts need. It returns err, or the
// data-quality exit when err is nil and fail_run is set. sum is nil when
// the command had no pipeline summary.
func (o *observer) end(ctx context.Context, e *env, sum *pipeline.Summary, err error) error {
	var findings []dqFinding
	checked := false
	if o.failDQ != nil && sum != nil && ctx.Err() == nil && e.cfg.DataQuality.on() {
		switch from, to := dqDays(sum); {
		case !e.shard.Whole():
			o.a.log.Info("data quality: not checked in a sharded run (each shard sees part of the lake): run `etl report data_quality --from DAY` after every shard has finished", "shard", e.shard.Label())
		case from == "":
		default:
			var dqErr error
			began := time.Now()
			// The extraction is over: hand its heap back to the OS before
			// DuckDB, whose memory the Go limit does not see, reads the
			// lake, so the two do not add up in the process's peak RSS.
			debug.FreeOSMemory()
			findings, dqErr = o.a.checkDataQuality(ctx, e.cfg, from, to)
			if dqErr != nil {
				o.a.log.Warn("data quality: checks not run; the run itself is unaffected", "err", dqErr)
			} else {
				checked = true
				o.a.log.Info("data quality: checked", "from", from, "to", to, "findings", len(findings), "took_s", time.Since(began).Seconds())
				for _, f := range findings {
					o.a.log.Warn("data quality: "+f.Finding+": "+f.Detail, "finding", f.Finding, "date", f.Date,
						"source", f.Source, "account", f.Account, "stream", f.Stream, "observed", f.Observed, "expected", f.Expected)
				}
				if len(findings) > 0 && err == nil && (e.cfg.DataQuality.FailRun || *o.failDQ) {
					err = &exitError{code: exitDataQuality, err: fmt.Errorf("data quality: %d findings over %s..%s (logged above; etl report data_quality --from %s --to %s)", len(findings), from, to, from, to)}
				}
			}
		}
	}
	o.export(ctx, e, sum, checked, findings, err)
	return err
}

// dqDays is the span of days the run extracted: its streams' first to last
// window.
func dqDays(sum *pipeline.Summary) (from, to string) {
	for _, s := range sum.Streams {
		first, last := s.FirstDay, s.LastDay
		if first == "" || last == "" {
			continue
		}
		if from == "" || first < from {
			from = first
		}
		if last > to {
			to = last
		}
	}
	return from, to
}

// checkDataQuality runs the data_quality report over from..to.
func (a *app) checkDataQuality(ctx context.Context, cfg *Config, from, to string) ([]dqFinding, error) {
	r, err := report.Find(queries.FS(), dqReport)
	if err != nil {
		return nil, err
	}
	// The tables queries/data_quality.sql reads: only they are mirrored
	// from a lake on S3 (the others are empty views).
	lake, err := a.sqlLake(ctx, cfg, load.Calls.Name, load.Rejects.Name, load.Runs.Name, recordings.Days.Name)
	if err != nil {
		return nil, err
	}
	eng, err := report.Open(ctx, report.Options{Lake: lake, TimeZone: cfg.Timezone, Tables: allTables(cfg.Sources.vendors)})
	if err != nil {
		return nil, err
	}
	defer eng.Close()
	res, err := eng.Query(ctx, r, cfg.DataQuality.params(from, to))
	if err != nil {
		return nil, fmt.Errorf("report %s: %w", dqReport, err)
	}
	col := map[string]int{}
	for i, c := range res.Columns {
		col[c] = i
	}
	for _, c := range []string{"date", "source", "account", "stream", "finding", "observed", "expected", "detail"} {
		if _, ok := col[c]; !ok {
			return nil, fmt.Errorf("report %s: no column %s", dqReport, c)
		}
	}
	str := func(v any) string {
		switch x := v.(type) {
		case nil:
			return ""
		case time.Time:
			return x.Format(model.DayLayout)
		}
		return fmt.Sprint(v)
	}
	num := func(v any) float64 {
		f, _ := strconv.ParseFloat(str(v), 64)
		return f
	}
	out := make([]dqFinding, 0, len(res.Rows))
	for _, row := range res.Rows {
		out = append(out, dqFinding{
			Date: str(row[col["date"]]), Source: str(row[col["source"]]), Account: str(row[col["account"]]),
			Stream: str(row[col["stream"]]), Finding: str(row[col["finding"]]), Detail: str(row[col["detail"]]),
			Observed: num(row[col["observed"]]), Expected: num(row[col["expected"]]),
		})
	}
	return out, nil
}

// export writes the metrics file and pushes to the Pushgateway, when
// either is configured. A failure is logged, not returned: the run's data
// is committed whatever happens to its metrics, and the missing metrics
// raise the alerts that watch them.
func (o *observer) export(ctx context.Context, e *env, sum *pipeline.Summary, checked bool, findings []dqFinding, err error) {
	m := e.cfg.Metrics
	// The flag's path is the shell's (relative to the working directory),
	// the config's relative to the config file, like every path in it.
	textfile, pushURL := cmp.Or(*o.textfile, e.cfg.path(m.Textfile)), cmp.Or(*o.push, m.Pushgateway)
	if textfile == "" && pushURL == "" {
		return
	}
	b := &metrics.Batch{Command: o.command, Shard: e.shard.Label(), Started: o.started, Finished: time.Now(), OK: err == nil}
	if sum != nil {
		for _, s := range sum.Streams {
			ms := metrics.Stream{Source: s.Source, Stream: s.Stream, Account: s.Account, OK: s.Status == model.RunOK,
				Rows: s.Rows, Rejects: s.Rejects, Windows: s.Windows, Duration: s.Duration()}
			if s.Status == model.RunFailed {
				ms.WindowsFailed = 1 // a stream stops at its first failed window
			}
			b.Streams = append(b.Streams, ms)
		}
	}
	if r := e.recSum; r != nil {
		b.Recordings = &metrics.Recordings{Stored: r.Stored, Failed: r.Failed, Missing: r.Missing, Bytes: r.Bytes}
	}
	for _, s := range e.sources {
		if t, ok := s.(interface{ TokenRefreshedAt() time.Time }); ok {
			b.T2TokenRefreshedAt = t.TokenRefreshedAt()
		}
	}
	if checked {
		b.DataQuality = []metrics.Finding{}
		counts := map[metrics.Finding]int{}
		for _, f := range findings {
			counts[metrics.Finding{Source: f.Source, Account: f.Account, Finding: f.Finding}]++
		}
		for k, n := range counts {
			k.Count = n
			b.DataQuality = append(b.DataQuality, k)
		}
		slices.SortFunc(b.DataQuality, func(x, y metrics.Finding) int {
			return cmp.Or(cmp.Compare(x.Source, y.Source), cmp.Compare(x.Account, y.Account), cmp.Compare(x.Finding, y.Finding))
		})
	}
	if textfile != "" {
		if err := metrics.WriteFile(textfile, b); err != nil {
			o.a.log.Error("metrics: textfile not written", "file", textfile, "err", err)
		}
	}
	if pushURL != "" {
		// An interrupted run still pushes: its metrics say it failed.
		pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), m.Timeout)
		defer cancel()
		p := &metrics.Pusher{URL: pushURL, Job: m.Job, Client: &http.Client{Timeout: m.Timeout}}
		if err := p.Push(pctx, b); err != nil {
			o.a.log.Error("metrics: not pushed", "err", o.a.redactor.Error(err))
		}
	}
}
