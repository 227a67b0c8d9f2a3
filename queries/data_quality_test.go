package queries_test

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/calletl/calletl/load"
	"github.com/calletl/calletl/model"
	"github.com/calletl/calletl/queries"
	"github.com/calletl/calletl/recordings"
	"github.com/calletl/calletl/report"
)

// dqLake writes a lake through package load, October 2026 (UTC):
//   - mtt/A: 50 calls a day, 3 on the 20th (calls_low), 2 rejects on the
//     15th (reject_rate), one priced call without talk on the 17th
//     (cost_without_talk); its stream dialed loaded rows every night until
//     a run on the 21st committed the 19th and 20th with no row
//     (stream_zero_rows);
//   - mtt/B: 50 calls a day, none on the 21st, a day its stream committed
//     (calls_low at 0);
//   - mtt/C: 5 calls a day, none on the 21st: below min_baseline, no finding;
//   - t2/T: 20 recorded calls a day, all stored but 5 on the 19th
//     (recording_coverage_drop).
func dqLake(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	lake, err := load.Open(dir, load.Options{})
	if err != nil {
		t.Fatal(err)
	}
	day := func(d int) string { return fmt.Sprintf("2026-10-%02d", d) }
	at := func(d, h int) time.Time { return time.Date(2026, 10, d, h, 0, 0, 0, time.UTC) }
	money := func(m model.Money) sql.Null[model.Money] { return sql.Null[model.Money]{V: m, Valid: true} }
	secs := func(s int32) sql.Null[int32] { return sql.Null[int32]{V: s, Valid: true} }

	tx, err := lake.Begin("mtt", "calls")
	if err != nil {
		t.Fatal(err)
	}
	calls := load.Writer(tx, load.Calls)
	rejects := load.Writer(tx, load.Rejects)
	add := func(source, account string, d, n int, edit func(*model.Call)) {
		for i := range n {
			c := &model.Call{Source: source, Date: day(d), Account: account, CallID: fmt.Sprintf("%s-%d-%d", account, d, i),
				Direction: model.Outgoing, StartedAt: at(d, 10), TalkS: secs(60), Cost: money(10000), Currency: "RUB"}
			if edit != nil {
				edit(c)
			}
			if err := calls.Add(day(d), c); err != nil {
				t.Fatal(err)
			}
		}
	}
	for d := 1; d <= 22; d++ {
		switch d {
		case 20:
			add("mtt", "A", d, 3, nil)
		case 17:
			add("mtt", "A", d, 49, nil)
			add("mtt", "A", d, 1, func(c *model.Call) { c.CallID, c.TalkS = "free-talk", sql.Null[int32]{} })
		default:
			add("mtt", "A", d, 50, nil)
		}
		if d != 21 {
			add("mtt", "B", d, 50, nil)
			add("mtt", "C", d, 5, nil)
		}
	}
	for i := range 2 {
		if err := rejects.Add(day(15), &model.Reject{Source: "mtt", Date: day(15), Stream: "dialed", Account: "A", Reason: fmt.Sprint("bad ", i)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := tx.Commit(); err != nil {
		t.Fatal(err)
	}

	tx, err = lake.Begin("mtt", "runs")
	if err != nil {
		t.Fatal(err)
	}
	runs := load.Writer(tx, load.Runs)
	run := func(r model.RunStream) {
		r.Source, r.Date, r.Mode, r.FinishedAt = "mtt", model.Day(r.StartedAt, time.UTC), "run", r.StartedAt.Add(time.Minute)
		if r.Status == "" {
			r.Status = model.RunOK
		}
		if err := runs.Add(r.Date, &r); err != nil {
			t.Fatal(err)
		}
	}
	for _, acct := range []string{"A", "B", "C"} { // the history, one backfill
		run(model.RunStream{RunID: "b", Stream: "all", Account: acct, StartedAt: at(1, 0), FirstDay: day(1), LastDay: day(22), Windows: 22, Rows: 1000})
	}
	for d := 10; d <= 19; d++ {
		run(model.RunStream{RunID: fmt.Sprint("n", d), Stream: "dialed", Account: "A", StartedAt: at(d+1, 1), FirstDay: day(d - 1), LastDay: day(d), Windows: 2, Rows: 100})
	}
	run(model.RunStream{RunID: "n20", Stream: "dialed", Account: "A", StartedAt: at(21, 1), FirstDay: day(19), LastDay: day(20), Windows: 2})
	// A failed run's empty stream is no zero-rows finding: it did not finish.
	run(model.RunStream{RunID: "n21", Stream: "dialed", Account: "B", StartedAt: at(21, 1), FirstDay: day(20), LastDay: day(21), Windows: 1, Status: model.RunFailed})
	if _, err := tx.Commit(); err != nil {
		t.Fatal(err)
	}

	tx, err = lake.Begin("t2", "calls")
	if err != nil {
		t.Fatal(err)
	}
	calls = load.Writer(tx, load.Calls)
	days := load.Writer(tx, recordings.Days)
	for d := 1; d <= 22; d++ {
		add("t2", "T", d, 20, func(c *model.Call) { c.HasRecording = true })
		stored := int64(20)
		if d == 19 {
			stored = 5
		}
		if err := days.Add(day(d), &recordings.Day{Source: "t2", Date: day(d), CallsAttempted: 20, Stored: stored, UpdatedAt: at(d, 3)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	return dir
}

// Each check finds its planted fault on its day and nothing else, and the
// parameters move the thresholds.
func TestDataQualityReport(t *testing.T) {
	lake := dqLake(t)
	ctx := context.Background()
	eng, err := report.Open(ctx, report.Options{Lake: lake, TimeZone: "UTC", Tables: append(load.CanonicalTables(), recordings.Tables()...)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	r, err := report.Find(queries.FS(), "data_quality")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args map[string]string
		want []string // "date source account stream finding observed expected"
	}{
		{"defaults", map[string]string{"from": "2026-10-01", "to": "2026-10-22"}, []string{
			"2026-10-15 mtt A - reject_rate 0.0385 0.01",
			"2026-10-17 mtt A - cost_without_talk 1 0",
			"2026-10-19 t2  - recording_coverage_drop 0.25 1",
			"2026-10-20 mtt A - calls_low 3 50",
			"2026-10-20 mtt A dialed stream_zero_rows 0 1000",
			"2026-10-21 mtt B - calls_low 0 50",
		}},
		{"only the last days", map[string]string{"from": "2026-10-20", "to": "2026-10-22"}, []string{
			"2026-10-20 mtt A - calls_low 3 50",
			"2026-10-20 mtt A dialed stream_zero_rows 0 1000",
			"2026-10-21 mtt B - calls_low 0 50",
		}},
		{"looser thresholds", map[string]string{"from": "2026-10-01", "to": "2026-10-22", "low_ratio": "0.01",
			"max_reject_rate": "0.05", "max_cost_without_talk": "1", "coverage_drop": "0.8"}, []string{
			"2026-10-20 mtt A dialed stream_zero_rows 0 1000",
			"2026-10-21 mtt B - calls_low 0 50",
		}},
		{"min_baseline above every account and stream", map[string]string{"from": "2026-10-01", "to": "2026-10-22", "low_ratio": "0.01",
			"max_reject_rate": "0.05", "max_cost_without_talk": "1", "coverage_drop": "0.8", "min_baseline": "2000"}, nil},
		{"small accounts are checked when min_baseline allows", map[string]string{"from": "2026-10-21", "to": "2026-10-21", "min_baseline": "5"}, []string{
			"2026-10-21 mtt B - calls_low 0 50",
			"2026-10-21 mtt C - calls_low 0 5",
		}},
		{"a baseline of one week has one sample", map[string]string{"from": "2026-10-20", "to": "2026-10-20", "baseline_days": "7"}, []string{
			"2026-10-20 mtt A - calls_low 3 50",
			"2026-10-20 mtt A dialed stream_zero_rows 0 700",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := eng.Query(ctx, r, tt.args)
			if err != nil {
				t.Fatal(err)
			}
			if want := []string{"date", "source", "account", "stream", "finding", "observed", "expected", "detail"}; !slices.Equal(res.Columns, want) {
				t.Fatalf("columns %v, want %v", res.Columns, want)
			}
			var got []string
			for _, row := range res.Rows {
				f := make([]string, 7)
				for i := range f {
					switch v := row[i].(type) {
					case nil:
						f[i] = "-"
					case time.Time:
						f[i] = v.Format(model.DayLayout)
					default:
						f[i] = fmt.Sprint(v)
					}
				}
				if d, _ := row[7].(string); d == "" {
					t.Errorf("row %v has no detail", row)
				}
				got = append(got, strings.Join(f, " "))
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("findings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}
