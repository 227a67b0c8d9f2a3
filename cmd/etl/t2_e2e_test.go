package main

import (
	"cmp"
	"context"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/calletl/calletl/extract/t2"
	"github.com/calletl/calletl/metrics"
	"github.com/calletl/calletl/model"
	"github.com/calletl/calletl/sandbox"
)

// newT2World serves a T2 emulator (Moscow zone, traffic from four days ago
// to tomorrow, callsPerDay records and missedPerDay missed calls a day, with
// faults) and writes a config that loads the last three days of it.
// access and refresh are the pair the config holds.
func newT2World(t *testing.T, callsPerDay, missedPerDay int) (w *world, emu *sandbox.T2, access, refresh string) {
	return newT2WorldWith(t, t2WorldOptions{callsPerDay: callsPerDay, missedPerDay: missedPerDay})
}

// t2WorldOptions vary newT2World.
type t2WorldOptions struct {
	callsPerDay, missedPerDay int
	accessTTL                 time.Duration                  // the emulator's AccessTTL; 0 = its default
	wrap                      func(*sandbox.T2) http.Handler // serves instead of the emulator when set
	extra                     string                         // config text put before sources:
	faults                    *sandbox.Faults                // nil: 503s, 429s and truncated answers
	pageSize                  int                            // 0: 50
}

func newT2WorldWith(t *testing.T, o t2WorldOptions) (w *world, emu *sandbox.T2, access, refresh string) {
	t.Helper()
	now := time.Now()
	today := now.UTC().Truncate(24 * time.Hour)
	emu = sandbox.NewT2(sandbox.T2Config{Seed: 9, From: today.AddDate(0, 0, -4), To: today.AddDate(0, 0, 1),
		CallsPerDay: o.callsPerDay, MissedPerDay: o.missedPerDay, AccessTTL: o.accessTTL})
	faults := sandbox.Faults{Error5xxEvery: 7, TooManyEvery: 11, RetryAfter: time.Second, TruncateEvery: 13, MaxInARow: 3}
	if o.faults != nil {
		faults = *o.faults
	}
	emu.SetFaults(faults)
	var h http.Handler = emu
	if o.wrap != nil {
		h = o.wrap(emu)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	access, refresh = emu.IssueTokens()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "access"), []byte(access), 0o600)
	os.WriteFile(filepath.Join(dir, "refresh"), []byte(refresh), 0o600)
	from, to := model.Day(now.AddDate(0, 0, -2), msk), model.Day(now, msk)
	cfg := filepath.Join(dir, "etl.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`lake: lake
state: state
timezone: Europe/Moscow
lookback_days: 1
start_date: %s
%ssources:
  t2:
    base_url: %s
    access_token: {file: access}
    refresh_token: {file: refresh}
    page_size: %d
    http: {concurrency: 3, max_attempts: 10, max_retry_after: 1s, base_backoff: 5ms, max_backoff: 50ms}
`, from, o.extra, srv.URL, cmp.Or(o.pageSize, 50))), 0o644)
	return &world{dir: dir, cfg: cfg, from: from, to: to}, emu, access, refresh
}

// T2 through the real CLI in the Moscow business zone: the lake holds
// exactly the emulator's call records plus the missed calls no record
// matches, every missed call once in t2_missed_calls, through faults and
// an access token that expires between runs; a re-run changes nothing.
func TestT2EndToEndGroundTruth(t *testing.T) {
	w, emu, access, refresh := newT2World(t, 300, 40)
	dir, from, to := w.dir, w.from, w.to

	in := func(ts time.Time) bool { d := model.Day(ts, msk); return d >= from && d <= to }
	wantCalls, wantMissed := 0, 0
	for _, c := range emu.Calls() {
		if in(c.Timestamp) {
			wantCalls++
		}
	}
	for _, m := range emu.Missed() {
		if in(m.StartDate) {
			wantMissed++
			if !m.AlsoInCallRecords {
				wantCalls++ // added to calls by the counted-once rule
			}
		}
	}
	if wantCalls < 300 || wantMissed < 30 {
		t.Fatalf("ground truth too small to mean anything: %d calls, %d missed", wantCalls, wantMissed)
	}
	check := func() {
		t.Helper()
		db := duck(t)
		var calls, distinct, missed, details int
		db.QueryRow(`SELECT count(*), count(DISTINCT call_id) FROM `+w.glob("calls")+` WHERE source = 't2'`).Scan(&calls, &distinct)
		db.QueryRow(`SELECT count(*) FROM ` + w.glob("t2_missed_calls")).Scan(&missed)
		db.QueryRow(`SELECT count(*) FROM ` + w.glob("t2_calls")).Scan(&details)
		if calls != wantCalls || distinct != calls || missed != wantMissed {
			t.Errorf("calls %d (distinct %d), want %d; t2_missed_calls %d, want %d; t2_calls %d", calls, distinct, wantCalls, missed, wantMissed, details)
		}
	}
	code, _, stderr := w.etl("run")
	if code != exitOK {
		t.Fatalf("etl run: exit %d\n%s", code, stderr)
	}
	check()
	first := w.dump(t)

	emu.ExpireAccessTokens() // the next run must refresh, save, and go on
	prom := filepath.Join(dir, "calletl.prom")
	code, _, stderr = w.etl("run", "--metrics-file", prom)
	if code != exitOK {
		t.Fatalf("second run: exit %d\n%s", code, stderr)
	}
	// The refresh made the token pair new: its age is exported, and small.
	if mfs, err := metrics.ReadFile(prom); err != nil {
		t.Error(err)
	} else if age, ok := gauge(mfs, metrics.T2RefreshTokenAge, map[string]string{"command": "run"}); !ok || age < 0 || age > 3600 {
		t.Errorf("%s = %v (present %v), want the seconds since this run's refresh", metrics.T2RefreshTokenAge, age, ok)
	}
	check()
	if w.dump(t) != first {
		t.Error("re-running changed the rows")
	}
	if emu.Refreshes() < 1 {
		t.Error("no refresh after the access token expired")
	}
	fi, err := os.Stat(filepath.Join(dir, "state", "t2-tokens.json"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("token file: %v %v", fi, err)
	}
	if strings.Contains(stderr, access) || strings.Contains(stderr, refresh) {
		t.Error("a token appears in the output")
	}
	// With the configured (now dead) pair and the token file, check still works.
	if code, out, _ := w.etl("check"); code != exitOK {
		t.Errorf("check after refresh: exit %d\n%s", code, out)
	}
}

// t2Churn serves the emulator while its tokens keep rotating under the
// CLI. The emulator's access tokens live t2.RefreshAhead + 1s, so the
// client finds each pair due within a second of getting it and refreshes
// it ahead of its exp while other requests are in flight with it. On top:
//   - expiries times during the extraction (call records, missed calls,
//     daily statistics), expireEvery requests after the latest refresh,
//     every access token is expired at the server: the client learns it
//     from a 403 "expired";
//   - holds times during the recordings, holdEvery downloads after the
//     start or the end of the previous hold, the request (on its way with
//     the current pair) is held until another request has refreshed that
//     pair, so it reaches the server superseded and gets "The token has
//     already been updated" (unless the emulator's fault injector picks it
//     for a 503 or 429 instead). One hold at a time leaves the client free
//     slots to refresh with.
type t2Churn struct {
	emu                   *sandbox.T2
	expireEvery, expiries int
	holdEvery, holds      int
	hold                  time.Duration // bound on a hold (reached in a failing run only)

	mu           sync.Mutex
	refreshed    chan struct{} // closed and replaced at every refresh
	sinceRefresh int           // extraction requests since the latest refresh
	files        int           // recording downloads
	nextHold     int           // the download to hold next
	holding      bool
	details      map[string]int
	heldAnswers  map[int]int // status → held requests that got it
	expired      int         // expiries done
	held         int         // holds ended by a refresh
	timeouts     int         // holds that ended by timeout
}

func newT2Churn(emu *sandbox.T2) *t2Churn {
	return &t2Churn{emu: emu, expireEvery: 6, expiries: 3, holdEvery: 10, holds: 3, hold: 5 * time.Second,
		refreshed: make(chan struct{}), details: map[string]int{}, heldAnswers: map[int]int{}, nextHold: 10}
}

func (c *t2Churn) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := &sandbox.Recorder{ResponseWriter: w}
	switch path := r.URL.Path; {
	case strings.HasSuffix(path, "/authorization/refresh/token"):
		c.emu.ServeHTTP(rec, r)
		if rec.Status == http.StatusOK {
			c.mu.Lock()
			close(c.refreshed)
			c.refreshed = make(chan struct{})
			c.sinceRefresh = 0
			c.mu.Unlock()
		}
		return
	case strings.HasSuffix(path, "/call-records/file"):
		c.mu.Lock()
		c.files++
		hold := c.files >= c.nextHold && c.held+c.timeouts < c.holds && !c.holding
		c.holding = c.holding || hold
		ch := c.refreshed
		c.mu.Unlock()
		if hold {
			timeout := time.NewTimer(c.hold)
			select {
			case <-ch:
				c.mu.Lock()
				c.held++
				c.mu.Unlock()
			case <-timeout.C:
				c.mu.Lock()
				c.timeouts++
				c.mu.Unlock()
			}
			timeout.Stop()
			c.mu.Lock()
			c.holding = false
			c.nextHold = c.files + c.holdEvery
			c.mu.Unlock()
			r = r.WithContext(context.WithValue(r.Context(), t2HeldKey{}, true))
		}
	case !strings.HasSuffix(path, "/call-records/file/stt"):
		c.mu.Lock()
		c.sinceRefresh++
		if c.sinceRefresh == c.expireEvery && c.expired < c.expiries {
			c.emu.ExpireAccessTokens()
			c.expired++
		}
		c.mu.Unlock()
	}
	c.emu.ServeHTTP(rec, r)
	c.mu.Lock()
	defer c.mu.Unlock()
	if held, _ := r.Context().Value(t2HeldKey{}).(bool); held {
		c.heldAnswers[rec.Status]++
	}
	if d := rec.T2Details(); d != "" {
		c.details[d]++
	}
}

type t2HeldKey struct{}

// T2 tokens under concurrency, through the real CLI with recordings on:
// call records, missed calls, daily statistics, recordings and transcripts
// share one token transport (the streams' client and the recordings'
// client each up to three requests at a time, eight recordings in progress
// at once), while the pair is refreshed many times mid-run
// (ahead of its exp, after a 403 "expired", and with requests in flight
// carrying the pair being replaced). No stream and no recording may fail,
// and the lake and the blob store must hold exactly the emulator's truth.
func TestT2TokensUnderConcurrencyEndToEnd(t *testing.T) {
	var churn *t2Churn
	w, emu, _, _ := newT2WorldWith(t, t2WorldOptions{callsPerDay: 150, missedPerDay: 20,
		accessTTL: t2.RefreshAhead + time.Second,
		wrap:      func(e *sandbox.T2) http.Handler { churn = newT2Churn(e); return churn },
		extra:     "recordings: {local: blobs, concurrency: 8, per_host: 8}\n",
		pageSize:  15,
		// 503s and 429s come before the API rotates anything. No truncated
		// answers: one on a refresh loses the new pair for good (the vendor
		// has rotated), a lockout that TestRefreshAnswerLost covers.
		faults: &sandbox.Faults{Error5xxEvery: 7, TooManyEvery: 41, RetryAfter: time.Second, MaxInARow: 3}})
	in := func(ts time.Time) bool { d := model.Day(ts, msk); return d >= w.from && d <= w.to }
	wantCalls, wantMissed, wantRecorded := 0, 0, 0
	for _, c := range emu.Calls() {
		if in(c.Timestamp) {
			wantCalls++
			if c.RecordFileName != "" {
				wantRecorded++
			}
		}
	}
	for _, m := range emu.Missed() {
		if in(m.StartDate) {
			wantMissed++
			if !m.AlsoInCallRecords {
				wantCalls++
			}
		}
	}
	if wantRecorded < (churn.holds+1)*churn.holdEvery {
		t.Fatalf("%d recorded calls: too few for the holds", wantRecorded)
	}

	code, _, stderr := w.etl("run")
	if code != exitOK {
		t.Fatalf("etl run: exit %d\n%s", code, stderr)
	}
	if strings.Contains(stderr, "did not finish") || strings.Contains(stderr, "authorization failed") {
		t.Errorf("streams failed:\n%s", stderr)
	}
	m := logRecord(t, stderr, "recordings summary")
	if m == nil {
		t.Fatalf("no recordings summary:\n%s", stderr)
	}
	n := func(k string) int { v, _ := m[k].(float64); return int(v) }
	if n("calls") != wantRecorded || n("stored") != wantRecorded || n("missing") != 0 || n("failed") != 0 {
		t.Errorf("recordings: %v; want %d calls, all stored, none missing or failed", m, wantRecorded)
	}
	if _, ok := m["transcripts_failed"]; !ok || n("transcripts_failed") != 0 {
		t.Errorf("transcripts: %v, want none failed\n%s", m, stderr)
	} else if n("transcripts") == 0 {
		t.Errorf("no transcript stored: %v", m)
	}
	mp3 := 0
	filepath.WalkDir(filepath.Join(w.dir, "blobs"), func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".mp3") {
			mp3++
		}
		return nil
	})
	if mp3 != wantRecorded {
		t.Errorf("%d recordings in the store, want %d", mp3, wantRecorded)
	}

	db := duck(t)
	var calls, distinct, missed int
	db.QueryRow(`SELECT count(*), count(DISTINCT call_id) FROM `+w.glob("calls")+` WHERE source = 't2'`).Scan(&calls, &distinct)
	db.QueryRow(`SELECT count(*) FROM ` + w.glob("t2_missed_calls")).Scan(&missed)
	if calls != wantCalls || distinct != calls || missed != wantMissed {
		t.Errorf("calls %d (distinct %d), want %d; t2_missed_calls %d, want %d", calls, distinct, wantCalls, missed, wantMissed)
	}

	churn.mu.Lock()
	defer churn.mu.Unlock()
	if churn.expired != churn.expiries || churn.held != churn.holds || churn.timeouts != 0 {
		t.Errorf("expiries %d of %d, holds ended by a refresh %d of %d (%d timed out)", churn.expired, churn.expiries, churn.held, churn.holds, churn.timeouts)
	}
	if churn.heldAnswers[http.StatusOK] != 0 {
		t.Errorf("held requests answered %v: a request held until its pair was refreshed was served", churn.heldAnswers)
	}
	if churn.details["The token has already been updated"] == 0 || churn.details["The token is expired"] == 0 {
		t.Errorf("403 answers %v: want both \"already updated\" and \"expired\"", churn.details)
	}
	if r := emu.Refreshes(); r < int(churn.expiries+churn.holds) {
		t.Errorf("%d refreshes, want at least %d", r, churn.expiries+churn.holds)
	}
	t.Logf("%d calls, %d recordings; %d refreshes; 403s %v; held requests answered %v", wantCalls, wantRecorded, emu.Refreshes(), churn.details, churn.heldAnswers)
}
