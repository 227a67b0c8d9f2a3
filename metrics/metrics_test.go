package metrics

import (
	"context"
	"encoding/base64"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"

	"github.com/calletl/calletl/receive"
)

var (
	t0 = time.Date(2026, 12, 1, 2, 15, 0, 0, time.UTC)
	t1 = t0.Add(24 * time.Hour)
)

func stream(source, name, account string, ok bool) Stream {
	s := Stream{Source: source, Stream: name, Account: account, OK: ok, Rows: 1000, Rejects: 3, Windows: 2, Duration: 90 * time.Second}
	if !ok {
		s.Windows, s.WindowsFailed = 1, 1
	}
	return s
}

// fullBatch sets every figure, so every metric name is written.
func fullBatch() *Batch {
	return &Batch{
		Command: "run", Started: t0.Add(-10 * time.Minute), Finished: t0, OK: false,
		Streams: []Stream{
			stream("mtt", "dialed", "110011256", true),
			stream("mtt", "missed", "110011256", false),
		},
		Recordings:         &Recordings{Stored: 40, Failed: 2, Missing: 1, Bytes: 123456},
		T2TokenRefreshedAt: t0.Add(-36 * time.Hour),
		DataQuality:        []Finding{{Source: "mtt", Account: "110011256", Finding: "calls_low", Count: 1}},
	}
}

// value returns the gauge of name whose labels include want; ok false
// when there is none.
func value(mfs map[string]*dto.MetricFamily, name string, want map[string]string) (float64, bool) {
	for _, m := range mfs[name].GetMetric() {
		l := map[string]string{}
		for _, p := range m.GetLabel() {
			l[p.GetName()] = p.GetValue()
		}
		match := true
		for k, v := range want {
			match = match && l[k] == v
		}
		if match {
			return m.GetGauge().GetValue(), true
		}
	}
	return 0, false
}

func parse(t *testing.T, text string) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		t.Fatalf("parse:\n%s\n%v", text, err)
	}
	return mfs
}

// The textfile parses back with expfmt, every family a gauge with help,
// and holds every figure of the batch with its labels.
func TestWriteFileParsesBack(t *testing.T) {
	path := filepath.Join(t.TempDir(), "calletl.prom")
	if err := WriteFile(path, fullBatch()); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	mfs := parse(t, string(b))
	for _, name := range Names() {
		mf, ok := mfs[name]
		if !ok {
			t.Errorf("%s not written", name)
			continue
		}
		if mf.GetType() != dto.MetricType_GAUGE || mf.GetHelp() == "" {
			t.Errorf("%s: type %v, help %q", name, mf.GetType(), mf.GetHelp())
		}
	}
	run := map[string]string{"command": "run"}
	dialed := map[string]string{"command": "run", "source": "mtt", "stream": "dialed", "account": "110011256"}
	missed := map[string]string{"command": "run", "source": "mtt", "stream": "missed", "account": "110011256"}
	tests := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{LastRunTimestamp, run, float64(t0.Unix())},
		{LastRunSuccess, run, 0},
		{LastRunDuration, run, 600},
		{StreamLastSuccess, dialed, float64(t0.Unix())},
		{StreamSuccess, dialed, 1},
		{StreamSuccess, missed, 0},
		{StreamRows, dialed, 1000},
		{StreamRejects, dialed, 3},
		{StreamWindows, missed, 1},
		{StreamWindowsFailed, missed, 1},
		{StreamWindowsFailed, dialed, 0},
		{StreamDuration, dialed, 90},
		{RecordingsStored, run, 40},
		{RecordingsFailed, run, 2},
		{RecordingsMissing, run, 1},
		{RecordingsBytes, run, 123456},
		{T2RefreshTokenAge, run, 36 * 3600},
		{DataQualityChecked, run, float64(t0.Unix())},
		{DataQualityFindings, map[string]string{"source": "mtt", "account": "110011256", "finding": "calls_low"}, 1},
	}
	for _, tt := range tests {
		got, ok := value(mfs, tt.name, tt.labels)
		if !ok || got != tt.want {
			t.Errorf("%s%v = %v (present %v), want %v", tt.name, tt.labels, got, ok, tt.want)
		}
	}
	if _, ok := value(mfs, StreamLastSuccess, missed); ok {
		t.Errorf("a stream that failed in its first run has a last success")
	}
	// Nothing but the file is left in the directory: the temp file was renamed.
	if ents, _ := os.ReadDir(filepath.Dir(path)); len(ents) != 1 {
		t.Errorf("directory holds %d entries, want only the textfile", len(ents))
	}
}

// Last success survives a run in which the stream failed and a run that did
// not include the stream, and moves on when the stream succeeds again.
func TestWriteFileKeepsLastSuccess(t *testing.T) {
	key := func(stream string) map[string]string {
		return map[string]string{"command": "run", "source": "mtt", "stream": stream, "account": "1"}
	}
	tests := []struct {
		name    string
		second  []Stream
		want    map[string]float64 // stream → last success; absent: none
		command string
	}{
		{"failed stream keeps its old value", []Stream{stream("mtt", "a", "1", false), stream("mtt", "b", "1", true)},
			map[string]float64{"a": float64(t0.Unix()), "b": float64(t1.Unix())}, "run"},
		{"stream not run keeps its old value", []Stream{stream("mtt", "b", "1", true)},
			map[string]float64{"a": float64(t0.Unix()), "b": float64(t1.Unix())}, "run"},
		{"every stream succeeds", []Stream{stream("mtt", "a", "1", true), stream("mtt", "b", "1", true)},
			map[string]float64{"a": float64(t1.Unix()), "b": float64(t1.Unix())}, "run"},
		{"every stream fails", []Stream{stream("mtt", "a", "1", false), stream("mtt", "b", "1", false)},
			map[string]float64{"a": float64(t0.Unix()), "b": float64(t0.Unix())}, "run"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "calletl.prom")
			first := &Batch{Command: "run", Started: t0, Finished: t0, OK: true,
				Streams: []Stream{stream("mtt", "a", "1", true), stream("mtt", "b", "1", true)}}
			if err := WriteFile(path, first); err != nil {
				t.Fatal(err)
			}
			if err := WriteFile(path, &Batch{Command: tt.command, Started: t1, Finished: t1, Streams: tt.second}); err != nil {
				t.Fatal(err)
			}
			mfs, err := ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			for s, want := range tt.want {
				if got, ok := value(mfs, StreamLastSuccess, key(s)); !ok || got != want {
					t.Errorf("stream %s: last success %v (present %v), want %v", s, got, ok, want)
				}
			}
			if got, _ := value(mfs, LastRunTimestamp, map[string]string{"command": "run"}); got != float64(t1.Unix()) {
				t.Errorf("last run %v, want the second run's %v", got, t1.Unix())
			}
		})
	}
}

// A previous file that does not parse is an error, and is left as it was:
// silently dropping it would lose every stream's last success.
func TestWriteFileBadPrevious(t *testing.T) {
	path := filepath.Join(t.TempDir(), "calletl.prom")
	junk := "calletl_stream_last_success_timestamp_seconds{source=\"mtt\" 12\n"
	if err := os.WriteFile(path, []byte(junk), 0o644); err != nil {
		t.Fatal(err)
	}
	err := WriteFile(path, fullBatch())
	if err == nil || !strings.Contains(err.Error(), "previous textfile") {
		t.Fatalf("err = %v, want one about the previous textfile", err)
	}
	if b, _ := os.ReadFile(path); string(b) != junk {
		t.Errorf("the previous file was changed: %q", b)
	}
	if err := WriteFile(filepath.Join(t.TempDir(), "calletl.txt"), fullBatch()); err == nil || !strings.Contains(err.Error(), ".prom") {
		t.Errorf("a name without .prom: %v", err)
	}
}

// pushgateway emulates the Pushgateway's HTTP API: PUT /metrics/job/J{/L/V}
// replaces the group's metrics, POST replaces those of the same names,
// DELETE removes the group. It keeps every request's body.
type pushgateway struct {
	mu       sync.Mutex
	groups   map[string]map[string]*dto.MetricFamily // grouping key "job=J,l=v" → families
	requests []string                                // "METHOD grouping"
	bodies   []string
}

func newPushgateway(t *testing.T) (*pushgateway, *httptest.Server) {
	pg := &pushgateway{groups: map[string]map[string]*dto.MetricFamily{}}
	srv := httptest.NewServer(pg)
	t.Cleanup(srv.Close)
	return pg, srv
}

func (pg *pushgateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.TrimPrefix(r.URL.EscapedPath(), "/metrics/"), "/")
	if len(parts) < 2 || len(parts)%2 != 0 || parts[0] != "job" {
		http.Error(w, "bad path "+r.URL.Path, http.StatusBadRequest)
		return
	}
	var kv []string
	for i := 0; i < len(parts); i += 2 {
		k, v := parts[i], parts[i+1]
		if name, ok := strings.CutSuffix(k, "@base64"); ok {
			b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(v, "="))
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			k, v = name, string(b)
		}
		kv = append(kv, k+"="+v)
	}
	slices.Sort(kv[1:])
	group := strings.Join(kv, ",")
	body, _ := io.ReadAll(r.Body)
	var mfs map[string]*dto.MetricFamily
	if r.Method != http.MethodDelete {
		p := expfmt.NewTextParser(model.UTF8Validation)
		var err error
		if mfs, err = p.TextToMetricFamilies(strings.NewReader(string(body))); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		// The Pushgateway refuses a metric that carries a grouping label.
		for _, mf := range mfs {
			for _, m := range mf.GetMetric() {
				for _, l := range m.GetLabel() {
					if strings.Contains(","+group+",", ","+l.GetName()+"=") {
						http.Error(w, "metric carries grouping label "+l.GetName(), http.StatusBadRequest)
						return
					}
				}
			}
		}
	}
	pg.mu.Lock()
	defer pg.mu.Unlock()
	pg.requests = append(pg.requests, r.Method+" "+group)
	pg.bodies = append(pg.bodies, string(body))
	switch r.Method {
	case http.MethodPut:
		pg.groups[group] = mfs
	case http.MethodPost:
		if pg.groups[group] == nil {
			pg.groups[group] = map[string]*dto.MetricFamily{}
		}
		maps.Copy(pg.groups[group], mfs)
	case http.MethodDelete:
		delete(pg.groups, group)
	default:
		http.Error(w, "method", http.StatusMethodNotAllowed)
		return
	}
	w.WriteHeader(http.StatusOK)
}

func (pg *pushgateway) value(group, name string, labels map[string]string) (float64, bool) {
	pg.mu.Lock()
	defer pg.mu.Unlock()
	return value(pg.groups[group], name, labels)
}

// A push sends the command's group and one last-success group per stream
// that succeeded; a later failed run leaves a failed stream's last success
// as it was.
func TestPush(t *testing.T) {
	pg, srv := newPushgateway(t)
	p := &Pusher{URL: srv.URL, Client: srv.Client()}
	ctx := context.Background()
	first := &Batch{Command: "run", Started: t0, Finished: t0, OK: true,
		Streams: []Stream{stream("mtt", "a", "1", true), stream("t2", "b", "", true)}}
	if err := p.Push(ctx, first); err != nil {
		t.Fatal(err)
	}
	second := fullBatch()
	second.Started, second.Finished = t1.Add(-time.Minute), t1
	second.Streams = []Stream{stream("mtt", "a", "1", false), stream("t2", "b", "", true)}
	if err := p.Push(ctx, second); err != nil {
		t.Fatal(err)
	}
	wantRequests := []string{
		"PUT job=calletl,command=run",
		"PUT job=calletl,account=1,command=run,source=mtt,stream=a",
		"PUT job=calletl,account=,command=run,source=t2,stream=b",
		"PUT job=calletl,command=run",
		"PUT job=calletl,account=,command=run,source=t2,stream=b",
	}
	if !slices.Equal(pg.requests, wantRequests) {
		t.Errorf("requests:\n%s\nwant:\n%s", strings.Join(pg.requests, "\n"), strings.Join(wantRequests, "\n"))
	}
	// The bodies: the command group's carries no command label (the
	// grouping adds it) and every figure; the stream groups only last success.
	run := parse(t, pg.bodies[3])
	for _, name := range Names() {
		if _, ok := run[name]; !ok && name != StreamLastSuccess {
			t.Errorf("the command group's push has no %s:\n%s", name, pg.bodies[3])
		}
	}
	if _, ok := run[StreamLastSuccess]; ok {
		t.Errorf("the command group's push carries last success:\n%s", pg.bodies[3])
	}
	if got, ok := value(run, StreamSuccess, map[string]string{"source": "mtt", "stream": "a", "account": "1"}); !ok || got != 0 {
		t.Errorf("stream a's success in the second push: %v %v", got, ok)
	}
	ls := parse(t, pg.bodies[4])
	if len(ls) != 1 || len(ls[StreamLastSuccess].GetMetric()) != 1 || len(ls[StreamLastSuccess].GetMetric()[0].GetLabel()) != 0 {
		t.Errorf("last-success push body:\n%s", pg.bodies[4])
	}
	if got, ok := pg.value("job=calletl,account=1,command=run,source=mtt,stream=a", StreamLastSuccess, nil); !ok || got != float64(t0.Unix()) {
		t.Errorf("failed stream a: last success %v (present %v), want the first run's %v", got, ok, t0.Unix())
	}
	if got, ok := pg.value("job=calletl,account=,command=run,source=t2,stream=b", StreamLastSuccess, nil); !ok || got != float64(t1.Unix()) {
		t.Errorf("stream b: last success %v (present %v), want %v", got, ok, t1.Unix())
	}
	if got, _ := pg.value("job=calletl,command=run", LastRunSuccess, nil); got != 0 {
		t.Errorf("last run success %v after a failed run", got)
	}
}

// A Pushgateway that refuses the push is an error naming it.
func TestPushRefused(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no", http.StatusBadGateway)
	}))
	t.Cleanup(srv.Close)
	err := (&Pusher{URL: srv.URL, Job: "nightly"}).Push(context.Background(), fullBatch())
	if err == nil || !strings.Contains(err.Error(), srv.URL) || !strings.Contains(err.Error(), "nightly") {
		t.Errorf("err = %v", err)
	}
}

// A shard's series carry its shard label, so the shards' textfiles (or
// push groups) never collide.
func TestShardLabel(t *testing.T) {
	b := fullBatch()
	b.Shard = "2of4"
	mfs, err := families(b.series(), nil)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]*dto.MetricFamily{}
	for _, mf := range mfs {
		byName[mf.GetName()] = mf
	}
	if _, ok := value(byName, LastRunSuccess, map[string]string{"command": "run", "shard": "2of4"}); !ok {
		t.Errorf("no shard label on %s", LastRunSuccess)
	}
}

// Every alert rule shipped in deploy/prometheus names only metrics this
// package or the receiver's /metrics (package receive) writes, and the
// ones the README promises are there.
func TestAlertRulesUseExportedMetrics(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "deploy", "prometheus", "calletl.rules.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Groups []struct {
			Rules []struct {
				Alert string `yaml:"alert"`
				Expr  string `yaml:"expr"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	names := regexp.MustCompile(`\bcalletl_[a-z0-9_]+`)
	alerts := map[string]string{}
	for _, g := range f.Groups {
		for _, r := range g.Rules {
			alerts[r.Alert] = r.Expr
			used := names.FindAllString(r.Expr, -1)
			if len(used) == 0 {
				t.Errorf("alert %s uses no calletl metric: %s", r.Alert, r.Expr)
			}
			for _, n := range used {
				if !slices.Contains(Names(), n) && !slices.Contains(receive.MetricNames(), n) {
					t.Errorf("alert %s uses %s, which neither package metrics nor receive writes", r.Alert, n)
				}
			}
		}
	}
	for alert, want := range map[string]string{"CalletlStreamNoSuccess26h": "26 * 3600", "CalletlRejectsAbove1Percent": "> 0.01",
		"CalletlReceiveLandingStale": "time() - max(calletl_receive_last_landing_success_timestamp_seconds) > 900"} {
		if !strings.Contains(alerts[alert], want) {
			t.Errorf("alert %s: %q does not contain %q", alert, alerts[alert], want)
		}
	}
}
