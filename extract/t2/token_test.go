package t2

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/calletl/calletl/extract/httpx"
	"github.com/calletl/calletl/model"
	"github.com/calletl/calletl/sandbox"
	"github.com/calletl/calletl/secret"
)

// testClock is a clock shared by the emulator and the client.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// churn serves the emulator and rotates its tokens under the client's
// feet: at every every-th data request (up to max times) it alternately
// moves the shared clock so that the access token is within RefreshAhead of
// its exp (the client refreshes it at its next request, proactively, while
// the server still accepts it) or expires every access token at the server
// (the client learns it from a 403 "expired"). The request that triggered
// it, already on its way with the old pair, is held until another request
// has refreshed that pair, so it reaches the server with a superseded token
// every time, deterministically: the race of requests in flight during a
// refresh.
type churn struct {
	emu   *sandbox.T2
	clock *testClock
	every int64
	max   int64
	hold  time.Duration // bound on holding a request (a failing run only)

	n         atomic.Int64
	mu        sync.Mutex
	refreshed chan struct{} // closed and replaced at every successful refresh
	details   map[string]int
	held      int
	timeouts  int
}

func newChurn(emu *sandbox.T2, clock *testClock, every, max int64) *churn {
	return &churn{emu: emu, clock: clock, every: every, max: max, hold: 5 * time.Second,
		refreshed: make(chan struct{}), details: map[string]int{}}
}

func (c *churn) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := &sandbox.Recorder{ResponseWriter: w}
	if strings.HasSuffix(r.URL.Path, "/authorization/refresh/token") {
		c.emu.ServeHTTP(rec, r)
		if rec.Status == http.StatusOK {
			c.mu.Lock()
			close(c.refreshed)
			c.refreshed = make(chan struct{})
			c.mu.Unlock()
		}
		return
	}
	if k := c.n.Add(1); k%c.every == 0 && k/c.every <= c.max {
		c.mu.Lock()
		ch := c.refreshed
		c.mu.Unlock()
		if (k/c.every)%2 == 1 {
			c.clock.Advance(24*time.Hour - RefreshAhead + time.Minute)
		} else {
			c.emu.ExpireAccessTokens()
		}
		timeout := time.NewTimer(c.hold)
		select {
		case <-ch:
		case <-timeout.C:
			c.mu.Lock()
			c.timeouts++
			c.mu.Unlock()
		}
		timeout.Stop()
		c.mu.Lock()
		c.held++
		c.mu.Unlock()
	}
	c.emu.ServeHTTP(rec, r)
	if d := rec.T2Details(); d != "" {
		c.mu.Lock()
		c.details[d]++
		c.mu.Unlock()
	}
}

// TestTokensUnderConcurrency: six workers share one client (and its token
// transport, as the recordings fetcher does) and fetch call records, missed
// calls, daily statistics, employees, recordings and transcripts, three
// times over, while the pair is refreshed ten times mid-run, five times
// ahead of its exp and five times after a 403 "expired", each time with a
// request in flight carrying the old pair. Nothing may fail, and every
// answer must match the emulator's ground truth.
func TestTokensUnderConcurrency(t *testing.T) {
	const workers, rounds, triggers = 6, 3, 10
	days := []string{"2026-03-02", "2026-03-03"}
	clock := &testClock{now: time.Date(2026, 3, 5, 9, 0, 0, 0, time.UTC)}
	from, _ := time.Parse(model.DayLayout, days[0])
	to, _ := time.Parse(model.DayLayout, days[1])
	emu := sandbox.NewT2(sandbox.T2Config{Seed: 11, From: from, To: to, CallsPerDay: 60, MissedPerDay: 15,
		Employees: 5, Now: clock.Now})
	ch := newChurn(emu, clock, 25, triggers)
	srv := httptest.NewServer(ch)
	t.Cleanup(srv.Close)
	access, refresh := emu.IssueTokens()
	dir := t.TempDir()
	c, err := New(Config{
		BaseURL: srv.URL + "/crm/openapi", Access: secret.New(access), Refresh: secret.New(refresh),
		TokenFile: filepath.Join(dir, "t2-tokens.json"), PageSize: 7, Now: clock.Now,
		HTTP: httpx.Config{Concurrency: 4, Sleep: func(ctx context.Context, _ time.Duration) error { return ctx.Err() }},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	files := &http.Client{Transport: c.Transport()}

	// Ground truth per day (the emulator's days are UTC days).
	calls, missed := map[string]int{}, map[string]int{}
	var recorded []string
	for _, call := range emu.Calls() {
		calls[call.Timestamp.UTC().Format(model.DayLayout)]++
		if call.RecordFileName != "" {
			recorded = append(recorded, call.RecordFileName)
		}
	}
	for _, m := range emu.Missed() {
		missed[m.StartDate.UTC().Format(model.DayLayout)]++
	}
	if len(recorded) < 20 {
		t.Fatalf("only %d recordings: the test needs traffic", len(recorded))
	}

	ctx := context.Background()
	count := func(want int, fetch func(fn func(Page) error) error) error {
		got := 0
		if err := fetch(func(p Page) error { got += len(p.Rows); return nil }); err != nil {
			return err
		}
		if got != want {
			return fmt.Errorf("%d rows, want %d", got, want)
		}
		return nil
	}
	get := func(path, filename string, ok ...int) error {
		resp, err := files.Get(srv.URL + "/crm/openapi" + path + "?" + url.Values{"filename": {filename}}.Encode())
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		for _, code := range ok {
			if resp.StatusCode == code {
				return nil
			}
		}
		return fmt.Errorf("%s %s: HTTP %d %s", path, filename, resp.StatusCode, head(b))
	}
	var jobs []func() error
	for range rounds {
		for _, day := range days {
			w, _ := model.DayWindow(day, time.UTC)
			jobs = append(jobs,
				func() error {
					return count(calls[day], func(fn func(Page) error) error { return c.CallRecords(ctx, w.From, w.To, time.UTC, fn) })
				},
				func() error {
					return count(missed[day], func(fn func(Page) error) error { return c.Missing(ctx, w.From, w.To, time.UTC, fn) })
				},
				func() error { _, err := c.CommonStats(ctx, w.From, w.To, time.UTC); return err },
			)
		}
		jobs = append(jobs, func() error {
			rows, err := c.Employees(ctx)
			if err == nil && len(rows) != len(emu.EmployeeList()) {
				err = fmt.Errorf("%d employees, want %d", len(rows), len(emu.EmployeeList()))
			}
			return err
		})
		for _, name := range recorded {
			jobs = append(jobs,
				func() error { return get("/call-records/file", name, http.StatusOK) },
				func() error { return get("/call-records/file/stt", name, http.StatusOK, http.StatusNotFound) },
			)
		}
	}
	queue := make(chan func() error, len(jobs))
	for _, j := range jobs {
		queue <- j
	}
	close(queue)
	var failed atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for j := range queue {
				if err := j(); err != nil {
					if failed.Add(1) <= 5 {
						t.Error(err)
					}
				}
			}
		})
	}
	wg.Wait()
	if n := failed.Load(); n > 0 {
		t.Fatalf("%d of %d requests failed", n, len(jobs))
	}

	ch.mu.Lock()
	defer ch.mu.Unlock()
	if ch.held != triggers || ch.timeouts != 0 {
		t.Fatalf("%d of %d triggers held a request until a refresh (%d timed out): the run was too short", ch.held, triggers, ch.timeouts)
	}
	if got := ch.details["The token has already been updated"]; got < triggers {
		t.Errorf("%d answers \"already updated\", want at least %d (one per held request)", got, triggers)
	}
	if got := ch.details["The token is expired"]; got < triggers/2 {
		t.Errorf("%d answers \"expired\", want at least %d", got, triggers/2)
	}
	if emu.Refreshes() < triggers || c.Tokens().Refreshes() != emu.Refreshes() {
		t.Errorf("refreshes: emulator %d, client %d; want equal and at least %d", emu.Refreshes(), c.Tokens().Refreshes(), triggers)
	}
	t.Logf("%d requests, %d refreshes, 403s %v", ch.n.Load(), emu.Refreshes(), ch.details)
}

// A request sent with a pair while that pair's refresh is in flight, and
// refused "already updated" before this store has the new pair, waits for
// the refresh and goes through with the new pair.
func TestSupersededDuringRefresh(t *testing.T) {
	f := newFake(t)
	rotated, release := make(chan struct{}), make(chan struct{})
	f.afterRotate = func() { close(rotated); <-release }
	var once sync.Once
	sawStale := make(chan struct{})
	f.onForbid = func(detail string) {
		if detail == "The token has already been updated" {
			once.Do(func() { close(sawStale) })
		}
	}
	c, _ := newTestClient(t, f, serve(t, f), t.TempDir(), nil)
	refreshErr := make(chan error, 1)
	go func() { refreshErr <- c.tokens.refresh(context.Background(), 0) }()
	<-rotated // the server has rotated; the store still holds pair 0
	getErr := make(chan error, 1)
	go func() { _, err := c.Employees(context.Background()); getErr <- err }()
	select {
	case <-sawStale: // the request was refused with pair 0
	case err := <-getErr:
		t.Fatalf("request ended before the refresh did: %v", err)
	}
	close(release)
	if err := <-refreshErr; err != nil {
		t.Fatal(err)
	}
	if err := <-getErr; err != nil {
		t.Fatalf("request refused while the refresh was in flight: %v", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.refreshes != 1 || len(f.tokens) != 1 || f.tokens[0] != f.access {
		t.Fatalf("refreshes %d, served %d requests; want 1 refresh and the request served with the new pair", f.refreshes, len(f.tokens))
	}
}

// "Already updated" for the current pair: the pair was refreshed outside
// this process. When another process saved the new pair to the token file
// it is taken from there; otherwise it is the operator's error, and says so.
func TestSupersededOutsideThisProcess(t *testing.T) {
	for _, tc := range []struct {
		name string
		// other refreshes the pair through another client on the same
		// token file (or, with otherFile, on a copy of it elsewhere).
		otherFile bool
		// due makes this client's pair due for a proactive refresh, so it
		// meets the other process's refresh at its own refresh, not at a
		// data request.
		due  bool
		want string // "" = success
	}{
		{name: "same token file, data request"},
		{name: "same token file, refresh", due: true},
		{name: "another copy of the tokens", otherFile: true,
			want: "has already been refreshed, and not by this process"},
		{name: "another copy of the tokens, refresh", otherFile: true, due: true,
			want: "token refresh refused"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
			f := newFake(t)
			f.access, f.refresh = jwt("a0", now.Add(24*time.Hour)), jwt("r0", now.Add(7*24*time.Hour))
			srv := serve(t, f)
			dir := t.TempDir()
			clock := &testClock{now: now}
			mod := func(c *Config) {
				c.Access, c.Refresh = secret.New(f.access), secret.New(f.refresh)
				c.Now = clock.Now
			}
			c1, red := newTestClient(t, f, srv, dir, mod)
			otherDir := dir
			if tc.otherFile {
				otherDir = t.TempDir()
			}
			c2, _ := newTestClient(t, f, srv, otherDir, mod)
			if err := c2.tokens.refresh(context.Background(), 0); err != nil {
				t.Fatal(err)
			}
			if tc.due {
				clock.Advance(24*time.Hour - RefreshAhead + time.Minute)
			}
			_, err := c1.Employees(context.Background())
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if f.tokens[len(f.tokens)-1] != f.access || c1.Tokens().Refreshes() != 0 {
					t.Fatalf("not served with the other process's pair (own refreshes %d)", c1.Tokens().Refreshes())
				}
				return
			}
			var ae *AuthError
			if !errors.As(err, &ae) || !errors.Is(err, ErrAuth) || ae.Detail != "The token has already been updated" {
				t.Fatalf("err = %v, want an AuthError for \"already updated\"", err)
			}
			for _, want := range []string{tc.want, "only one installation", "copy the token file", "T2 PBX web UI", filepath.Join(dir, "t2-tokens.json")} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error does not say %q: %v", want, err)
				}
			}
			noTokens(t, err.Error(), red, f)
		})
	}
}

// A server that keeps refusing does not loop a request. "Already updated"
// while the store keeps getting newer pairs: the request is sent 1 +
// maxAuthRetries times, then fails. "Expired" after a refresh: one refresh
// and one retry, then the operator's error.
func TestAuthRetriesBounded(t *testing.T) {
	for _, tc := range []struct {
		deny      string
		sent      int64
		refreshes int // by the client itself
		want      string
	}{
		{deny: "The token has already been updated", sent: 1 + maxAuthRetries, refreshes: 1 + maxAuthRetries, want: "not by this process"},
		{deny: "The token is expired", sent: 2, refreshes: 1, want: "still expired after a refresh"},
	} {
		t.Run(tc.deny, func(t *testing.T) {
			f := newFake(t)
			c, _ := newTestClient(t, f, serve(t, f), t.TempDir(), nil)
			f.deny = tc.deny
			var sent atomic.Int64
			f.onForbid = func(string) {
				sent.Add(1)
				if tc.deny != "The token has already been updated" {
					return
				}
				// Someone else refreshes meanwhile: the store always has a newer pair.
				c.tokens.mu.Lock()
				gen := c.tokens.gen
				c.tokens.mu.Unlock()
				if err := c.tokens.refresh(context.Background(), gen); err != nil {
					t.Error(err)
				}
			}
			_, err := c.Employees(context.Background())
			if !errors.Is(err, ErrAuth) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want ErrAuth saying %q", err, tc.want)
			}
			if n := sent.Load(); n != tc.sent || f.refreshes != tc.refreshes {
				t.Fatalf("request sent %d times with %d refreshes, want %d and %d", n, f.refreshes, tc.sent, tc.refreshes)
			}
		})
	}
}

// The token file a store adopts from another process is well-formed and
// remains the store's file.
func TestAdoptedPairStaysInFile(t *testing.T) {
	f := newFake(t)
	srv := serve(t, f)
	dir := t.TempDir()
	c1, _ := newTestClient(t, f, srv, dir, nil)
	c2, _ := newTestClient(t, f, srv, dir, nil)
	if err := c2.tokens.refresh(context.Background(), 0); err != nil {
		t.Fatal(err)
	}
	if _, err := c1.Employees(context.Background()); err != nil {
		t.Fatal(err)
	}
	// c1 goes on refreshing from the adopted pair, and saves its own.
	f.mu.Lock()
	f.expired = true
	f.mu.Unlock()
	if _, err := c1.Employees(context.Background()); err != nil {
		t.Fatal(err)
	}
	p := readTokenFile(t, filepath.Join(dir, "t2-tokens.json"))
	if p.AccessToken != f.access || p.RefreshToken != f.refresh || f.refreshes != 2 {
		t.Fatalf("token file does not hold the live pair after %d refreshes", f.refreshes)
	}
}

// A refresh whose answer is lost after the API rotated the pair cannot be
// recovered (the exchange is not idempotent): its retry is refused "already
// updated", and the error says that this refresh's lost answer is the
// likely cause, not another installation.
func TestRefreshAnswerLost(t *testing.T) {
	f := newFake(t)
	f.expired = true
	var broke atomic.Bool
	f.afterRotate = func() {
		if !broke.Swap(true) {
			panic(http.ErrAbortHandler) // the connection breaks: the new pair is lost
		}
	}
	c, red := newTestClient(t, f, serve(t, f), t.TempDir(), nil)
	_, err := c.Employees(context.Background())
	var ae *AuthError
	if !errors.As(err, &ae) || ae.Detail != "The token has already been updated" {
		t.Fatalf("err = %v, want an AuthError for \"already updated\"", err)
	}
	for _, want := range []string{"attempt 2", "earlier attempt of this same refresh", "was lost", "T2 PBX web UI"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %q: %v", want, err)
		}
	}
	noTokens(t, err.Error(), red, f)
}
