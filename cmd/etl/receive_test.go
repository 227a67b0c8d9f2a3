package main

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"

	"github.com/calletl/calletl/extract/votbox"
	"github.com/calletl/calletl/load"
	"github.com/calletl/calletl/model"
	"github.com/calletl/calletl/sandbox"
)

const receiveSecret = "rcv-S3cret-e2e-7f1c"

// receiveWorld is a config with a receive section and a free port.
type receiveWorld struct {
	dir, cfg, addr string
}

func newReceiveWorld(t *testing.T, extra string) *receiveWorld {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "pw"), []byte("x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "receive.secret"), []byte(receiveSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	cfg := filepath.Join(dir, "etl.yaml")
	err = os.WriteFile(cfg, []byte(fmt.Sprintf(`lake: lake
state: state
timezone: Europe/Moscow
data_quality: {enabled: false}
sources:
  votbox:
    base_url: http://127.0.0.1:1/api
    username: robo
    password: {file: pw}
receive:
  listen: %s
  spool: spool
  landing_interval: 20ms
  secret: {file: receive.secret}
  endpoints:
    - {vendor: votbox, source: votbox}
    - {vendor: mtt, source: mtt}
%s`, addr, extra)), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	return &receiveWorld{dir: dir, cfg: cfg, addr: addr}
}

// child is a running etl receive.
type child struct {
	cmd    *exec.Cmd
	exited chan struct{}
}

// stop sends sig and waits until the process has exited (its port is
// free, its spool and lake untouched from then on).
func (c *child) stop(sig syscall.Signal) {
	_ = c.cmd.Process.Signal(sig)
	<-c.exited
}

// start runs etl receive as a child process and waits until it serves.
func (w *receiveWorld) start(t *testing.T, stderr *bytes.Buffer) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "--config", w.cfg, "--log-format", "json", "receive")
	cmd.Env = append(os.Environ(), "CALLETL_E2E_CHILD=1")
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() { _ = cmd.Process.Kill(); <-exited })
	for {
		resp, err := http.Get("http://" + w.addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return &child{cmd: cmd, exited: exited}
			}
		}
		select {
		case <-exited:
			t.Fatalf("etl receive exited before serving:\n%s", stderr)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func (w *receiveWorld) url(vendor string) string {
	return "http://" + w.addr + "/v1/" + vendor + "/" + vendor + "/" + receiveSecret
}

// counts returns the rows and distinct event ids of a lake table.
func (w *receiveWorld) counts(t *testing.T, table string) (rows, ids int) {
	t.Helper()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	q := fmt.Sprintf(`SELECT count(*), count(DISTINCT event_id) FROM read_parquet('%s/lake/%s/**/*.parquet', hive_partitioning=true)`, w.dir, table)
	if err := db.QueryRow(q).Scan(&rows, &ids); err != nil {
		t.Fatal(err)
	}
	return rows, ids
}

// Under load, etl receive is SIGKILLed three times while vendors push
// (each event resent until acknowledged, some twice on purpose, with bad
// secrets and malformed requests mixed in): after a final landing the lake
// holds every event exactly once: none lost, none doubled.
func TestReceiveSIGKILLUnderLoad(t *testing.T) {
	w := newReceiveWorld(t, "")
	var stderr bytes.Buffer
	cmd := w.start(t, &stderr)

	start := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	vb, _ := sandbox.GenVotBox(5, 100000, 500, start)
	mt := sandbox.GenMTT(5, 250, start)
	total := int64(len(vb) + len(mt))
	var acked atomic.Int64
	push := func(vendor string, evs []sandbox.PushEvent, res *sandbox.PushResult, done chan<- struct{}) {
		p := sandbox.NewPusher(sandbox.PushConfig{URL: w.url(vendor), Vendor: vendor, Concurrency: 6,
			MaxAttempts: 100000, Backoff: 5 * time.Millisecond,
			Faults: sandbox.PushFaults{DuplicateEvery: 7, BadSecretEvery: 50, MalformedEvery: 60}})
		*res = p.Push(context.Background(), evs, func(int) { acked.Add(1) })
		close(done)
	}
	var vres, mres sandbox.PushResult
	vdone, mdone := make(chan struct{}), make(chan struct{})
	began := time.Now()
	go push("votbox", vb, &vres, vdone)
	go push("mtt", mt, &mres, mdone)

	for k := int64(1); k <= 3; k++ {
		for acked.Load() < k*total/4 {
			time.Sleep(2 * time.Millisecond)
		}
		cmd.stop(syscall.SIGKILL)
		cmd = w.start(t, &stderr)
	}
	<-vdone
	<-mdone
	elapsed := time.Since(began)
	cmd.stop(syscall.SIGKILL)

	for name, r := range map[string]sandbox.PushResult{"votbox": vres, "mtt": mres} {
		for i, ok := range r.Acked {
			if !ok {
				t.Fatalf("%s event %d never acknowledged", name, i)
			}
		}
		if r.FaultsWrong != 0 || r.FaultsRefusedRight == 0 {
			t.Errorf("%s: fault requests refused right %d, wrong %d", name, r.FaultsRefusedRight, r.FaultsWrong)
		}
	}
	code, out, errs := runETL(w.cfg, "receive", "--land-once")
	if code != exitOK {
		t.Fatalf("land-once: exit %d\n%s\n%s", code, out, errs)
	}
	for table, want := range map[string]int{"votbox_events": len(vb), "mtt_events": len(mt)} {
		rows, ids := w.counts(t, table)
		if rows != want || ids != want {
			t.Errorf("%s: %d rows, %d distinct events; want %d, each once", table, rows, ids, want)
		}
	}
	if strings.Contains(stderr.String(), receiveSecret) || strings.Contains(errs, receiveSecret) {
		t.Error("the secret is in the log")
	}
	t.Logf("%d events (%d requests with retries, duplicates and faults) in %s with 3 SIGKILLs: %.0f events/s acknowledged",
		total, vres.Attempts+mres.Attempts, elapsed.Round(time.Millisecond), float64(total)/elapsed.Seconds())
}

// runETL runs the CLI in-process.
func runETL(cfg string, args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = runMain(append([]string{"--config", cfg, "--log-format", "json"}, args...), &out, &errb)
	return code, out.String(), errb.String()
}

// The receive section is checked like the rest of the config: each
// mistake names its field.
func TestReceiveConfigErrors(t *testing.T) {
	cases := []struct{ section, field string }{
		{"receive: {secret: {env: X}, endpoints: [{vendor: votbox, source: votbox}]}", "receive.spool"},
		{"receive: {spool: s, endpoints: [{vendor: votbox, source: votbox}]}", "receive.secret"},
		{"receive: {spool: s, secret: {env: X}}", "receive.endpoints"},
		{"receive: {spool: s, secret: {env: X}, endpoints: [{vendor: t2, source: t2}]}", "receive.endpoints[0].vendor"},
		{"receive: {spool: s, secret: {env: X}, endpoints: [{vendor: mtt}]}", "receive.endpoints[0].source"},
		{"receive: {spool: s, secret: {env: X}, retention: 1m, endpoints: [{vendor: mtt, source: mtt}]}", "receive.retention"},
		{"receive: {spool: s, secret: {env: X}, bogus: 1, endpoints: [{vendor: mtt, source: mtt}]}", "receive.bogus"},
	}
	for _, c := range cases {
		dir := t.TempDir()
		cfg := filepath.Join(dir, "etl.yaml")
		body := "lake: lake\nstate: state\nsources:\n  votbox:\n    base_url: http://127.0.0.1:1/api\n    username: robo\n    password: {env: PW}\n" + c.section + "\n"
		if err := os.WriteFile(cfg, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		code, _, errs := runETL(cfg, "receive", "--land-once")
		if code != exitUsage || !strings.Contains(errs, c.field) {
			t.Errorf("%s: exit %d, stderr %s; want exit %d naming %s", c.section, code, errs, exitUsage, c.field)
		}
	}
	// Without a receive section the command says what it needs.
	w := newReceiveWorld(t, "")
	b, _ := os.ReadFile(w.cfg)
	cfg := strings.Split(string(b), "receive:")[0]
	_ = os.WriteFile(w.cfg, []byte(cfg), 0o644)
	if code, _, errs := runETL(w.cfg, "receive"); code != exitUsage || !strings.Contains(errs, "receive") {
		t.Errorf("no receive section: exit %d %s", code, errs)
	}
}

// VotBox costs come from the ENDCALL notifications where the
// autocall.check answer lacks them: autocall_results and
// cost_reconciliation add the event's CALLPAY + OPERCALLPAY to an item
// without costs, never override an item's own, and count a retried
// notification once.
func TestReceiveVotBoxCostJoin(t *testing.T) {
	w := newReceiveWorld(t, "")
	lake, err := load.Open(filepath.Join(w.dir, "lake"), load.Options{})
	if err != nil {
		t.Fatal(err)
	}
	const day = "2026-11-30"
	when := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	tx, err := lake.Begin("votbox", "task-77")
	if err != nil {
		t.Fatal(err)
	}
	money := func(m model.Money) sql.Null[model.Money] { return sql.Null[model.Money]{V: m, Valid: true} }
	items := []votbox.CallRow{
		// Costs in the check answer: 1.00 + 0.50.
		{ItemID: "1", CallPay: money(10000), OperCallPay: money(5000)},
		// No costs in the check answer: the notification's 1.50 + 0.90.
		{ItemID: "2"},
		// No costs anywhere.
		{ItemID: "3"},
	}
	tw := load.Writer(tx, votbox.TasksTable)
	if err := tw.Add(day, &votbox.TaskRow{Date: day, TaskID: "77", Name: "t", StartTime: when, ByStatus: map[int]int64{3: 3}, Final: true, RunID: "r", ExtractedAt: when}); err != nil {
		t.Fatal(err)
	}
	cw, callw := load.Writer(tx, votbox.CallsTable), load.Writer(tx, load.Calls)
	for i := range items {
		it := &items[i]
		it.Date, it.TaskID, it.JobStatus, it.JobStatusLabel, it.CallTime, it.RunID, it.ExtractedAt = day, "77", 3, "success", when, "r", when
		if err := cw.Add(day, it); err != nil {
			t.Fatal(err)
		}
		c := model.Call{Source: "votbox", Date: day, Account: "robo", CallID: it.ItemID, Direction: model.Autocall,
			StartedAt: when, Currency: "RUB", Status: "success", RunID: "r", ExtractedAt: when}
		if it.CallPay.Valid {
			c.Cost = money(it.CallPay.V + it.OperCallPay.V)
		}
		if err := callw.Add(day, &c); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := tx.Commit(); err != nil {
		t.Fatal(err)
	}

	// The notifications, through a real etl receive: item 1's would
	// override (it must not), item 2's twice (a retry).
	var stderr bytes.Buffer
	cmd := w.start(t, &stderr)
	p := sandbox.NewPusher(sandbox.PushConfig{URL: w.url("votbox"), Vendor: "votbox", MaxAttempts: 50})
	res := p.Push(context.Background(), []sandbox.PushEvent{
		{Query: "CALLID=1&STATE=ENDCALL&DT=30.11.2026+12:00:40&CALLPAY=99900&OPERCALLPAY=0&JOBSTATUS=3"},
		{Query: "CALLID=2&STATE=CALLOUT&DT=30.11.2026+12:00:00&ANI=74950000000&DNIS=89110000000"},
		{Query: "CALLID=2&STATE=ENDCALL&DT=30.11.2026+12:01:40&CALLDURATION=60&OPERCALLDURATION=30&JOBSTATUS=4&CALLPAY=150&OPERCALLPAY=90"},
		{Query: "CALLID=2&STATE=ENDCALL&DT=30.11.2026+12:01:40&CALLDURATION=60&OPERCALLDURATION=30&JOBSTATUS=4&CALLPAY=150&OPERCALLPAY=90"},
	}, nil)
	for i, ok := range res.Acked {
		if !ok {
			t.Fatalf("notification %d not acknowledged: %v", i, res.Status)
		}
	}
	cmd.stop(syscall.SIGTERM)
	if code, out, errs := runETL(w.cfg, "receive", "--land-once"); code != exitOK {
		t.Fatalf("land-once: exit %d\n%s%s", code, out, errs)
	}

	const want = "3.9000" // 1.50 from the check answer + 2.40 from the notification
	code, out, errs := runETL(w.cfg, "report", "autocall_results", "--format", "csv")
	if code != exitOK {
		t.Fatalf("autocall_results: exit %d\n%s", code, errs)
	}
	if rows := strings.Split(strings.TrimSpace(out), "\n"); len(rows) != 2 || !strings.Contains(rows[1], ","+want+",") {
		t.Errorf("autocall_results: want cost %s\n%s", want, out)
	}
	code, out, errs = runETL(w.cfg, "report", "cost_reconciliation", "--format", "csv")
	if code != exitOK {
		t.Fatalf("cost_reconciliation: exit %d\n%s", code, errs)
	}
	if !strings.Contains(out, day+",votbox,robo,3,2,") || !strings.Contains(out, ","+want+",") {
		t.Errorf("cost_reconciliation: want votbox/robo with 3 calls, 2 billed, cost %s\n%s", want, out)
	}
}

// etl receive push sends the documents' examples and generated calls with
// faults to a running etl receive; every event lands once.
func TestReceivePush(t *testing.T) {
	w := newReceiveWorld(t, "")
	var stderr bytes.Buffer
	cmd := w.start(t, &stderr)
	for vendor, args := range map[string][]string{"votbox": {"--calls", "20", "--faults"}, "mtt": {"--calls", "10", "--faults", "--concurrency", "2"}} {
		code, out, errs := runETL(w.cfg, append([]string{"receive", "push", w.url(vendor)}, args...)...)
		if code != exitOK || !strings.Contains(out, "acknowledged") {
			t.Fatalf("push %s: exit %d\n%s\n%s", vendor, code, out, errs)
		}
		if strings.Contains(out+errs, receiveSecret) {
			t.Errorf("push %s prints the secret", vendor)
		}
	}
	cmd.stop(syscall.SIGTERM)
	if code, _, errs := runETL(w.cfg, "receive", "--land-once"); code != exitOK {
		t.Fatalf("land-once: %s", errs)
	}
	for table, want := range map[string]int{"votbox_events": len(sandbox.VotBoxNotifyExamples) + 3*20, "mtt_events": len(sandbox.MTTEventExamples) + 2*10} {
		if rows, ids := w.counts(t, table); rows != want || ids != want {
			t.Errorf("%s: %d rows, %d ids; want %d once each", table, rows, ids, want)
		}
	}
	if code, _, errs := runETL(w.cfg, "receive", "push", "http://127.0.0.1:1/v1/t2/t2/x"); code != exitUsage || !strings.Contains(errs, "URL") {
		t.Errorf("bad URL: exit %d %s", code, errs)
	}
}
