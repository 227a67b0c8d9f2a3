// Package metrics exports what one etl command did the Prometheus way for
// batch jobs: a node_exporter textfile (written atomically, so the
// collector never reads half a file) and/or a push to a Pushgateway.
//
// A batch job is not scraped while it runs; its figures are the last run's,
// so every metric is a gauge. The one that alerts hang on is
// calletl_stream_last_success_timestamp_seconds: it must survive a run in
// which the stream failed, else "no success in 26 h" could never fire.
//
//   - Textfile: the previous file is read back and the last-success series of
//     every stream that did not succeed this time (failed, or not part of
//     this command, e.g. `etl run --source t2`) are carried over unchanged.
//   - Pushgateway: a push replaces a whole group (HTTP PUT), so last success
//     is pushed in a group of its own per stream
//     ({job, command, source, stream, account}), and only for the streams
//     that succeeded: a failed stream's group is not touched and keeps its
//     previous value. Every other metric goes to the command's group
//     ({job, command[, shard]}), replaced by each push.
//
// A failed run still exports its metrics: that is the point of batch
// metrics (calletl_last_run_success 0, its failed streams'
// calletl_stream_success 0).
package metrics

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/push"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"google.golang.org/protobuf/proto"

	"github.com/calletl/calletl/storage"
)

// Metric names, exported so that tests (and the README's alert rules) can
// check they are the ones written.
const (
	LastRunTimestamp     = "calletl_last_run_timestamp_seconds"
	LastRunSuccess       = "calletl_last_run_success"
	LastRunDuration      = "calletl_last_run_duration_seconds"
	StreamLastSuccess    = "calletl_stream_last_success_timestamp_seconds"
	StreamSuccess        = "calletl_stream_success"
	StreamRows           = "calletl_stream_rows"
	StreamRejects        = "calletl_stream_rejects"
	StreamWindows        = "calletl_stream_windows"
	StreamWindowsFailed  = "calletl_stream_windows_failed"
	StreamDuration       = "calletl_stream_duration_seconds"
	RecordingsStored     = "calletl_recordings_stored"
	RecordingsFailed     = "calletl_recordings_failed"
	RecordingsMissing    = "calletl_recordings_missing"
	RecordingsBytes      = "calletl_recordings_bytes"
	T2RefreshTokenAge    = "calletl_t2_refresh_token_age_seconds"
	DataQualityChecked   = "calletl_data_quality_checked_timestamp_seconds"
	DataQualityFindings  = "calletl_data_quality_findings"
	defaultJob           = "calletl"
	labelCommand         = "command"
	labelShard           = "shard"
	labelSource          = "source"
	labelStream          = "stream"
	labelAccount         = "account"
	labelFinding         = "finding"
	textfileMode         = 0o644
	pushGroupLastSuccess = "last success"
)

// Names lists every metric name this package can write.
func Names() []string {
	return []string{LastRunTimestamp, LastRunSuccess, LastRunDuration, StreamLastSuccess, StreamSuccess,
		StreamRows, StreamRejects, StreamWindows, StreamWindowsFailed, StreamDuration,
		RecordingsStored, RecordingsFailed, RecordingsMissing, RecordingsBytes, T2RefreshTokenAge,
		DataQualityChecked, DataQualityFindings}
}

// Stream is what the command did for one stream of one account.
type Stream struct {
	Source, Stream, Account string
	OK                      bool  // the stream finished: every window committed
	Rows, Rejects           int64 // rows loaded, rows rejected
	Windows                 int64 // windows (days) committed
	WindowsFailed           int64 // windows that failed (the stream stopped at it)
	Duration                time.Duration
}

// Recordings is what the recordings fetch did.
type Recordings struct {
	Stored, Failed, Missing int
	Bytes                   int64
}

// Finding counts the data-quality findings of one kind for one account.
type Finding struct {
	Source, Account, Finding string
	Count                    int
}

// Batch is one etl command's figures.
type Batch struct {
	Command           string // run, backfill, recordings
	Shard             string // "2of4" in a sharded run; "" for the whole run
	Started, Finished time.Time
	OK                bool // the command succeeded (exit 0)
	Streams           []Stream
	Recordings        *Recordings // nil: recordings were not fetched
	// T2TokenRefreshedAt is when the T2 token pair was last refreshed
	// (a refresh issues a new refresh token); zero: unknown or no T2.
	T2TokenRefreshedAt time.Time
	// DataQuality is nil when the checks did not run; else their findings
	// (empty: none).
	DataQuality []Finding
}

// series is one sample to write.
type series struct {
	name   string
	labels map[string]string
	value  float64
}

var help = map[string]string{
	LastRunTimestamp:    "When the last etl command of this kind finished (Unix seconds).",
	LastRunSuccess:      "1 when the last etl command of this kind succeeded (exit 0), else 0.",
	LastRunDuration:     "How long the last etl command of this kind ran, in seconds.",
	StreamLastSuccess:   "When the stream last finished with every window committed (Unix seconds); kept across failed runs.",
	StreamSuccess:       "1 when the stream finished in the last run, 0 when it failed or was stopped.",
	StreamRows:          "Rows the last run loaded for the stream.",
	StreamRejects:       "Rows the last run rejected for the stream (kept in the rejects table).",
	StreamWindows:       "Windows (days) the last run committed for the stream.",
	StreamWindowsFailed: "Windows (days) that failed in the last run (the stream resumes there next time).",
	StreamDuration:      "How long the stream ran in the last run, in seconds.",
	RecordingsStored:    "Recordings the last fetch stored.",
	RecordingsFailed:    "Recordings the last fetch failed to get (retried on a later run).",
	RecordingsMissing:   "Recorded calls the vendor has no recording of, in the last fetch.",
	RecordingsBytes:     "Bytes of recordings the last fetch stored.",
	T2RefreshTokenAge:   "Seconds since the T2 token pair was last refreshed; a refresh token unused for 7 days dies.",
	DataQualityChecked:  "When the data-quality checks last ran after this kind of command (Unix seconds).",
	DataQualityFindings: "Data-quality findings of the last checks, per source, account and finding (calls_low, stream_zero_rows, reject_rate, cost_without_talk, recording_coverage_drop).",
}

// runLabels are the labels of the command-level series.
func (b *Batch) runLabels() map[string]string {
	l := map[string]string{labelCommand: b.Command}
	if b.Shard != "" {
		l[labelShard] = b.Shard
	}
	return l
}

func with(base map[string]string, kv ...string) map[string]string {
	l := maps.Clone(base)
	for i := 0; i+1 < len(kv); i += 2 {
		l[kv[i]] = kv[i+1]
	}
	return l
}

func seconds(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// series returns every sample of the batch except the streams' last
// success, which the writers handle (see the package documentation).
func (b *Batch) series() []series {
	run := b.runLabels()
	out := []series{
		{LastRunTimestamp, run, seconds(b.Finished)},
		{LastRunSuccess, run, b2f(b.OK)},
		{LastRunDuration, run, b.Finished.Sub(b.Started).Seconds()},
	}
	for _, s := range b.Streams {
		l := with(map[string]string{labelCommand: b.Command}, labelSource, s.Source, labelStream, s.Stream, labelAccount, s.Account)
		out = append(out,
			series{StreamSuccess, l, b2f(s.OK)},
			series{StreamRows, l, float64(s.Rows)},
			series{StreamRejects, l, float64(s.Rejects)},
			series{StreamWindows, l, float64(s.Windows)},
			series{StreamWindowsFailed, l, float64(s.WindowsFailed)},
			series{StreamDuration, l, s.Duration.Seconds()},
		)
	}
	if r := b.Recordings; r != nil {
		out = append(out,
			series{RecordingsStored, run, float64(r.Stored)},
			series{RecordingsFailed, run, float64(r.Failed)},
			series{RecordingsMissing, run, float64(r.Missing)},
			series{RecordingsBytes, run, float64(r.Bytes)},
		)
	}
	if !b.T2TokenRefreshedAt.IsZero() {
		out = append(out, series{T2RefreshTokenAge, run, max(b.Finished.Sub(b.T2TokenRefreshedAt).Seconds(), 0)})
	}
	if b.DataQuality != nil {
		out = append(out, series{DataQualityChecked, run, seconds(b.Finished)})
		for _, f := range b.DataQuality {
			out = append(out, series{DataQualityFindings, with(run, labelSource, f.Source, labelAccount, f.Account, labelFinding, f.Finding), float64(f.Count)})
		}
	}
	return out
}

// lastSuccess returns the last-success sample of every stream that
// succeeded in this batch.
func (b *Batch) lastSuccess() []series {
	var out []series
	for _, s := range b.Streams {
		if s.OK {
			out = append(out, series{StreamLastSuccess, map[string]string{labelCommand: b.Command,
				labelSource: s.Source, labelStream: s.Stream, labelAccount: s.Account}, seconds(b.Finished)})
		}
	}
	return out
}

// families builds the metric families of ss, sorted by name and labels,
// each series without the labels in omit.
func families(ss []series, omit map[string]string) ([]*dto.MetricFamily, error) {
	byName := map[string]*dto.MetricFamily{}
	seen := map[string]bool{}
	for _, s := range ss {
		mf := byName[s.name]
		if mf == nil {
			mf = &dto.MetricFamily{Name: proto.String(s.name), Help: proto.String(help[s.name]), Type: dto.MetricType_GAUGE.Enum()}
			byName[s.name] = mf
		}
		m := &dto.Metric{Gauge: &dto.Gauge{Value: proto.Float64(s.value)}}
		for _, k := range slices.Sorted(maps.Keys(s.labels)) {
			if _, drop := omit[k]; drop {
				continue
			}
			m.Label = append(m.Label, &dto.LabelPair{Name: proto.String(k), Value: proto.String(s.labels[k])})
		}
		id := s.name + "\xff" + labelKey(m.Label)
		if seen[id] {
			return nil, fmt.Errorf("metrics: %s{%s} twice: two streams with the same source, stream and account?", s.name, labelKey(m.Label))
		}
		seen[id] = true
		mf.Metric = append(mf.Metric, m)
	}
	out := slices.Collect(maps.Values(byName))
	slices.SortFunc(out, func(a, b *dto.MetricFamily) int { return cmp.Compare(a.GetName(), b.GetName()) })
	for _, mf := range out {
		slices.SortFunc(mf.Metric, func(a, b *dto.Metric) int { return cmp.Compare(labelKey(a.Label), labelKey(b.Label)) })
	}
	return out, nil
}

func labelKey(ls []*dto.LabelPair) string {
	var b strings.Builder
	for _, l := range ls {
		fmt.Fprintf(&b, "%s=%q,", l.GetName(), l.GetValue())
	}
	return b.String()
}

// ReadFile parses a textfile this package (or anyone) wrote. A missing
// file is no families and no error.
func ReadFile(path string) (map[string]*dto.MetricFamily, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("metrics: read the previous textfile: %w", err)
	}
	defer f.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(f)
	if err != nil {
		return nil, fmt.Errorf("metrics: parse the previous textfile %s: %w", path, err)
	}
	return mfs, nil
}

// carried returns the last-success samples of prev that this batch does
// not replace: streams that failed, and streams this command did not run.
func (b *Batch) carried(prev map[string]*dto.MetricFamily) []series {
	mf := prev[StreamLastSuccess]
	if mf == nil {
		return nil
	}
	fresh := map[string]bool{}
	for _, s := range b.lastSuccess() {
		fresh[s.labels[labelCommand]+"\xff"+s.labels[labelSource]+"\xff"+s.labels[labelStream]+"\xff"+s.labels[labelAccount]] = true
	}
	var out []series
	for _, m := range mf.GetMetric() {
		l := map[string]string{}
		for _, p := range m.GetLabel() {
			l[p.GetName()] = p.GetValue()
		}
		if fresh[l[labelCommand]+"\xff"+l[labelSource]+"\xff"+l[labelStream]+"\xff"+l[labelAccount]] || m.GetGauge() == nil {
			continue
		}
		out = append(out, series{StreamLastSuccess, l, m.GetGauge().GetValue()})
	}
	return out
}

// WriteFile writes the batch's metrics to path in the text format that
// node_exporter's textfile collector reads (the file name must end in
// .prom there). It writes path's directory's temp file, syncs it and
// renames it over path, so a scrape sees the old file or the new one,
// never half of one. Last-success series of streams that did not succeed
// are carried over from the previous file (see the package documentation);
// a previous file that cannot be parsed is an error, not silently dropped
// history: fix or delete it.
func WriteFile(path string, b *Batch) error {
	if !strings.HasSuffix(path, ".prom") {
		// node_exporter reads *.prom only; say so rather than write a file nobody reads.
		return fmt.Errorf("metrics: textfile %s: the name must end in .prom for node_exporter's textfile collector", path)
	}
	prev, err := ReadFile(path)
	if err != nil {
		return err
	}
	mfs, err := families(slices.Concat(b.series(), b.lastSuccess(), b.carried(prev)), nil)
	if err != nil {
		return err
	}
	err = storage.WriteFileAtomicFunc(path, textfileMode, func(w io.Writer) error {
		for _, mf := range mfs {
			if _, err := expfmt.MetricFamilyToText(w, mf); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("metrics: write the textfile %s: %w (is the directory there and writable?)", path, err)
	}
	return nil
}

// Pusher pushes a batch to a Pushgateway.
type Pusher struct {
	URL    string       // the Pushgateway's base URL, e.g. http://pushgateway:9091
	Job    string       // the job label; default "calletl"
	Client *http.Client // default http.DefaultClient; give it a timeout
}

// Push sends the batch: the command's group (PUT, replacing it) and one
// last-success group per stream that succeeded (see the package
// documentation). It stops at the first failed request.
func (p *Pusher) Push(ctx context.Context, b *Batch) error {
	job := cmp.Or(p.Job, defaultJob)
	run := b.runLabels()
	mfs, err := families(b.series(), run)
	if err != nil {
		return err
	}
	pu := p.pusher(job, run).Gatherer(gatherer(mfs))
	if err := pu.PushContext(ctx); err != nil {
		return fmt.Errorf("metrics: push to the Pushgateway %s (job %s): %w", p.URL, job, err)
	}
	for _, s := range b.lastSuccess() {
		mfs, err := families([]series{s}, s.labels)
		if err != nil {
			return err
		}
		if err := p.pusher(job, s.labels).Gatherer(gatherer(mfs)).PushContext(ctx); err != nil {
			return fmt.Errorf("metrics: push the %s of %s/%s/%s to the Pushgateway %s: %w", pushGroupLastSuccess,
				s.labels[labelSource], s.labels[labelStream], s.labels[labelAccount], p.URL, err)
		}
	}
	return nil
}

func (p *Pusher) pusher(job string, grouping map[string]string) *push.Pusher {
	pu := push.New(p.URL, job).Format(expfmt.NewFormat(expfmt.TypeTextPlain))
	if p.Client != nil {
		pu = pu.Client(p.Client)
	}
	for _, k := range slices.Sorted(maps.Keys(grouping)) {
		pu = pu.Grouping(k, grouping[k])
	}
	return pu
}

func gatherer(mfs []*dto.MetricFamily) prometheus.Gatherer {
	return prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) { return mfs, nil })
}
