package httpx

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// bodyOf returns n bytes that identify request i, so a test can tell a
// body from another's or from a mangled one.
func bodyOf(i, n int) []byte {
	b := bytes.Repeat([]byte{'a' + byte(i%26)}, n)
	copy(b, strconv.Itoa(i)+":")
	return b
}

// sizedServer answers ?i=I&n=N with bodyOf(I, N), with a Content-Length or
// chunked (several flushed writes, no length).
func sizedServer(t *testing.T, withLength bool) *server {
	return newServer(t, func(w http.ResponseWriter, r *http.Request) {
		i, _ := strconv.Atoi(r.URL.Query().Get("i"))
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		b := bodyOf(i, n)
		if withLength {
			w.Header().Set("Content-Length", strconv.Itoa(n))
			_, _ = w.Write(b)
			return
		}
		w.WriteHeader(http.StatusOK)
		for len(b) > 0 {
			k := min(len(b), 100<<10)
			_, _ = w.Write(b[:k])
			w.(http.Flusher).Flush()
			b = b[k:]
		}
	})
}

// raiseTo raises a to v if v is larger.
func raiseTo[T int32 | int64](a interface {
	Load() T
	CompareAndSwap(old, new T) bool
}, v T) {
	for p := a.Load(); v > p && !a.CompareAndSwap(p, v); p = a.Load() {
	}
}

// waitFor polls cond (no timing assertion: it only bounds a hang).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("never reached: %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestBudgetBoundsBodiesHeld runs N concurrent DoHeld calls whose callers
// keep their bodies until the test lets one go. At every settled moment
// (each call holding a body, waiting for budget, or done) the bytes of the
// bodies held are counted by the callers themselves; they must never pass
// the budget, and every call must finish with its own body intact. The
// no-budget case shows that the harness does see overlap: there all bodies
// are held at once.
func TestBudgetBoundsBodiesHeld(t *testing.T) {
	const mib = 1 << 20
	tests := []struct {
		name        string
		budget      int64
		calls, size int
		withLength  bool
		wantMax     int64 // most body bytes held at once
		wantHolders int32 // most callers holding at once
	}{
		{"content-length", 5 * mib / 2, 6, mib, true, 2 * mib, 2},
		{"chunked", 5 * mib / 2, 6, mib, false, 2 * mib, 2},
		{"content-length larger than the budget: alone", mib, 3, 3 * mib, true, 3 * mib, 1},
		{"chunked larger than the budget: alone", mib, 3, 3 * mib, false, 3 * mib, 1},
		{"no budget: all at once", 0, 6, mib, true, 6 * mib, 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := sizedServer(t, tt.withLength)
			budget := NewBudget(tt.budget)
			c, _ := newClient(Config{Concurrency: tt.calls, Budget: budget, MaxAttempts: 1})
			var (
				live, maxLive    atomic.Int64
				holders, maxHeld atomic.Int32
				done             atomic.Int32
				next             = make(chan struct{})
				wg               sync.WaitGroup
				waiting          = func() int64 { return 0 }
				settled          = func() bool { return int64(holders.Load())+waiting()+int64(done.Load()) == int64(tt.calls) }
			)
			if budget != nil {
				waiting = budget.Waiting
			}
			for i := range tt.calls {
				wg.Go(func() {
					defer done.Add(1)
					u := fmt.Sprintf("%s/?i=%d&n=%d", srv.URL, i, tt.size)
					body, release, err := c.DoHeld(context.Background(), "GET big", get(u), nil)
					defer release()
					if err != nil {
						t.Error(err)
						return
					}
					if !bytes.Equal(body, bodyOf(i, tt.size)) {
						t.Errorf("call %d: body of %d bytes is not its own", i, len(body))
					}
					raiseTo(&maxLive, live.Add(int64(len(body))))
					raiseTo(&maxHeld, holders.Add(1))
					<-next // hold the body until the test lets go
					live.Add(-int64(len(body)))
					holders.Add(-1)
				})
			}
			for int(done.Load()) < tt.calls {
				waitFor(t, "every call holding, waiting or done", settled)
				if holders.Load() > 0 {
					// Let one go, and wait until it has finished, so that
					// it is not counted as holding at the next check.
					d := done.Load()
					next <- struct{}{}
					waitFor(t, "the released call to finish", func() bool { return done.Load() > d })
					continue
				}
				// Nobody holds a body: the calls left wait for budget. A
				// release wakes a waiter before it leaves Waiting, so this
				// moment can be a hand-over; a deadlock is a hand-over that
				// never completes.
				waitFor(t, "a call waiting for budget to get it (else: deadlock)", func() bool {
					return holders.Load() > 0 || int(done.Load()) == tt.calls
				})
			}
			wg.Wait()
			if m := maxLive.Load(); m != tt.wantMax {
				t.Errorf("most body bytes held at once = %d, want %d (budget %d)", m, tt.wantMax, tt.budget)
			}
			if h := maxHeld.Load(); h != tt.wantHolders {
				t.Errorf("most callers holding at once = %d, want %d", h, tt.wantHolders)
			}
			if budget != nil {
				if budget.Held() != 0 {
					t.Errorf("budget still held after every release: %d", budget.Held())
				}
				if budget.Peak() > tt.budget {
					t.Errorf("budget peak %d > size %d", budget.Peak(), tt.budget)
				}
			}
		})
	}
}

// TestBudgetWaitCanceled: a Do waiting for budget that another caller
// holds returns ctx's error when ctx is canceled, having taken nothing.
func TestBudgetWaitCanceled(t *testing.T) {
	srv := sizedServer(t, true)
	budget := NewBudget(1 << 20)
	c, _ := newClient(Config{Concurrency: 2, Budget: budget})
	_, release, err := c.DoHeld(context.Background(), "GET a", get(srv.URL+"/?i=1&n=1048576"), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := c.Do(ctx, "GET b", get(srv.URL+"/?i=2&n=1000"), nil)
		errc <- err
	}()
	waitFor(t, "the second call waiting for budget", func() bool { return budget.Waiting() == 1 })
	cancel()
	err = <-errc
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if budget.Held() != 1<<20 {
		t.Errorf("held = %d after the canceled wait, want only the first body's %d", budget.Held(), 1<<20)
	}
	release()
	release() // idempotent
	if budget.Held() != 0 {
		t.Errorf("held = %d after release", budget.Held())
	}

	// The budget itself: a canceled wait returns exactly ctx.Err().
	h := &hold{b: budget}
	if err := h.growTo(context.Background(), 1<<20); err != nil {
		t.Fatal(err)
	}
	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	if err := budget.acquire(ctx, 1); err != context.Canceled {
		t.Errorf("acquire on a canceled context = %v, want context.Canceled", err)
	}
	h.Release()
	if budget.Held() != 0 || budget.Waiting() != 0 {
		t.Errorf("held %d, waiting %d after all released", budget.Held(), budget.Waiting())
	}
}

// TestBudgetReleasedOnEveryPath: Do gives the budget back whatever the
// outcome (success, a check error, a retried 500, a body over the size
// cap, a broken body), and DoHeld keeps it until release.
func TestBudgetReleasedOnEveryPath(t *testing.T) {
	big := string(bodyOf(0, 300<<10))
	length := func(s string) []string { return []string{"Content-Length", strconv.Itoa(len(s))} }
	tests := []struct {
		name    string
		steps   []http.HandlerFunc
		check   CheckFunc
		wantErr bool
		counted bool // the body was read, so it took budget
	}{
		{"ok", []http.HandlerFunc{reply(200, big, length(big)...)}, nil, false, true},
		{"ok chunked", []http.HandlerFunc{chunked(big)}, nil, false, true},
		{"check error", []http.HandlerFunc{reply(200, big)}, func(*http.Response, []byte) error { return errVendor }, true, true},
		{"500 then ok", []http.HandlerFunc{reply(500, big), reply(200, big)}, nil, false, true},
		{"too large by Content-Length: not read", []http.HandlerFunc{reply(200, big+big, length(big+big)...)}, nil, true, false},
		{"too large chunked", []http.HandlerFunc{chunked(big + big)}, nil, true, true},
		{"broken body", []http.HandlerFunc{truncated}, nil, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, tt.steps...)
			budget := NewBudget(1 << 20)
			c, _ := newClient(Config{Budget: budget, MaxAttempts: 2, MaxBodyBytes: 400 << 10})
			_, err := c.Do(context.Background(), "GET x", get(srv.URL), tt.check)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if budget.Held() != 0 {
				t.Errorf("Do returned holding %d bytes", budget.Held())
			}
			if counted := budget.Peak() > 0; counted != tt.counted {
				t.Errorf("body counted = %v, want %v", counted, tt.counted)
			}
			if tt.wantErr {
				return
			}
			body, release, err := c.DoHeld(context.Background(), "GET x", get(srv.URL), tt.check)
			if err != nil {
				t.Fatal(err)
			}
			if h := budget.Held(); h < int64(len(body)) {
				t.Errorf("DoHeld holds %d bytes for a body of %d", h, len(body))
			}
			release()
			if budget.Held() != 0 {
				t.Errorf("release left %d bytes held", budget.Held())
			}
		})
	}
}

// TestBudgetGrowthNoDeadlock: many chunked bodies of mixed sizes, some
// larger than the budget, through plain Do and through DoHeld callers that
// release at once: every call finishes with its own body, the budget's
// peak never passes its size, and nothing stays held.
func TestBudgetGrowthNoDeadlock(t *testing.T) {
	srv := sizedServer(t, false)
	budget := NewBudget(1 << 20)
	c, _ := newClient(Config{Concurrency: 8, Budget: budget, MaxAttempts: 1})
	sizes := []int{10 << 10, 700 << 10, 3 << 20, 200 << 10, 900 << 10, 1 << 20, 50, 1500 << 10}
	var wg sync.WaitGroup
	for round := range 3 {
		for i, n := range sizes {
			wg.Go(func() {
				u := fmt.Sprintf("%s/?i=%d&n=%d", srv.URL, i, n)
				body, release, err := c.DoHeld(context.Background(), "GET x", get(u), nil)
				defer release()
				if err != nil {
					t.Error(err)
					return
				}
				if !bytes.Equal(body, bodyOf(i, n)) {
					t.Errorf("round %d call %d: wrong body (%d bytes)", round, i, len(body))
				}
			})
		}
	}
	wg.Wait()
	if budget.Held() != 0 {
		t.Errorf("held %d after all calls", budget.Held())
	}
	if budget.Peak() > budget.Size() {
		t.Errorf("peak %d > size %d", budget.Peak(), budget.Size())
	}
}

// TestBodyEstimate: the reservation for a body without Content-Length
// follows the client's recent largest body and decays.
func TestBodyEstimate(t *testing.T) {
	var e bodyEstimate
	if e.get() != minBodyEstimate {
		t.Fatalf("first estimate %d", e.get())
	}
	e.observe(8 << 20)
	if e.get() != 8<<20 {
		t.Errorf("after an 8 MiB body: %d", e.get())
	}
	e.observe(100)
	if e.get() != 7<<20 {
		t.Errorf("after a small one: %d, want 7/8 of 8 MiB", e.get())
	}
	for range 100 {
		e.observe(100)
	}
	if e.get() != minBodyEstimate {
		t.Errorf("after many small ones: %d", e.get())
	}
}
