package sandbox

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// testJSONBody is what the wrapped test handler answers: valid JSON, long
// enough that half of it is clearly not all of it.
func testJSONBody() []byte {
	return []byte(`{"result":"` + strings.Repeat("x", 1000) + `"}`)
}

func jsonHandler() http.Handler {
	jsonBody := testJSONBody()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(jsonBody)))
		_, _ = w.Write(jsonBody)
	})
}

// outcome classifies one answer as the client sees it: "ok", "503", "429",
// "truncate" or "malformed". It fails the test on anything else.
func outcome(t *testing.T, c *http.Client, url string, wantRetryAfter string) string {
	t.Helper()
	jsonBody := testJSONBody()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET: %v", err)
	}
	defer resp.Body.Close()
	body, readErr := io.ReadAll(resp.Body)
	switch resp.StatusCode {
	case http.StatusServiceUnavailable:
		if !bytes.Contains(body, []byte("503")) || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
			t.Errorf("503 answer: %q %q", resp.Header.Get("Content-Type"), body)
		}
		return "503"
	case http.StatusTooManyRequests:
		if got := resp.Header.Get("Retry-After"); got != wantRetryAfter {
			t.Errorf("Retry-After = %q, want %q", got, wantRetryAfter)
		}
		return "429"
	case http.StatusOK:
	default:
		t.Fatalf("status %d", resp.StatusCode)
	}
	switch {
	case errors.Is(readErr, io.ErrUnexpectedEOF):
		if resp.ContentLength != int64(len(jsonBody)) {
			t.Errorf("truncated answer announces Content-Length %d, want the full %d", resp.ContentLength, len(jsonBody))
		}
		if len(body) != len(jsonBody)/2 {
			t.Errorf("truncated answer delivered %d bytes, want %d", len(body), len(jsonBody)/2)
		}
		return "truncate"
	case readErr != nil:
		t.Fatalf("reading body: %v", readErr)
	case !json.Valid(body):
		if !bytes.HasSuffix(body, []byte("<html>")) {
			t.Errorf("malformed body %q does not end in <html>", body)
		}
		return "malformed"
	case !bytes.Equal(body, jsonBody):
		t.Fatalf("body changed without a fault: %q", body)
	}
	return "ok"
}

func TestFaultKnobs(t *testing.T) {
	tests := []struct {
		name       string
		faults     Faults
		retryAfter string
		want       []string // outcomes of requests 1..6
		wantCounts FaultCounts
	}{
		{"none", Faults{}, "",
			[]string{"ok", "ok", "ok", "ok", "ok", "ok"}, FaultCounts{Requests: 6}},
		{"5xx every 3", Faults{Error5xxEvery: 3}, "",
			[]string{"ok", "ok", "503", "ok", "ok", "503"}, FaultCounts{Requests: 6, Error5xx: 2}},
		{"429 every 2, retry after 1.5s", Faults{TooManyEvery: 2, RetryAfter: 1500 * time.Millisecond}, "2",
			[]string{"ok", "429", "ok", "429", "ok", "429"}, FaultCounts{Requests: 6, TooMany: 3}},
		{"429 without RetryAfter says 1", Faults{TooManyEvery: 1}, "1",
			[]string{"429", "429", "429", "429", "429", "429"}, FaultCounts{Requests: 6, TooMany: 6}},
		{"truncate every 2", Faults{TruncateEvery: 2}, "",
			[]string{"ok", "truncate", "ok", "truncate", "ok", "truncate"}, FaultCounts{Requests: 6, Truncate: 3}},
		{"malformed every 4", Faults{MalformedEvery: 4}, "",
			[]string{"ok", "ok", "ok", "malformed", "ok", "ok"}, FaultCounts{Requests: 6, Malformed: 1}},
		{"priority 5xx over 429 over truncate over malformed",
			Faults{Error5xxEvery: 6, TooManyEvery: 3, TruncateEvery: 2, MalformedEvery: 1}, "1",
			[]string{"malformed", "truncate", "429", "truncate", "malformed", "503"},
			FaultCounts{Requests: 6, Error5xx: 1, TooMany: 1, Truncate: 2, Malformed: 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inj := NewFaultInjector(tt.faults)
			srv := httptest.NewServer(inj.Wrap(jsonHandler()))
			defer srv.Close()
			var got []string
			for range tt.want {
				got = append(got, outcome(t, srv.Client(), srv.URL, tt.retryAfter))
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("outcomes = %v, want %v", got, tt.want)
			}
			if c := inj.Counts(); c != tt.wantCounts {
				t.Errorf("Counts() = %+v, want %+v", c, tt.wantCounts)
			}
		})
	}
}

func TestRetryAfterSeconds(t *testing.T) {
	for _, tt := range []struct {
		d    time.Duration
		want int
	}{{0, 1}, {-time.Second, 1}, {time.Millisecond, 1}, {time.Second, 1}, {1500 * time.Millisecond, 2}, {2 * time.Second, 2}, {time.Minute, 60}} {
		if got := retryAfterSeconds(tt.d); got != tt.want {
			t.Errorf("retryAfterSeconds(%v) = %d, want %d", tt.d, got, tt.want)
		}
	}
}

func TestFaultLatency(t *testing.T) {
	inj := NewFaultInjector(Faults{Latency: 50 * time.Millisecond})
	srv := httptest.NewServer(inj.Wrap(jsonHandler()))
	defer srv.Close()
	start := time.Now()
	if got := outcome(t, srv.Client(), srv.URL, ""); got != "ok" {
		t.Fatalf("outcome %s", got)
	}
	if d := time.Since(start); d < 50*time.Millisecond {
		t.Errorf("answer after %v, want at least 50ms", d)
	}
}

func TestSetFaultsAtRuntime(t *testing.T) {
	inj := NewFaultInjector(Faults{})
	srv := httptest.NewServer(inj.Wrap(jsonHandler()))
	defer srv.Close()
	var got []string
	for i := range 6 {
		switch i {
		case 2:
			inj.SetFaults(Faults{Error5xxEvery: 1})
		case 4:
			inj.SetFaults(Faults{})
		}
		got = append(got, outcome(t, srv.Client(), srv.URL, ""))
	}
	if want := "ok,ok,503,503,ok,ok"; strings.Join(got, ",") != want {
		t.Errorf("outcomes = %v, want %s", got, want)
	}
	if inj.Faults() != (Faults{}) {
		t.Errorf("Faults() = %+v after reset", inj.Faults())
	}
}

// TestFaultsConcurrent checks that every request is numbered exactly once:
// with 200 concurrent requests and a fault every 5th, exactly 40 faults.
func TestFaultsConcurrent(t *testing.T) {
	inj := NewFaultInjector(Faults{Error5xxEvery: 5})
	h := inj.Wrap(jsonHandler())
	var wg sync.WaitGroup
	var mu sync.Mutex
	statuses := map[int]int{}
	for range 200 {
		wg.Go(func() {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
			mu.Lock()
			statuses[w.Code]++
			mu.Unlock()
		})
	}
	wg.Wait()
	if statuses[503] != 40 || statuses[200] != 160 {
		t.Errorf("statuses = %v, want 40×503 and 160×200", statuses)
	}
	if c := inj.Counts(); c.Requests != 200 || c.Error5xx != 40 || c.Total() != 40 {
		t.Errorf("Counts() = %+v", c)
	}
}

func TestFaultKindString(t *testing.T) {
	for k, want := range map[FaultKind]string{NoFault: "none", Fault5xx: "503", FaultTooMany: "429",
		FaultTruncate: "truncate", FaultMalformed: "malformed", FaultKind(9): "FaultKind(9)"} {
		if k.String() != want {
			t.Errorf("%d.String() = %q, want %q", int(k), k.String(), want)
		}
	}
}

// TestTruncateWithoutHijack: a ResponseRecorder cannot be hijacked; the
// truncated answer still announces the full length and carries half.
func TestTruncateWithoutHijack(t *testing.T) {
	h := NewFaultInjector(Faults{TruncateEvery: 1}).Wrap(jsonHandler())
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
	full := len(testJSONBody())
	if w.Header().Get("Content-Length") != strconv.Itoa(full) || w.Body.Len() != full/2 {
		t.Errorf("Content-Length %s, body %d bytes; want %d and %d", w.Header().Get("Content-Length"), w.Body.Len(), full, full/2)
	}
}

// TestFaultsMaxInARow: with a fault on every request and MaxInARow 2, one
// request (method, URL and body) is answered for real after two faults in
// a row, and another request keeps its own count.
func TestFaultsMaxInARow(t *testing.T) {
	inj := NewFaultInjector(Faults{Error5xxEvery: 1, MaxInARow: 2})
	h := inj.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		_, _ = w.Write(b) // the handler still gets the body
	}))
	send := func(path, body string) string {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, path, strings.NewReader(body)))
		if w.Code == http.StatusOK {
			return "ok:" + w.Body.String()
		}
		return strconv.Itoa(w.Code)
	}
	var got []string
	for _, req := range [][2]string{
		{"/a", "x"}, {"/a", "y"}, {"/a", "x"}, {"/b", "x"}, {"/a", "x"}, {"/a", "y"}, {"/a", "y"}, {"/a", "x"},
	} {
		got = append(got, send(req[0], req[1]))
	}
	if want := "503,503,503,503,ok:x,503,ok:y,503"; strings.Join(got, ",") != want {
		t.Errorf("outcomes = %v, want %s", got, want)
	}
	if c := inj.Counts(); c.Requests != 8 || c.Error5xx != 6 {
		t.Errorf("Counts() = %+v, want 8 requests, 6 faults", c)
	}
}
