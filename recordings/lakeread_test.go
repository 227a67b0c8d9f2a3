package recordings

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/calletl/calletl/load"
	"github.com/calletl/calletl/model"
	"github.com/calletl/calletl/report"
)

// The reports and the recordings backlog read the same rows of a lake:
// one with a compacted partition, an empty table (the manifest: no
// recording fetched yet) and, case by case, a file that is not a data file
// of the table although it ends in .parquet or holds Parquet: those must
// be read by neither.
func TestReportsAndBacklogReadTheSameRows(t *testing.T) {
	const d1, d2 = "2026-01-10", "2026-01-11"
	// stray writes, under the lake root, a copy of a Parquet file holding
	// the one call "stray" of date d2 (or, with junk, bytes that are no
	// Parquet at all).
	for _, tc := range []struct {
		name  string
		stray string // path under the root; "" for none
		junk  bool
	}{
		{name: "compacted partition, empty table"},
		{name: "temporary file of a transaction", stray: "calls/source=mtt/date=" + d2 + "/.u9.parquet.ABCDEF.tmp"},
		{name: "hidden parquet file", stray: "calls/source=mtt/date=" + d2 + "/.u9.parquet"},
		{name: "macOS AppleDouble file", stray: "calls/source=mtt/date=" + d2 + "/._u3.parquet", junk: true},
		{name: "parquet deeper in a partition", stray: "calls/source=mtt/date=" + d2 + "/old/u9.parquet"},
		{name: "parquet in a hidden directory of the table", stray: "calls/.trash/source=mtt/date=" + d2 + "/u9.parquet"},
		{name: "parquet in the table's directory", stray: "calls/u9.parquet"},
		{name: "compaction staging directory", stray: ".compact.XYZ.tmp/calls/source=mtt/date=" + d2 + "/u9.parquet"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			root := filepath.Join(t.TempDir(), "lake")
			lake, err := load.Open(root, load.Options{})
			if err != nil {
				t.Fatal(err)
			}
			writeCalls(t, lake, "u1", d1, "a1", "a2")
			writeCalls(t, lake, "u2", d1, "a3")
			writeCalls(t, lake, "u3", d2, "b1")
			st, err := lake.Compact(ctx, d2)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(filepath.Join(root, "calls", "source=mtt", "date="+d1, load.CompactedFile)); err != nil {
				t.Fatalf("no compacted partition (%+v): %v", st, err)
			}
			if tc.stray != "" {
				dst := filepath.Join(root, filepath.FromSlash(tc.stray))
				if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
					t.Fatal(err)
				}
				var b []byte
				if tc.junk {
					b = []byte("\x00\x05\x16\x07 Mac OS X resource fork, no Parquet")
				} else {
					other, err := load.Open(filepath.Join(t.TempDir(), "other"), load.Options{})
					if err != nil {
						t.Fatal(err)
					}
					writeCalls(t, other, "u9", d2, "stray")
					if b, err = os.ReadFile(filepath.Join(other.Root(), "calls", "source=mtt", "date="+d2, "u9.parquet")); err != nil {
						t.Fatal(err)
					}
				}
				if err := os.WriteFile(dst, b, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want := []string{"mtt " + d1 + " a1", "mtt " + d1 + " a2", "mtt " + d1 + " a3", "mtt " + d2 + " b1"}

			calls, err := pending(ctx, root, []string{"mtt"}, nil, 3)
			if err != nil {
				t.Fatalf("backlog: %v", err)
			}
			var backlog []string
			for _, c := range calls {
				if c.Attempts != 0 || c.LastState != "" {
					t.Errorf("backlog: %s has an attempt %d %q in an empty manifest", c.CallID, c.Attempts, c.LastState)
				}
				backlog = append(backlog, c.Source+" "+c.Date+" "+c.CallID)
			}

			e, err := report.Open(ctx, report.Options{Lake: root, TimeZone: "UTC",
				Tables: []load.TableInfo{load.Calls.Info(), Manifest.Info()}})
			if err != nil {
				t.Fatalf("reports: %v", err)
			}
			defer e.Close()
			res, err := e.Query(ctx, report.Report{Name: "same_rows", Title: "calls with a recording", SQL: `
				SELECT source || ' ' || strftime(date, '%Y-%m-%d') || ' ' || call_id
				FROM calls WHERE has_recording AND recording_ref <> '' ORDER BY date, source, call_id`}, nil)
			if err != nil {
				t.Fatalf("reports: %v", err)
			}
			var reports []string
			for _, r := range res.Rows {
				reports = append(reports, fmt.Sprint(r[0]))
			}
			res, err = e.Query(ctx, report.Report{Name: "manifest", Title: "manifest rows",
				SQL: "SELECT count(*) FROM " + Manifest.Name}, nil)
			if err != nil {
				t.Fatalf("reports: the empty table: %v", err)
			}
			if n := fmt.Sprint(res.Rows[0][0]); n != "0" {
				t.Errorf("reports: the empty table has %s rows", n)
			}

			if !slices.Equal(reports, backlog) {
				t.Errorf("the reports and the backlog disagree:\nreports %q\nbacklog %q", reports, backlog)
			}
			if !slices.Equal(reports, want) {
				t.Errorf("reports read %q, want %q", reports, want)
			}
			if !slices.Equal(backlog, want) {
				t.Errorf("backlog read %q, want %q", backlog, want)
			}
		})
	}
}

// writeCalls commits one call with a recording per id, and one without,
// as unit of source mtt on date.
func writeCalls(t *testing.T, lake *load.Lake, unit, date string, ids ...string) {
	t.Helper()
	tx, err := lake.Begin("mtt", unit)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Abort()
	w := load.Writer(tx, load.Calls)
	for _, id := range ids {
		if err := w.Add(date, &model.Call{Source: "mtt", Date: date, Account: "acc", CallID: id,
			Direction: model.Outgoing, HasRecording: true, RecordingRef: "ref-" + id, RunID: "extract"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Add(date, &model.Call{Source: "mtt", Date: date, CallID: "no-rec-" + unit, Direction: model.Incoming}); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}
