package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/calletl/calletl/load"
	"github.com/calletl/calletl/model"
	"github.com/calletl/calletl/state"
)

// partitionFileCounts returns, per date, the number of Parquet files in
// lake/calls/source=mtt/date=*.
func partitionFileCounts(t *testing.T, w *world) map[string][]string {
	t.Helper()
	dirs, err := filepath.Glob(filepath.Join(w.dir, "lake", "calls", "source=mtt", "date=*"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, d := range dirs {
		files, _ := filepath.Glob(filepath.Join(d, "*.parquet"))
		for _, f := range files {
			out[strings.TrimPrefix(filepath.Base(d), "date=")] = append(out[strings.TrimPrefix(filepath.Base(d), "date=")], filepath.Base(f))
		}
	}
	return out
}

// TestCompactAfterRunAndBackfill: a run with compact_after_run leaves one
// file per partition before the lookback and the unit files inside it, the
// lake equal to the emulator's ground truth; a backfill of an old day, an
// etl compact and a second run keep it equal; --before inside the window
// the next run writes is refused.
func TestCompactAfterRunAndBackfill(t *testing.T) {
	w := newWorld(t, 6, 40, 0, "compact_after_run: true\n")
	check := func(when string) {
		t.Helper()
		lookback := model.Day(time.Now().AddDate(0, 0, -1), msk)
		counts := partitionFileCounts(t, w)
		if len(counts) != 6 {
			t.Fatalf("%s: %d partitions, want 6: %v", when, len(counts), counts)
		}
		for d, files := range counts {
			if d < lookback && (len(files) != 1 || files[0] != load.CompactedFile) {
				t.Errorf("%s: %s (before the lookback) has %q, want only %s", when, d, files, load.CompactedFile)
			}
			if d >= lookback && len(files) != 8 {
				t.Errorf("%s: %s (lookback) has %q, want the 8 unit files", when, d, files)
			}
		}
		w.checkLake(t)
	}
	if code, _, stderr := w.etl("run"); code != exitOK {
		t.Fatalf("run: exit %d\n%s", code, stderr)
	} else if logRecord(t, stderr, "compact summary") == nil {
		t.Errorf("run did not compact:\n%s", stderr)
	}
	check("after the run")

	if code, _, stderr := w.etl("backfill", "--source", "mtt", "--from", w.from, "--to", w.from); code != exitOK {
		t.Fatalf("backfill: exit %d\n%s", code, stderr)
	}
	check("after a backfill of a compacted day")

	if code, _, stderr := w.etl("compact"); code != exitOK {
		t.Fatalf("compact: exit %d\n%s", code, stderr)
	}
	if code, _, stderr := w.etl("run"); code != exitOK {
		t.Fatalf("second run: exit %d\n%s", code, stderr)
	}
	check("after etl compact and a second run")

	today := model.Day(time.Now(), msk)
	if code, _, stderr := w.etl("compact", "--before", today); code != exitUsage || !strings.Contains(stderr, "next run writes") {
		t.Errorf("compact --before today: exit %d, want 2 naming the lookback\n%s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(w.dir, "lake", "calls")); err != nil {
		t.Fatal(err)
	}
}

// TestCompactSparesLaggingStreamDays: a stream whose cursor lags behind the
// lookback makes the next run re-extract from its next day, so etl compact
// leaves those days as unit files, and refuses a --before past them.
func TestCompactSparesLaggingStreamDays(t *testing.T) {
	w := newWorld(t, 6, 20, 0, "")
	if code, _, stderr := w.etl("run"); code != exitOK {
		t.Fatalf("run: exit %d\n%s", code, stderr)
	}
	st, err := state.Open(filepath.Join(w.dir, "state"))
	if err != nil {
		t.Fatal(err)
	}
	first, _ := time.Parse(model.DayLayout, w.from)
	second := first.AddDate(0, 0, 1).Format(model.DayLayout)
	if err := st.SetCursor("mtt/dialed/110011256", state.Cursor{Day: w.from, RunID: "r"}); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := w.etl("compact", "--before", model.Day(time.Now().AddDate(0, 0, -1), msk)); code != exitUsage || !strings.Contains(stderr, second) {
		t.Errorf("compact --before the lookback with a lagging stream: exit %d, want 2 naming %s\n%s", code, second, stderr)
	}
	before := lakeRows(t, w)
	if len(before["calls"]) == 0 || len(before["mtt_calls"]) == 0 || len(before) < 4 {
		t.Fatalf("lake before compaction: %d tables, %d calls", len(before), len(before["calls"]))
	}
	if code, _, stderr := w.etl("compact"); code != exitOK {
		t.Fatalf("compact: exit %d\n%s", code, stderr)
	}
	after := lakeRows(t, w)
	for table, rows := range before {
		if !slices.Equal(after[table], rows) {
			t.Errorf("%s: %d rows after compaction, %d before, or different rows", table, len(after[table]), len(rows))
		}
	}
	if len(after) != len(before) {
		t.Errorf("tables after compaction %d, before %d", len(after), len(before))
	}
	for d, files := range partitionFileCounts(t, w) {
		if want := 8; d == w.from {
			want = 1
			if len(files) != want {
				t.Errorf("%s: %q, want only %s", d, files, load.CompactedFile)
			}
		} else if len(files) != want {
			t.Errorf("%s (the lagging stream re-extracts it): %q, want the 8 unit files", d, files)
		}
	}
	w.checkLake(t)
}

// lakeRows reads every table of the lake with plain DuckDB: per table, each
// row as text, sorted (the multiset of rows).
func lakeRows(t *testing.T, w *world) map[string][]string {
	t.Helper()
	db := duck(t)
	tables, err := os.ReadDir(filepath.Join(w.dir, "lake"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, tb := range tables {
		if !tb.IsDir() || strings.HasPrefix(tb.Name(), ".") {
			continue
		}
		rows, err := db.Query("SELECT * FROM " + w.glob(tb.Name()) + " ORDER BY ALL")
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			out[tb.Name()] = append(out[tb.Name()], fmt.Sprint(vals...))
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
	}
	return out
}
