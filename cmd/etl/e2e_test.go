package main

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"

	"github.com/calletl/calletl/model"
	"github.com/calletl/calletl/sandbox"
	"github.com/calletl/calletl/state"
)

// The test binary doubles as etl: with CALLETL_E2E_CHILD=1 it runs the CLI,
// so the kill test can SIGKILL a real etl process.
func TestMain(m *testing.M) {
	if os.Getenv("CALLETL_E2E_CHILD") == "1" {
		os.Exit(runMain(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

const testPassword = "s3cret-Passw0rd-e2e"

var msk = func() *time.Location { l, _ := time.LoadLocation("Europe/Moscow"); return l }()

// world is an emulated MTT and a config pointing at it.
type world struct {
	emu      *sandbox.MTT
	dir      string
	cfg      string
	from, to string   // business days the run covers
	args     []string // global flags of every etl call, after --config
}

func newWorld(t *testing.T, days, callsPerDay, badPerDay int, extra string) *world {
	t.Helper()
	now := time.Now()
	today := now.UTC().Truncate(24 * time.Hour)
	emu := sandbox.NewMTT(sandbox.MTTConfig{
		Seed: 11, Customers: []string{"110011256", "110022512"},
		From: today.AddDate(0, 0, -days), To: today.AddDate(0, 0, 1),
		CallsPerDay: callsPerDay, BadRowsPerDay: badPerDay, Username: "agent", Password: testPassword,
	})
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "pw"), []byte(testPassword+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	w := &world{emu: emu, dir: dir, from: model.Day(now.AddDate(0, 0, -(days-1)), msk), to: model.Day(now, msk)}
	// The data-quality checks (a DuckDB query after every run, about a
	// second under the race detector) have their own tests (dq_test.go).
	cfg := fmt.Sprintf(`lake: lake
state: state
timezone: Europe/Moscow
lookback_days: 1
start_date: %s
data_quality: {enabled: false}
sources:
  mtt:
    base_url: %s
    username: agent
    password: {file: pw}
    customers: ["110011256", "110022512"]
    page_size: 200
    http: {concurrency: 4, max_attempts: 10, max_retry_after: 1s, base_backoff: 5ms, max_backoff: 50ms}
%s`, w.from, srv.URL, extra)
	w.cfg = filepath.Join(dir, "etl.yaml")
	if err := os.WriteFile(w.cfg, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return w
}

// etl runs the CLI in-process and returns its exit code and output.
func (w *world) etl(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = runMain(append(append([]string{"--config", w.cfg, "--log-format", "json"}, w.args...), args...), &out, &errb)
	return code, out.String(), errb.String()
}

// truth is what the lake must hold: per (account, direction) the count and
// exact cost of good calls, and the number of bad rows.
type truth struct {
	calls   map[string]int
	cost    map[string]model.Money
	rejects int
}

var directionOf = map[string]string{"incoming": "incoming", "missed": "missed", "dialed": "outgoing", "forwarded": "forwarded"}

func (w *world) truth() truth {
	tr := truth{calls: map[string]int{}, cost: map[string]model.Money{}}
	for _, c := range w.emu.Truth() {
		day := model.Day(c.ConnectTime, msk)
		if day < w.from || day > w.to {
			continue
		}
		if c.Bad {
			tr.rejects++
			continue
		}
		k := c.Customer + "/" + directionOf[c.Type]
		tr.calls[k]++
		tr.cost[k] += model.Money(c.CostE4)
	}
	return tr
}

func duck(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func (w *world) glob(table string) string {
	return fmt.Sprintf("read_parquet('%s/lake/%s/**/*.parquet', hive_partitioning=true, hive_types={'source':VARCHAR,'date':DATE})", w.dir, table)
}

// checkLake asserts the lake holds exactly the ground truth: counts and
// cost to the kopeck per account and direction, no duplicate call, the
// detail table in step, and the bad rows in rejects.
func (w *world) checkLake(t *testing.T) {
	t.Helper()
	tr := w.truth()
	db := duck(t)
	rows, err := db.Query(`SELECT account || '/' || direction, count(*), CAST(sum(cost) AS VARCHAR) FROM ` + w.glob("calls") + ` GROUP BY ALL`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	seen := 0
	for rows.Next() {
		var k, cost string
		var n int
		if err := rows.Scan(&k, &n, &cost); err != nil {
			t.Fatal(err)
		}
		seen++
		if n != tr.calls[k] || cost != tr.cost[k].String() {
			t.Errorf("%s: lake %d calls costing %s, truth %d costing %s", k, n, cost, tr.calls[k], tr.cost[k])
		}
	}
	if seen != len(tr.calls) {
		t.Errorf("lake has %d account/direction groups, truth %d", seen, len(tr.calls))
	}
	var total, distinct, details, rejects int
	q := `SELECT count(*), count(DISTINCT (account, direction, call_id)) FROM ` + w.glob("calls")
	if err := db.QueryRow(q).Scan(&total, &distinct); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow(`SELECT count(*) FROM ` + w.glob("mtt_calls")).Scan(&details); err != nil {
		t.Fatal(err)
	}
	if files, _ := filepath.Glob(filepath.Join(w.dir, "lake", "rejects", "*", "*", "*.parquet")); len(files) > 0 {
		if err := db.QueryRow(`SELECT count(*) FROM ` + w.glob("rejects")).Scan(&rejects); err != nil {
			t.Fatal(err)
		}
	}
	if total != distinct || details != total {
		t.Errorf("calls %d, distinct %d, mtt_calls %d: duplicates or a detail table out of step", total, distinct, details)
	}
	if rejects != tr.rejects {
		t.Errorf("rejects %d, truth has %d bad rows", rejects, tr.rejects)
	}
}

// dump returns every call row except the per-run columns, sorted.
func (w *world) dump(t *testing.T) string {
	t.Helper()
	rows, err := duck(t).Query(`SELECT * EXCLUDE (run_id, extracted_at) FROM ` + w.glob("calls") + ` ORDER BY ALL`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var b strings.Builder
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintln(&b, vals...)
	}
	return b.String()
}

// Emulator → etl run → DuckDB equals the ground truth, through faults; a
// second run (the lookback re-extracts days) leaves the same rows.
func TestEndToEndGroundTruth(t *testing.T) {
	w := newWorld(t, 4, 300, 1, "")
	w.emu.SetFaults(sandbox.Faults{Error5xxEvery: 9, TooManyEvery: 13, RetryAfter: time.Second, TruncateEvery: 17, MalformedEvery: 19, MaxInARow: 3})
	code, _, stderr := w.etl("run")
	if code != exitOK {
		t.Fatalf("etl run: exit %d\n%s", code, stderr)
	}
	w.checkLake(t)
	if !strings.Contains(stderr, "rejects") {
		t.Errorf("run summary does not report rejects:\n%s", stderr)
	}
	first := w.dump(t)

	code, _, stderr = w.etl("run")
	if code != exitOK {
		t.Fatalf("second etl run: exit %d\n%s", code, stderr)
	}
	w.checkLake(t)
	if second := w.dump(t); second != first {
		t.Fatal("re-running changed the rows")
	}

	// Both runs are in the runs table, one row per stream plus the snapshot.
	var runs, streams, failed int
	q := `SELECT count(DISTINCT run_id), count(*), count(*) FILTER (WHERE status <> 'ok') FROM ` + w.glob("runs")
	if err := duck(t).QueryRow(q).Scan(&runs, &streams, &failed); err != nil {
		t.Fatal(err)
	}
	if runs != 2 || streams != 2*(8+1) || failed != 0 {
		t.Errorf("runs table: %d runs, %d rows, %d failed", runs, streams, failed)
	}
	// Balances are snapshotted every run; accounts once per day.
	var balances, canonical, accounts int
	duck(t).QueryRow(`SELECT count(*) FROM ` + w.glob("mtt_balances")).Scan(&balances)
	duck(t).QueryRow(`SELECT count(*) FROM ` + w.glob("balances") + ` WHERE source = 'mtt'`).Scan(&canonical)
	duck(t).QueryRow(`SELECT count(*) FROM ` + w.glob("mtt_accounts")).Scan(&accounts)
	if want := len(w.emu.Accounts("110011256")) + len(w.emu.Accounts("110022512")); balances != 4 || canonical != 4 || accounts != want {
		t.Errorf("mtt_balances %d and balances %d (want 4 each), accounts %d (want %d)", balances, canonical, accounts, want)
	}

	code, out, _ := w.etl("report", "daily_summary", "--format", "csv")
	if code != exitOK || !strings.Contains(out, "outgoing") {
		t.Errorf("report: exit %d\n%s", code, out)
	}
}

// SIGKILL at several moments of a run, then a clean run: the lake ends with
// exactly the ground truth, and no temp file is visible.
func TestKillMidRunThenRerun(t *testing.T) {
	w := newWorld(t, 6, 400, 1, "")
	w.emu.SetFaults(sandbox.Faults{Latency: 15 * time.Millisecond})
	for i, delay := range []time.Duration{150 * time.Millisecond, 400 * time.Millisecond, 700 * time.Millisecond} {
		cmd := exec.Command(os.Args[0], "--config", w.cfg, "--log-format", "json", "run")
		cmd.Env = append(os.Environ(), "CALLETL_E2E_CHILD=1")
		var errb bytes.Buffer
		cmd.Stderr = &errb
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(delay)
		_ = cmd.Process.Signal(syscall.SIGKILL)
		err := cmd.Wait()
		t.Logf("kill %d after %v: %v", i, delay, err)
	}
	code, _, stderr := w.etl("run")
	if code != exitOK {
		t.Fatalf("etl run after kills: exit %d\n%s", code, stderr)
	}
	w.checkLake(t)
	tmp, _ := filepath.Glob(filepath.Join(w.dir, "lake", "*", "*", "*", ".*.tmp"))
	if len(tmp) != 0 {
		t.Errorf("temp files left after a clean run: %v", tmp)
	}
}

// SIGINT stops the run cleanly: exit 130, committed windows kept.
func TestInterruptExitCode(t *testing.T) {
	w := newWorld(t, 6, 200, 0, "")
	w.emu.SetFaults(sandbox.Faults{Latency: 30 * time.Millisecond})
	cmd := exec.Command(os.Args[0], "--config", w.cfg, "--log-format", "json", "run")
	cmd.Env = append(os.Environ(), "CALLETL_E2E_CHILD=1")
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	_ = cmd.Process.Signal(syscall.SIGINT)
	_ = cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); code != exitInterrupted {
		t.Fatalf("exit %d after SIGINT, want %d\n%s", code, exitInterrupted, errb.String())
	}
	if code, _, stderr := w.etl("run"); code != exitOK {
		t.Fatalf("resume: exit %d\n%s", code, stderr)
	}
	w.checkLake(t)
}

func TestExitCodesAndMessages(t *testing.T) {
	w := newWorld(t, 1, 20, 0, "")

	bad := filepath.Join(w.dir, "bad.yaml")
	os.WriteFile(bad, []byte("lake: l\nstate: s\nsources:\n  mtt:\n    username: u\n    password: {env: X}\n    page_size: 5000\n"), 0o644)
	var errb bytes.Buffer
	if code := runMain([]string{"--config", bad, "run"}, &bytes.Buffer{}, &errb); code != exitUsage ||
		!strings.Contains(errb.String(), "sources.mtt.customers") || !strings.Contains(errb.String(), "sources.mtt.page_size") {
		t.Errorf("bad config: exit %d\n%s", code, errb.String())
	}
	errb.Reset()
	if code := runMain([]string{"--config", bad, "rn"}, &bytes.Buffer{}, &errb); code != exitUsage {
		t.Errorf("unknown command: exit %d", code)
	}
	var out bytes.Buffer
	if code := runMain([]string{"--help"}, &out, &errb); code != exitOK || !strings.Contains(out.String(), "Exit codes") {
		t.Errorf("--help: exit %d", code)
	}
	out.Reset()
	if code := runMain([]string{"backfill", "--help"}, &out, &errb); code != exitOK || !strings.Contains(out.String(), "--from") {
		t.Errorf("backfill --help: exit %d\n%s", code, out.String())
	}

	// Another process holds the lock: exit 3, nothing done.
	// (flock locks belong to an open file, so a second open in this
	// process conflicts exactly as another process would.)
	st, err := state.Open(filepath.Join(w.dir, "state"))
	if err != nil {
		t.Fatal(err)
	}
	unlock, err := st.Lock()
	if err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := w.etl("run"); code != exitLocked {
		t.Errorf("locked: exit %d\n%s", code, stderr)
	}
	unlock()

	// A source that always answers garbage: exit 1 naming the streams.
	w.emu.SetFaults(sandbox.Faults{MalformedEvery: 1})
	code, _, stderr := w.etl("run")
	if code != exitFailed || !strings.Contains(stderr, "mtt/dialed/110011256") || !strings.Contains(stderr, "malformed") {
		t.Errorf("failing source: exit %d\n%s", code, stderr)
	}
	w.emu.SetFaults(sandbox.Faults{})
	if code, _, stderr := w.etl("run"); code != exitOK {
		t.Errorf("recovered source: exit %d\n%s", code, stderr)
	}
	w.checkLake(t)
}

// The password never appears in logs, errors, the lake or the state.
func TestSecretsNeverLeak(t *testing.T) {
	w := newWorld(t, 2, 50, 1, "")
	w.emu.SetFaults(sandbox.Faults{Error5xxEvery: 3, TruncateEvery: 5, MaxInARow: 3})
	_, out1, err1 := w.etl("--log-level", "debug", "run")
	_, out2, err2 := w.etl("check")

	// And with a wrong password, where errors are most likely to quote requests.
	os.WriteFile(filepath.Join(w.dir, "pw"), []byte("Wr0ng-But-Secret-Too"), 0o600)
	_, out3, err3 := w.etl("--log-level", "debug", "run")
	all := out1 + err1 + out2 + err2 + out3 + err3
	for _, s := range []string{testPassword, "Wr0ng-But-Secret-Too", "YWdlbnQ6"} { // base64("agent:") prefix of Basic auth
		if strings.Contains(all, s) {
			t.Fatalf("output contains secret %q", s)
		}
	}
	if !strings.Contains(err3, "username") {
		t.Errorf("wrong password error does not tell what to check:\n%s", err3)
	}
	filepath.Walk(w.dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() || filepath.Base(p) == "pw" {
			return nil
		}
		b, _ := os.ReadFile(p)
		if bytes.Contains(b, []byte(testPassword)) {
			t.Errorf("%s contains the password", p)
		}
		return nil
	})
}

// A backfill loads its range and, run again, resumes after what it did.
func TestBackfillResumes(t *testing.T) {
	w := newWorld(t, 5, 100, 0, "")
	code, _, stderr := w.etl("backfill", "--source", "mtt", "--from", w.from, "--to", w.to)
	if code != exitOK {
		t.Fatalf("backfill: exit %d\n%s", code, stderr)
	}
	w.checkLake(t)
	code, _, stderr = w.etl("backfill", "--source", "mtt", "--from", w.from, "--to", w.to)
	if rec := logRecord(t, stderr, "run summary"); code != exitOK || rec == nil || rec["windows"] != 0.0 {
		t.Fatalf("backfill again: exit %d, want 0 windows\n%s", code, stderr)
	}
	if code, _, _ := w.etl("backfill", "--source", "nope", "--from", w.from, "--to", w.to); code != exitUsage {
		t.Errorf("unknown source: exit %d", code)
	}
	if code, _, _ := w.etl("backfill", "--source", "mtt", "--from", w.to, "--to", w.from); code != exitUsage {
		t.Errorf("reversed range: exit %d", code)
	}
}

var _ = context.Background
