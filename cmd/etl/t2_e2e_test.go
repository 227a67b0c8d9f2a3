package main

import (
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/calletl/calletl/model"
	"github.com/calletl/calletl/sandbox"
)

// newT2World serves a T2 emulator (Moscow zone, traffic from four days ago
// to tomorrow, callsPerDay records and missedPerDay missed calls a day, with
// faults) and writes a config that loads the last three days of it.
// access and refresh are the pair the config holds.
func newT2World(t *testing.T, callsPerDay, missedPerDay int) (w *world, emu *sandbox.T2, access, refresh string) {
	t.Helper()
	now := time.Now()
	today := now.UTC().Truncate(24 * time.Hour)
	emu = sandbox.NewT2(sandbox.T2Config{Seed: 9, From: today.AddDate(0, 0, -4), To: today.AddDate(0, 0, 1),
		CallsPerDay: callsPerDay, MissedPerDay: missedPerDay})
	emu.SetFaults(sandbox.Faults{Error5xxEvery: 7, TooManyEvery: 11, RetryAfter: time.Second, TruncateEvery: 13})
	srv := httptest.NewServer(emu)
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
sources:
  t2:
    base_url: %s
    access_token: {file: access}
    refresh_token: {file: refresh}
    page_size: 50
    http: {concurrency: 3, max_attempts: 10, max_retry_after: 1s, base_backoff: 5ms, max_backoff: 50ms}
`, from, srv.URL)), 0o644)
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
	code, _, stderr = w.etl("run")
	if code != exitOK {
		t.Fatalf("second run: exit %d\n%s", code, stderr)
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
