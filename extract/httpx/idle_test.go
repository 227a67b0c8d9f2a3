package httpx

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// trickle answers 200 with the headers of body (its full Content-Length)
// at once, then body one byte every d, until done or the client goes away.
func trickle(status int, body string, d time.Duration) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(status)
		w.(http.Flusher).Flush()
		t := time.NewTicker(d)
		defer t.Stop()
		for i := range len(body) {
			select {
			case <-r.Context().Done():
				return
			case <-t.C:
			}
			if _, err := io.WriteString(w, body[i:i+1]); err != nil {
				return
			}
			w.(http.Flusher).Flush()
		}
	}
}

// chunks answers 200 with n chunks of size bytes, one every d.
func chunks(n, size int, d time.Duration) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(n*size))
		w.WriteHeader(http.StatusOK)
		for range n {
			_, _ = io.WriteString(w, strings.Repeat("x", size))
			w.(http.Flusher).Flush()
			time.Sleep(d)
		}
	}
}

// testDeadline bounds a call that must end by itself long before it: a
// hang shows as context.DeadlineExceeded instead of a stuck test.
func testDeadline(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// A body that stalls after its headers fails its attempt with ErrStalled,
// which is retried; a slow but steady body does not.
func TestIdleTimeoutDo(t *testing.T) {
	long := strings.Repeat("y", 64<<10)
	for _, tc := range []struct {
		name         string
		steps        []http.HandlerFunc
		idle         time.Duration
		wantErr      string // "" = success
		wantRequests int32
	}{
		// One byte a minute: nothing arrives within IdleTimeout.
		{"silent", []http.HandlerFunc{trickle(200, long, time.Minute)}, 50 * time.Millisecond,
			"test: GET x: gave up after 3 attempts: HTTP 200: reading body: body stalled: no bytes for 50ms (IdleTimeout)", 3},
		// One byte every 5ms: bytes keep coming, faster than IdleTimeout,
		// but far fewer than IdleMinBytes in it.
		{"trickle", []http.HandlerFunc{trickle(200, long, 5*time.Millisecond)}, 50 * time.Millisecond,
			"fewer than 1024 (IdleTimeout, IdleMinBytes); the server is trickling", 3},
		// An error page that trickles is no better than a body.
		{"trickling 503", []http.HandlerFunc{trickle(503, long, time.Minute)}, 50 * time.Millisecond,
			"no bytes for 50ms", 3},
		{"stall then ok", []http.HandlerFunc{trickle(200, long, time.Minute), reply(200, "ok")}, 50 * time.Millisecond, "", 2},
		// 2 KiB every 10ms: progress every chunk, well within IdleTimeout.
		{"slow but steady", []http.HandlerFunc{chunks(10, 2048, 10*time.Millisecond)}, time.Second, "", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newServer(t, tc.steps...)
			c, rec := newClient(Config{IdleTimeout: tc.idle, MaxAttempts: 3})
			body, err := c.Do(testDeadline(t), "GET x", get(srv.URL), nil)
			if tc.wantErr == "" {
				if err != nil || len(body) == 0 {
					t.Fatalf("Do = %d bytes, %v", len(body), err)
				}
			} else {
				if !errors.Is(err, ErrStalled) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v\nwant ErrStalled and %q", err, tc.wantErr)
				}
			}
			if n := srv.requests.Load(); n != tc.wantRequests {
				t.Errorf("requests = %d, want %d (waits %v)", n, tc.wantRequests, rec.get())
			}
			if len(c.slots) != 0 {
				t.Errorf("%d slots leaked", len(c.slots))
			}
		})
	}
}

// A Stream body that stalls fails its Read with a Retryable error naming
// source and operation, wrapping ErrStalled, and frees its slot on Close;
// time the caller spends between reads is not the server's.
func TestIdleTimeoutStream(t *testing.T) {
	long := strings.Repeat("z", 64<<10)
	for _, tc := range []struct {
		name         string
		steps        []http.HandlerFunc
		pause        time.Duration // the caller's pause between reads
		wantErr      string
		wantRequests int32
	}{
		{"silent", []http.HandlerFunc{trickle(200, long, time.Minute)}, 0,
			"test: download 7: body stalled: no bytes for 50ms (IdleTimeout)", 1},
		{"trickle", []http.HandlerFunc{trickle(200, long, 5*time.Millisecond)}, 0,
			"test: download 7: body stalled: ", 1},
		// A 503 whose page trickles is retried like any 503.
		{"trickling 503 then ok", []http.HandlerFunc{trickle(503, long, time.Minute), reply(200, "data")}, 0, "", 2},
		// The whole body is sent at once; the caller pauses 3×IdleTimeout
		// between small reads (an upload of what it read): no stall.
		{"slow reader", []http.HandlerFunc{reply(200, strings.Repeat("w", 4096))}, 150 * time.Millisecond, "", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newServer(t, tc.steps...)
			c, _ := newClient(Config{IdleTimeout: 50 * time.Millisecond, MaxAttempts: 3, Concurrency: 1})
			resp, err := c.Stream(testDeadline(t), "download 7", get(srv.URL))
			if err != nil {
				t.Fatal(err)
			}
			var readErr error
			buf := make([]byte, 1000)
			for {
				_, err := resp.Body.Read(buf)
				if err != nil {
					if err != io.EOF {
						readErr = err
					}
					break
				}
				time.Sleep(tc.pause)
			}
			if tc.wantErr == "" {
				if readErr != nil {
					t.Fatalf("read: %v", readErr)
				}
			} else {
				if !errors.Is(readErr, ErrStalled) || !IsRetryable(readErr) || !strings.Contains(readErr.Error(), tc.wantErr) {
					t.Fatalf("read err = %v\nwant a Retryable ErrStalled with %q", readErr, tc.wantErr)
				}
				if _, err := resp.Body.Read(buf); !errors.Is(err, ErrStalled) {
					t.Errorf("read after the stall: %v, want the stall error again", err)
				}
			}
			if err := resp.Body.Close(); err != nil && tc.wantErr == "" {
				t.Error(err)
			}
			if len(c.slots) != 0 {
				t.Errorf("%d slots still taken after Close", len(c.slots))
			}
			if n := srv.requests.Load(); n != tc.wantRequests {
				t.Errorf("requests = %d, want %d", n, tc.wantRequests)
			}
		})
	}
}
