package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/calletl/calletl/extract/registry"
	"github.com/calletl/calletl/model"
	"github.com/calletl/calletl/sandbox"
)

// closedURL returns an http URL on a loopback port nothing listens on: a
// vendor that is down.
func closedURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}

// blackHoleURL returns an http URL on a loopback port that takes
// connections (the kernel completes them) but never answers: a vendor that
// hangs.
func blackHoleURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return "http://" + l.Addr().String()
}

// A state file that is not usable is exit 2 with the file and the key, for
// every command that reads it, and the run does not start. Before: a bad
// cursor day panicked the run, and null, {} or an unknown version were
// taken for a fresh state (every stream re-extracted from the lookback).
func TestBadStateFileExit2(t *testing.T) {
	tests := []struct{ name, body, want string }{
		{"bad cursor day", `{"version": 1, "cursors": {"mtt/dialed/110011256": {"day": "2026-13-45", "run_id": "r", "updated_at": "2026-11-20T03:00:00Z"}}}`,
			`cursors["mtt/dialed/110011256"].day: "2026-13-45" is not a YYYY-MM-DD day`},
		{"null", `null`, "not a state object"},
		{"empty object", `{}`, "version: missing"},
		{"unknown version", `{"version": 7, "cursors": {}}`, "version: 7 is not a version this etl reads"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			os.WriteFile(filepath.Join(dir, "pw"), []byte("x"), 0o600)
			cfg := filepath.Join(dir, "etl.yaml")
			os.WriteFile(cfg, []byte(fmt.Sprintf("lake: lake\nstate: state\nsources:\n  mtt:\n    base_url: %s\n    username: u\n    password: {file: pw}\n    customers: [\"110011256\"]\n    http: {max_attempts: 1}\n", closedURL(t))), 0o644)
			os.MkdirAll(filepath.Join(dir, "state"), 0o700)
			stateFile := filepath.Join(dir, "state", "state.json")
			os.WriteFile(stateFile, []byte(tt.body), 0o600)
			for _, cmd := range []string{"run", "state", "backfill"} {
				args := []string{"--config", cfg, "--log-format", "json", cmd}
				if cmd == "backfill" {
					args = append(args, "--source", "mtt", "--from", "2026-11-01", "--to", "2026-11-02")
				}
				var out, errb strings.Builder
				code := runMain(args, &out, &errb)
				msg := ""
				if rec := logRecord(t, errb.String(), "etl exiting"); rec != nil {
					msg, _ = rec["err"].(string)
				}
				if code != exitUsage || !strings.Contains(msg, stateFile) || !strings.Contains(msg, tt.want) {
					t.Errorf("etl %s: exit %d, want 2 naming %s and %q:\n%s", cmd, code, stateFile, tt.want, errb.String())
				}
				if strings.Contains(errb.String(), "run starting") {
					t.Errorf("etl %s started a run on a bad state file", cmd)
				}
			}
		})
	}
}

// A corrupt T2 token file stops T2 alone: its streams are recorded failed
// with the token file's error (exit 1), MTT runs in full, and check says
// the same. Before: the error aborted every source with exit 2.
func TestCorruptT2TokenFileStopsOnlyT2(t *testing.T) {
	w := newWorld(t, 2, 40, 0, fmt.Sprintf(`  t2:
    base_url: %s
    access_token: {env: CALLETL_TEST_UNSET_T2_ACCESS}
    refresh_token: {env: CALLETL_TEST_UNSET_T2_REFRESH}
    http: {max_attempts: 1}
`, closedURL(t)))
	tokenFile := filepath.Join(w.dir, "state", "t2-tokens.json")
	os.MkdirAll(filepath.Dir(tokenFile), 0o700)
	os.WriteFile(tokenFile, []byte(`{"access_token": "tok`), 0o600) // cut short by a full disk

	code, _, stderr := w.etl("run")
	if code != exitFailed {
		t.Fatalf("run: exit %d, want 1\n%s", code, stderr)
	}
	for _, stream := range []string{"t2/call_records/company", "t2/missed/company", "t2/daily_stats/company", "t2/journal/company", "t2/employee_stats/company"} {
		if !strings.Contains(stderr, stream+" failed") {
			t.Errorf("stderr does not name the failed stream %s:\n%s", stream, stderr)
		}
	}
	if rec := logRecord(t, stderr, "run summary"); rec == nil || rec["failed_streams"] != 5.0 || !strings.Contains(stderr, "token file "+tokenFile) {
		t.Errorf("want exactly the 5 T2 streams failed, naming the token file:\n%s", stderr)
	}
	if strings.Contains(stderr, "mtt/dialed/110011256 failed") {
		t.Errorf("MTT failed too:\n%s", stderr)
	}
	w.checkLake(t) // MTT loaded in full

	code, out, _ := w.etl("check", "--timeout", "2s", "--probe-timeout", "1s")
	if code != exitFailed || !strings.Contains(out, "source t2: FAILED: t2: token file "+tokenFile) ||
		!strings.Contains(out, "source mtt customer 110011256: credentials ok") {
		t.Errorf("check: exit %d\n%s", code, out)
	}
}

// An MTT customer with no data answers -32001 to every call, the balance
// included: the run records "no balance" (an mtt_balances row with NULL
// balances, no row in the canonical balances) and exits 0; check warns.
// Before: the balance snapshot failed and the run exited 1 every night.
func TestMTTCustomerWithNoData(t *testing.T) {
	const full, empty = "110011256", "110099999"
	now := time.Now()
	today := now.UTC().Truncate(24 * time.Hour)
	emu := sandbox.NewMTT(sandbox.MTTConfig{Seed: 5, Customers: []string{full}, EmptyCustomers: []string{empty},
		From: today.AddDate(0, 0, -2), To: today.AddDate(0, 0, 1), CallsPerDay: 30, Username: "agent", Password: testPassword})
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "pw"), []byte(testPassword), 0o600)
	w := &world{emu: emu, dir: dir, cfg: filepath.Join(dir, "etl.yaml"), from: model.Day(now.AddDate(0, 0, -1), msk), to: model.Day(now, msk)}
	os.WriteFile(w.cfg, []byte(fmt.Sprintf(`lake: lake
state: state
timezone: Europe/Moscow
lookback_days: 1
start_date: %s
sources:
  mtt:
    base_url: %s
    username: agent
    password: {file: pw}
    customers: ["%s", "%s"]
    http: {max_attempts: 3, base_backoff: 5ms, max_backoff: 20ms}
`, w.from, srv.URL, full, empty)), 0o644)

	code, _, stderr := w.etl("run")
	if code != exitOK {
		t.Fatalf("run: exit %d, want 0\n%s", code, stderr)
	}
	if !strings.Contains(stderr, "no balance") || !strings.Contains(stderr, empty) {
		t.Errorf("no warning naming the customer without a balance:\n%s", stderr)
	}
	db := duck(t)
	var rows, nulls int
	if err := db.QueryRow(`SELECT count(*), count(*) FILTER (balance IS NULL AND real_balance IS NULL) FROM `+w.glob("mtt_balances")+` WHERE customer_name = ?`, empty).Scan(&rows, &nulls); err != nil {
		t.Fatal(err)
	}
	if rows != 1 || nulls != 1 {
		t.Errorf("mtt_balances of %s: %d rows, %d with NULL balances; want one NULL row", empty, rows, nulls)
	}
	var canonEmpty, canonFull int
	db.QueryRow(`SELECT count(*) FILTER (account = ?), count(*) FILTER (account = ? AND balance IS NOT NULL) FROM `+w.glob("balances"), empty, full).Scan(&canonEmpty, &canonFull)
	if canonEmpty != 0 || canonFull != 1 {
		t.Errorf("balances: %d rows for %s (want 0), %d for %s (want 1)", canonEmpty, empty, canonFull, full)
	}
	var calls int
	db.QueryRow(`SELECT count(*) FROM `+w.glob("calls")+` WHERE account = ?`, full).Scan(&calls)
	if calls == 0 {
		t.Error("no calls for the customer with data")
	}

	code, out, _ := w.etl("check")
	if code != exitOK || !strings.Contains(out, "source mtt customer "+full+": credentials ok") ||
		!strings.Contains(out, "source mtt customer "+empty+": WARNING: no data (") || !strings.Contains(out, "-32001") {
		t.Errorf("check: exit %d\n%s", code, out)
	}
}

// With every vendor down (closed ports; MTT taking connections and never
// answering), check probes every customer of every source at once and
// reports each failure within its bound. Before: it pinged the first
// customer of each source, one source after another, 30 s each.
func TestCheckEveryVendorDown(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"pw", "key", "access", "refresh", "secret"} {
		os.WriteFile(filepath.Join(dir, f), []byte("x-"+f), 0o600)
	}
	cfg := filepath.Join(dir, "etl.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`lake: lake
state: state
sources:
  mtt:
    base_url: %s
    username: u
    password: {file: pw}
    customers: ["110000001", "110000002", "110000003"]
  t2:
    base_url: %s
    access_token: {file: access}
    refresh_token: {file: refresh}
  votbox:
    base_url: %s
    username: u
    password: {file: pw}
  voicebox:
    base_url: %s
    client_id: c
    client_secret: {file: secret}
    username: u
    password: {file: pw}
    customers: ["41", "42"]
  mobilgroup:
    base_url: %s
    api_key: {file: key}
    broadcast_ids: [b1]
`, blackHoleURL(t), closedURL(t), closedURL(t), closedURL(t), closedURL(t))), 0o644)

	var out, errb strings.Builder
	code := runMain([]string{"--config", cfg, "--log-format", "json", "check", "--timeout", "400ms", "--probe-timeout", "200ms"}, &out, &errb)
	if code != exitFailed {
		t.Fatalf("exit %d, want 1\n%s\n%s", code, out.String(), errb.String())
	}
	t.Log(out.String())
	for _, label := range []string{"source mtt customer 110000001", "source mtt customer 110000002", "source mtt customer 110000003",
		"source t2", "source votbox", "source voicebox customer 41", "source voicebox customer 42", "source mobilgroup"} {
		if strings.Count(out.String(), label+": FAILED: ") != 1 {
			t.Errorf("%s is not reported failed once:\n%s", label, out.String())
		}
	}
	if !strings.Contains(out.String(), "check: 8 probes: 0 ok, 8 failed") {
		t.Errorf("no summary of 8 failed probes:\n%s", out.String())
	}
}

// hangingSource is a source whose Ping ignores its context until released:
// the worst vendor client, for the check's total bound.
type hangingSource struct {
	registry.Failed
	release chan struct{}
}

func (h *hangingSource) Ping(context.Context) error { <-h.release; return nil }

// A probe that does not return by the total bound is reported unanswered,
// and check returns anyway.
func TestRunProbesTotalBound(t *testing.T) {
	h := &hangingSource{Failed: registry.Failed{Source: "slow"}, release: make(chan struct{})}
	defer close(h.release)
	quick := &registry.Failed{Source: "quick", Err: errors.New("refused")}
	probes := []*probe{{src: h, label: "source slow"}, {src: quick, label: "source quick"}}
	res := runProbes(context.Background(), probes, 50*time.Millisecond, time.Hour)
	if res[0].done {
		t.Errorf("the hanging probe is reported done: %+v", res[0])
	}
	if !res[1].done || res[1].err == nil || res[1].err.Error() != "refused" {
		t.Errorf("the quick probe: %+v", res[1])
	}
}
