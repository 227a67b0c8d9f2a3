package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"testing"

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

func money(m model.Money) string { return m.String() }

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
		f[c] = money(m)
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
			"talk_min": minutes(a.talk), "billed_min": minutes(a.billed), "cost": money(a.cost)}
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
			"billed_min": minutes(a.billed), "cost": money(a.cost), "duplicate_ids": "0",
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
		want[k] = figures{"calls": fmt.Sprint(a.calls), "billed_min": minutes(a.billed), "cost": money(a.cost)}
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
