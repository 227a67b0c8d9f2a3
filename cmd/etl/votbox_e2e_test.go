package main

import (
	"fmt"
	"math"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/calletl/calletl/load"
	"github.com/calletl/calletl/model"
	"github.com/calletl/calletl/sandbox"
)

// VotBox through the real CLI: each run polls the tasks that are not
// final; as the emulator's tasks progress the lake converges to the ground
// truth (every item once, cost to the kopeck), and a final task is never
// fetched again.
func TestVotBoxRepollingConverges(t *testing.T) {
	emu := sandbox.NewVotBox(sandbox.VotBoxConfig{Seed: 4, Username: "robo", Password: "vb-Secret-pass",
		Tasks: 3, ItemsPerTask: 150, Start: time.Now().UTC().AddDate(0, 0, -2), Charset: "windows-1251", Form: "elem"})
	emu.SetFaults(sandbox.Faults{Error5xxEvery: 9, TruncateEvery: 14, MaxInARow: 3})
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "pw"), []byte("vb-Secret-pass"), 0o600)
	cfg := filepath.Join(dir, "etl.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`lake: lake
state: state
timezone: Europe/Moscow
sources:
  votbox:
    base_url: %s/api
    username: robo
    password: {file: pw}
    http: {max_attempts: 10, base_backoff: 5ms, max_backoff: 50ms}
`, srv.URL)), 0o644)
	w := &world{dir: dir, cfg: cfg}

	// Every run takes one check.balance snapshot: the lake's VotBox balances
	// are the emulator's balance at each run, in roubles to the kopeck.
	var wantBalances []string
	checkBalances := func(step int) {
		t.Helper()
		rows, err := duck(t).Query(`SELECT CAST(balance AS VARCHAR), account, currency FROM ` + w.glob("balances") +
			` WHERE source = 'votbox' ORDER BY balance DESC`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var got []string
		for rows.Next() {
			var b, acct, cur string
			if err := rows.Scan(&b, &acct, &cur); err != nil {
				t.Fatal(err)
			}
			got = append(got, b+" "+acct+" "+cur)
		}
		if fmt.Sprint(got) != fmt.Sprint(wantBalances) {
			t.Errorf("step %d: VotBox balances %v, truth %v", step, got, wantBalances)
		}
	}
	check := func(step int) {
		t.Helper()
		checkBalances(step)
		var items int
		var kop int64
		for _, task := range emu.Tasks() {
			for _, it := range task.Items {
				items++
				kop += it.CallPayKop + it.OperCallPayKop
			}
		}
		var n, distinct int
		var cost string
		q := `SELECT count(*), count(DISTINCT call_id), CAST(coalesce(sum(cost), 0) AS VARCHAR) FROM ` + w.glob("calls") + ` WHERE source = 'votbox'`
		if err := duck(t).QueryRow(q).Scan(&n, &distinct, &cost); err != nil {
			t.Fatal(err)
		}
		if want := model.Money(kop * 100).String(); n != items || distinct != n || cost != want {
			t.Errorf("step %d: lake %d calls (%d distinct) costing %s; truth %d items costing %s", step, n, distinct, cost, items, want)
		}
	}
	for step := 0; !emu.Final(); step++ {
		if step > 20 {
			t.Fatal("the emulator never finished")
		}
		wantBalances = append(wantBalances, model.Money(emu.Balance()*100).String()+" robo RUB")
		if code, _, stderr := w.etl("run"); code != exitOK {
			t.Fatalf("step %d: exit %d\n%s", step, code, stderr)
		}
		check(step)
		emu.Advance()
	}
	// One run to pick up the final state; after it nothing is polled.
	wantBalances = append(wantBalances, model.Money(emu.Balance()*100).String()+" robo RUB")
	if code, _, stderr := w.etl("run"); code != exitOK {
		t.Fatalf("final run: exit %d\n%s", code, stderr)
	}
	check(99)
	checkAutocallResults(t, w, emu)
	before := emu.Requests("autocall.check.api.php")
	wantBalances = append(wantBalances, model.Money(emu.Balance()*100).String()+" robo RUB")
	if code, _, stderr := w.etl("run"); code != exitOK {
		t.Fatalf("idle run: exit %d\n%s", code, stderr)
	}
	check(100)
	if after := emu.Requests("autocall.check.api.php"); after != before {
		t.Errorf("final tasks were fetched again: %d check requests", after-before)
	}
	checkVotBoxMovement(t, w, emu)
}

// checkVotBoxMovement: with a VotBox balance 100.00 roubles above today's
// on the day before (every run here is today, so one is written into the
// lake), cost_reconciliation's VotBox row of today has the movement
// -100.00 and the difference 100.00 less today's rated cost, computed from
// the emulator's items.
func checkVotBoxMovement(t *testing.T, w *world, emu *sandbox.VotBox) {
	t.Helper()
	now := time.Now()
	today, yesterday := model.Day(now, msk), model.Day(now.AddDate(0, 0, -1), msk)
	lake, err := load.Open(filepath.Join(w.dir, "lake"), load.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tx, err := lake.Begin("votbox", "balance-seed")
	if err != nil {
		t.Fatal(err)
	}
	prev := model.Money((emu.Balance() + 100_00) * 100)
	if err := load.Writer(tx, load.Balances).Add(yesterday, &model.Balance{Source: "votbox", Date: yesterday, Account: "robo",
		Balance: prev, Currency: "RUB", Raw: prev.String(), RunID: "seed", TakenAt: now.AddDate(0, 0, -1)}); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	var kop int64
	var calls int
	for _, task := range emu.Tasks() {
		for _, it := range task.Items {
			at := task.StartTime
			if !it.CallTime.IsZero() {
				at = it.CallTime
			}
			if model.Day(at, msk) == today {
				calls++
				kop += it.CallPayKop + it.OperCallPayKop
			}
		}
	}
	want := figures{"calls": fmt.Sprint(calls), "balance_movement": model.Money(-100_00 * 100).String(),
		"difference": (model.Money(100_00*100) - model.Money(kop*100)).String()}
	rows := map[string]figures{}
	for _, r := range w.reportRows(t, "cost_reconciliation", "--from", today, "--to", today) {
		f := got(t, r, []string{"source", "account", "calls", "balance_movement", "difference"}, "balance_movement", "difference")
		rows[f["source"]+"/"+f["account"]] = f
		delete(f, "source")
		delete(f, "account")
	}
	compare(t, "cost_reconciliation", rows, map[string]figures{"votbox/robo": want})
}

// checkAutocallResults compares the autocall_results report with figures
// computed from the emulator's tasks: items per final status, rates, cost
// and cost per success, per task.
func checkAutocallResults(t *testing.T, w *world, emu *sandbox.VotBox) {
	t.Helper()
	want := map[string]figures{}
	for _, task := range emu.Tasks() {
		by := map[int]int{}
		var kop int64
		for _, it := range task.Items {
			by[it.JobStatus]++
			kop += it.CallPayKop + it.OperCallPayKop
		}
		n := len(task.Items)
		rate := func(k int) string { return fmt.Sprintf("%.4f", math.Round(float64(k)*10000/float64(n))/10000) }
		perSuccess := "NULL"
		if by[3] > 0 {
			// DECIMAL division, cast to four decimals: rounded half away from zero.
			perSuccess = model.Money((kop*100*2/int64(by[3]) + 1) / 2).String()
		}
		want[fmt.Sprint(task.ID)] = figures{"items": fmt.Sprint(n), "error": fmt.Sprint(by[2]), "success": fmt.Sprint(by[3]),
			"operator": fmt.Sprint(by[4]), "expired": fmt.Sprint(by[7]), "stopped_by_user": fmt.Sprint(by[11]),
			"success_rate": rate(by[3]), "operator_rate": rate(by[4]), "cost": model.Money(kop * 100).String(),
			"cost_per_success": perSuccess, "final": "true"}
	}
	rows := map[string]figures{}
	for _, r := range w.reportRows(t, "autocall_results") {
		f := got(t, r, []string{"task_id", "items", "error", "success", "operator", "expired", "stopped_by_user",
			"success_rate", "operator_rate", "cost", "cost_per_success", "final"}, "cost", "cost_per_success")
		if v, err := strconv.ParseFloat(f["success_rate"], 64); err == nil {
			f["success_rate"] = fmt.Sprintf("%.4f", v)
		}
		if v, err := strconv.ParseFloat(f["operator_rate"], 64); err == nil {
			f["operator_rate"] = fmt.Sprintf("%.4f", v)
		}
		rows[f["task_id"]] = f
		delete(f, "task_id")
	}
	compare(t, "autocall_results", rows, want)
}
