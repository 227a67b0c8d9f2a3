package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/calletl/calletl/metrics"
	"github.com/calletl/calletl/model"
	"github.com/calletl/calletl/sandbox"
)

// dqWorld is MTT emulated traffic (UTC business days) where customer
// quiet has nothing yesterday and today: the platform answers -32001
// "No data found" for those days, as for any day without calls.
type dqWorld struct {
	emu              *sandbox.MTT
	cfg, prom        string
	yesterday, today string
}

const (
	dqQuiet = "110011256"
	dqBusy  = "110022512"
)

func newDQWorld(t *testing.T, extra string) *dqWorld {
	t.Helper()
	today := time.Now().UTC().Truncate(24 * time.Hour)
	yesterday := today.AddDate(0, 0, -1)
	emu := sandbox.NewMTT(sandbox.MTTConfig{
		Seed: 5, Customers: []string{dqQuiet, dqBusy},
		From: today.AddDate(0, 0, -17), To: today.AddDate(0, 0, 1),
		CallsPerDay: 10, Username: "agent", Password: testPassword,
		QuietDays: []sandbox.MTTQuietDay{{Customer: dqQuiet, Day: yesterday}, {Customer: dqQuiet, Day: today}},
	})
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "pw"), []byte(testPassword+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	w := &dqWorld{emu: emu, cfg: filepath.Join(dir, "etl.yaml"), prom: filepath.Join(dir, "calletl.prom"),
		yesterday: yesterday.Format(model.DayLayout), today: today.Format(model.DayLayout)}
	cfg := fmt.Sprintf(`lake: lake
state: state
timezone: UTC
lookback_days: 1
start_date: %s
sources:
  mtt:
    base_url: %s
    username: agent
    password: {file: pw}
    customers: ["%s", "%s"]
    http: {concurrency: 4, max_attempts: 3, base_backoff: 1ms, max_backoff: 5ms}
metrics:
  textfile: calletl.prom
%s`, today.AddDate(0, 0, -16).Format(model.DayLayout), srv.URL, dqQuiet, dqBusy, extra)
	if err := os.WriteFile(w.cfg, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *dqWorld) etl(args ...string) (int, string, string) {
	var out, errb strings.Builder
	code := runMain(append([]string{"--config", w.cfg, "--log-format", "json"}, args...), &out, &errb)
	return code, out.String(), errb.String()
}

// warnings returns the data-quality warnings of a JSON log as
// "finding date account stream".
func dqWarnings(t *testing.T, stderr string) []string {
	t.Helper()
	var out []string
	for _, line := range strings.Split(stderr, "\n") {
		if !strings.HasPrefix(line, "{") {
			continue
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if f, ok := rec["finding"].(string); ok && rec["level"] == "WARN" {
			out = append(out, fmt.Sprintf("%s %s %s %s", f, rec["date"], rec["account"], rec["stream"]))
		}
	}
	slices.Sort(out)
	return out
}

func (w *dqWorld) metrics(t *testing.T) map[string]*dto.MetricFamily {
	t.Helper()
	mfs, err := metrics.ReadFile(w.prom)
	if err != nil || mfs == nil {
		t.Fatalf("metrics file %s: %v (none: %v)", w.prom, err, mfs == nil)
	}
	return mfs
}

// gauge returns the value of name with exactly labels.
func gauge(mfs map[string]*dto.MetricFamily, name string, labels map[string]string) (float64, bool) {
	for _, m := range mfs[name].GetMetric() {
		l := map[string]string{}
		for _, p := range m.GetLabel() {
			l[p.GetName()] = p.GetValue()
		}
		if len(l) == len(labels) {
			same := true
			for k, v := range labels {
				same = same && l[k] == v
			}
			if same {
				return m.GetGauge().GetValue(), true
			}
		}
	}
	return 0, false
}

// A customer goes quiet: the first run warns calls_low for its quiet day
// (not for today, which is not over, nor for the busy customer) and exports
// the finding; the next run, which extracts only the quiet days, warns
// stream_zero_rows for each of its streams and, with
// --fail-on-data-quality, exits 5; a run whose streams fail exits 1 and
// still writes its metrics, keeping each stream's last success.
func TestDataQualityQuietCustomer(t *testing.T) {
	pg := &pushRecorder{}
	pgSrv := httptest.NewServer(pg)
	t.Cleanup(pgSrv.Close)
	w := newDQWorld(t, "")

	code, _, stderr := w.etl("run")
	if code != exitOK {
		t.Fatalf("first run: exit %d, want 0 (fail_run is off)\n%s", code, stderr)
	}
	if got, want := dqWarnings(t, stderr), []string{"calls_low " + w.yesterday + " " + dqQuiet + " "}; !slices.Equal(got, want) {
		t.Errorf("first run's data-quality warnings:\n%q\nwant %q\n%s", got, want, stderr)
	}
	mfs := w.metrics(t)
	find := func(account, finding string) map[string]string {
		return map[string]string{"command": "run", "source": "mtt", "account": account, "finding": finding}
	}
	if v, ok := gauge(mfs, metrics.DataQualityFindings, find(dqQuiet, "calls_low")); !ok || v != 1 {
		t.Errorf("calls_low finding metric %v (present %v)", v, ok)
	}
	if n := len(mfs[metrics.DataQualityFindings].GetMetric()); n != 1 {
		t.Errorf("%d finding series, want 1", n)
	}
	dialed := map[string]string{"command": "run", "source": "mtt", "stream": "dialed", "account": dqQuiet}
	first, ok := gauge(mfs, metrics.StreamLastSuccess, dialed)
	if !ok {
		t.Fatalf("no last success for %v", dialed)
	}

	// The report lists the same finding for any analyst.
	code, out, stderr := w.etl("report", "data_quality", "--from", w.yesterday, "--to", w.yesterday, "--format", "csv")
	if code != exitOK || !strings.Contains(out, w.yesterday+",mtt,"+dqQuiet+",,calls_low,0,") || strings.Contains(out, dqBusy) {
		t.Errorf("etl report data_quality: exit %d\n%s\n%s", code, out, stderr)
	}

	code, _, stderr = w.etl("run", "--fail-on-data-quality", "--pushgateway", pgSrv.URL)
	if code != exitDataQuality {
		t.Fatalf("second run: exit %d, want %d\n%s", code, exitDataQuality, stderr)
	}
	want := []string{"calls_low " + w.yesterday + " " + dqQuiet + " "}
	for _, s := range []string{"dialed", "forwarded", "incoming", "missed"} {
		want = append(want, "stream_zero_rows "+w.today+" "+dqQuiet+" "+s)
	}
	slices.Sort(want)
	if got := dqWarnings(t, stderr); !slices.Equal(got, want) {
		t.Errorf("second run's data-quality warnings:\n%q\nwant\n%q", got, want)
	}
	if !strings.Contains(stderr, "data quality: 5 findings") {
		t.Errorf("exit 5 without its message:\n%s", stderr)
	}
	mfs = w.metrics(t)
	if v, _ := gauge(mfs, metrics.LastRunSuccess, map[string]string{"command": "run"}); v != 0 {
		t.Errorf("last run success %v after exit 5", v)
	}
	second, _ := gauge(mfs, metrics.StreamLastSuccess, dialed)
	if second < first {
		t.Errorf("last success went back: %v then %v", first, second)
	}
	if !slices.Contains(pg.paths(), "PUT /metrics/job/calletl/command/run") {
		t.Errorf("pushgateway requests: %v", pg.paths())
	}

	// Every request fails: the streams fail, exit 1, and the metrics say so,
	// keeping the last success of the second run.
	w.emu.SetFaults(sandbox.Faults{Error5xxEvery: 1})
	code, _, stderr = w.etl("run")
	if code != exitFailed {
		t.Fatalf("failing run: exit %d, want 1\n%s", code, stderr)
	}
	mfs = w.metrics(t)
	if v, ok := gauge(mfs, metrics.StreamLastSuccess, dialed); !ok || v != second {
		t.Errorf("last success after a failed run: %v (present %v), want the second run's %v", v, ok, second)
	}
	if v, ok := gauge(mfs, metrics.StreamSuccess, dialed); !ok || v != 0 {
		t.Errorf("stream success after a failed run: %v (present %v)", v, ok)
	}
	if v, ok := gauge(mfs, metrics.StreamWindowsFailed, dialed); !ok || v != 1 {
		t.Errorf("windows failed: %v (present %v)", v, ok)
	}
	if v, _ := gauge(mfs, metrics.LastRunSuccess, map[string]string{"command": "run"}); v != 0 {
		t.Errorf("last run success %v after a failed run", v)
	}
}

// fail_run in the config is the flag's equivalent, and a config without
// data-quality settings gets the defaults; enabled: false runs no checks.
func TestDataQualityConfig(t *testing.T) {
	tests := []struct {
		name  string
		extra string
		code  int
		warns int
	}{
		{"fail_run", "data_quality:\n  fail_run: true\n", exitDataQuality, 1},
		{"disabled", "data_quality:\n  enabled: false\n  fail_run: true\n", exitOK, 0},
		{"a lower ratio still sees a day at zero", "data_quality:\n  low_calls_ratio: 0.01\n", exitOK, 1},
		{"min_baseline_calls above the customer", "data_quality:\n  min_baseline_calls: 1000\n  fail_run: true\n", exitOK, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newDQWorld(t, tt.extra)
			code, _, stderr := w.etl("run")
			if code != tt.code || len(dqWarnings(t, stderr)) != tt.warns {
				t.Errorf("exit %d with %d warnings, want %d with %d\n%s", code, len(dqWarnings(t, stderr)), tt.code, tt.warns, stderr)
			}
		})
	}
}

// Bad data_quality and metrics settings exit 2 naming the field.
func TestDataQualityConfigErrors(t *testing.T) {
	const base = "lake: l\nstate: s\nsources: {mtt: {username: u, password: {env: X}, customers: [\"1\"]}}\n"
	tests := []struct{ yaml, field string }{
		{"data_quality: {baseline_days: 3}", "data_quality.baseline_days"},
		{"data_quality: {low_calls_ratio: 1.5}", "data_quality.low_calls_ratio"},
		{"data_quality: {max_reject_rate: -0.1}", "data_quality.max_reject_rate"},
		{"data_quality: {coverage_drop: 2}", "data_quality.coverage_drop"},
		{"data_quality: {min_baseline_calls: -1}", "data_quality.min_baseline_calls"},
		{"data_quality: {max_cost_without_talk: -1}", "data_quality.max_cost_without_talk"},
		{"metrics: {textfile: calletl.txt}", "metrics.textfile"},
		{"metrics: {pushgateway: pushgateway:9091}", "metrics.pushgateway"},
		{"metrics: {timeout: -1s}", "metrics.timeout"},
	}
	for _, tt := range tests {
		p := filepath.Join(t.TempDir(), "c.yaml")
		if err := os.WriteFile(p, []byte(base+tt.yaml+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		var out, errb strings.Builder
		code := runMain([]string{"--config", p, "state"}, &out, &errb)
		if code != exitUsage || !strings.Contains(errb.String(), tt.field+":") {
			t.Errorf("%s: exit %d\n%s", tt.yaml, code, errb.String())
		}
	}
}

// pushRecorder answers every push 200 and records "METHOD path".
type pushRecorder struct {
	mu  sync.Mutex
	got []string
}

func (p *pushRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	p.mu.Lock()
	p.got = append(p.got, r.Method+" "+r.URL.Path)
	p.mu.Unlock()
}

func (p *pushRecorder) paths() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.got)
}
