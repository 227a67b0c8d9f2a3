package mobilgroup

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/calletl/calletl/load"
	"github.com/calletl/calletl/model"
	"github.com/calletl/calletl/pipeline"
	"github.com/calletl/calletl/sandbox"
	"github.com/calletl/calletl/state"
)

// TestPipelineConverges drives the source through pipeline runs against
// the emulator, advancing it between runs: after every run the lake equals
// the emulator's ground truth (row counts, statuses, dates and the sum of
// prices to the kopeck, read back with DuckDB), a broadcast is reported
// final exactly when the ground truth is, and a final broadcast is never
// requested again.
func TestPipelineConverges(t *testing.T) {
	m := sandbox.NewMobilgroup(sandbox.MobilgroupConfig{APIKey: testKey, Seed: 11, Broadcasts: 4,
		SubscribersPerBroadcast: 40, Start: emuStart, Days: 2})
	m.SetFaults(sandbox.Faults{Error5xxEvery: 7, TruncateEvery: 11, MaxInARow: 3})
	base := sandboxServer(t, m)
	ids := m.IDs()
	dir := t.TempDir()
	idsFile := filepath.Join(dir, "ids.txt")
	if err := os.WriteFile(idsFile, []byte("# from the campaign tool\n"+ids[2]+"\n"+ids[3]+"\n"+ids[2]+"\nnot valid!\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := NewSource(testClient(t, base, func(c *Config) {
		c.BroadcastIDs = ids[:2]
		c.IDsFile = idsFile
		c.HTTP.MaxAttempts = 6
	}, nil))
	lake, err := load.Open(filepath.Join(dir, "lake"), load.Options{})
	if err != nil {
		t.Fatal(err)
	}
	st, err := state.Open(filepath.Join(dir, "state"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2025, 3, 10, 2, 0, 0, 0, time.UTC)
	p := pipeline.New(pipeline.Config{Lake: lake, State: st, Location: Moscow, Now: func() time.Time { return now }})
	db := openDuckDB(t)

	finalSeen := map[string]bool{}
	runs := 0
	for {
		runs++
		if runs > 25 {
			t.Fatal("did not converge")
		}
		truth := m.Broadcasts()
		before := map[string]int{}
		for _, id := range ids {
			before[id] = m.StateRequests(id)
		}
		sum, err := p.Run(context.Background(), nil, s)
		if err != nil || sum.Err() != nil {
			t.Fatalf("run %d: %v %v", runs, err, sum.Err())
		}
		allFinal := true
		for _, b := range truth {
			n := m.StateRequests(b.ID) - before[b.ID]
			switch {
			case finalSeen[b.ID] && n != 0:
				t.Errorf("run %d: final broadcast %s requested %d times", runs, b.ID, n)
			case !finalSeen[b.ID] && n < 1: // more when a truncated answer was retried
				t.Errorf("run %d: broadcast %s not requested", runs, b.ID)
			}
			if b.Final {
				finalSeen[b.ID] = true
			}
			allFinal = allFinal && b.Final
		}
		checkLake(t, db, lake, truth, runs, true)
		if allFinal {
			break
		}
		m.Advance()
		now = now.Add(24 * time.Hour)
	}
	if runs < 3 {
		t.Errorf("converged after %d runs: the emulator should need several", runs)
	}
	if got := queryString(t, db, "SELECT count(*) FROM "+scan(lake, "balances")+" WHERE raw = '273,50' AND currency = 'RUB' AND balance = 273.5"); got != strconv.Itoa(runs) {
		t.Errorf("%s balance rows, want one per run (%d)", got, runs)
	}
	if fc := m.FaultInjector().Counts(); fc.Error5xx == 0 || fc.Truncate == 0 {
		t.Errorf("faults %+v", fc)
	}
}

// checkLake compares the lake with the ground truth. With exactFinal the
// final flags equal the truth's; without, a final flag in the lake only
// implies the truth's (the emulator knows when its last redial is made, an
// extractor may only conclude it later).
func checkLake(t *testing.T, db *sql.DB, lake *load.Lake, truth []sandbox.MobilgroupBroadcast, run int, exactFinal bool) {
	t.Helper()
	var subs, dated, finals int
	var price, datedPrice, budget int64
	byStatus := map[string]int{}
	for _, b := range truth {
		budget += b.BudgetKopecks
		if b.Final {
			finals++
		}
		for _, s := range b.Subscribers {
			subs++
			price += s.PriceKopecks
			byStatus[s.Code]++
			if !s.Date.IsZero() {
				dated++
				datedPrice += s.PriceKopecks
			}
		}
	}
	money := func(kop int64) string { return model.Money(kop * 100).String() }
	calls, details, broadcasts := scan(lake, "calls"), scan(lake, "mobilgroup_calls"), scan(lake, "mobilgroup_broadcasts")
	checks := []struct{ what, q, want string }{
		{"mobilgroup_calls rows", "SELECT count(*) FROM " + details, strconv.Itoa(subs)},
		{"Σ price", "SELECT CAST(sum(price) AS VARCHAR) FROM " + details, money(price)},
		{"calls rows", "SELECT count(*) FROM " + calls, strconv.Itoa(dated)},
		{"Σ cost", "SELECT CAST(sum(cost) AS VARCHAR) FROM " + calls, money(datedPrice)},
		{"distinct call ids", "SELECT count(DISTINCT call_id) FROM " + calls, strconv.Itoa(dated)},
		{"broadcast rows", "SELECT count(*) FROM " + broadcasts, strconv.Itoa(len(truth))},
		{"final broadcasts", "SELECT count(*) FILTER (WHERE final) FROM " + broadcasts, strconv.Itoa(finals)},
		{"Σ budget", "SELECT CAST(sum(budget) AS VARCHAR) FROM " + broadcasts, money(budget)},
		{"Σ price_total", "SELECT CAST(sum(price_total) AS VARCHAR) FROM " + broadcasts, money(price)},
		{"answered", "SELECT count(*) FROM " + details + " WHERE status = 'answered'", strconv.Itoa(byStatus["answered"])},
		{"pending", "SELECT sum(status_pending) FROM " + broadcasts, strconv.Itoa(byStatus["pending"])},
		{"rejected", "SELECT sum(status_rejected) FROM " + broadcasts, strconv.Itoa(byStatus["rejected"])},
	}
	for _, c := range checks {
		if dated == 0 && strings.Contains(c.q, calls) {
			continue // no calls row yet: DuckDB refuses an empty glob
		}
		if !exactFinal && c.what == "final broadcasts" {
			continue
		}
		if got := queryString(t, db, c.q); got != c.want {
			t.Errorf("run %d: %s = %s, ground truth %s", run, c.what, got, c.want)
		}
	}

	// Row by row: every subscriber's fields and partition.
	rows := map[string]map[string]any{}
	for _, r := range readRows(t, lake, "mobilgroup_calls") {
		rows[fmt.Sprint(r["broadcast_id"], "-", r["seq"])] = r
	}
	canon := map[string]map[string]any{}
	for _, r := range readRows(t, lake, "calls") {
		canon[r["call_id"].(string)] = r
	}
	for _, b := range truth {
		first := ""
		for _, s := range b.Subscribers {
			if d := model.Day(s.Date, Moscow); !s.Date.IsZero() && (first == "" || d < first) {
				first = d
			}
		}
		for _, s := range b.Subscribers {
			key := fmt.Sprintf("%s-%d", b.ID, s.Seq)
			r := rows[key]
			if r == nil {
				t.Fatalf("run %d: %s missing", run, key)
			}
			got := fmt.Sprint(r["phone_raw"], r["status_text"], r["status"], r["attempts"], r["duration_s"], decimal(r["price"]), r["final"])
			want := fmt.Sprint(s.Phone, s.Status, s.Code, int32(s.Attempts), int32(s.Duration), money(s.PriceKopecks), s.Final)
			if !exactFinal && r["final"] == false {
				want = fmt.Sprint(s.Phone, s.Status, s.Code, int32(s.Attempts), int32(s.Duration), money(s.PriceKopecks), false)
			}
			if got != want {
				t.Errorf("run %d: %s: got %s, want %s", run, key, got, want)
			}
			wantDay := first
			if !s.Date.IsZero() {
				wantDay = model.Day(s.Date, Moscow)
			}
			if wantDay != "" && r["date"] != wantDay {
				t.Errorf("run %d: %s: partition %v, want %s", run, key, r["date"], wantDay)
			}
			if tr := s.Transfer; tr != nil {
				if fmt.Sprint(r["transfer_number_raw"], r["transfer_duration_s"], decimal(r["transfer_price"]), r["transfer_status"]) !=
					fmt.Sprint(tr.Number, int32(tr.Duration), money(tr.PriceKopecks), tr.Code) {
					t.Errorf("run %d: %s: transfer %v", run, key, r)
				}
			} else if r["transfer_number"] != nil || r["transfer_price"] != nil {
				t.Errorf("run %d: %s: transfer columns not NULL: %v", run, key, r)
			}
			if sms := s.SMS; sms != nil {
				if fmt.Sprint(r["sms_message"], r["sms_parts"], decimal(r["sms_price"]), r["sms_status"]) !=
					fmt.Sprint(sms.Message, int32(sms.Parts), money(sms.PriceKopecks), sms.Code) {
					t.Errorf("run %d: %s: sms %v", run, key, r)
				}
			} else if r["sms_status"] != nil || r["sms_price"] != nil {
				t.Errorf("run %d: %s: sms columns not NULL: %v", run, key, r)
			}
			c := canon[key]
			if s.Date.IsZero() != (c == nil) {
				t.Fatalf("run %d: %s: date %v but calls row %v", run, key, s.Date, c)
			}
			if c != nil && (c["date"] != r["date"] || c["callee_raw"] != s.Phone || decimal(c["cost"]) != money(s.PriceKopecks) ||
				c["direction"] != "autocall" || c["account"] != "mobilgroup" || c["status"] != s.Status || c["currency"] != "RUB") {
				t.Errorf("run %d: %s: calls row %v", run, key, c)
			}
		}
	}
}

// TestPipelineRedials runs the pipeline every 20 minutes of a shared clock
// against the emulator with redials: subscribers busy or unanswered on an
// attempt show that result, a final-looking word, until their redial,
// which may be answered and charged. A broadcast is never final in the
// lake before its ground truth is (it would never be fetched again and the
// redial's cost would be lost); once the clock is past the last attempt
// and the redial window, a run makes every broadcast final, the lake equals
// the truth, redial costs included, and a re-run asks nothing.
func TestPipelineRedials(t *testing.T) {
	start := time.Date(2025, 3, 10, 10, 0, 0, 0, Moscow)
	clock := &testClock{now: start.Add(-time.Minute)}
	m := sandbox.NewMobilgroup(sandbox.MobilgroupConfig{APIKey: testKey, Seed: 12, Broadcasts: 3,
		SubscribersPerBroadcast: 30, Start: start, Redials: true, Now: clock.Now})
	m.SetFaults(sandbox.Faults{Error5xxEvery: 7, MaxInARow: 3})
	s := NewSource(testClient(t, sandboxServer(t, m), func(c *Config) {
		c.BroadcastIDs = m.IDs()
		c.HTTP.MaxAttempts = 6
	}, nil))
	dir := t.TempDir()
	lake, err := load.Open(filepath.Join(dir, "lake"), load.Options{})
	if err != nil {
		t.Fatal(err)
	}
	st, err := state.Open(filepath.Join(dir, "state"))
	if err != nil {
		t.Fatal(err)
	}
	p := pipeline.New(pipeline.Config{Lake: lake, State: st, Location: Moscow, Now: clock.Now})
	db := openDuckDB(t)
	done := m.LastAttempt().Add(DefaultRedialWindow)

	var looksDone, heldBack int
	for runs := 1; ; runs++ {
		if runs > 40 {
			t.Fatal("did not converge")
		}
		truth := m.Broadcasts()
		sum, err := p.Run(context.Background(), nil, s)
		if err != nil || sum.Err() != nil {
			t.Fatalf("run %d: %v %v", runs, err, sum.Err())
		}
		checkLake(t, db, lake, truth, runs, false)
		lakeFinal := map[string]bool{}
		for _, r := range readRows(t, lake, "mobilgroup_broadcasts") {
			lakeFinal[r["broadcast_id"].(string)] = r["final"].(bool)
		}
		allFinal := true
		for _, b := range truth {
			called := true
			for _, sb := range b.Subscribers {
				called = called && sb.Code != "pending"
			}
			switch {
			case lakeFinal[b.ID] && !b.Final:
				t.Fatalf("run %d at %v: broadcast %s is final in the lake while redials are due", runs, clock.Now(), b.ID)
			case called && !b.Final:
				looksDone++ // every status a result word, a redial still due
			case b.Final && !lakeFinal[b.ID]:
				heldBack++ // done, but the extractor cannot know yet
			}
			allFinal = allFinal && lakeFinal[b.ID]
		}
		if clock.Now().Before(done) {
			clock.Advance(20 * time.Minute)
			continue
		}
		if !allFinal {
			t.Fatalf("run %d at %v, past the last attempt and the redial window: not every broadcast is final: %v", runs, clock.Now(), lakeFinal)
		}
		break
	}
	if looksDone == 0 || heldBack == 0 {
		t.Errorf("%d broadcasts only looked done, %d were held back by the window: the scenario is missing", looksDone, heldBack)
	}
	var redialled, redialKop int64
	for _, b := range m.Broadcasts() {
		for _, sb := range b.Subscribers {
			if sb.Code == "answered" && sb.Attempts > 1 {
				redialled++
				redialKop += sb.PriceKopecks
			}
		}
	}
	got := queryString(t, db, "SELECT count(*) || ' ' || CAST(sum(price) AS VARCHAR) FROM "+scan(lake, "mobilgroup_calls")+
		" WHERE status = 'answered' AND attempts > 1 AND final")
	if want := fmt.Sprint(redialled, " ", model.Money(redialKop*100)); redialled == 0 || redialKop == 0 || got != want {
		t.Errorf("answered on a redial: lake %s, truth %s", got, want)
	}
	before := map[string]int{}
	for _, id := range m.IDs() {
		before[id] = m.StateRequests(id)
	}
	clock.Advance(24 * time.Hour)
	if sum, err := p.Run(context.Background(), nil, s); err != nil || sum.Err() != nil {
		t.Fatal(err, sum.Err())
	}
	for _, id := range m.IDs() {
		if n := m.StateRequests(id) - before[id]; n != 0 {
			t.Errorf("final broadcast %s requested %d times", id, n)
		}
	}
}
