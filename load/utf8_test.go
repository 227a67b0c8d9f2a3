package load_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/calletl/calletl/load"
	"github.com/calletl/calletl/model"
)

// vendorBytes are byte strings a vendor may send in a string field: the
// seeds of FuzzLakeStrings and the cases of TestInvalidUTF8.
var vendorBytes = []struct{ name, s string }{
	{"ascii", "answered"},
	{"utf-8 Cyrillic", "Привет"},
	{"empty", ""},
	{"NUL", "a\x00b"},
	{"U+FFFD itself", "x\uFFFDy"},
	{"noncharacter U+FFFF", "\uFFFF"},
	{"windows-1251 Привет", "\xcf\xf0\xe8\xe2\xe5\xf2"},
	{"invalid bytes", "\xff\xfe\xfd"},
	{"lone continuation", "a\x80b"},
	{"truncated sequence", "ab\xd0"},
	{"overlong slash", "\xc0\xaf"},
	{"overlong 3-byte", "\xe0\x80\xaf"},
	{"surrogate D800", "\xed\xa0\x80"},
	{"beyond U+10FFFF", "\xf4\x90\x80\x80"},
	{"valid then invalid", "Пр\xe8вет\x00\xff"},
}

// strCell is one string value written to the lake, for the expectations.
type strCell struct {
	table, column string
	row           int64 // file row
	value         string
}

// writeVendorStrings writes field into string columns of calls (plain and
// dictionary-encoded, in rows of different batches: BatchRows is 2, so row 1
// is repaired in the first batch, row 3 in the second and row 4 at Commit),
// rejects, runs and balances, and raw as every raw payload, all in one
// transaction of unit dialed-1 on day1. It returns every string cell it set
// from field or raw.
func writeVendorStrings(t testing.TB, lake *load.Lake, field, raw string) []strCell {
	t.Helper()
	tx, err := lake.Begin("mtt", "dialed-1")
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Abort()
	var cells []strCell
	calls := make([]model.Call, 5)
	for i := range calls {
		calls[i] = syntheticCall(i, day1)
	}
	calls[1].Status, calls[1].CallerRaw = field, field
	calls[3].Account, calls[3].DisconnectLabel = field, field
	calls[4].RecordingRef = raw
	cells = append(cells,
		strCell{"calls", "status", 1, field}, strCell{"calls", "caller_raw", 1, field},
		strCell{"calls", "account", 3, field}, strCell{"calls", "disconnect_label", 3, field},
		strCell{"calls", "recording_ref", 4, raw})
	cw := load.Writer(tx, load.Calls)
	for i := range calls {
		if err := cw.Add(day1, &calls[i]); err != nil {
			t.Fatal(err)
		}
	}
	rejects := []model.Reject{
		{Stream: "dialed", Account: "110011256", Reason: "ok", Raw: `{"a":1}`, RunID: "run-1"},
		{Stream: "dialed", Account: "110011256", Reason: field, Raw: raw, RunID: "run-1"},
	}
	cells = append(cells, strCell{"rejects", "reason", 1, field}, strCell{"rejects", "raw", 1, raw})
	rw := load.Writer(tx, load.Rejects)
	for i := range rejects {
		if err := rw.Add(day1, &rejects[i]); err != nil {
			t.Fatal(err)
		}
	}
	run := model.RunStream{RunID: "run-1", Mode: "run", Stream: "dialed", Account: "110011256", Status: model.RunFailed, Error: field,
		StartedAt: time.Date(2026, 11, 20, 1, 0, 0, 0, time.UTC), FinishedAt: time.Date(2026, 11, 20, 1, 0, 1, 0, time.UTC)}
	cells = append(cells, strCell{"runs", "error", 0, field})
	if err := load.Writer(tx, load.Runs).Add(day1, &run); err != nil {
		t.Fatal(err)
	}
	bal := model.Balance{Account: "110011256", Balance: 2735000, Currency: "RUB", Raw: raw, RunID: "run-1",
		TakenAt: time.Date(2026, 11, 20, 3, 0, 0, 0, time.UTC)}
	cells = append(cells, strCell{"balances", "raw", 0, raw})
	if err := load.Writer(tx, load.Balances).Add(day1, &bal); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	return cells
}

// invalidRow is an invalid_utf8 row as the tests compare it.
type invalidRow struct {
	Table, Column, Unit string
	Row                 int64
	Original, Stored    string
}

// wantInvalid returns the invalid_utf8 rows cells call for, sorted.
func wantInvalid(cells []strCell) []invalidRow {
	var rows []invalidRow
	for _, c := range cells {
		if !utf8.ValidString(c.value) {
			rows = append(rows, invalidRow{c.table, c.column, "dialed-1", c.row, c.value, strings.ToValidUTF8(c.value, "\uFFFD")})
		}
	}
	slices.SortFunc(rows, func(a, b invalidRow) int { return strings.Compare(fmt.Sprint(a), fmt.Sprint(b)) })
	return rows
}

// checkLakeStrings asserts the property of the lake's string rule over
// what writeVendorStrings wrote: every table reads back in DuckDB (SELECT *
// succeeds and every string is valid UTF-8) and in arrow-go; every cell
// holds its value, with invalid runs replaced by U+FFFD (valid values
// exactly); invalid_utf8 holds one row per repaired cell with its exact
// bytes, and its table, column, unit and file row find the repaired value.
func checkLakeStrings(t testing.TB, db *sql.DB, lake *load.Lake, cells []strCell) {
	t.Helper()
	root := lake.Root()
	for _, info := range load.CanonicalTables() {
		if len(lakeFiles(t, filepath.Join(root, info.Name))) == 0 {
			continue
		}
		rows, err := db.Query("SELECT * FROM " + scan(root, info.Name))
		if err != nil {
			t.Fatalf("SELECT * FROM %s: %v", info.Name, err)
		}
		cols, _ := rows.Columns()
		vals, ptrs := make([]any, len(cols)), make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatalf("SELECT * FROM %s: %v", info.Name, err)
			}
			for i, v := range vals {
				if s, ok := v.(string); ok && !utf8.ValidString(s) {
					t.Errorf("%s.%s = %q: not valid UTF-8", info.Name, cols[i], s)
				}
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatalf("SELECT * FROM %s: %v", info.Name, err)
		}
		rows.Close()
	}

	// Every cell holds its value, repaired, at its file row.
	for _, c := range cells {
		q := fmt.Sprintf("SELECT %s FROM %s WHERE file_row_number = %d", c.column, scan(root, c.table, "file_row_number=true"), c.row)
		var got string
		if err := db.QueryRow(q).Scan(&got); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		if want := strings.ToValidUTF8(c.value, "\uFFFD"); got != want {
			t.Errorf("%s.%s row %d = %q, want %q (from %q)", c.table, c.column, c.row, got, want, c.value)
		}
	}

	// invalid_utf8 holds the exact bytes of each repaired cell, and the
	// documented join finds the repaired value from its row.
	want := wantInvalid(cells)
	var got []invalidRow
	if len(lakeFiles(t, filepath.Join(root, load.InvalidUTF8.Name))) > 0 {
		rows, err := db.Query(`SELECT table_name, column_name, unit, file_row_number, original, stored FROM ` +
			scan(root, load.InvalidUTF8.Name) + ` ORDER BY ALL`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var r invalidRow
			var orig []byte
			if err := rows.Scan(&r.Table, &r.Column, &r.Unit, &r.Row, &orig, &r.Stored); err != nil {
				t.Fatal(err)
			}
			r.Original = string(orig)
			got = append(got, r)
		}
		rows.Close()
	}
	slices.SortFunc(got, func(a, b invalidRow) int { return strings.Compare(fmt.Sprint(a), fmt.Sprint(b)) })
	if !slices.Equal(got, want) {
		t.Errorf("invalid_utf8:\n got  %+v\n want %+v", got, want)
	}
	for _, r := range want {
		q := fmt.Sprintf(`WITH i AS (SELECT * FROM %s), t AS (SELECT * FROM %s)
			SELECT t.%s FROM i JOIN t
			ON t.source = i.source AND t.date = i.date AND parse_filename(t.filename, true) = i.unit
			AND t.file_row_number = i.file_row_number
			WHERE i.table_name = '%s' AND i.column_name = '%s'`,
			scan(root, load.InvalidUTF8.Name), scan(root, r.Table, "filename=true", "file_row_number=true"), r.Column, r.Table, r.Column)
		var v string
		if err := db.QueryRow(q).Scan(&v); err != nil {
			t.Fatalf("join invalid_utf8 to %s.%s: %v", r.Table, r.Column, err)
		}
		if v != r.Stored {
			t.Errorf("join invalid_utf8 to %s.%s row %d: %q, want %q", r.Table, r.Column, r.Row, v, r.Stored)
		}
	}

	// arrow-go reads every file, and every string in it is valid UTF-8.
	for _, rel := range lakeFiles(t, root) {
		checkArrowStrings(t, filepath.Join(root, rel))
	}
}

// checkArrowStrings reads a Parquet file with arrow-go and checks that every
// string value in it is valid UTF-8.
func checkArrowStrings(t testing.TB, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pf, err := file.NewParquetReader(f)
	if err != nil {
		t.Fatalf("arrow-go: %s: %v", path, err)
	}
	defer pf.Close()
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
	if err != nil {
		t.Fatalf("arrow-go: %s: %v", path, err)
	}
	tbl, err := fr.ReadTable(context.Background())
	if err != nil {
		t.Fatalf("arrow-go: %s: %v", path, err)
	}
	defer tbl.Release()
	for c := range int(tbl.NumCols()) {
		for _, chunk := range tbl.Column(c).Data().Chunks() {
			s, ok := chunk.(*array.String)
			if !ok {
				continue
			}
			for j := range s.Len() {
				if !utf8.ValidString(s.Value(j)) {
					t.Errorf("arrow-go: %s: %s row %d = %q: not valid UTF-8", path, tbl.Column(c).Name(), j, s.Value(j))
				}
			}
		}
	}
}

func utf8Lake(t testing.TB) *load.Lake {
	t.Helper()
	lake, err := load.Open(t.TempDir(), load.Options{BatchRows: 2, RowGroupRows: 3})
	if err != nil {
		t.Fatal(err)
	}
	return lake
}

// TestInvalidUTF8: each kind of bytes a vendor may send, as a field and as
// a raw payload, leaves a lake that DuckDB and arrow-go read, with the
// original bytes in invalid_utf8.
func TestInvalidUTF8(t *testing.T) {
	db := openDuckDB(t)
	for _, tc := range vendorBytes {
		t.Run(tc.name, func(t *testing.T) {
			lake := utf8Lake(t)
			cells := writeVendorStrings(t, lake, tc.s, `{"cli":"`+tc.s+`"}`)
			checkLakeStrings(t, db, lake, cells)
		})
	}
}

// TestInvalidUTF8Schema pins how DuckDB types the invalid_utf8 table.
func TestInvalidUTF8Schema(t *testing.T) {
	lake := utf8Lake(t)
	writeVendorStrings(t, lake, "\xff", "\xfe")
	rows, err := openDuckDB(t).Query("DESCRIBE SELECT * FROM " + scan(lake.Root(), load.InvalidUTF8.Name))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var name, typ string
		var null, key, def, extra any
		if err := rows.Scan(&name, &typ, &null, &key, &def, &extra); err != nil {
			t.Fatal(err)
		}
		got = append(got, name+" "+typ)
	}
	want := []string{"table_name VARCHAR", "column_name VARCHAR", "unit VARCHAR", "file_row_number BIGINT",
		"original BLOB", "stored VARCHAR", "date DATE", "source VARCHAR"}
	if !slices.Equal(got, want) {
		t.Errorf("DESCRIBE invalid_utf8:\n got  %q\n want %q", got, want)
	}
}

// TestInvalidUTF8Rerun: invalid_utf8 rows belong to their unit: re-running
// the unit with clean data removes them, and with other bad data replaces
// them.
func TestInvalidUTF8Rerun(t *testing.T) {
	lake := utf8Lake(t)
	db := openDuckDB(t)
	invalidFiles := func() int { return len(lakeFiles(t, filepath.Join(lake.Root(), load.InvalidUTF8.Name))) }

	cells := writeVendorStrings(t, lake, "\xcf\xf0\xe8\xe2\xe5\xf2", "\xff")
	checkLakeStrings(t, db, lake, cells)
	if invalidFiles() != 1 {
		t.Fatalf("invalid_utf8 files after a bad run: %d, want 1", invalidFiles())
	}
	cells = writeVendorStrings(t, lake, "Привет", "{}")
	checkLakeStrings(t, db, lake, cells)
	if n := invalidFiles(); n != 0 {
		t.Errorf("invalid_utf8 files after a clean re-run: %d, want 0", n)
	}
	cells = writeVendorStrings(t, lake, "ok", "\x80")
	checkLakeStrings(t, db, lake, cells)
}

// FuzzLakeStrings: whatever bytes a vendor sends as a string field and as a
// raw payload, every table the lake writer produces reads back in DuckDB
// (SELECT * succeeds, every string is valid UTF-8) and in arrow-go, valid
// strings are stored exactly, and the bytes of invalid ones are in
// invalid_utf8, where they lead back to the repaired value.
func FuzzLakeStrings(f *testing.F) {
	for _, tc := range vendorBytes {
		f.Add([]byte(tc.s), []byte(`{"status":"`+tc.s+`"}`))
	}
	f.Add([]byte("ok"), []byte("\xed\xb0\x80\xf0\x9f\x98"))
	db := openDuckDB(f)
	f.Fuzz(func(t *testing.T, field, raw []byte) {
		lake := utf8Lake(t)
		cells := writeVendorStrings(t, lake, string(field), string(raw))
		checkLakeStrings(t, db, lake, cells)
	})
}
