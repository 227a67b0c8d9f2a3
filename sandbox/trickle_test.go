package sandbox

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

// A trickled answer has the real status and full Content-Length at once,
// then the body byte by byte: with a long interval the client holds the
// headers and no byte; with a short one it gets the whole real body.
func TestFaultTrickle(t *testing.T) {
	const small = `{"ok":true}`
	smallHandler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusAccepted)
		_, _ = io.WriteString(w, small)
	})

	t.Run("headers then silence", func(t *testing.T) {
		inj := NewFaultInjector(Faults{TrickleEvery: 2, TrickleInterval: time.Hour})
		srv := httptest.NewServer(inj.Wrap(smallHandler))
		defer srv.Close() // returns only if the trickling handler ends when the client leaves
		get := func() (*http.Response, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			return resp, cancel
		}
		resp, cancel := get() // request 1: no fault
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		cancel()
		if err != nil || string(b) != small {
			t.Fatalf("request 1: %q, %v", b, err)
		}

		resp, cancel = get() // request 2: trickled
		defer cancel()
		if resp.StatusCode != http.StatusAccepted || resp.ContentLength != int64(len(small)) ||
			resp.Header.Get("Content-Type") != "application/json" {
			t.Errorf("trickled headers: %d, Content-Length %d, %q", resp.StatusCode, resp.ContentLength, resp.Header.Get("Content-Type"))
		}
		got := make(chan int, 1)
		go func() {
			n, _ := resp.Body.Read(make([]byte, 100))
			got <- n
		}()
		select {
		case n := <-got:
			t.Fatalf("a byte-an-hour answer delivered %d bytes", n)
		case <-time.After(100 * time.Millisecond):
		}
		cancel()
		resp.Body.Close()
		if c := inj.Counts(); c.Requests != 2 || c.Trickle != 1 || c.Total() != 1 {
			t.Errorf("Counts() = %+v", c)
		}
	})

	t.Run("whole body, byte by byte", func(t *testing.T) {
		srv := httptest.NewServer(NewFaultInjector(Faults{TrickleEvery: 1, TrickleInterval: time.Millisecond}).Wrap(smallHandler))
		defer srv.Close()
		resp, err := srv.Client().Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b []byte
		buf := make([]byte, 100)
		reads := 0
		for {
			n, err := resp.Body.Read(buf)
			b = append(b, buf[:n]...)
			if n > 0 {
				reads++
			}
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		if string(b) != small || resp.StatusCode != http.StatusAccepted {
			t.Errorf("body %q status %d, want %q 202", b, resp.StatusCode, small)
		}
		if reads < 2 {
			t.Errorf("the body came in %d read(s): not trickled", reads)
		}
	})

	t.Run("HEAD keeps the handler's headers", func(t *testing.T) {
		h := NewFaultInjector(Faults{TrickleEvery: 1, TrickleInterval: time.Millisecond}).Wrap(jsonHandler())
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodHead, "/", nil))
		if got, want := w.Header().Get("Content-Length"), strconv.Itoa(len(testJSONBody())); got != want || w.Body.Len() != 0 {
			t.Errorf("HEAD: Content-Length %s (want %s), %d body bytes", got, want, w.Body.Len())
		}
	})

	t.Run("malformed wins over trickle", func(t *testing.T) {
		inj := NewFaultInjector(Faults{MalformedEvery: 1, TrickleEvery: 1})
		srv := httptest.NewServer(inj.Wrap(jsonHandler()))
		defer srv.Close()
		if got := outcome(t, srv.Client(), srv.URL, ""); got != "malformed" {
			t.Errorf("outcome %s, want malformed", got)
		}
		if c := inj.Counts(); c.Malformed != 1 || c.Trickle != 0 {
			t.Errorf("Counts() = %+v", c)
		}
	})

	if s := FaultTrickle.String(); s != "trickle" {
		t.Errorf("FaultTrickle.String() = %q", s)
	}
	if !strings.Contains(FaultKind(99).String(), "99") {
		t.Error("unknown kind not named by number")
	}
}
