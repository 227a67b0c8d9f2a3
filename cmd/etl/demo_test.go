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
		"cost_reconciliation", "number_fees", "voicebox_numbers", "voicebox_customers", "monthly fees", "personal account"} {
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
}
