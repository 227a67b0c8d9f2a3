package mtt

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/calletl/calletl/extract/httpx"
	"github.com/calletl/calletl/sandbox"
	"github.com/calletl/calletl/secret"
)

// History keeps each page's body counted in the HTTP budget while fn runs
// (its rows share the body's memory) and gives it back before the next
// request and on every return.
func TestHistoryHoldsPageInBudgetDuringFn(t *testing.T) {
	emu := sandbox.NewMTT(sandbox.MTTConfig{Seed: 1, Customers: []string{"1"}})
	day := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	var calls []sandbox.MTTCall
	for i := range 25 {
		calls = append(calls, sandbox.MTTCall{Customer: "1", Type: "incoming", ConfID: fmt.Sprintf("%08X 00000000 00000000 00000000", i),
			ConnectTime: day.Add(time.Duration(i) * time.Minute), CLI: "74951234567", CLD: "74957654321"})
	}
	emu.AddCalls(calls...)
	for _, stop := range []bool{false, true} {
		c := testClient(t, emu, 10, "1")
		budget := httpx.NewBudget(1 << 20)
		c.http = httpx.New(httpx.Config{Budget: budget})
		var held []int64
		errStop := errors.New("stop")
		// Stop at fn's second call, not at page N 2: N counts requests over
		// a split window's chains, so the second page fn sees need not be N 2.
		err := c.History(context.Background(), "1", "incoming", day, day.Add(24*time.Hour), func(p Page) error {
			held = append(held, budget.Held())
			if stop && len(held) == 2 {
				return errStop
			}
			return nil
		})
		if stop != errors.Is(err, errStop) || !stop && err != nil {
			t.Fatalf("stop %v: err %v", stop, err)
		}
		for i, h := range held {
			if h < 1000 { // a 10-row page is well over 1000 bytes
				t.Errorf("stop %v: page %d: %d bytes held during fn, want its body", stop, i+1, h)
			}
		}
		if want := map[bool]int{false: 3, true: 2}[stop]; len(held) != want {
			t.Errorf("stop %v: %d pages, want %d", stop, len(held), want)
		}
		if budget.Held() != 0 {
			t.Errorf("stop %v: %d bytes still held after History returned", stop, budget.Held())
		}
	}
}

// prefetchClient is a client of emu whose server reports on requests the
// number of each history request as it arrives.
func prefetchClient(t *testing.T, emu *sandbox.MTT, pageSize int, budget *httpx.Budget, customers ...string) (*Client, <-chan int) {
	t.Helper()
	requests := make(chan int, 1000)
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests <- int(n.Add(1))
		emu.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	c, err := New(Config{BaseURL: srv.URL, Username: "u", Password: secret.New("p4ssw0rd"), Customers: customers, PageSize: pageSize,
		HTTP: httpx.Config{Concurrency: 4, Budget: budget}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c, requests
}

// pagedCalls adds n calls a minute apart on day to emu for customer 1,
// incoming.
func pagedCalls(emu *sandbox.MTT, day time.Time, n int) {
	var calls []sandbox.MTTCall
	for i := range n {
		calls = append(calls, sandbox.MTTCall{Customer: "1", Type: "incoming", ConfID: fmt.Sprintf("%08X 00000000 00000000 00000000", i),
			ConnectTime: day.Add(time.Duration(i) * time.Minute), CLI: "74951234567", CLD: "74957654321"})
	}
	emu.AddCalls(calls...)
}

// History asks for the next page while fn handles the current one: fn of
// page 1 sees the request for page 2 arrive before it returns. (Before
// prefetch, that request was sent only after fn returned: this test then
// failed on its guard.)
func TestHistoryPrefetchesNextPage(t *testing.T) {
	emu := sandbox.NewMTT(sandbox.MTTConfig{Seed: 1, Customers: []string{"1"}})
	day := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	pagedCalls(emu, day, 25)
	c, requests := prefetchClient(t, emu, 10, nil, "1")
	// The guard only ends a failing run; a passing one never waits for it.
	guard, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var pages, rows int
	err := c.History(context.Background(), "1", "incoming", day, day.Add(24*time.Hour), func(p Page) error {
		pages++
		rows += len(p.Rows)
		if p.N != 1 {
			return nil
		}
		for {
			select {
			case n := <-requests:
				if n == 2 {
					return nil
				}
			case <-guard.Done():
				return errors.New("page 2 was not requested while fn handled page 1")
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if pages != 3 || rows != 25 {
		t.Errorf("%d pages, %d rows; want 3 pages, 25 rows", pages, rows)
	}
}

// Prefetch under a budget smaller than one page: each body takes the whole
// budget, so a stream's prefetch waits for the page its own fn holds, and
// four streams compete for it. Every stream must finish with every row
// (no holder waits for a holder), and nothing stays held, whether fn
// returns normally or fails with a prefetch in flight.
func TestHistoryPrefetchBudgetNoDeadlock(t *testing.T) {
	emu := sandbox.NewMTT(sandbox.MTTConfig{Seed: 1, Customers: []string{"1"}})
	day := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	pagedCalls(emu, day, 95)
	for _, stop := range []int{0, 3} { // 0: read every page; 3: fail on page 3
		budget := httpx.NewBudget(512) // less than one 10-row page
		c, _ := prefetchClient(t, emu, 10, budget, "1")
		errStop := errors.New("stop")
		var wg sync.WaitGroup
		errs := make([]error, 4)
		got := make([]int, 4)
		for s := range 4 {
			wg.Go(func() {
				calls := 0 // fn's calls: a History that splits numbers its pages out of order
				errs[s] = c.History(context.Background(), "1", "incoming", day, day.Add(24*time.Hour), func(p Page) error {
					if budget.Held() == 0 {
						return fmt.Errorf("page %d: body not held during fn", p.N)
					}
					got[s] += len(p.Rows)
					if calls++; calls == stop {
						return errStop
					}
					return nil
				})
			})
		}
		wg.Wait()
		for s := range 4 {
			switch {
			case stop == 0 && (errs[s] != nil || got[s] != 95):
				t.Errorf("stream %d: %d rows, %v; want 95 rows", s, got[s], errs[s])
			case stop != 0 && (!errors.Is(errs[s], errStop) || got[s] > 30): // three pages of at most 10
				t.Errorf("stop at page %d: stream %d: %d rows, %v; want at most 30 rows and the stop", stop, s, got[s], errs[s])
			}
		}
		if budget.Held() != 0 {
			t.Errorf("stop at page %d: %d bytes held after every History returned", stop, budget.Held())
		}
	}
}
