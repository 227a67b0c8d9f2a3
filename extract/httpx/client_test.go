package httpx

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/calletl/calletl/secret"
)

// server answers request i with steps[i]; the last step repeats.
type server struct {
	*httptest.Server
	requests atomic.Int32
}

func newServer(t *testing.T, steps ...http.HandlerFunc) *server {
	t.Helper()
	s := &server{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := int(s.requests.Add(1)) - 1
		steps[min(i, len(steps)-1)](w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

// reply answers with code and body; hdr holds header name/value pairs.
func reply(code int, body string, hdr ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		for i := 0; i+1 < len(hdr); i += 2 {
			w.Header().Set(hdr[i], hdr[i+1])
		}
		w.WriteHeader(code)
		_, _ = io.WriteString(w, body)
	}
}

// chunked answers 200 with body sent without a Content-Length.
func chunked(body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		_, _ = io.WriteString(w, body)
	}
}

// hangup closes the connection without answering.
func hangup(w http.ResponseWriter, _ *http.Request) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err != nil {
		panic(err)
	}
	conn.Close()
}

// truncated promises 100 bytes, sends 10 and drops the connection.
func truncated(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Length", "100")
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, "0123456789")
	w.(http.Flusher).Flush()
	panic(http.ErrAbortHandler)
}

func get(u string) NewRequestFunc {
	return func(ctx context.Context) (*http.Request, error) {
		return http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	}
}

// recorder is a fake Sleep that records the waits asked for.
type recorder struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (r *recorder) sleep(ctx context.Context, d time.Duration) error {
	r.mu.Lock()
	r.waits = append(r.waits, d)
	r.mu.Unlock()
	return ctx.Err()
}

func (r *recorder) get() []time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]time.Duration(nil), r.waits...)
}

// newClient returns a client named "test" that records its waits instead of
// sleeping and whose jitter is deterministic: half the backoff ceiling.
func newClient(cfg Config) (*Client, *recorder) {
	rec := &recorder{}
	if cfg.Name == "" {
		cfg.Name = "test"
	}
	if cfg.Sleep == nil {
		cfg.Sleep = rec.sleep
	}
	c := New(cfg)
	c.jitter = func(n int64) int64 { return n / 2 }
	return c, rec
}

var errVendor = errors.New("vendor says no")

func TestDo(t *testing.T) {
	now := time.Date(2026, 11, 20, 3, 0, 0, 0, time.UTC)
	ms := time.Millisecond
	for _, tc := range []struct {
		name         string
		cfg          Config
		steps        []http.HandlerFunc
		check        CheckFunc
		wantBody     string
		wantErr      []string // substrings of the error; nil = success
		wantStatus   int      // StatusCode of a *StatusError in the chain
		wantIs       error
		wantRequests int32
		wantWaits    []time.Duration
	}{
		{
			name:         "5xx retried then success",
			steps:        []http.HandlerFunc{reply(500, ""), reply(502, ""), reply(503, ""), reply(200, "ok")},
			wantBody:     "ok",
			wantRequests: 4,
			wantWaits:    []time.Duration{250 * ms, 500 * ms, 1000 * ms}, // half of 500ms·2ⁿ
		},
		{
			name:         "backoff capped at MaxBackoff",
			cfg:          Config{BaseBackoff: time.Second, MaxBackoff: 3 * time.Second},
			steps:        []http.HandlerFunc{reply(500, ""), reply(500, ""), reply(500, ""), reply(500, ""), reply(200, "ok")},
			wantBody:     "ok",
			wantRequests: 5,
			wantWaits:    []time.Duration{500 * ms, 1000 * ms, 1500 * ms, 1500 * ms},
		},
		{
			name:         "429 Retry-After seconds",
			steps:        []http.HandlerFunc{reply(429, "slow down", "Retry-After", "2"), reply(200, "ok")},
			wantBody:     "ok",
			wantRequests: 2,
			wantWaits:    []time.Duration{2 * time.Second},
		},
		{
			name:         "Retry-After capped",
			steps:        []http.HandlerFunc{reply(503, "", "Retry-After", "3600"), reply(200, "ok")},
			wantBody:     "ok",
			wantRequests: 2,
			wantWaits:    []time.Duration{60 * time.Second},
		},
		{
			name:         "Retry-After capped by config",
			cfg:          Config{MaxRetryAfter: 5 * time.Second},
			steps:        []http.HandlerFunc{reply(429, "", "Retry-After", "99999999999999999999"), reply(200, "ok")},
			wantBody:     "ok",
			wantRequests: 2,
			wantWaits:    []time.Duration{5 * time.Second},
		},
		{
			name:         "Retry-After HTTP-date",
			steps:        []http.HandlerFunc{reply(429, "", "Retry-After", now.Add(10*time.Second).Format(http.TimeFormat)), reply(200, "ok")},
			wantBody:     "ok",
			wantRequests: 2,
			wantWaits:    []time.Duration{10 * time.Second},
		},
		{
			name:         "Retry-After in the past or garbage falls back to backoff",
			steps:        []http.HandlerFunc{reply(429, "", "Retry-After", now.Add(-time.Hour).Format(http.TimeFormat)), reply(503, "", "Retry-After", "soon"), reply(200, "ok")},
			wantBody:     "ok",
			wantRequests: 3,
			wantWaits:    []time.Duration{250 * ms, 500 * ms},
		},
		{
			name:         "gives up after MaxAttempts",
			cfg:          Config{MaxAttempts: 3},
			steps:        []http.HandlerFunc{reply(503, "<html>\n  down for maintenance\n</html>")},
			wantErr:      []string{"test: GET x: gave up after 3 attempts: HTTP 503 Service Unavailable: <html> down for maintenance </html>"},
			wantStatus:   503,
			wantRequests: 3,
			wantWaits:    []time.Duration{250 * ms, 500 * ms},
		},
		{
			name:         "MaxAttempts 1 means no retry",
			cfg:          Config{MaxAttempts: 1},
			steps:        []http.HandlerFunc{reply(500, "")},
			wantErr:      []string{"gave up after 1 attempt: HTTP 500"},
			wantStatus:   500,
			wantRequests: 1,
		},
		{
			name:         "400 not retried",
			steps:        []http.HandlerFunc{reply(400, "bad date"), reply(200, "ok")},
			wantErr:      []string{"test: GET x: HTTP 400 Bad Request: bad date"},
			wantStatus:   400,
			wantRequests: 1,
		},
		{
			name:         "401 not retried",
			steps:        []http.HandlerFunc{reply(401, ""), reply(200, "ok")},
			wantErr:      []string{"HTTP 401 Unauthorized"},
			wantStatus:   401,
			wantRequests: 1,
		},
		{
			name:         "404 not retried",
			steps:        []http.HandlerFunc{reply(404, ""), reply(200, "ok")},
			wantErr:      []string{"HTTP 404 Not Found"},
			wantStatus:   404,
			wantRequests: 1,
		},
		{
			name:         "permanent after a retry says which attempt",
			steps:        []http.HandlerFunc{reply(503, ""), reply(404, "")},
			wantErr:      []string{"test: GET x: attempt 2: HTTP 404"},
			wantStatus:   404,
			wantRequests: 2,
			wantWaits:    []time.Duration{250 * ms},
		},
		{
			name:         "connection closed without response retried",
			steps:        []http.HandlerFunc{hangup, hangup, reply(200, "ok")},
			wantBody:     "ok",
			wantRequests: 3,
			wantWaits:    []time.Duration{250 * ms, 500 * ms},
		},
		{
			name:         "connection closed every time gives up",
			cfg:          Config{MaxAttempts: 2},
			steps:        []http.HandlerFunc{hangup},
			wantErr:      []string{"gave up after 2 attempts: Get \"http://"},
			wantRequests: 2,
			wantWaits:    []time.Duration{250 * ms},
		},
		{
			name:         "truncated body retried",
			steps:        []http.HandlerFunc{truncated, reply(200, "ok")},
			wantBody:     "ok",
			wantRequests: 2,
			wantWaits:    []time.Duration{250 * ms},
		},
		{
			name:         "truncated body every time gives up",
			cfg:          Config{MaxAttempts: 2},
			steps:        []http.HandlerFunc{truncated},
			wantErr:      []string{"gave up after 2 attempts: HTTP 200: reading body: unexpected EOF"},
			wantIs:       io.ErrUnexpectedEOF,
			wantRequests: 2,
			wantWaits:    []time.Duration{250 * ms},
		},
		{
			name:         "body at the limit",
			cfg:          Config{MaxBodyBytes: 100},
			steps:        []http.HandlerFunc{chunked(strings.Repeat("a", 100))},
			wantBody:     strings.Repeat("a", 100),
			wantRequests: 1,
		},
		{
			name:         "body over the limit (Content-Length)",
			cfg:          Config{MaxBodyBytes: 100},
			steps:        []http.HandlerFunc{reply(200, strings.Repeat("a", 101)), reply(200, "ok")},
			wantErr:      []string{"test: GET x: response body exceeds the limit of 100 bytes"},
			wantRequests: 1,
		},
		{
			name:         "body over the limit (chunked)",
			cfg:          Config{MaxBodyBytes: 100},
			steps:        []http.HandlerFunc{chunked(strings.Repeat("a", 101)), reply(200, "ok")},
			wantErr:      []string{"exceeds the limit of 100 bytes"},
			wantRequests: 1,
		},
		{
			name:  "CheckFunc retryable then success",
			steps: []http.HandlerFunc{reply(200, "BUSY"), reply(200, "BUSY"), reply(200, "data")},
			check: func(_ *http.Response, body []byte) error {
				if string(body) == "BUSY" {
					return Retryable(errors.New("vendor busy"))
				}
				return nil
			},
			wantBody:     "data",
			wantRequests: 3,
			wantWaits:    []time.Duration{250 * ms, 500 * ms},
		},
		{
			name:  "CheckFunc permanent",
			steps: []http.HandlerFunc{reply(200, "<error>NO</error>"), reply(200, "data")},
			check: func(_ *http.Response, body []byte) error {
				return fmt.Errorf("%w: %s", errVendor, body)
			},
			wantErr:      []string{"test: GET x: vendor says no: <error>NO</error>"},
			wantIs:       errVendor,
			wantRequests: 1,
		},
		{
			name:  "CheckFunc StatusError gets Op and cut body",
			steps: []http.HandlerFunc{reply(200, strings.Repeat("é", 600))},
			check: func(resp *http.Response, body []byte) error {
				return &StatusError{StatusCode: 418, Body: string(body)}
			},
			wantErr:      []string{"HTTP 418 I'm a teapot: éé"},
			wantStatus:   418,
			wantRequests: 1,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newServer(t, tc.steps...)
			c, rec := newClient(tc.cfg)
			c.now = func() time.Time { return now }

			body, err := c.Do(context.Background(), "GET x", get(srv.URL+"/x"), tc.check)

			if tc.wantErr == nil {
				if err != nil {
					t.Fatalf("Do: %v", err)
				}
				if string(body) != tc.wantBody {
					t.Errorf("body = %q, want %q", body, tc.wantBody)
				}
			} else {
				if err == nil {
					t.Fatalf("Do succeeded with %q, want error", body)
				}
				for _, s := range tc.wantErr {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error %q does not contain %q", err, s)
					}
				}
			}
			var se *StatusError
			if got := errors.As(err, &se); got != (tc.wantStatus != 0) {
				t.Errorf("errors.As(*StatusError) = %v, want %v (err %v)", got, tc.wantStatus != 0, err)
			} else if got {
				if se.StatusCode != tc.wantStatus || se.Op != "GET x" || len(se.Body) > maxErrorBody {
					t.Errorf("StatusError = {Op:%q StatusCode:%d len(Body):%d}, want {GET x %d ≤512}", se.Op, se.StatusCode, len(se.Body), tc.wantStatus)
				}
			}
			if tc.wantIs != nil && !errors.Is(err, tc.wantIs) {
				t.Errorf("errors.Is(%v, %v) = false", err, tc.wantIs)
			}
			if got := srv.requests.Load(); got != tc.wantRequests {
				t.Errorf("server saw %d requests, want %d", got, tc.wantRequests)
			}
			if got := rec.get(); fmt.Sprint(got) != fmt.Sprint(tc.wantWaits) {
				t.Errorf("waits = %v, want %v", got, tc.wantWaits)
			}
		})
	}
}

func TestBackoffFullJitter(t *testing.T) {
	c := New(Config{BaseBackoff: 100 * time.Millisecond, MaxBackoff: time.Second})
	for retry, ceil := range []time.Duration{100, 200, 400, 800, 1000, 1000, 1000} {
		ceil *= time.Millisecond
		var hi time.Duration
		for range 2000 {
			d := c.backoff(retry, 0)
			if d < 0 || d >= ceil {
				t.Fatalf("retry %d: wait %v outside [0, %v)", retry, d, ceil)
			}
			hi = max(hi, d)
		}
		if hi < ceil*9/10 {
			t.Errorf("retry %d: largest of 2000 waits %v, expected close to %v", retry, hi, ceil)
		}
	}
	// A large retry count must not overflow.
	if d := c.backoff(200, 0); d < 0 || d >= time.Second {
		t.Errorf("retry 200: wait %v", d)
	}
}

func TestCancelDuringBackoff(t *testing.T) {
	srv := newServer(t, reply(503, "", "Retry-After", "30"))
	sleeping := make(chan time.Duration, 1)
	c := New(Config{Name: "test", Sleep: func(ctx context.Context, d time.Duration) error {
		sleeping <- d
		return sleepCtx(ctx, d) // the real default
	}})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errc := make(chan error, 1)
	go func() {
		_, err := c.Do(ctx, "GET x", get(srv.URL), nil)
		errc <- err
	}()
	if d := <-sleeping; d != 30*time.Second {
		t.Fatalf("backoff %v, want 30s", d)
	}
	start := time.Now()
	cancel()
	select {
	case err := <-errc:
		if took := time.Since(start); took > time.Second {
			t.Errorf("Do returned %v after cancel", took)
		}
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want context.Canceled", err)
		}
		if !strings.Contains(err.Error(), "test: GET x: context canceled") || !strings.Contains(err.Error(), "HTTP 503") {
			t.Errorf("err = %q", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Do did not return after cancel")
	}
	if n := srv.requests.Load(); n != 1 {
		t.Errorf("server saw %d requests", n)
	}
}

func TestCancelDuringRequest(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	release := make(chan struct{})
	defer close(release)
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		cancel()
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	c, rec := newClient(Config{})
	_, err := c.Do(ctx, "GET x", get(srv.URL), nil)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if len(rec.get()) != 0 || srv.requests.Load() != 1 {
		t.Errorf("retried after cancel: waits %v, requests %d", rec.get(), srv.requests.Load())
	}
}

func TestAttemptTimeoutRetried(t *testing.T) {
	srv := newServer(t,
		func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }, // stalls
		reply(200, "ok"))
	var logs bytes.Buffer
	c, rec := newClient(Config{AttemptTimeout: 250 * time.Millisecond, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	body, err := c.Do(context.Background(), "GET x", get(srv.URL), nil)
	if err != nil || string(body) != "ok" {
		t.Fatalf("Do = %q, %v", body, err)
	}
	if len(rec.get()) != 1 {
		t.Errorf("waits = %v, want one retry; requests %d; log:\n%s", rec.get(), srv.requests.Load(), &logs)
	}
}

func TestConcurrencyLimit(t *testing.T) {
	const limit, calls = 3, 12
	var inFlight, peak atomic.Int32
	full := make(chan struct{})
	var fullOnce sync.Once
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		if n >= limit {
			fullOnce.Do(func() { close(full) })
		}
		// Hold the request until the limit is reached, so a client that let
		// more through would be caught with them in flight together.
		select {
		case <-full:
		case <-time.After(2 * time.Second):
		}
		time.Sleep(5 * time.Millisecond)
		_, _ = io.WriteString(w, "ok")
	})
	c, _ := newClient(Config{Concurrency: limit})
	var wg sync.WaitGroup
	for range calls {
		wg.Go(func() {
			if _, err := c.Do(context.Background(), "GET x", get(srv.URL), nil); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if p := peak.Load(); p != limit {
		t.Errorf("peak in flight = %d, want %d", p, limit)
	}
	if n := srv.requests.Load(); n != calls {
		t.Errorf("requests = %d", n)
	}
}

func TestRateLimit(t *testing.T) {
	const n, perSec = 5, 50.0
	srv := newServer(t, reply(200, "ok"))
	c, _ := newClient(Config{RatePerSec: perSec, Concurrency: n})
	start := time.Now()
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			if _, err := c.Do(context.Background(), "GET x", get(srv.URL), nil); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	min := time.Duration(float64(n-1) / perSec * float64(time.Second))
	if took := time.Since(start); took < min-5*time.Millisecond {
		t.Errorf("%d requests at %v/s took %v, want ≥ %v", n, perSec, took, min)
	}
}

func TestStreamHoldsSlotUntilClose(t *testing.T) {
	srv := newServer(t, reply(200, "recording-bytes"))
	c, _ := newClient(Config{Concurrency: 1})
	resp, err := c.Stream(context.Background(), "download 1", get(srv.URL))
	if err != nil {
		t.Fatal(err)
	}

	// While the body is open, the only slot is taken.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := c.Do(ctx, "GET x", get(srv.URL), nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Do while stream open: err = %v, want deadline exceeded", err)
	}
	if n := srv.requests.Load(); n != 1 {
		t.Fatalf("server saw %d requests while the slot was held", n)
	}

	b, err := io.ReadAll(resp.Body)
	if err != nil || string(b) != "recording-bytes" {
		t.Fatalf("body = %q, %v", b, err)
	}
	if err := resp.Body.Close(); err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close() // a second Close must not free a second slot

	if _, err := c.Do(context.Background(), "GET x", get(srv.URL), nil); err != nil {
		t.Fatalf("Do after Close: %v", err)
	}
	if len(c.slots) != 0 {
		t.Errorf("%d slots still taken", len(c.slots))
	}
}

func TestStream(t *testing.T) {
	for _, tc := range []struct {
		name         string
		steps        []http.HandlerFunc
		wantBody     string
		wantStatus   int
		wantRequests int32
		wantWaits    int
	}{
		{"ok", []http.HandlerFunc{reply(200, "data")}, "data", 0, 1, 0},
		// hangup first: on a reused connection net/http itself would resend.
		{"5xx and 429 retried", []http.HandlerFunc{hangup, reply(503, ""), reply(429, "", "Retry-After", "1"), reply(200, "data")}, "data", 0, 4, 3},
		{"404 not retried", []http.HandlerFunc{reply(404, "no such recording"), reply(200, "data")}, "", 404, 1, 0},
		{"403 not retried", []http.HandlerFunc{reply(403, "")}, "", 403, 1, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newServer(t, tc.steps...)
			c, rec := newClient(Config{Concurrency: 1})
			resp, err := c.Stream(context.Background(), "download 7", get(srv.URL))
			if tc.wantStatus != 0 {
				var se *StatusError
				if !errors.As(err, &se) || se.StatusCode != tc.wantStatus || se.Op != "download 7" {
					t.Fatalf("err = %v, want *StatusError %d", err, tc.wantStatus)
				}
				if resp != nil {
					t.Error("resp != nil with error")
				}
			} else {
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if string(b) != tc.wantBody {
					t.Errorf("body = %q", b)
				}
			}
			if n := srv.requests.Load(); n != tc.wantRequests {
				t.Errorf("requests = %d, want %d", n, tc.wantRequests)
			}
			if n := len(rec.get()); n != tc.wantWaits {
				t.Errorf("waits = %v, want %d", rec.get(), tc.wantWaits)
			}
			if len(c.slots) != 0 {
				t.Errorf("%d slots leaked", len(c.slots))
			}
		})
	}
}

func TestRequestBuildErrorIsPermanent(t *testing.T) {
	c, rec := newClient(Config{})
	boom := errors.New("boom")
	_, err := c.Do(context.Background(), "op", func(context.Context) (*http.Request, error) { return nil, boom }, nil)
	if !errors.Is(err, boom) || len(rec.get()) != 0 {
		t.Errorf("err = %v, waits = %v", err, rec.get())
	}
	_, err = c.Do(context.Background(), "op", get("ftp://example.invalid/x"), nil)
	if err == nil || !strings.Contains(err.Error(), `unsupported URL scheme "ftp"`) || len(rec.get()) != 0 {
		t.Errorf("err = %v, waits = %v", err, rec.get())
	}
}

// roundTripFunc is an http.RoundTripper.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// A Transport error marked Permanent (credentials refused) is not retried
// and comes back as itself, prefixed with source and operation, not inside
// http.Client's *url.Error; an unmarked transport error is retried.
func TestPermanentTransportError(t *testing.T) {
	refused := errors.New("token refused: check the client secret")
	for _, tc := range []struct {
		name     string
		err      error
		attempts int
	}{
		{"permanent", Permanent(refused), 1},
		{"plain", refused, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			calls := 0
			c, _ := newClient(Config{Name: "src", MaxAttempts: 3, Transport: roundTripFunc(func(*http.Request) (*http.Response, error) {
				calls++
				return nil, tc.err
			})})
			_, err := c.Do(context.Background(), "op", get("http://example.invalid/x"), nil)
			if !errors.Is(err, refused) || calls != tc.attempts {
				t.Fatalf("err = %v after %d attempts, want %d", err, calls, tc.attempts)
			}
			if tc.attempts == 1 && err.Error() != "src: op: "+refused.Error() {
				t.Errorf("err = %q, want the transport's error with the source and operation only", err)
			}
		})
	}
}

// TestNoSecretsLeak sends credentials in URL userinfo, a query token and a
// Basic-auth header to a server that echoes them back, fails, or hangs up,
// and checks every error and log line.
func TestNoSecretsLeak(t *testing.T) {
	const (
		urlPass   = "UrlP@ss:w0rd/1"
		queryTok  = "qT0ken+abc/def=="
		basicPass = "B4sic-Passw0rd"
	)
	echo := func(code int) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(code)
			user, pass, _ := r.BasicAuth()
			fmt.Fprintf(w, "auth=%q user=%s pass=%s query=%s token=%s uri=%s",
				r.Header.Get("Authorization"), user, pass, r.URL.RawQuery, r.URL.Query().Get("token"), r.RequestURI)
		}
	}
	forms := func(s string) []string {
		return []string{s, url.QueryEscape(s), url.PathEscape(s), base64.StdEncoding.EncodeToString([]byte(s))}
	}
	var secrets []string
	for _, s := range []string{urlPass, queryTok, basicPass} {
		secrets = append(secrets, forms(s)...)
	}
	secrets = append(secrets,
		base64.StdEncoding.EncodeToString([]byte("alice:"+urlPass)),
		base64.StdEncoding.EncodeToString([]byte("bob:"+basicPass)),
		"alice:", "alice%3A") // userinfo is stripped from URLs entirely

	type call func(c *Client, base string) error
	doURL := func(c *Client, base string) error {
		u, _ := url.Parse(base)
		u.User = url.UserPassword("alice", urlPass)
		u.Path = "/calls"
		u.RawQuery = url.Values{"token": {queryTok}, "day": {"2026-11-20"}}.Encode()
		_, err := c.Do(context.Background(), "history", get(u.String()), nil)
		return err
	}
	doBasic := func(c *Client, base string) error {
		_, err := c.Do(context.Background(), "history", func(ctx context.Context) (*http.Request, error) {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/calls?token="+url.QueryEscape(queryTok), nil)
			if err == nil {
				req.SetBasicAuth("bob", basicPass)
			}
			return req, err
		}, nil)
		return err
	}
	streamURL := func(c *Client, base string) error {
		u, _ := url.Parse(base)
		u.User = url.UserPassword("alice", urlPass)
		u.RawQuery = "token=" + url.QueryEscape(queryTok)
		resp, err := c.Stream(context.Background(), "download", get(u.String()))
		if err == nil {
			resp.Body.Close()
		}
		return err
	}

	for _, tc := range []struct {
		name  string
		steps []http.HandlerFunc
		call  call
	}{
		{"userinfo, 5xx echoes then 401 echo", []http.HandlerFunc{echo(503), echo(503), echo(401)}, doURL},
		{"userinfo, hang-ups", []http.HandlerFunc{hangup}, doURL},
		{"basic, 5xx echoes then 401 echo", []http.HandlerFunc{echo(502), echo(500), echo(401)}, doBasic},
		{"basic, hang-ups", []http.HandlerFunc{hangup}, doBasic},
		{"stream userinfo, 5xx echoes then 404 echo", []http.HandlerFunc{echo(500), echo(429), echo(404)}, streamURL},
		{"stream userinfo, hang-ups", []http.HandlerFunc{hangup}, streamURL},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newServer(t, tc.steps...)
			var logs bytes.Buffer
			red := secret.NewRedactor()
			red.Add(queryTok) // the source registers its token; the client learns the rest
			c, _ := newClient(Config{
				MaxAttempts: 3,
				Redactor:    red,
				Logger:      slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
			})
			err := tc.call(c, srv.URL)
			if err == nil {
				t.Fatal("call succeeded")
			}
			text := err.Error() + "\n" + fmt.Sprintf("%+v", err) + "\n" + logs.String()
			for _, s := range secrets {
				if strings.Contains(text, s) {
					t.Errorf("output holds %q:\n%s", s, text)
				}
			}
			var se *StatusError
			if errors.As(err, &se) {
				for _, s := range secrets {
					if strings.Contains(se.Body, s) {
						t.Errorf("StatusError.Body holds %q: %s", s, se.Body)
					}
				}
			}
			// The outputs are really there and really redacted.
			if !strings.Contains(text, secret.Redacted) {
				t.Errorf("nothing redacted:\n%s", text)
			}
			if n := strings.Count(logs.String(), "retrying request"); n != 2 {
				t.Errorf("want 2 retry log lines, got %d:\n%s", n, logs.String())
			}
			for _, s := range []string{"source=test", "op=", "attempt=1", "status=", "wait=", "error="} {
				if !strings.Contains(logs.String(), s) {
					t.Errorf("log lacks %q:\n%s", s, logs.String())
				}
			}
		})
	}
}

func TestRetryAfterParse(t *testing.T) {
	now := time.Date(2026, 11, 20, 3, 0, 0, 0, time.UTC)
	c := New(Config{MaxRetryAfter: time.Minute})
	c.now = func() time.Time { return now }
	for in, want := range map[string]time.Duration{
		"":                    0,
		"0":                   0,
		"-5":                  0,
		" 7 ":                 7 * time.Second,
		"61":                  time.Minute,
		strconv.Itoa(1 << 62): time.Minute,
		"1.5":                 0,
		now.Add(30 * time.Second).Format(http.TimeFormat): 30 * time.Second,
		now.Add(time.Hour).Format(http.TimeFormat):        time.Minute,
		now.Add(-time.Hour).Format(http.TimeFormat):       0,
		now.Add(20 * time.Second).Format(time.RFC850):     20 * time.Second,
	} {
		if got := c.retryAfter(in); got != want {
			t.Errorf("retryAfter(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestRetryableMark(t *testing.T) {
	base := errors.New("x")
	if Retryable(nil) != nil {
		t.Error("Retryable(nil) != nil")
	}
	r := Retryable(base)
	if !IsRetryable(r) || !IsRetryable(fmt.Errorf("wrap: %w", r)) || IsRetryable(base) {
		t.Error("IsRetryable wrong")
	}
	if !errors.Is(r, base) || r.Error() != "x" {
		t.Error("Retryable changed the error")
	}
}

// vendorErr is a vendor's error answer, for CheckAnswer.
type vendorErr struct{ code string }

func (e *vendorErr) Error() string { return "vendor error " + e.code }

func TestCheckAnswer(t *testing.T) {
	api := fmt.Errorf("decode: %w", &vendorErr{"Error_ID_Not_Found"})
	garbled := errors.New("not JSON")
	for _, tc := range []struct {
		name      string
		status    int
		decodeErr error
		wantNil   bool
		retryable bool
		wantAPI   bool
		fatal     bool // fatal for the source: wraps ErrAuth
	}{
		{"ok", 200, nil, true, false, false, false},
		{"vendor error on 200 is permanent", 200, api, false, false, true, false},
		{"vendor error on 503 is retried", 503, api, false, true, true, false},
		{"404 is a permanent status error", 404, garbled, false, false, false, false},
		{"401 is fatal for the source", 401, garbled, false, false, false, true},
		{"403 is fatal for the source", 403, nil, false, false, false, true},
		{"429 is retried", 429, nil, false, true, false, false},
		{"200 that does not decode is retried", 200, garbled, false, true, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckAnswer[*vendorErr](&http.Response{StatusCode: tc.status}, []byte("body"), tc.decodeErr)
			if (err == nil) != tc.wantNil || IsRetryable(err) != tc.retryable {
				t.Fatalf("err = %v (retryable %v)", err, IsRetryable(err))
			}
			if _, ok := errors.AsType[*vendorErr](err); ok != tc.wantAPI {
				t.Errorf("err = %v: vendor error visible = %v, want %v", err, ok, tc.wantAPI)
			}
			if IsFatal(err) != tc.fatal || errors.Is(err, ErrAuth) != tc.fatal {
				t.Errorf("err = %v: fatal %v, want %v", err, IsFatal(err), tc.fatal)
			}
			if _, ok := errors.AsType[*StatusError](err); tc.fatal && !ok {
				t.Errorf("err = %v: the status error is not visible", err)
			}
		})
	}
}

// A fatal error is returned at once, with its text, and stays fatal
// through the client's wrapping.
func TestFatalIsNotRetried(t *testing.T) {
	if Fatal(nil) != nil {
		t.Fatal("Fatal(nil) != nil")
	}
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.WriteHeader(http.StatusUnauthorized)
	}))
	defer srv.Close()
	c := New(Config{Name: "v", MaxAttempts: 5, Sleep: func(ctx context.Context, _ time.Duration) error { return ctx.Err() }})
	_, err := c.Do(context.Background(), "op", func(ctx context.Context) (*http.Request, error) {
		return http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	}, func(resp *http.Response, body []byte) error { return CheckAnswer[*vendorErr](resp, body, nil) })
	if !IsFatal(err) || n.Load() != 1 || err.Error() != "v: op: HTTP 401 Unauthorized" {
		t.Fatalf("err = %v after %d requests, want one fatal HTTP 401", err, n.Load())
	}
}
