package load_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/calletl/calletl/load"
	"github.com/calletl/calletl/model"
)

// The compaction fixture: sources mtt and t2, units u0..u4 each writing
// calls to days 2026-11-01..05, rows told apart by account = unit.
var compactDays = []string{"2026-11-01", "2026-11-02", "2026-11-03", "2026-11-04", "2026-11-05"}

const compactBefore = "2026-11-04" // 01..03 are compacted, 04 and 05 are the lookback

// unitCalls returns n calls of unit on date, numbered from base.
func unitCalls(source, unit, date string, base, n int) []model.Call {
	calls := make([]model.Call, n)
	for i := range calls {
		calls[i] = syntheticCall(base+i, date)
		calls[i].Source, calls[i].Account = source, unit
		calls[i].CallID = fmt.Sprintf("%s-%s-%d", unit, date, base+i)
	}
	return calls
}

// fillCompactLake writes the fixture into lake: unit k has 3+k rows a day.
func fillCompactLake(t testing.TB, lake *load.Lake) {
	t.Helper()
	for _, source := range []string{"mtt", "t2"} {
		for k := range 5 {
			unit := fmt.Sprintf("u%d", k)
			var calls []model.Call
			for _, d := range compactDays {
				calls = append(calls, unitCalls(source, unit, d, 100*k, 3+k)...)
			}
			writeCalls(t, lake, source, unit, calls)
		}
	}
}

// tableRows returns every row of table as DuckDB reads the lake, each row
// rendered as text, sorted: equal results mean the same multiset of rows.
func tableRows(t testing.TB, db *sql.DB, root, table string) []string {
	t.Helper()
	if len(lakeFiles(t, filepath.Join(root, table))) == 0 {
		return nil
	}
	rows, err := db.Query("SELECT * FROM " + scan(root, table) + " ORDER BY ALL")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		for i, v := range vals {
			fmt.Fprintf(&b, "%s=%v|", cols[i], v)
		}
		out = append(out, b.String())
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// sameRows fails the test when got and want differ, naming a few rows.
func sameRows(t testing.TB, what string, got, want []string) {
	t.Helper()
	if slices.Equal(got, want) {
		return
	}
	var missing, extra []string
	for _, w := range want {
		if !slices.Contains(got, w) {
			missing = append(missing, w)
		}
	}
	for _, g := range got {
		if !slices.Contains(want, g) {
			extra = append(extra, g)
		}
	}
	first := func(s []string) string {
		if len(s) == 0 {
			return ""
		}
		return s[0]
	}
	t.Fatalf("%s: %d rows, want %d; %d missing (first %q), %d extra (first %q)",
		what, len(got), len(want), len(missing), first(missing), len(extra), first(extra))
}

// partitionFiles lists the committed and temporary files of a partition.
func partitionFiles(t testing.TB, root, table, source, date string) []string {
	t.Helper()
	return lakeFiles(t, filepath.Join(root, table, "source="+source, "date="+date))
}

// stagingDirs lists leftover compaction staging directories of the lake.
func stagingDirs(t testing.TB, root string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(root, ".compact.*"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// reopen opens the lake again as the next process would: the same root,
// or the same store and prefix with the same spool.
func reopen(t *testing.T, lake *load.Lake, opts load.Options) *load.Lake {
	t.Helper()
	if lake.Store() != nil {
		opts.Store, opts.Prefix = lake.Store(), strings.TrimSuffix(lake.Prefix(), "/")
	}
	l, err := load.Open(lake.Root(), opts)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// stamp identifies the version of a committed file: its size and mtime on
// a local lake, its ETag in a store.
func stamp(t *testing.T, lake *load.Lake, rel string) string {
	t.Helper()
	if st := lake.Store(); st != nil {
		info, err := st.Stat(context.Background(), lake.Prefix()+rel)
		if err != nil {
			t.Fatal(err)
		}
		return info.ETag
	}
	fi, err := os.Stat(filepath.Join(lake.Root(), filepath.FromSlash(rel)))
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprint(fi.Size(), fi.ModTime().UnixNano())
}

// leftovers lists what a finished compaction must not leave: staging
// directories in the lake root (or spool), and compaction markers in a
// store.
func leftovers(t *testing.T, lake *load.Lake) []string {
	t.Helper()
	left := stagingDirs(t, lake.Root())
	if st := lake.Store(); st != nil {
		left = append(left, storeKeys(t, st, lake.Prefix()+"_calletl/")...)
	}
	return left
}

func TestCompactKeepsRowsAndLookback(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) { testCompactKeepsRowsAndLookback(t, b) })
	}
}

func testCompactKeepsRowsAndLookback(t *testing.T, b backend) {
	lake := b.open(t, load.Options{})
	fillCompactLake(t, lake)
	db := openDuckDB(t)
	root := b.read(t, lake)
	want := tableRows(t, db, root, "calls")
	lookback := map[string]string{}
	for _, source := range []string{"mtt", "t2"} {
		for _, d := range compactDays[3:] {
			for _, f := range partitionFiles(t, root, "calls", source, d) {
				rel := "calls/source=" + source + "/date=" + d + "/" + f
				lookback[rel] = stamp(t, lake, rel)
			}
		}
	}

	st, err := lake.Compact(context.Background(), compactBefore)
	if err != nil {
		t.Fatal(err)
	}
	if st.Partitions != 6 || st.FilesBefore != 30 || st.Rows != 2*3*(3+4+5+6+7) || len(st.Skipped) != 0 {
		t.Errorf("stats %+v, want 6 partitions of 30 files, %d rows", st, 2*3*(3+4+5+6+7))
	}
	root = b.read(t, lake)
	sameRows(t, "after compaction", tableRows(t, db, root, "calls"), want)
	for _, source := range []string{"mtt", "t2"} {
		for _, d := range compactDays[:3] {
			if got := partitionFiles(t, root, "calls", source, d); !slices.Equal(got, []string{load.CompactedFile}) {
				t.Errorf("%s %s: files %q, want only %s", source, d, got, load.CompactedFile)
			}
		}
		for _, d := range compactDays[3:] {
			if got := partitionFiles(t, root, "calls", source, d); len(got) != 5 || slices.Contains(got, load.CompactedFile) {
				t.Errorf("%s %s (inside the lookback): files %q, want the 5 unit files untouched", source, d, got)
			}
		}
	}
	for rel, was := range lookback {
		if now := stamp(t, lake, rel); now != was {
			t.Errorf("%s was rewritten (%s → %s)", rel, was, now)
		}
	}
	if s := leftovers(t, lake); len(s) != 0 {
		t.Errorf("left behind: %q", s)
	}
	// Plain DuckDB without union_by_name reads the compacted and the unit
	// files together: the columns did not change.
	glob := filepath.ToSlash(filepath.Join(root, "calls")) + "/**/*.parquet"
	if n := queryInt(t, db, "SELECT count(*) FROM read_parquet('"+glob+"', hive_partitioning=true)"); n != int64(len(want)) {
		t.Errorf("plain read_parquet: %d rows, want %d", n, len(want))
	}

	// Again: nothing left to do, nothing changes.
	st, err = lake.Compact(context.Background(), compactBefore)
	if err != nil || st.Partitions != 0 {
		t.Errorf("second compaction: %+v, %v; want nothing done", st, err)
	}
	sameRows(t, "after a second compaction", tableRows(t, db, b.read(t, lake), "calls"), want)
}

// TestBackfillIntoCompacted writes units into compacted partitions and
// checks the lake against a twin lake that got the same transactions and
// was never compacted.
func TestBackfillIntoCompacted(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) { testBackfillIntoCompacted(t, b) })
	}
}

func testBackfillIntoCompacted(t *testing.T, b backend) {
	type write struct {
		unit  string
		calls func() []model.Call
		cover []string
	}
	cases := []struct {
		name   string
		writes []write
		files  map[string]int // date → files in mtt's partition afterwards
	}{
		{"unit re-extracted with other rows", []write{{"u1", func() []model.Call { return unitCalls("mtt", "u1", "2026-11-02", 900, 11) }, nil}},
			map[string]int{"2026-11-02": 1}},
		{"unit re-extracted with no rows", []write{{"u1", func() []model.Call { return nil }, []string{"2026-11-02"}}},
			map[string]int{"2026-11-02": 1}},
		{"unit re-extracted with the same rows", []write{{"u3", func() []model.Call { return unitCalls("mtt", "u3", "2026-11-01", 300, 6) }, nil}},
			map[string]int{"2026-11-01": 1}},
		{"new unit in a compacted day", []write{{"u9", func() []model.Call { return unitCalls("mtt", "u9", "2026-11-03", 0, 4) }, nil}},
			map[string]int{"2026-11-03": 2}},
		{"unit across a compacted and a lookback day", []write{{"u2", func() []model.Call {
			return append(unitCalls("mtt", "u2", "2026-11-01", 700, 2), unitCalls("mtt", "u2", "2026-11-05", 700, 2)...)
		}, []string{"2026-11-02"}}},
			map[string]int{"2026-11-01": 1, "2026-11-02": 1, "2026-11-05": 5}},
		{"every unit emptied", []write{
			{"u0", func() []model.Call { return nil }, []string{"2026-11-03"}},
			{"u1", func() []model.Call { return nil }, []string{"2026-11-03"}},
			{"u2", func() []model.Call { return nil }, []string{"2026-11-03"}},
			{"u3", func() []model.Call { return nil }, []string{"2026-11-03"}},
			{"u4", func() []model.Call { return nil }, []string{"2026-11-03"}},
		}, map[string]int{"2026-11-03": 0}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			twinRoot := t.TempDir()
			// Tiny batches and row groups: units straddle both when the
			// compacted file is copied.
			lake := b.open(t, load.Options{BatchRows: 3, RowGroupRows: 7})
			twin, err := load.Open(twinRoot, load.Options{})
			if err != nil {
				t.Fatal(err)
			}
			fillCompactLake(t, lake)
			fillCompactLake(t, twin)
			if _, err := lake.Compact(context.Background(), compactBefore); err != nil {
				t.Fatal(err)
			}
			db := openDuckDB(t)
			for _, w := range tc.writes {
				s1 := writeCalls(t, lake, "mtt", w.unit, w.calls(), w.cover...)
				s2 := writeCalls(t, twin, "mtt", w.unit, w.calls(), w.cover...)
				if !slices.Equal(s1.Dates, s2.Dates) || s1.Rows["calls"] != s2.Rows["calls"] {
					t.Errorf("%s: stats %+v, uncompacted twin %+v", w.unit, s1, s2)
				}
			}
			want := tableRows(t, db, twinRoot, "calls")
			root := b.read(t, lake)
			sameRows(t, "after the writes", tableRows(t, db, root, "calls"), want)
			for d, n := range tc.files {
				got := partitionFiles(t, root, "calls", "mtt", d)
				if lake.Store() != nil && n == 0 {
					n = 1 // a store keeps an emptied compacted object, with no rows (storeReplaceInCompacted)
				}
				if len(got) != n {
					t.Errorf("%s: files %q, want %d", d, got, n)
				}
			}
			// Compacting again folds new unit files in; still the same rows.
			if _, err := lake.Compact(context.Background(), compactBefore); err != nil {
				t.Fatal(err)
			}
			root = b.read(t, lake)
			sameRows(t, "after compacting again", tableRows(t, db, root, "calls"), want)
			for _, d := range compactDays[:3] {
				if got := partitionFiles(t, root, "calls", "mtt", d); len(got) > 1 {
					t.Errorf("%s after compacting again: files %q", d, got)
				}
			}
		})
	}
}

// atMostTwice fails the test unless got holds every row of want and no
// row more than twice, and nothing else: what a listing of a store lake
// may see while a compaction is interrupted between the upload of the
// compacted object and the deletes of the unit objects.
func atMostTwice(t *testing.T, what string, got, want []string) {
	t.Helper()
	n := map[string]int{}
	for _, r := range got {
		n[r]++
	}
	for _, r := range want {
		if n[r] == 0 {
			t.Fatalf("%s: row missing: %q", what, r)
		}
	}
	for r, c := range n {
		if c > 2 || !slices.Contains(want, r) {
			t.Fatalf("%s: row %q seen %d times, want once or twice (and only rows of the lake)", what, r, c)
		}
	}
}

// TestCompactCrash stops a compaction, or a replacement inside a compacted
// file, after each step, either with an error (the step cleans up) or as a
// kill (nothing cleaned up). A local lake must read every row exactly once
// at once; a store lake may show a partition's rows twice (never miss one)
// until the interrupted compaction is finished, which the next whole run
// (FinishCompactions) or compaction does. After that, every row exactly
// once.
func TestCompactCrash(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) { testCompactCrash(t, b) })
	}
}

func testCompactCrash(t *testing.T, b backend) {
	type stepCase struct {
		step string
		kill bool
	}
	var cases []stepCase
	steps := []string{"compact-staged", "compact-exchanged", "merge-written"}
	if b.name != "local" {
		steps = []string{"compact-marked", "compact-uploaded", "compact-deleted", "merge-written"}
	}
	for _, s := range steps {
		cases = append(cases, stepCase{s, false}, stepCase{s, true})
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%s kill=%v", tc.step, tc.kill), func(t *testing.T) {
			lake := b.open(t, load.Options{})
			fillCompactLake(t, lake)
			db := openDuckDB(t)
			before := tableRows(t, db, b.read(t, lake), "calls")
			stop := errors.New("stop here")
			if tc.kill {
				stop = load.ErrSimulatedKill
			}
			fail := func(step string) error {
				if step == tc.step {
					return stop
				}
				return nil
			}
			newCalls := unitCalls("mtt", "u1", "2026-11-02", 900, 11)

			if tc.step != "merge-written" {
				load.SetStepHook(lake, fail)
				if _, err := lake.Compact(context.Background(), compactBefore); !errors.Is(err, stop) {
					t.Fatalf("compact: %v, want the step's error", err)
				}
				got := tableRows(t, db, b.read(t, lake), "calls")
				if lake.Store() != nil {
					atMostTwice(t, "right after the stop", got, before)
				} else {
					sameRows(t, "right after the stop", got, before)
				}
				if s := stagingDirs(t, lake.Root()); len(s) != 0 && !tc.kill {
					t.Errorf("staging left after an error: %q", s)
				}
			} else {
				if _, err := lake.Compact(context.Background(), compactBefore); err != nil {
					t.Fatal(err)
				}
				load.SetStepHook(lake, fail)
				tx, err := lake.Begin("mtt", "u1")
				if err != nil {
					t.Fatal(err)
				}
				w := load.Writer(tx, load.Calls)
				for i := range newCalls {
					if err := w.Add(newCalls[i].Date, &newCalls[i]); err != nil {
						t.Fatal(err)
					}
				}
				if _, err := tx.Commit(); !errors.Is(err, stop) {
					t.Fatalf("commit: %v, want the step's error", err)
				}
				sameRows(t, "right after the stop", tableRows(t, db, b.read(t, lake), "calls"), before)
			}

			// The next process: a new Lake on the same root or store. A
			// whole run finishes an interrupted compaction first.
			lake2 := reopen(t, lake, load.Options{})
			if _, err := lake2.FinishCompactions(context.Background()); err != nil {
				t.Fatal(err)
			}
			want := before
			if tc.step == "merge-written" {
				writeCalls(t, lake2, "mtt", "u1", newCalls) // the re-run of the window
				twinRoot := t.TempDir()
				twin, _ := load.Open(twinRoot, load.Options{})
				fillCompactLake(t, twin)
				writeCalls(t, twin, "mtt", "u1", newCalls)
				want = tableRows(t, db, twinRoot, "calls")
			}
			sameRows(t, "after the next run's start", tableRows(t, db, b.read(t, lake2), "calls"), want)
			if _, err := lake2.Compact(context.Background(), compactBefore); err != nil {
				t.Fatal(err)
			}
			root := b.read(t, lake2)
			sameRows(t, "after the next compaction", tableRows(t, db, root, "calls"), want)
			for _, source := range []string{"mtt", "t2"} {
				for _, d := range compactDays[:3] {
					if got := partitionFiles(t, root, "calls", source, d); !slices.Equal(got, []string{load.CompactedFile}) {
						t.Errorf("%s %s: files %q, want only %s", source, d, got, load.CompactedFile)
					}
				}
			}
			if s := leftovers(t, lake2); len(s) != 0 {
				t.Errorf("left behind: %q", s)
			}
		})
	}
}

func TestCompactedUnitNameReserved(t *testing.T) {
	lake, err := load.Open(t.TempDir(), load.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lake.Begin("mtt", "compacted"); !errors.Is(err, load.ErrInvalidName) {
		t.Errorf("Begin(mtt, compacted): %v, want ErrInvalidName", err)
	}
	if _, err := lake.Compact(context.Background(), "2026-13-01"); !errors.Is(err, load.ErrInvalidName) {
		t.Errorf("Compact(2026-13-01): %v, want ErrInvalidName", err)
	}
}

// TestConcurrentCommitsIntoCompacted: units committed at once into the same
// compacted day each replace only their rows (the partition lock orders the
// rewrites of the compacted file; without it one would undo another).
func TestConcurrentCommitsIntoCompacted(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) { testConcurrentCommitsIntoCompacted(t, b) })
	}
}

func testConcurrentCommitsIntoCompacted(t *testing.T, b backend) {
	twinRoot := t.TempDir()
	lake := b.open(t, load.Options{})
	twin, err := load.Open(twinRoot, load.Options{})
	if err != nil {
		t.Fatal(err)
	}
	fillCompactLake(t, lake)
	fillCompactLake(t, twin)
	if _, err := lake.Compact(context.Background(), compactBefore); err != nil {
		t.Fatal(err)
	}
	calls := func(k int) []model.Call {
		return unitCalls("mtt", fmt.Sprintf("u%d", k), "2026-11-02", 5000+100*k, 2+k)
	}
	// Two lakes on the same store are two processes (two shards): their
	// rewrites of the compacted object are ordered by its version, not by
	// a lock in one process.
	lakes := []*load.Lake{lake, lake}
	if lake.Store() != nil {
		lakes[1] = reopen(t, lake, load.Options{})
	}
	done := make(chan struct{})
	for k := range 5 {
		go func() {
			defer func() { done <- struct{}{} }()
			writeCalls(t, lakes[k%2], "mtt", fmt.Sprintf("u%d", k), calls(k))
		}()
	}
	for range 5 {
		<-done
	}
	for k := range 5 {
		writeCalls(t, twin, "mtt", fmt.Sprintf("u%d", k), calls(k))
	}
	db := openDuckDB(t)
	root := b.read(t, lake)
	sameRows(t, "after concurrent commits", tableRows(t, db, root, "calls"), tableRows(t, db, twinRoot, "calls"))
	if got := partitionFiles(t, root, "calls", "mtt", "2026-11-02"); !slices.Equal(got, []string{load.CompactedFile}) {
		t.Errorf("files %q, want only %s", got, load.CompactedFile)
	}
}
