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

// VoiceBox and Mobilgroup through the real CLI, with faults: the lake's
// calls, daily_summary and cost_reconciliation equal the emulators' ground
// truth to the kopeck; Mobilgroup broadcasts are re-polled until final and
// then never asked again; a re-run changes nothing; no secret is printed.
func TestVoiceBoxAndMobilgroupGroundTruth(t *testing.T) {
	now := time.Now()
	today := now.UTC().Truncate(24 * time.Hour)
	const (
		vbSecret = "vb-client-Secret-91"
		vbPass   = "vb-user-Pass-42"
		mgKey    = "mg-API-key-5f0c"
	)
	vb := sandbox.NewVoiceBox(sandbox.VoiceBoxConfig{ClientID: "etl", ClientSecret: vbSecret, Username: "etl@example.ru",
		Password: vbPass, Customers: []string{"1001", "1002"}, CallsPerDay: 60, Days: 5, Start: today.AddDate(0, 0, -4),
		Seed: 21, BadRowsPerDay: 1, TokenTTL: time.Minute, MaxPageSize: 70})
	vb.SetFaults(sandbox.Faults{Error5xxEvery: 7, TruncateEvery: 13, MaxInARow: 3}) // 429s cost a second each: the package tests have them
	mg := sandbox.NewMobilgroup(sandbox.MobilgroupConfig{APIKey: mgKey, Broadcasts: 3, SubscribersPerBroadcast: 40,
		Seed: 21, Days: 2})
	mg.SetFaults(sandbox.Faults{Error5xxEvery: 5, TruncateEvery: 9, MaxInARow: 3})
	vbSrv, mgSrv := httptest.NewServer(vb), httptest.NewServer(mg)
	t.Cleanup(vbSrv.Close)
	t.Cleanup(mgSrv.Close)

	dir := t.TempDir()
	for name, v := range map[string]string{"vb-secret": vbSecret, "vb-pass": vbPass, "mg-key": mgKey} {
		os.WriteFile(filepath.Join(dir, name), []byte(v+"\n"), 0o600)
	}
	ids := mg.IDs()
	// One id in the config, the others in the operator's file.
	os.WriteFile(filepath.Join(dir, "broadcasts.txt"), []byte("# appended by the sender\n"+strings.Join(ids[1:], "\n")+"\n"), 0o644)
	from, to := model.Day(now.AddDate(0, 0, -2), msk), model.Day(now, msk)
	cfg := filepath.Join(dir, "etl.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`lake: lake
state: state
timezone: Europe/Moscow
lookback_days: 1
start_date: %s
sources:
  voicebox:
    base_url: %s
    client_id: etl
    client_secret: {file: vb-secret}
    username: etl@example.ru
    password: {file: vb-pass}
    customers: ["1001", "1002"]
    page_size: 50
    http: {max_attempts: 10, max_retry_after: 1s, base_backoff: 5ms, max_backoff: 50ms}
  mobilgroup:
    base_url: %s
    api_key: {file: mg-key}
    broadcast_ids: [%s]
    broadcast_ids_file: broadcasts.txt
    http: {max_attempts: 10, base_backoff: 5ms, max_backoff: 50ms}
`, from, vbSrv.URL, mgSrv.URL, ids[0])), 0o644)
	w := &world{dir: dir, cfg: cfg, from: from, to: to}

	// truth: calls and cost per day, source and account.
	type agg struct {
		calls int
		cost  model.Money
	}
	truth := func() map[string]*agg {
		out := map[string]*agg{}
		add := func(day, source, account string, cost int64) {
			k := day + "/" + source + "/" + account
			if out[k] == nil {
				out[k] = &agg{}
			}
			out[k].calls++
			out[k].cost += model.Money(cost * 100)
		}
		for _, cust := range []string{"1001", "1002"} {
			for _, c := range vb.Calls(cust) {
				if day := model.Day(c.Start, msk); day >= from && day <= to {
					add(day, "voicebox", cust, c.CostKopecks)
				}
			}
		}
		for _, b := range mg.Broadcasts() {
			for _, s := range b.Subscribers {
				if !s.Date.IsZero() {
					add(model.Day(s.Date, msk), "mobilgroup", "mobilgroup", s.PriceKopecks)
				}
			}
		}
		return out
	}
	check := func(step string) {
		t.Helper()
		want := truth()
		rows, err := duck(t).Query(`SELECT date::VARCHAR || '/' || source || '/' || account, count(*), count(DISTINCT call_id),
			CAST(coalesce(sum(cost), 0) AS VARCHAR) FROM ` + w.glob("calls") + ` GROUP BY ALL`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		seen := 0
		for rows.Next() {
			var k, cost string
			var n, distinct int
			if err := rows.Scan(&k, &n, &distinct, &cost); err != nil {
				t.Fatal(err)
			}
			seen++
			if a := want[k]; a == nil || n != a.calls || distinct != n || cost != a.cost.String() {
				t.Errorf("%s: %s: lake %d calls (%d distinct) costing %s, truth %+v", step, k, n, distinct, cost, a)
			}
		}
		if seen != len(want) {
			t.Errorf("%s: lake has %d day/source/account groups, truth %d", step, seen, len(want))
		}
	}

	for step := 0; ; step++ {
		code, stdout, stderr := w.etl("run")
		if code != exitOK {
			t.Fatalf("run %d: exit %d\n%s", step, code, stderr)
		}
		for _, s := range append([]string{vbSecret, vbPass, mgKey}, vb.CustomerSecrets()...) {
			if strings.Contains(stdout+stderr, s) {
				t.Fatalf("run %d printed a secret", step)
			}
		}
		check(fmt.Sprintf("run %d", step))
		if mg.Final() {
			break
		}
		if step > 20 {
			t.Fatal("the Mobilgroup emulator never finished")
		}
		mg.Advance()
	}
	// The final state is in the lake: no broadcast is asked again, and a
	// re-run (VoiceBox re-reads its lookback days) leaves the same rows.
	first := w.dump(t)
	before := mg.Requests()
	vb.Advance(2 * time.Minute) // every access token has expired
	if code, _, stderr := w.etl("run"); code != exitOK {
		t.Fatalf("re-run: exit %d\n%s", code, stderr)
	}
	check("re-run")
	if w.dump(t) != first {
		t.Error("re-running changed the rows")
	}
	if n := mg.Requests() - before; n != 1 {
		t.Errorf("re-run sent %d Mobilgroup requests, want 1 (the balance): final broadcasts are polled again", n)
	}

	// The reports see both sources with the same figures.
	want := truth()
	rows := map[string]figures{}
	wantRows := map[string]figures{}
	for k, a := range want {
		wantRows[k] = figures{"calls": fmt.Sprint(a.calls), "cost": a.cost.String(), "number_fees": "NULL"}
	}
	// VoiceBox number fees: every number's monthly fee on the first day of
	// the month it is in a snapshot: today, the day of every run here.
	for _, cust := range []string{"1001", "1002"} {
		var fees int64
		for _, n := range vb.Numbers(cust) {
			fees += n.FeeKopecks
		}
		k := to + "/voicebox/" + cust
		if wantRows[k] == nil {
			wantRows[k] = figures{"calls": "0", "cost": model.Money(0).String()}
		}
		wantRows[k]["number_fees"] = model.Money(fees * 100).String()
	}
	for _, r := range w.reportRows(t, "cost_reconciliation", "--from", from, "--to", to) {
		f := got(t, r, []string{"date", "source", "account", "calls", "cost", "number_fees"}, "cost", "number_fees")
		if f["cost"] == "NULL" {
			f["cost"] = model.Money(0).String()
		}
		rows[f["date"]+"/"+f["source"]+"/"+f["account"]] = f
		for _, c := range []string{"date", "source", "account"} {
			delete(f, c)
		}
	}
	compare(t, "cost_reconciliation", rows, wantRows)

	perSource := map[string]int{}
	for k, a := range want {
		parts := strings.Split(k, "/")
		perSource[parts[0]+"/"+parts[1]] += a.calls
	}
	wantRows, rows = map[string]figures{}, map[string]figures{}
	for k, n := range perSource {
		wantRows[k] = figures{"calls": fmt.Sprint(n)}
	}
	for _, r := range w.reportRows(t, "daily_summary", "--from", from, "--to", to) {
		f := got(t, r, []string{"date", "source", "calls"})
		k := f["date"] + "/" + f["source"]
		n := 0
		if g, ok := rows[k]; ok {
			fmt.Sscan(g["calls"], &n)
		}
		var c int
		fmt.Sscan(f["calls"], &c)
		rows[k] = figures{"calls": fmt.Sprint(n + c)} // summed over directions
	}
	compare(t, "daily_summary", rows, wantRows)

	// Balances: one per VoiceBox customer and one for Mobilgroup per run.
	var balances int
	duck(t).QueryRow(`SELECT count(DISTINCT (source, account)) FROM ` + w.glob("balances")).Scan(&balances)
	if balances != 3 {
		t.Errorf("balances cover %d source/account pairs, want 3", balances)
	}
	// The customers' objects name the accounts, without their credentials.
	rows2, err := duck(t).Query(`SELECT customer_id, name, personal_account, raw FROM ` + w.glob("voicebox_customers") + ` ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows2.Close()
	var custs []string
	for rows2.Next() {
		var id, name, acct, raw string
		if err := rows2.Scan(&id, &name, &acct, &raw); err != nil {
			t.Fatal(err)
		}
		c := vb.Customer(id)
		if name != c.Name || acct != c.PersonalAccount || strings.Contains(raw, c.Password) || strings.Contains(raw, c.PasswordRL) {
			t.Errorf("voicebox_customers %s: %q %q %s; truth %q %q", id, name, acct, raw, c.Name, c.PersonalAccount)
		}
		custs = append(custs, id)
	}
	if strings.Join(custs, ",") != "1001,1002" {
		t.Errorf("voicebox_customers rows for %v", custs)
	}
}
