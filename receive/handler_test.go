package receive

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	pmodel "github.com/prometheus/common/model"

	"github.com/calletl/calletl/load"
	"github.com/calletl/calletl/sandbox"
	"github.com/calletl/calletl/secret"
	"github.com/calletl/calletl/storage"
)

const testSecret = "s3cr3t-Rcv-0f-T3st"

// syncBuf is a bytes.Buffer safe for the handler's goroutines.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// flakyStore fails every Put while fail is set.
type flakyStore struct {
	storage.Store
	fail atomic.Bool
}

func (f *flakyStore) Put(ctx context.Context, key string, r io.Reader, ct string) (storage.Info, error) {
	if f.fail.Load() {
		return storage.Info{}, errors.New("disk full")
	}
	return f.Store.Put(ctx, key, r, ct)
}

type rig struct {
	srv   *httptest.Server
	spool *Spool
	store *flakyStore
	h     *Handler
	logs  *syncBuf
}

func newRig(t testing.TB, dir string) *rig {
	t.Helper()
	local, err := storage.NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	return newRigOn(t, local)
}

// newRigOn serves a handler whose spool is in store.
func newRigOn(t testing.TB, store storage.Store) *rig {
	t.Helper()
	st := &flakyStore{Store: store}
	logs := &syncBuf{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	sp, err := OpenSpool(context.Background(), st, SpoolOptions{Log: log})
	if err != nil {
		t.Fatal(err)
	}
	h, err := NewHandler(sp, HandlerOptions{Secret: secret.New(testSecret), Log: log,
		Endpoints: []Endpoint{{VotBox, "votbox"}, {MTT, "mtt"}}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(func() { srv.Close(); sp.Close() })
	return &rig{srv: srv, spool: sp, store: st, h: h, logs: logs}
}

func TestHandler(t *testing.T) {
	r := newRig(t, t.TempDir())
	vb := "/v1/votbox/votbox/" + testSecret
	mt := "/v1/mtt/mtt/" + testSecret
	endcall := "?" + sandbox.VotBoxNotifyExamples[11].Query
	big := strings.Repeat("x", MaxBodyBytes+1)
	cases := []struct {
		name, method, path, ct, body string
		header                       map[string]string
		status                       int
		answer                       string // in the body
	}{
		{"health", "GET", "/healthz", "", "", nil, 200, "ok"},
		{"votbox GET", "GET", vb + endcall, "", "", nil, 200, "OK\n"},
		{"votbox retry of the same event", "GET", vb + endcall, "", "", nil, 200, "OK duplicate"},
		{"votbox secret in header", "GET", "/v1/votbox/votbox?" + sandbox.VotBoxNotifyExamples[0].Query, "", "", map[string]string{SecretHeader: testSecret}, 200, "OK\n"},
		{"votbox POST form", "POST", vb, "application/x-www-form-urlencoded", sandbox.VotBoxNotifyExamples[3].Query, nil, 200, "OK\n"},
		{"votbox POST JSON", "POST", vb, "application/json", `{"CALLID":"1"}`, nil, 415, "Content-Type"},
		{"no secret", "GET", "/v1/votbox/votbox" + endcall, "", "", nil, 401, "no secret"},
		{"wrong secret in path", "GET", "/v1/votbox/votbox/nope" + endcall, "", "", nil, 403, "wrong secret"},
		{"wrong secret in header", "GET", "/v1/votbox/votbox" + endcall, "", "", map[string]string{SecretHeader: "nope"}, 403, "wrong secret"},
		{"secret percent-encoded", "GET", "/v1/votbox/votbox/" + strings.ReplaceAll(testSecret, "-", "%2D") + endcall, "", "", nil, 200, "OK duplicate"},
		{"secret differing in the last byte", "GET", "/v1/votbox/votbox/" + testSecret[:len(testSecret)-1] + "X" + endcall, "", "", nil, 403, "wrong secret"},
		{"unknown source, wrong secret: not told it is unknown", "GET", "/v1/votbox/other/nope" + endcall, "", "", nil, 403, "wrong secret"},
		{"unknown source", "GET", "/v1/votbox/other/" + testSecret + endcall, "", "", nil, 404, "no such endpoint"},
		{"vendor on the wrong endpoint", "GET", "/v1/mtt/votbox/" + testSecret + endcall, "", "", nil, 404, "no such endpoint"},
		{"unknown path", "GET", "/notify.php", "", "", nil, 404, "not found"},
		{"too deep", "GET", vb + "/x", "", "", nil, 404, "not found"},
		{"PUT", "PUT", vb + endcall, "", "", nil, 405, "not allowed"},
		{"votbox without CALLID", "GET", vb + "?STATE=ENDCALL", "", "", nil, 400, "CALLID is missing"},
		{"votbox bad DT", "GET", vb + "?CALLID=1&STATE=ENDCALL&DT=yesterday", "", "", nil, 400, "DT"},
		{"mtt follow-me JSON", "POST", mt, "application/json", sandbox.MTTEventExamples[3].Body, nil, 200, "OK\n"},
		{"mtt smart-call form", "POST", mt, "application/x-www-form-urlencoded", sandbox.MTTEventExamples[10].Body, nil, 200, "OK\n"},
		{"mtt braced form, no Content-Type", "POST", mt, "", sandbox.MTTEventExamples[11].Body, nil, 200, "OK\n"},
		{"mtt callback GET", "GET", mt + "?" + sandbox.MTTEventExamples[12].Query, "", "", nil, 200, "OK\n"},
		{"mtt broken JSON", "POST", mt, "application/json", `{"CallID": "1",`, nil, 400, "JSON"},
		{"mtt XML", "POST", mt, "text/xml", `<event/>`, nil, 415, "Content-Type"},
		{"mtt body too large", "POST", mt, "application/json", big, nil, 413, "over"},
		{"mtt empty", "POST", mt, "application/json", "", nil, 400, "no event"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req, _ := http.NewRequest(c.method, r.srv.URL+c.path, strings.NewReader(c.body))
			if c.ct != "" {
				req.Header.Set("Content-Type", c.ct)
			}
			for k, v := range c.header {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != c.status || !strings.Contains(string(b), c.answer) {
				t.Errorf("%s %s: %d %q, want %d with %q", c.method, c.name, resp.StatusCode, b, c.status, c.answer)
			}
			if strings.Contains(string(b), testSecret) {
				t.Errorf("the answer quotes the secret: %q", b)
			}
			switch c.status {
			case 401:
				if resp.Header.Get("WWW-Authenticate") == "" {
					t.Error("401 without WWW-Authenticate")
				}
			case 405:
				if resp.Header.Get("Allow") != "GET, POST" {
					t.Errorf("405 Allow %q", resp.Header.Get("Allow"))
				}
			}
		})
	}
	if got, want := r.h.Counts.Stored.Load(), int64(7); got != want {
		t.Errorf("stored %d events, want %d", got, want)
	}
	if got := r.h.Counts.Duplicate.Load(); got != 2 {
		t.Errorf("duplicates %d, want 2", got)
	}
	if strings.Contains(r.logs.String(), testSecret) {
		t.Errorf("the secret is in the log:\n%s", r.logs.String())
	}
	if !strings.Contains(r.logs.String(), "wrong secret") {
		t.Error("refusals are not logged")
	}
}

// A spool that cannot store answers 503 with Retry-After, and the retry
// after it recovers stores the event once.
func TestHandlerStoreFailure(t *testing.T) {
	r := newRig(t, t.TempDir())
	url := r.srv.URL + "/v1/votbox/votbox/" + testSecret + "?" + sandbox.VotBoxNotifyExamples[11].Query
	r.store.fail.Store(true)
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("store failing: %d Retry-After %q, want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	r.store.fail.Store(false)
	for i, want := range []string{"OK\n", "OK duplicate\n"} {
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(b) != want {
			t.Errorf("retry %d: %d %q, want 200 %q", i, resp.StatusCode, b, want)
		}
	}
	if n := r.spool.Len(); n != 1 {
		t.Errorf("spool holds %d ids, want 1", n)
	}
}

func TestNewHandlerRefusesBadConfig(t *testing.T) {
	cases := []HandlerOptions{
		{Endpoints: []Endpoint{{VotBox, "votbox"}}},
		{Secret: secret.New("x")},
		{Secret: secret.New("x"), Endpoints: []Endpoint{{"t2", "t2"}}},
		{Secret: secret.New("x"), Endpoints: []Endpoint{{VotBox, "a/b"}}},
	}
	for i, o := range cases {
		if _, err := NewHandler(nil, o); err == nil {
			t.Errorf("case %d accepted", i)
		}
	}
}

// /metrics is valid Prometheus text with the handler's and the lander's
// figures.
func TestMetrics(t *testing.T) {
	r := newRig(t, t.TempDir())
	lake, err := load.Open(t.TempDir(), load.Options{})
	if err != nil {
		t.Fatal(err)
	}
	l := NewLander(r.spool, lake, LanderOptions{Now: func() time.Time { return at }})
	h, err := NewHandler(r.spool, HandlerOptions{Secret: secret.New(testSecret), Endpoints: []Endpoint{{VotBox, "votbox"}}, Lander: l})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	for _, q := range []string{sandbox.VotBoxNotifyExamples[0].Query, sandbox.VotBoxNotifyExamples[0].Query, "STATE=X"} {
		resp, err := http.Get(srv.URL + "/v1/votbox/votbox/" + testSecret + "?" + q)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	if _, err := l.LandOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	parser := expfmt.NewTextParser(pmodel.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("/metrics is not Prometheus text: %v", err)
	}
	// MetricNames (what the alert rules may name) is what /metrics writes.
	if names := slices.Sorted(maps.Keys(fams)); !slices.Equal(names, slices.Sorted(slices.Values(MetricNames()))) {
		t.Errorf("/metrics writes %v, MetricNames says %v", names, MetricNames())
	}
	got := map[string]float64{}
	for name, f := range fams {
		for _, m := range f.Metric {
			key := name
			for _, lp := range m.Label {
				key += "/" + lp.GetValue()
			}
			if m.Counter != nil {
				got[key] = m.Counter.GetValue()
			} else {
				got[key] = m.Gauge.GetValue()
			}
		}
	}
	for k, want := range map[string]float64{
		"calletl_receive_events_total/stored": 1, "calletl_receive_events_total/duplicate": 1,
		"calletl_receive_events_total/refused": 1, "calletl_receive_spool_ids": 1,
		"calletl_receive_landed_rows_total": 1, "calletl_receive_last_landing_success_timestamp_seconds": float64(at.Unix()),
		"calletl_receive_landing_failures_total": 0,
	} {
		if got[k] != want {
			t.Errorf("%s = %v, want %v", k, got[k], want)
		}
	}
}
