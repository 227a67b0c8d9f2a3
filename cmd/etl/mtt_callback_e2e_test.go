package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/calletl/calletl/model"
	"github.com/calletl/calletl/sandbox"
)

// MTT callback calls through the CLI: ids from callback_ids and the
// operator's ids file land as calls rows (direction callback) and
// mtt_callbacks rows equal to the emulator's truth, cost to the kopeck; a
// callback in progress is asked again by the next run and lands once it
// has ended; finished ones are not written twice. mtt_balances keeps
// pending_payment and the raw answer.
func TestMTTCallbacksGroundTruth(t *testing.T) {
	const cust = "110011256"
	w := newWorld(t, 2, 20, 0, "    callback_customer: \""+cust+"\"\n    callback_ids: [cbprogress]\n    callback_ids_file: callbacks.txt\n")
	cb := func(id string, costE4 int64, ended string) sandbox.MTTCallback {
		return sandbox.MTTCallback{Customer: cust, ID: id, Ended: ended, DestinationA: "+79160000001", DestinationB: "+79850000002",
			WaitA: 5, WaitB: 7, RealA: 70, RealB: 61, ChargedA: 120, ChargedB: 120, CostE4: costE4, Currency: "RUB", RecordA: 1, RecordB: 1}
	}
	truth := []sandbox.MTTCallback{cb("cb1", 29800, ""), cb("cb2", 12345, ""), cb("cb3", 100, ""),
		cb("cbtimeout", 0, sandbox.MTTCallbackTimeoutA), cb("cbcancel", 0, sandbox.MTTCallbackCancelB)}
	progress := cb("cbprogress", 45600, "")
	progress.EndsAt = time.Now().Add(24 * time.Hour)
	w.emu.AddCallbacks(append(truth, progress)...)
	ids := "# callback ids, appended by the call-center system\ncb1\ncb2\ncb3 # retried\n\ncbtimeout\ncbcancel\nnot an id\n"
	if err := os.WriteFile(filepath.Join(w.dir, "callbacks.txt"), []byte(ids), 0o644); err != nil {
		t.Fatal(err)
	}

	check := func(run string, want []sandbox.MTTCallback) {
		t.Helper()
		db := duck(t)
		var n, distinct int
		var cost string
		if err := db.QueryRow(`SELECT count(*), count(DISTINCT call_id), CAST(coalesce(sum(cost), 0) AS VARCHAR) FROM `+w.glob("calls")+
			` WHERE direction = 'callback' AND account = '`+cust+`'`).Scan(&n, &distinct, &cost); err != nil {
			t.Fatal(err)
		}
		var wantCost model.Money
		for _, c := range want {
			wantCost += model.Money(c.CostE4)
		}
		if n != len(want) || distinct != n || cost != wantCost.String() {
			t.Errorf("%s: %d callback calls (%d distinct) costing %s; truth %d costing %s", run, n, distinct, cost, len(want), wantCost)
		}
		for _, c := range want {
			var outcome, status string
			var final bool
			var realA, realB, chargedA, chargedB int
			q := `SELECT outcome, status, final, coalesce(real_length_a_s, 0), coalesce(real_length_b_s, 0), coalesce(charged_length_a_s, 0), coalesce(charged_length_b_s, 0) FROM ` +
				w.glob("mtt_callbacks") + ` WHERE callback_id = '` + c.ID + `'`
			if err := db.QueryRow(q).Scan(&outcome, &status, &final, &realA, &realB, &chargedA, &chargedB); err != nil {
				t.Errorf("%s: mtt_callbacks %s: %v", run, c.ID, err)
				continue
			}
			wantOutcome := "completed"
			if c.Ended != "" {
				wantOutcome = map[string]string{sandbox.MTTCallbackTimeoutA: "timeout_a", sandbox.MTTCallbackCancelB: "cancel_b"}[c.Ended]
				realA, realB, chargedA, chargedB = c.RealA, c.RealB, c.ChargedA, c.ChargedB // the legs are not in an ended answer
			}
			if outcome != wantOutcome || !final || realA != c.RealA || realB != c.RealB || chargedA != c.ChargedA || chargedB != c.ChargedB {
				t.Errorf("%s: %s: outcome %s final %v legs %d %d %d %d; truth %+v", run, c.ID, outcome, final, realA, realB, chargedA, chargedB, c)
			}
		}
		var rows int
		if err := db.QueryRow(`SELECT count(*) FROM ` + w.glob("mtt_callbacks") + ` WHERE final`).Scan(&rows); err != nil || rows != len(want) {
			t.Errorf("%s: %d final mtt_callbacks rows, want %d (%v)", run, rows, len(want), err)
		}
	}

	code, _, stderr := w.etl("run")
	if code != exitOK {
		t.Fatalf("etl run: exit %d\n%s", code, stderr)
	}
	check("run 1", truth)
	// cbprogress is answered -32001 without data (the emulator's first
	// in-progress form, chosen by the id's hash): nothing is written.
	var progressRows int
	if err := duck(t).QueryRow(`SELECT count(*) FROM ` + w.glob("mtt_callbacks") + ` WHERE callback_id = 'cbprogress'`).Scan(&progressRows); err != nil || progressRows != 0 {
		t.Errorf("run 1: %d rows of the callback in progress (%v)", progressRows, err)
	}
	if !strings.Contains(stderr, "not an id") {
		t.Errorf("no warning about the invalid line of the ids file:\n%s", stderr)
	}
	// Each callback is an item of the run, the one in progress not final.
	var items, okItems int
	if err := duck(t).QueryRow(`SELECT count(*), count(*) FILTER (WHERE status = 'ok') FROM `+w.glob("runs")+
		` WHERE stream = 'callback'`).Scan(&items, &okItems); err != nil || items != 6 || okItems != 6 {
		t.Errorf("runs: %d callback rows, %d ok, want 6 (%v)", items, okItems, err)
	}

	// The call ends; the next run asks for it again and writes it, and
	// writes no finished callback twice.
	progress.EndsAt = time.Time{}
	w.emu.AddCallbacks(progress)
	code, _, stderr = w.etl("run")
	if code != exitOK {
		t.Fatalf("second etl run: exit %d\n%s", code, stderr)
	}
	check("run 2", append(truth, progress))
	var perRun string
	if err := duck(t).QueryRow(`SELECT string_agg(n, ' ' ORDER BY t0) FROM (SELECT CAST(count(*) AS VARCHAR) AS n, min(started_at) AS t0 FROM ` +
		w.glob("runs") + ` WHERE stream = 'callback' GROUP BY run_id)`).Scan(&perRun); err != nil || perRun != "6 1" {
		t.Errorf("callbacks extracted per run: %q, want \"6 1\" (the second run only the one that was in progress) (%v)", perRun, err)
	}

	// pending_payment and the raw answer are in mtt_balances.
	var pending, raw string
	if err := duck(t).QueryRow(`SELECT CAST(pending_payment AS VARCHAR), raw FROM `+w.glob("mtt_balances")+
		` WHERE customer_name = '`+cust+`' LIMIT 1`).Scan(&pending, &raw); err != nil {
		t.Fatal(err)
	}
	if want := model.Money(w.emu.PendingPayment(cust)).String(); pending != want || !strings.Contains(raw, `"pending_payment":`) || !strings.HasPrefix(raw, `{"balance":`) {
		t.Errorf("mtt_balances: pending_payment %s (truth %s), raw %s", pending, want, raw)
	}
}
