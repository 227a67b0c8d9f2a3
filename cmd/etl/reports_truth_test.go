package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/calletl/calletl/extract/t2"
	"github.com/calletl/calletl/model"
	"github.com/calletl/calletl/transform"
)

// reportRows runs `etl report NAME --format json` with args and decodes
// its rows, numbers kept as their exact text.
func (w *world) reportRows(t *testing.T, name string, args ...string) []map[string]any {
	t.Helper()
	code, out, stderr := w.etl(append([]string{"report", name, "--format", "json"}, args...)...)
	if code != exitOK {
		t.Fatalf("etl report %s: exit %d\n%s", name, code, stderr)
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(out)))
	dec.UseNumber()
	var rows []map[string]any
	if err := dec.Decode(&rows); err != nil {
		t.Fatalf("etl report %s: %v\n%s", name, err, out)
	}
	return rows
}

// figures is one report row's figures as comparable text: integers as
// they are, money with four decimals, minutes with two.
type figures map[string]string

// minutes is n seconds in minutes rounded to the cent, as the reports'
// CAST(sum(s) / 60 AS DECIMAL(18,2)) computes it (n·100/60 is never a tie).
func minutes(n int64) string { return fmt.Sprintf("%.2f", math.Round(float64(n)*100/60)/100) }

// got reads a report row's columns into figures; money columns are parsed
// exactly and re-formatted with four decimals, so "12.5" equals "12.5000".
func got(t *testing.T, row map[string]any, cols []string, moneyCols ...string) figures {
	t.Helper()
	f := figures{}
	for _, c := range cols {
		v, ok := row[c]
		if !ok {
			t.Fatalf("report row has no column %q: %v", c, row)
		}
		switch x := v.(type) {
		case nil:
			f[c] = "NULL"
		case json.Number:
			f[c] = x.String()
		case string:
			f[c] = x
		case bool:
			f[c] = fmt.Sprint(x)
		default:
			t.Fatalf("column %q: unexpected %T", c, v)
		}
	}
	for _, c := range moneyCols {
		if f[c] == "NULL" {
			continue
		}
		m, err := transform.Money(f[c])
		if err != nil {
			t.Fatalf("column %q: %v", c, err)
		}
		f[c] = m.String()
	}
	return f
}

// compare reports every key whose figures differ, and keys on one side only.
func compare(t *testing.T, report string, gotRows, wantRows map[string]figures) {
	t.Helper()
	for k, want := range wantRows {
		g, ok := gotRows[k]
		if !ok {
			t.Errorf("%s: no row for %s (want %v)", report, k, want)
			continue
		}
		for c, v := range want {
			if g[c] != v {
				t.Errorf("%s %s: %s = %s, ground truth %s", report, k, c, g[c], v)
			}
		}
	}
	for k := range gotRows {
		if _, ok := wantRows[k]; !ok {
			t.Errorf("%s: row %s is not in the ground truth: %v", report, k, gotRows[k])
		}
	}
	if len(wantRows) == 0 {
		t.Errorf("%s: the ground truth is empty: the comparison means nothing", report)
	}
}

// The MTT reports over the lake a run wrote equal figures computed here
// from the emulator's ground truth, not from the lake: daily_summary per
// day and direction, cost_reconciliation per day and account, and
// top_destinations per destination.
func TestReportsEqualMTTGroundTruth(t *testing.T) {
	w := newWorld(t, 3, 250, 1, "")
	if code, _, stderr := w.etl("run"); code != exitOK {
		t.Fatalf("etl run: exit %d\n%s", code, stderr)
	}

	type acc struct {
		calls, answered, billedCalls, talk, billed int64
		cost                                       model.Money
		costWithoutTalk, billedOverTalk            int64
	}
	daily, recon, dest := map[string]*acc{}, map[string]*acc{}, map[string]*acc{}
	get := func(m map[string]*acc, k string) *acc {
		if m[k] == nil {
			m[k] = &acc{}
		}
		return m[k]
	}
	for _, c := range w.emu.Truth() {
		day := model.Day(c.ConnectTime, msk)
		if day < w.from || day > w.to || c.Bad {
			continue
		}
		dir := directionOf[c.Type]
		talk := int64(c.UsedQuantity)
		if c.Type == "missed" {
			talk = 0
		}
		billed, cost := int64(c.ChargedTime), model.Money(c.CostE4)
		for _, a := range []*acc{get(daily, day+"/"+dir), get(recon, day+"/"+c.Customer)} {
			a.calls++
			a.talk += talk
			a.billed += billed
			a.cost += cost
			if talk > 0 {
				a.answered++
			}
			if cost > 0 {
				a.billedCalls++
				if talk == 0 {
					a.costWithoutTalk++
				}
			}
			if billed > talk+60 && billed > 2*talk {
				a.billedOverTalk++
			}
		}
		if c.Destination != "" {
			d := get(dest, c.Destination+"/"+c.Currency)
			d.calls++
			d.billed += billed
			d.cost += cost
		}
	}

	want := map[string]figures{}
	for k, a := range daily {
		want[k] = figures{"calls": fmt.Sprint(a.calls), "answered": fmt.Sprint(a.answered),
			"talk_min": minutes(a.talk), "billed_min": minutes(a.billed), "cost": a.cost.String()}
	}
	rows := map[string]figures{}
	for _, r := range w.reportRows(t, "daily_summary", "--from", w.from, "--to", w.to) {
		f := got(t, r, []string{"date", "source", "direction", "calls", "answered", "talk_min", "billed_min", "cost"}, "cost")
		rows[f["date"]+"/"+f["direction"]] = f
		delete(f, "date")
		delete(f, "direction")
		if f["source"] != "mtt" {
			t.Errorf("daily_summary: source %q", f["source"])
		}
		delete(f, "source")
	}
	compare(t, "daily_summary", rows, want)

	want = map[string]figures{}
	for k, a := range recon {
		want[k] = figures{"calls": fmt.Sprint(a.calls), "billed_calls": fmt.Sprint(a.billedCalls),
			"billed_min": minutes(a.billed), "cost": a.cost.String(), "duplicate_ids": "0",
			"cost_without_talk": fmt.Sprint(a.costWithoutTalk), "billed_over_talk": fmt.Sprint(a.billedOverTalk),
			// Every balance snapshot of this test is taken today: no day has
			// a previous day's balance to move from.
			"balance_movement": "NULL"}
	}
	rows = map[string]figures{}
	for _, r := range w.reportRows(t, "cost_reconciliation", "--from", w.from, "--to", w.to) {
		f := got(t, r, []string{"date", "account", "calls", "billed_calls", "billed_min", "cost", "duplicate_ids",
			"cost_without_talk", "billed_over_talk", "balance_movement"}, "cost")
		rows[f["date"]+"/"+f["account"]] = f
		delete(f, "date")
		delete(f, "account")
	}
	compare(t, "cost_reconciliation", rows, want)

	want = map[string]figures{}
	for k, a := range dest {
		want[k] = figures{"calls": fmt.Sprint(a.calls), "billed_min": minutes(a.billed), "cost": a.cost.String()}
	}
	rows = map[string]figures{}
	for _, r := range w.reportRows(t, "top_destinations", "--from", w.from, "--to", w.to, "--param", "limit=100000") {
		f := got(t, r, []string{"destination", "currency", "calls", "billed_min", "cost"}, "cost")
		rows[f["destination"]+"/"+f["currency"]] = f
		delete(f, "destination")
		delete(f, "currency")
	}
	compare(t, "top_destinations", rows, want)
}

// quantile is DuckDB's quantile_cont: linear interpolation between the
// sorted values around position q·(n−1).
func quantile(sorted []float64, q float64) float64 {
	pos := q * float64(len(sorted)-1)
	lo := math.Floor(pos)
	hi := math.Ceil(pos)
	return sorted[int(lo)] + (pos-lo)*(sorted[int(hi)]-sorted[int(lo)])
}

// The T2 reports over the lake a run wrote equal figures computed from the
// emulator's ground truth: missed_calls per day, hour and multichannel
// number (missed calls, distinct callers, wait p50/p90, callers nobody
// called back within two hours) and agent_activity per employee.
func TestReportsEqualT2GroundTruth(t *testing.T) {
	w, emu, _, _ := newT2World(t, 250, 60)
	if code, _, stderr := w.etl("run"); code != exitOK {
		t.Fatalf("etl run: exit %d\n%s", code, stderr)
	}
	in := func(ts time.Time) bool { d := model.Day(ts, msk); return d >= w.from && d <= w.to }

	// Outgoing calls by callee, for the callback rule.
	callbacks := map[string][]time.Time{}
	for _, c := range emu.Calls() {
		if in(c.Timestamp) && t2.Direction(c.CallType, c.Answered()) == model.Outgoing {
			callee := transform.Phone(c.CalleeNumber)
			callbacks[callee] = append(callbacks[callee], c.Timestamp)
		}
	}
	calledBack := func(caller string, at time.Time) bool {
		for _, ts := range callbacks[caller] {
			if !ts.Before(at) && ts.Before(at.Add(2*time.Hour)) {
				return true
			}
		}
		return false
	}
	type group struct {
		missed         int
		callers, alone map[string]bool
		waits          []float64
	}
	groups := map[string]*group{}
	for _, m := range emu.Missed() {
		if !in(m.StartDate) {
			continue
		}
		local := m.StartDate.In(msk)
		k := fmt.Sprintf("%s/%02d/%s", model.Day(m.StartDate, msk), local.Hour(), transform.Phone(m.DestinationNumber))
		g := groups[k]
		if g == nil {
			g = &group{callers: map[string]bool{}, alone: map[string]bool{}}
			groups[k] = g
		}
		caller := transform.Phone(m.CallerNumber)
		g.missed++
		g.callers[caller] = true
		if !calledBack(caller, m.StartDate) {
			g.alone[caller] = true
		}
		g.waits = append(g.waits, float64(m.WaitDuration))
	}
	want := map[string]figures{}
	for k, g := range groups {
		slices.Sort(g.waits)
		want[k] = figures{"missed": fmt.Sprint(g.missed), "callers": fmt.Sprint(len(g.callers)),
			"not_called_back": fmt.Sprint(len(g.alone)),
			"wait_p50_s":      fmt.Sprintf("%.6f", quantile(g.waits, 0.5)), "wait_p90_s": fmt.Sprintf("%.6f", quantile(g.waits, 0.9))}
	}
	rows := map[string]figures{}
	for _, r := range w.reportRows(t, "missed_calls", "--from", w.from, "--to", w.to) {
		f := got(t, r, []string{"date", "hour", "mcn_number", "missed", "callers", "not_called_back", "wait_p50_s", "wait_p90_s"})
		for _, c := range []string{"wait_p50_s", "wait_p90_s"} {
			v, err := strconv.ParseFloat(f[c], 64)
			if err != nil {
				t.Fatalf("missed_calls %s = %q: %v", c, f[c], err)
			}
			f[c] = fmt.Sprintf("%.6f", v)
		}
		if len(f["hour"]) < 13 {
			t.Fatalf("missed_calls hour %q", f["hour"])
		}
		rows[f["date"]+"/"+f["hour"][11:13]+"/"+f["mcn_number"]] = f
		for _, c := range []string{"date", "hour", "mcn_number"} {
			delete(f, c)
		}
	}
	compare(t, "missed_calls", rows, want)
	// missed_calls declares a chart: its HTML page draws one line per
	// multichannel number.
	code, page, stderr := w.etl("report", "missed_calls", "--format", "html")
	if code != exitOK || !strings.Contains(page, "<svg") || strings.Count(page, "<polyline") != 2 {
		t.Errorf("missed_calls --format html: exit %d, want an SVG chart with 2 lines\n%s", code, stderr)
	}

	// agent_activity: the call records touching each employee's numbers.
	want = map[string]figures{}
	for _, e := range emu.EmployeeList() {
		mine := func(n string) bool { return n != "" && (n == e.FullNumber || n == e.ShortNumber) }
		var calls, answered, missed, talk int64
		for _, c := range emu.Calls() {
			if !in(c.Timestamp) {
				continue
			}
			offered := mine(c.CalleeNumber)
			if !offered && !mine(c.CallerNumber) {
				continue
			}
			calls++
			conv := max(c.ConversationDuration, 0)
			if conv > 0 {
				answered++
			}
			if offered && conv == 0 {
				missed++
			}
			talk += int64(conv)
		}
		want[e.EmployeeID] = figures{"calls": fmt.Sprint(calls), "answered": fmt.Sprint(answered),
			"missed": fmt.Sprint(missed), "talk_min": minutes(talk)}
	}
	rows = map[string]figures{}
	for _, r := range w.reportRows(t, "agent_activity", "--from", w.from, "--to", w.to) {
		f := got(t, r, []string{"employee_id", "calls", "answered", "missed", "talk_min"})
		rows[f["employee_id"]] = f
		delete(f, "employee_id")
	}
	compare(t, "agent_activity", rows, want)
}
