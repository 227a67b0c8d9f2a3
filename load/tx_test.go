package load_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/calletl/calletl/load"
	"github.com/calletl/calletl/model"
)

func callsOn(date string, from, n int) []model.Call {
	out := make([]model.Call, n)
	for i := range out {
		out[i] = syntheticCall(from+i, date)
	}
	return out
}

func newLake(t *testing.T, opts load.Options) *load.Lake {
	t.Helper()
	lake, err := load.Open(filepath.Join(t.TempDir(), "lake"), opts)
	if err != nil {
		t.Fatal(err)
	}
	return lake
}

func TestRerunReplaces(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) { testRerunReplaces(t, b) })
	}
}

func testRerunReplaces(t *testing.T, b backend) {
	lake := b.open(t, load.Options{})
	db := openDuckDB(t)
	root := func() string { return b.read(t, lake) }

	writeCalls(t, lake, "mtt", "dialed-1", slices.Concat(callsOn(day1, 0, 10), callsOn(day2, 0, 4)))
	writeCalls(t, lake, "mtt", "dialed-2", callsOn(day1, 100, 5)) // another unit, same partition
	writeCalls(t, lake, "t2", "dialed-1", callsOn(day1, 0, 3))    // same unit name, other source
	if got := countRows(t, db, root(), "calls", ""); got != 22 {
		t.Fatalf("count = %d, want 22", got)
	}

	// Same unit again with the same rows: replaced, not doubled.
	stats := writeCalls(t, lake, "mtt", "dialed-1", slices.Concat(callsOn(day1, 0, 10), callsOn(day2, 0, 4)))
	if stats.Rows["calls"] != 14 || stats.Files != 2 || stats.Removed != 0 {
		t.Errorf("stats = %+v", stats)
	}
	if got := countRows(t, db, root(), "calls", ""); got != 22 {
		t.Fatalf("after re-run: count = %d, want 22", got)
	}

	// Fewer rows for day1 only: day1's file is replaced, day2 (not covered)
	// is left alone, other units and sources untouched.
	writeCalls(t, lake, "mtt", "dialed-1", callsOn(day1, 0, 7))
	for _, c := range []struct {
		where string
		want  int64
	}{
		{"source='mtt' AND date='" + day1 + "' AND filename LIKE '%/dialed-1.parquet'", 7},
		{"source='mtt' AND date='" + day1 + "' AND filename LIKE '%/dialed-2.parquet'", 5},
		{"source='mtt' AND date='" + day2 + "'", 4},
		{"source='t2'", 3},
	} {
		q := "SELECT count(*) FROM " + scan(root(), "calls", "filename=true") + " WHERE " + c.where
		if got := queryInt(t, db, q); got != c.want {
			t.Errorf("%s: count = %d, want %d", c.where, got, c.want)
		}
	}

	// Covering day2 with no rows removes the unit's day2 file; the
	// partition then has no file at all and disappears from Partitions.
	stats = writeCalls(t, lake, "mtt", "dialed-1", callsOn(day1, 0, 7), day1, day2)
	if stats.Files != 1 || stats.Removed != 1 {
		t.Errorf("stats = %+v, want 1 file written and 1 removed", stats)
	}
	dates, err := lake.Partitions("calls", "mtt")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(dates, []string{day1}) {
		t.Errorf("Partitions = %v, want [%s]", dates, day1)
	}
	if got := countRows(t, db, root(), "calls", "source='mtt'"); got != 12 {
		t.Errorf("count = %d, want 12", got)
	}

	// Covering a date with nothing at all is a no-op, not an error.
	if stats := writeCalls(t, lake, "mtt", "dialed-9", nil, "2026-01-01"); stats.Files != 0 || stats.Removed != 0 || stats.Rows["calls"] != 0 {
		t.Errorf("stats = %+v", stats)
	}
	if _, err := os.Stat(filepath.Join(root(), "calls", "source=mtt", "date=2026-01-01")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("covering an empty date created its directory: %v", err)
	}
	// A store lake's spool holds nothing once its transactions are done.
	if lake.Store() != nil {
		if files := lakeFiles(t, lake.Root()); len(files) != 0 {
			t.Errorf("spool after the commits holds %v", files)
		}
		if entries, _ := os.ReadDir(lake.Root()); len(entries) != 0 {
			t.Errorf("spool after the commits holds directories %v", entries)
		}
	}
}

func TestScopeAcrossTables(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) { testScopeAcrossTables(t, b) })
	}
}

func testScopeAcrossTables(t *testing.T, b backend) {
	lake := b.open(t, load.Options{})
	db := openDuckDB(t)
	rej := func(date, reason string) model.Reject {
		return model.Reject{Stream: "dialed", Account: "1", Reason: reason, RunID: "r"}
	}
	commit := func(calls []model.Call, rejects map[string][]model.Reject, withRejects bool) load.TxStats {
		t.Helper()
		tx, err := lake.Begin("mtt", "dialed-1")
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Abort()
		cw := load.Writer(tx, load.Calls)
		for i := range calls {
			if err := cw.Add(calls[i].Date, &calls[i]); err != nil {
				t.Fatal(err)
			}
		}
		if withRejects {
			rw := load.Writer(tx, load.Rejects)
			for date, rs := range rejects {
				for i := range rs {
					if err := rw.Add(date, &rs[i]); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
		stats, err := tx.Commit()
		if err != nil {
			t.Fatal(err)
		}
		return stats
	}

	commit(slices.Concat(callsOn(day1, 0, 3), callsOn(day2, 0, 3)),
		map[string][]model.Reject{day1: {rej(day1, "a")}, day2: {rej(day2, "b"), rej(day2, "c")}}, true)
	if got := countRows(t, db, b.read(t, lake), "rejects", ""); got != 3 {
		t.Fatalf("rejects = %d, want 3", got)
	}

	// A re-run that does not register rejects leaves them alone.
	commit(callsOn(day1, 0, 3), nil, false)
	if got := countRows(t, db, b.read(t, lake), "rejects", ""); got != 3 {
		t.Errorf("rejects after calls-only re-run = %d, want 3", got)
	}

	// A registered table is cleared in every date the transaction wrote,
	// even dates only another table wrote: day2's rejects go.
	stats := commit(slices.Concat(callsOn(day1, 0, 3), callsOn(day2, 0, 3)), map[string][]model.Reject{day1: {rej(day1, "a")}}, true)
	if stats.Removed != 1 || stats.Rows["rejects"] != 1 {
		t.Errorf("stats = %+v", stats)
	}
	if got := countRows(t, db, b.read(t, lake), "rejects", ""); got != 1 {
		t.Errorf("rejects = %d, want 1", got)
	}
}

func TestAbortLeavesNoTrace(t *testing.T) {
	lake := newLake(t, load.Options{BatchRows: 10})
	writeCalls(t, lake, "mtt", "dialed-1", callsOn(day1, 0, 5))
	before := lakeFiles(t, lake.Root())

	tx, err := lake.Begin("mtt", "dialed-1")
	if err != nil {
		t.Fatal(err)
	}
	tx.Cover(day1)
	w := load.Writer(tx, load.Calls)
	for _, c := range slices.Concat(callsOn(day1, 0, 25), callsOn(day2, 0, 25)) {
		if err := w.Add(c.Date, &c); err != nil {
			t.Fatal(err)
		}
	}
	if files := lakeFiles(t, lake.Root()); len(files) != len(before)+2 {
		t.Fatalf("while writing: files = %v, want two temporary files more than %v", files, before)
	}
	tx.Abort()
	tx.Abort() // twice is fine
	if after := lakeFiles(t, lake.Root()); !slices.Equal(after, before) {
		t.Errorf("after Abort: %v, want %v", after, before)
	}
	// The directories the aborted transaction created are gone too.
	if _, err := os.Stat(filepath.Join(lake.Root(), "calls", "source=mtt", "date="+day2)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("date=%s directory left behind: %v", day2, err)
	}
	if err := w.Add(day1, &model.Call{}); !errors.Is(err, load.ErrTxDone) {
		t.Errorf("Add after Abort: %v, want ErrTxDone", err)
	}
	if _, err := tx.Commit(); !errors.Is(err, load.ErrTxDone) {
		t.Errorf("Commit after Abort: %v, want ErrTxDone", err)
	}

	// Aborting a fresh lake's only transaction removes every directory.
	fresh := newLake(t, load.Options{})
	tx, _ = fresh.Begin("mtt", "u")
	c := syntheticCall(1, day1)
	if err := load.Writer(tx, load.Calls).Add(day1, &c); err != nil {
		t.Fatal(err)
	}
	tx.Abort()
	if entries, _ := os.ReadDir(fresh.Root()); len(entries) != 0 {
		t.Errorf("fresh lake after Abort holds %v", entries)
	}
}

func TestCommitEndsTx(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) { testCommitEndsTx(t, b) })
	}
}

func testCommitEndsTx(t *testing.T, b backend) {
	lake := b.open(t, load.Options{})
	tx, err := lake.Begin("mtt", "u")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lake.Begin("mtt", "u"); !errors.Is(err, load.ErrBusy) {
		t.Errorf("second Begin of the same unit: %v, want ErrBusy", err)
	}
	other, err := lake.Begin("mtt", "v")
	if err != nil {
		t.Fatalf("Begin of another unit: %v", err)
	}
	other.Abort()
	w := load.Writer(tx, load.Calls)
	if load.Writer(tx, load.Calls) != w {
		t.Error("Writer twice with the same table returned a new writer")
	}
	c := syntheticCall(1, day1)
	if err := w.Add(day1, &c); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	tx.Abort() // after Commit: does nothing
	if got, _ := lake.Partitions("calls", "mtt"); !slices.Equal(got, []string{day1}) {
		t.Errorf("Abort after Commit changed the lake: partitions %v", got)
	}
	if _, err := tx.Commit(); !errors.Is(err, load.ErrTxDone) {
		t.Errorf("second Commit: %v, want ErrTxDone", err)
	}
	if err := w.Add(day1, &c); !errors.Is(err, load.ErrTxDone) {
		t.Errorf("Add after Commit: %v, want ErrTxDone", err)
	}
	if tx2, err := lake.Begin("mtt", "u"); err != nil {
		t.Errorf("Begin after Commit: %v", err)
	} else {
		tx2.Abort()
	}
}

func TestTempFilesAndSweep(t *testing.T) {
	lake := newLake(t, load.Options{BatchRows: 100})
	db := openDuckDB(t)
	writeCalls(t, lake, "mtt", "dialed-1", callsOn(day1, 0, 10))

	// A transaction in flight: its temporary file is in the partition
	// directory, already holds row data, and no reader sees it.
	tx, err := lake.Begin("mtt", "dialed-1")
	if err != nil {
		t.Fatal(err)
	}
	w := load.Writer(tx, load.Calls)
	for _, c := range callsOn(day1, 0, 1000) {
		if err := w.Add(day1, &c); err != nil {
			t.Fatal(err)
		}
	}
	var temps []string
	for _, f := range lakeFiles(t, lake.Root()) {
		if name := filepath.Base(f); strings.HasPrefix(name, ".dialed-1.parquet.") && strings.HasSuffix(name, ".tmp") {
			temps = append(temps, f)
		}
	}
	if len(temps) != 1 {
		t.Fatalf("temporary files %v, want one named .dialed-1.parquet.*.tmp", temps)
	}
	if got := countRows(t, db, lake.Root(), "calls", ""); got != 10 {
		t.Errorf("DuckDB sees %d rows during the transaction, want the committed 10", got)
	}

	// Sweep on the same Lake keeps the open transaction's file.
	if n, err := lake.Sweep(); err != nil || n != 0 {
		t.Errorf("Sweep during the transaction: removed %d, %v; want 0", n, err)
	}

	// A stale file from a crash elsewhere, and a look-alike that is not ours.
	stale := filepath.Join(lake.Root(), "rejects", "source=t2", "date="+day2, ".x.parquet.123.tmp")
	if err := os.MkdirAll(filepath.Dir(stale), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(stale, []byte("PAR1"), 0o600); err != nil {
		t.Fatal(err)
	}
	keep := filepath.Join(lake.Root(), "notes.tmp")
	if err := os.WriteFile(keep, nil, 0o600); err != nil {
		t.Fatal(err)
	}

	// Simulate a crash: the process dies, a new one opens the lake.
	after, err := load.Open(lake.Root(), load.Options{})
	if err != nil {
		t.Fatal(err)
	}
	n, err := after.Sweep()
	if err != nil || n != 2 {
		t.Errorf("Sweep after crash: removed %d, %v; want 2", n, err)
	}
	files := lakeFiles(t, lake.Root())
	if want := []string{"calls/source=mtt/date=" + day1 + "/dialed-1.parquet", "notes.tmp"}; !slices.Equal(files, want) {
		t.Errorf("files after Sweep = %v, want %v", files, want)
	}
	if got := countRows(t, db, lake.Root(), "calls", ""); got != 10 {
		t.Errorf("after Sweep DuckDB sees %d rows, want 10", got)
	}
	// The transaction whose file was swept fails to commit and changes nothing.
	if _, err := tx.Commit(); err == nil {
		t.Error("Commit of a transaction whose temporary file was swept succeeded")
	}
	if got := countRows(t, db, lake.Root(), "calls", ""); got != 10 {
		t.Errorf("after failed Commit DuckDB sees %d rows, want 10", got)
	}
}

func TestNamesAreValidated(t *testing.T) {
	lake := newLake(t, load.Options{})
	bad := []string{"", "../x", "a/b", ".hidden", ".", "..", "a\\b", "a b", "a=b", "a\x00b", "я", strings.Repeat("a", 129)}
	for _, name := range bad {
		if tx, err := lake.Begin(name, "u"); !errors.Is(err, load.ErrInvalidName) {
			t.Errorf("Begin(source %q): %v, want ErrInvalidName", name, err)
			if tx != nil {
				tx.Abort()
			}
		}
		if tx, err := lake.Begin("mtt", name); !errors.Is(err, load.ErrInvalidName) {
			t.Errorf("Begin(unit %q): %v, want ErrInvalidName", name, err)
			if tx != nil {
				tx.Abort()
			}
		}
		if _, err := lake.Partitions("calls", name); !errors.Is(err, load.ErrInvalidName) {
			t.Errorf("Partitions(source %q): %v, want ErrInvalidName", name, err)
		}
	}
	for _, name := range []string{"Calls", "1calls", "calls-x", "../calls", ""} {
		if _, err := lake.Partitions(name, "mtt"); !errors.Is(err, load.ErrInvalidName) {
			t.Errorf("Partitions(table %q): %v, want ErrInvalidName", name, err)
		}
	}
	for _, name := range []string{"mtt", "dialed-110011256", "a.b_c-D9", strings.Repeat("a", 128)} {
		tx, err := lake.Begin(name, name)
		if err != nil {
			t.Errorf("Begin(%q): %v", name, err)
			continue
		}
		tx.Abort()
	}

	// Dates: Cover and Add reject them, and the transaction fails.
	for _, date := range []string{"", "2026-1-02", "2026-02-30", "../../x", "2026-11-20/..", "20261120"} {
		tx, err := lake.Begin("mtt", "u")
		if err != nil {
			t.Fatal(err)
		}
		if err := tx.Cover(date); !errors.Is(err, load.ErrInvalidName) {
			t.Errorf("Cover(%q): %v, want ErrInvalidName", date, err)
		}
		tx.Abort()

		tx, _ = lake.Begin("mtt", "u")
		c := syntheticCall(1, day1)
		if err := load.Writer(tx, load.Calls).Add(date, &c); !errors.Is(err, load.ErrInvalidName) {
			t.Errorf("Add(%q): %v, want ErrInvalidName", date, err)
		}
		if _, err := tx.Commit(); !errors.Is(err, load.ErrInvalidName) {
			t.Errorf("Commit after Add(%q): %v, want ErrInvalidName", date, err)
		}
	}
	if files := lakeFiles(t, lake.Root()); len(files) != 0 {
		t.Errorf("rejected names left files: %v", files)
	}
	if entries, _ := os.ReadDir(lake.Root()); len(entries) != 0 {
		t.Errorf("rejected names left directories: %v", entries)
	}
}

func TestTableValidation(t *testing.T) {
	for _, tab := range load.CanonicalTables() {
		if len(tab.Comments) != tab.Schema.NumFields()+2 {
			t.Errorf("%s: %d comments for %d columns + source + date", tab.Name, len(tab.Comments), tab.Schema.NumFields())
		}
		for _, f := range tab.Schema.Fields() {
			if tab.Comments[f.Name] == "" {
				t.Errorf("%s.%s has no comment", tab.Name, f.Name)
			}
		}
	}
	for _, err := range []error{load.Calls.Validate(), load.Rejects.Validate(), load.Runs.Validate()} {
		if err != nil {
			t.Error(err)
		}
	}

	type row struct{ A string }
	schema := arrow.NewSchema([]arrow.Field{{Name: "a", Type: arrow.BinaryTypes.String}}, nil)
	appendA := func(b *array.RecordBuilder, r *row) { b.Field(0).(*array.StringBuilder).Append(r.A) }
	for name, tab := range map[string]*load.Table[row]{
		"bad name":          {Name: "../x", Schema: schema, Append: appendA},
		"no schema":         {Name: "x", Append: appendA},
		"no append":         {Name: "x", Schema: schema},
		"partition column":  {Name: "x", Schema: arrow.NewSchema([]arrow.Field{{Name: "date", Type: arrow.BinaryTypes.String}}, nil), Append: appendA},
		"unknown dict":      {Name: "x", Schema: schema, Append: appendA, Dictionary: []string{"b"}},
		"unknown comment":   {Name: "x", Schema: schema, Append: appendA, Comments: map[string]string{"b": "?"}},
		"duplicate columns": {Name: "x", Schema: arrow.NewSchema([]arrow.Field{{Name: "a", Type: arrow.BinaryTypes.String}, {Name: "a", Type: arrow.BinaryTypes.String}}, nil), Append: appendA},
	} {
		if tab.Validate() == nil {
			t.Errorf("%s: Validate accepted it", name)
		}
		lake := newLake(t, load.Options{})
		tx, _ := lake.Begin("s", "u")
		if err := load.Writer(tx, tab).Add(day1, &row{}); err == nil {
			t.Errorf("%s: Add accepted it", name)
		}
		if _, err := tx.Commit(); err == nil {
			t.Errorf("%s: Commit accepted it", name)
		}
	}

	// Two different definitions under one name in one transaction.
	lake := newLake(t, load.Options{})
	tx, _ := lake.Begin("s", "u")
	load.Writer(tx, &load.Table[row]{Name: "x", Schema: schema, Append: appendA})
	if err := load.Writer(tx, &load.Table[row]{Name: "x", Schema: schema, Append: appendA}).Add(day1, &row{}); err == nil {
		t.Error("second definition of table x accepted")
	}
	if _, err := tx.Commit(); err == nil {
		t.Error("Commit accepted two definitions of table x")
	}
}

// A broken Append or an out-of-range value fails the transaction with an
// error naming the file, never a panic, and leaves nothing behind.
func TestWriteErrors(t *testing.T) {
	type row struct{ A string }
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "a", Type: arrow.BinaryTypes.String},
		{Name: "b", Type: arrow.BinaryTypes.String},
	}, nil)
	short := &load.Table[row]{Name: "short", Schema: schema,
		Append: func(b *array.RecordBuilder, r *row) { b.Field(0).(*array.StringBuilder).Append(r.A) }}

	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	lake := newLake(t, load.Options{BatchRows: 4, Allocator: mem})
	tx, _ := lake.Begin("s", "u")
	w := load.Writer(tx, short)
	var err error
	for i := 0; i < 4 && err == nil; i++ {
		err = w.Add(day1, &row{A: "x"})
	}
	if err == nil || !strings.Contains(err.Error(), "short/source=s/date="+day1+"/u.parquet") || !strings.Contains(err.Error(), "column b") {
		t.Errorf("short Append: %v", err)
	}
	if _, err := tx.Commit(); err == nil {
		t.Error("Commit succeeded after a write error")
	}

	// DECIMAL(18,4) holds 18 digits; Money can hold 19.
	tx, _ = lake.Begin("mtt", "u")
	c := syntheticCall(1, day1)
	c.Cost = money(1_000_000_000_000_000_000)
	if err := load.Writer(tx, load.Calls).Add(day1, &c); err != nil {
		t.Fatal(err) // buffered: surfaces at Commit
	}
	_, err = tx.Commit()
	if err == nil || !strings.Contains(err.Error(), "calls/source=mtt/date="+day1+"/u.parquet") || !strings.Contains(err.Error(), "column cost") {
		t.Errorf("Commit with cost 10^14: %v, want an error naming the file", err)
	}
	if files := lakeFiles(t, lake.Root()); len(files) != 0 {
		t.Errorf("failed transactions left %v", files)
	}
}

func TestNoArrowLeaks(t *testing.T) {
	for _, end := range []string{"commit", "abort"} {
		t.Run(end, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			lake := newLake(t, load.Options{RowGroupRows: 1000, BatchRows: 64, Allocator: mem})
			tx, err := lake.Begin("mtt", "u")
			if err != nil {
				t.Fatal(err)
			}
			cw, rw := load.Writer(tx, load.Calls), load.Writer(tx, load.Rejects)
			load.Writer(tx, load.Runs) // registered, no rows
			for i, c := range slices.Concat(callsOn(day1, 0, 2500), callsOn(day2, 0, 1030)) {
				if err := cw.Add(c.Date, &c); err != nil {
					t.Fatal(err)
				}
				raw := c.CallID
				if i%7 == 0 { // repaired columns and invalid_utf8 rows too
					raw += "\xff"
				}
				if err := rw.Add(c.Date, &model.Reject{Stream: "s", Raw: raw}); err != nil {
					t.Fatal(err)
				}
			}
			if mem.CurrentAlloc() == 0 {
				t.Fatal("nothing allocated through the allocator: the test would prove nothing")
			}
			if end == "commit" {
				stats, err := tx.Commit()
				if err != nil {
					t.Fatal(err)
				}
				if stats.Rows["calls"] != 3530 || stats.Rows["rejects"] != 3530 || stats.Rows["runs"] != 0 || stats.Rows["invalid_utf8"] != 505 {
					t.Errorf("stats = %+v", stats)
				}
			} else {
				tx.Abort()
			}
			mem.AssertSize(t, 0)
		})
	}
}

// Transactions of different units run concurrently on one Lake, in the same
// partitions, while some abort (removing directories they created).
func TestConcurrentUnits(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) { testConcurrentUnits(t, b) })
	}
}

func testConcurrentUnits(t *testing.T, b backend) {
	lake := b.open(t, load.Options{BatchRows: 16})
	const workers, rounds, rows = 6, 15, 40
	errs := make(chan error, workers)
	for g := range workers {
		go func() {
			errs <- func() error {
				for r := range rounds {
					tx, err := lake.Begin("mtt", "u"+strconv.Itoa(g))
					if err != nil {
						return err
					}
					w := load.Writer(tx, load.Calls)
					for _, c := range callsOn(fmt.Sprintf("2026-11-%02d", 1+r%3), 0, rows) {
						if err := w.Add(c.Date, &c); err != nil {
							tx.Abort()
							return err
						}
					}
					if (g+r)%2 == 0 {
						tx.Abort()
						continue
					}
					if _, err := tx.Commit(); err != nil {
						return err
					}
				}
				return nil
			}()
		}()
	}
	for range workers {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	// Every unit committed some day at least once; each (unit, day) file
	// holds one commit's rows.
	var files int
	root := b.read(t, lake)
	for _, f := range lakeFiles(t, root) {
		if !strings.HasSuffix(f, ".parquet") || strings.Contains(filepath.Base(f), ".tmp") {
			t.Errorf("unexpected file %s", f)
		}
		files++
	}
	db := openDuckDB(t)
	if got := countRows(t, db, root, "calls", ""); got != int64(files*rows) {
		t.Errorf("count = %d, want %d files × %d rows", got, files, rows)
	}
	if n, err := lake.Sweep(); n != 0 || err != nil {
		t.Errorf("Sweep found %d temporary files, %v", n, err)
	}
}
