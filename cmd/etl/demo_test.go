package main

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// `etl demo` is the README's first command: it must run end to end on a
// fresh directory, show every source and the recordings, and be idempotent.
func TestDemoRunsTwice(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	var out1, out2, errb bytes.Buffer
	if code := runMain([]string{"--log-format", "json", "demo", "--dir", dir, "--calls", "12"}, &out1, &errb); code != exitOK {
		t.Fatalf("demo: exit %d\n%s", code, errb.String())
	}
	for _, want := range []string{"daily_summary", " mtt ", " t2 ", " votbox ", "recording_coverage", "autocall", "callback", "reference", "manager_name",
		"cost_reconciliation", "number_fees", "voicebox_numbers", "voicebox_customers", "monthly fees", "personal account",
		"push notifications", "votbox_events", "mtt_events", "costed_by_endcall"} {
		if !strings.Contains(out1.String(), want) {
			t.Errorf("demo output lacks %q:\n%s", want, out1.String())
		}
	}
	if rec := logRecord(t, errb.String(), "recordings summary"); rec == nil || rec["stored"] == 0.0 {
		t.Errorf("demo stored no recordings:\n%s", errb.String())
	}
	// The T2 reference tables are filled: the managers with VIP customers,
	// and the per-number statistics of every day.
	for table, where := range map[string]string{"t2_managers": "is_vip", "t2_journal": "number_of_calls > 0", "t2_employee_stats": "all_call_count > 0"} {
		var n, days int
		q := fmt.Sprintf(`SELECT count(*), count(DISTINCT date) FROM read_parquet('%s/lake/%s/**/*.parquet', hive_partitioning=true) WHERE %s`, dir, table, where)
		if err := duck(t).QueryRow(q).Scan(&n, &days); err != nil || n == 0 || table != "t2_managers" && days < demoDays-1 {
			t.Errorf("demo lake %s: %d rows on %d days where %s (%v)", table, n, days, where, err)
		}
	}
	// The snapshots of the new endpoints are filled: a VotBox balance, and
	// for each VoiceBox customer its numbers and its customer row.
	var balances, numbers, customers int
	for _, l := range strings.Split(out1.String(), "\n") {
		switch {
		case strings.Contains(l, "balances") && strings.Contains(l, "votbox") && strings.Contains(l, "RUB"):
			balances++
		case strings.Contains(l, "voicebox_numbers") && strings.Contains(l, "numbers, monthly fees"):
			numbers++
		case strings.Contains(l, "voicebox_customers") && strings.Contains(l, "personal account 1100"):
			customers++
		}
	}
	if balances != 1 || numbers != 2 || customers != 2 {
		t.Errorf("demo snapshots: %d VotBox balances, %d VoiceBox number lines, %d customer lines; want 1, 2, 2:\n%s", balances, numbers, customers, out1.String())
	}
	// The push receiver's tables are filled: the documents' examples and
	// the demo's VotBox items' notifications, whose ENDCALL costs fill the
	// items the autocall.check answer leaves without one.
	events1 := demoEvents(t, dir)
	errb.Reset()
	if code := runMain([]string{"--log-format", "json", "demo", "--dir", dir, "--calls", "12"}, &out2, &errb); code != exitOK {
		t.Fatalf("second demo: exit %d\n%s", code, errb.String())
	}
	strip := func(s string) string { // the emulator's port changes between runs
		var keep []string
		for _, l := range strings.Split(s, "\n") {
			if !strings.Contains(l, "127.0.0.1") && !strings.HasPrefix(strings.TrimSpace(l), "duckdb") {
				keep = append(keep, l)
			}
		}
		return strings.Join(keep, "\n")
	}
	if strip(out1.String()) != strip(out2.String()) {
		t.Errorf("a second demo changed the reports:\n--- first\n%s\n--- second\n%s", out1.String(), out2.String())
	}
	if rec := logRecord(t, errb.String(), "recordings summary"); rec == nil || rec["calls"] != 0.0 {
		t.Errorf("the second demo fetched recordings again:\n%s", errb.String())
	}
	if events2 := demoEvents(t, dir); events2 != events1 {
		t.Errorf("a second demo changed the landed events: %+v, then %+v", events1, events2)
	}
}

// demoEventCounts are what the demo's push receiver landed.
type demoEventCounts struct {
	VotBox, MTT, Examples int // rows of votbox_events and mtt_events; VotBox example call 4654's
	Joined                int // ENDCALL events of the demo's VotBox items
	NoCost, Costed        int // final dialled items without a cost in autocall.check; of them with an ENDCALL cost
}

// demoEvents counts the demo lake's events and checks each kind is there.
func demoEvents(t *testing.T, dir string) demoEventCounts {
	t.Helper()
	var c demoEventCounts
	read := func(table string) string {
		return fmt.Sprintf(`read_parquet('%s/lake/%s/**/*.parquet', hive_partitioning=true)`, dir, table)
	}
	q := fmt.Sprintf(`SELECT (SELECT count(*) FROM %[1]s), (SELECT count(*) FROM %[2]s),
		(SELECT count(*) FROM %[1]s WHERE call_id = '4654'),
		(SELECT count(*) FROM %[1]s e JOIN (SELECT DISTINCT source, item_id FROM %[3]s) c ON c.source = e.source AND c.item_id = e.call_id WHERE e.state = 'ENDCALL'),
		(SELECT count(*) FROM %[3]s WHERE job_status NOT IN (0, 1) AND attempts > 0 AND call_pay IS NULL AND oper_call_pay IS NULL),
		(SELECT count(DISTINCT c.item_id) FROM %[3]s c JOIN %[1]s e ON c.source = e.source AND c.item_id = e.call_id
		 WHERE c.job_status NOT IN (0, 1) AND c.attempts > 0 AND c.call_pay IS NULL AND c.oper_call_pay IS NULL AND e.state = 'ENDCALL' AND e.call_pay IS NOT NULL)`,
		read("votbox_events"), read("mtt_events"), read("votbox_calls"))
	if err := duck(t).QueryRow(q).Scan(&c.VotBox, &c.MTT, &c.Examples, &c.Joined, &c.NoCost, &c.Costed); err != nil {
		t.Fatalf("demo lake events: %v", err)
	}
	if c.VotBox == 0 || c.MTT == 0 || c.Examples == 0 || c.Joined == 0 || c.NoCost == 0 || c.Costed != c.NoCost {
		t.Errorf("demo lake events: %+v; want votbox_events, mtt_events, the example call 4654 and ENDCALLs of the demo's items, and every item without a cost in autocall.check costed by its ENDCALL", c)
	}
	return c
}
