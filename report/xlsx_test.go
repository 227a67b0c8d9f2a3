package report

import (
	"bytes"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/calletl/calletl/queries"
)

// readXLSX opens a workbook written by WriteXLSX and returns it with its
// only sheet's name.
func readXLSX(t *testing.T, b []byte) (*excelize.File, string) {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("the workbook does not open: %v", err)
	}
	t.Cleanup(func() { f.Close() })
	sheets := f.GetSheetList()
	if len(sheets) != 1 {
		t.Fatalf("sheets %q, want one", sheets)
	}
	return f, sheets[0]
}

// numFmt returns the custom number format of a cell ("" for none).
func numFmt(t *testing.T, f *excelize.File, sheet, cell string) string {
	t.Helper()
	id, err := f.GetCellStyle(sheet, cell)
	if err != nil {
		t.Fatal(err)
	}
	st, err := f.GetStyle(id)
	if err != nil {
		t.Fatal(err)
	}
	if st.CustomNumFmt == nil {
		return ""
	}
	return *st.CustomNumFmt
}

// TestXLSXTypes writes one row of every kind of column and reads the
// workbook back: each cell's raw value must be what DuckDB computes for it
// in the same query (the serial of a date is DuckDB's day count from
// 1899-12-30, of a TIMESTAMPTZ its wall clock in the engine's zone), with
// the number format that makes Excel show it as a date, money or a rate.
func TestXLSXTypes(t *testing.T) {
	e := openEngine(t, t.TempDir(), "Europe/Moscow")
	// Each checked column c is followed by c_want: what the cell must hold.
	res := query(t, e, adhoc(`SELECT
		DATE '2026-11-20' AS day, (DATE '2026-11-20' - DATE '1899-12-30')::DOUBLE AS day_want,
		TIMESTAMPTZ '2026-11-20 21:30:00+00' AS at,
		(epoch(CAST(TIMESTAMPTZ '2026-11-20 21:30:00+00' AS TIMESTAMP)) - epoch(TIMESTAMP '1899-12-30')) / 86400 AS at_want,
		TIMESTAMP '2026-01-02 03:04:05' AS naive,
		(epoch(TIMESTAMP '2026-01-02 03:04:05') - epoch(TIMESTAMP '1899-12-30')) / 86400 AS naive_want,
		CAST(1234.5678 AS DECIMAL(18,4)) AS cost, 1234.5678::DOUBLE AS cost_want,
		CAST(0.6667 AS DECIMAL(5,4)) AS answer_rate, 0.6667::DOUBLE AS answer_rate_want,
		CAST(42 AS DECIMAL(18,0)) AS whole, 42::DOUBLE AS whole_want,
		9007199254740993::BIGINT AS big, 12::BIGINT AS small, 12::DOUBLE AS small_want,
		2.5::DOUBLE AS dbl, 2.5::DOUBLE AS dbl_want,
		'=1+1' AS formula_text,
		NULL::VARCHAR AS nothing,
		true AS yes,
		DATE '1800-01-01' AS old_day,
		170141183460469231731687303715884105727::HUGEINT AS huge`), nil)
	var b bytes.Buffer
	if err := res.WriteXLSX(&b, "types"); err != nil {
		t.Fatal(err)
	}
	f, sheet := readXLSX(t, b.Bytes())
	if sheet != "types" {
		t.Errorf("sheet %q, want types", sheet)
	}
	col := map[string]string{} // column name → cell of row 2
	for i, c := range res.Columns {
		name, _ := excelize.CoordinatesToCellName(i+1, 1)
		if v, _ := f.GetCellValue(sheet, name); v != c {
			t.Errorf("header %s = %q, want %q", name, v, c)
		}
		col[c], _ = excelize.CoordinatesToCellName(i+1, 2)
	}
	raw := func(c string) string {
		v, err := f.GetCellValue(sheet, col[c], excelize.Options{RawCellValue: true})
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, tc := range []struct{ column, format, shown string }{
		{"day", xlsxDateFormat, "2026-11-20"},
		{"at", xlsxDateTimeFormat, "2026-11-21 00:30:00"}, // Moscow is UTC+3
		{"naive", xlsxDateTimeFormat, "2026-01-02 03:04:05"},
		{"cost", xlsxMoneyFormat, "1,234.57"},
		{"answer_rate", xlsxRateFormat, "66.67%"},
		{"whole", xlsxIntegerFormat, "42"},
		{"small", "", "12"},
		{"dbl", "", "2.5"},
	} {
		got, err := strconv.ParseFloat(raw(tc.column), 64)
		if err != nil {
			t.Errorf("%s: cell %q is not a number", tc.column, raw(tc.column))
			continue
		}
		want, _ := strconv.ParseFloat(raw(tc.column+"_want"), 64)
		if math.Abs(got-want) > 1e-9 {
			t.Errorf("%s = %v, DuckDB says %v", tc.column, got, want)
		}
		if typ, _ := f.GetCellType(sheet, col[tc.column]); typ != excelize.CellTypeUnset && typ != excelize.CellTypeNumber {
			t.Errorf("%s: cell type %v, want a number", tc.column, typ)
		}
		if got := numFmt(t, f, sheet, col[tc.column]); got != tc.format {
			t.Errorf("%s: number format %q, want %q", tc.column, got, tc.format)
		}
		if shown, _ := f.GetCellValue(sheet, col[tc.column]); shown != tc.shown {
			t.Errorf("%s shows %q, want %q", tc.column, shown, tc.shown)
		}
	}
	for _, tc := range []struct {
		column, raw string
		typ         excelize.CellType
	}{
		{"formula_text", "=1+1", excelize.CellTypeInlineString},
		{"yes", "1", excelize.CellTypeBool},
		{"old_day", "1800-01-01", excelize.CellTypeInlineString},
		{"huge", "170141183460469231731687303715884105727", excelize.CellTypeInlineString},
		{"big", "9007199254740993", excelize.CellTypeUnset}, // a BIGINT is written as its digits
		{"nothing", "", excelize.CellTypeUnset},
	} {
		if got := raw(tc.column); got != tc.raw {
			t.Errorf("%s = %q, want %q", tc.column, got, tc.raw)
		}
		if typ, _ := f.GetCellType(sheet, col[tc.column]); typ != tc.typ {
			t.Errorf("%s: cell type %v, want %v", tc.column, typ, tc.typ)
		}
		if fs, _ := f.GetCellFormula(sheet, col[tc.column]); fs != "" {
			t.Errorf("%s: a formula %q", tc.column, fs)
		}
	}
	panes, err := f.GetPanes(sheet)
	if err != nil {
		t.Fatal(err)
	}
	if !panes.Freeze || panes.YSplit != 1 || panes.XSplit != 0 || panes.TopLeftCell != "A2" {
		t.Errorf("panes %+v, want the header row frozen", panes)
	}
	st, _ := f.GetCellStyle(sheet, "A1")
	if s, _ := f.GetStyle(st); s == nil || s.Font == nil || !s.Font.Bold {
		t.Error("header is not bold")
	}
}

// TestXLSXDailySummary: the report finance opens, read back cell by cell
// against DuckDB's answer, as Write's "xlsx" format.
func TestXLSXDailySummary(t *testing.T) {
	lake := t.TempDir()
	sampleLake(t, lake)
	e := openEngine(t, lake, "Europe/Moscow")
	r, err := Find(queries.FS(), "daily_summary")
	if err != nil {
		t.Fatal(err)
	}
	res := query(t, e, r, nil)
	var b bytes.Buffer
	if err := res.Write(&b, "xlsx"); err != nil {
		t.Fatal(err)
	}
	f, sheet := readXLSX(t, b.Bytes())
	rows, err := f.GetRows(sheet, excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(res.Rows)+1 {
		t.Fatalf("%d rows, want %d and a header", len(rows), len(res.Rows))
	}
	want := cells(res)
	for ri, row := range want {
		for ci, w := range row {
			got := ""
			if ci < len(rows[ri+1]) {
				got = rows[ri+1][ci]
			}
			name, _ := excelize.CoordinatesToCellName(ci+1, ri+2)
			switch typ := res.Types[ci]; {
			case w == "NULL":
				if got != "" {
					t.Errorf("%s (%s): %q, want an empty cell for NULL", name, res.Columns[ci], got)
				}
			case typ == "DATE":
				shown, _ := f.GetCellValue(sheet, name)
				if shown != w || numFmt(t, f, sheet, name) != xlsxDateFormat {
					t.Errorf("%s: date shows %q (raw %q), want %q", name, shown, got, w)
				}
			case numeric(typ):
				g, err1 := strconv.ParseFloat(got, 64)
				x, err2 := strconv.ParseFloat(w, 64)
				if err1 != nil || err2 != nil || math.Abs(g-x) > 1e-9 {
					t.Errorf("%s (%s): %q, want the number %s", name, res.Columns[ci], got, w)
				}
			default:
				if got != w {
					t.Errorf("%s (%s): %q, want %q", name, res.Columns[ci], got, w)
				}
			}
		}
	}
	ci := slicesIndex(res.Columns, "cost")
	checked := false
	for ri, row := range res.Rows {
		if ci < 0 || row[ci] == nil {
			continue
		}
		cell, _ := excelize.CoordinatesToCellName(ci+1, ri+2)
		if got := numFmt(t, f, sheet, cell); got != xlsxMoneyFormat {
			t.Errorf("cost %s: number format %q, want %q", cell, got, xlsxMoneyFormat)
		}
		checked = true
	}
	if !checked {
		t.Error("no cost to check")
	}
}

func slicesIndex(s []string, v string) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}

// TestXLSXLimits: what a sheet cannot hold is an error, not a cut.
func TestXLSXLimits(t *testing.T) {
	long := &Result{Columns: []string{"raw"}, Types: []string{"VARCHAR"}, Rows: [][]any{{strings.Repeat("x", xlsxMaxChars+1)}}}
	if err := long.WriteXLSX(&bytes.Buffer{}, "x"); err == nil || !strings.Contains(err.Error(), "does not fit") {
		t.Errorf("a text longer than a cell: error %v", err)
	}
	fits := &Result{Columns: []string{"raw"}, Types: []string{"VARCHAR"}, Rows: [][]any{{strings.Repeat("é", xlsxMaxChars)}}}
	var b bytes.Buffer
	if err := fits.WriteXLSX(&b, "x"); err != nil {
		t.Fatal(err)
	}
	f, sheet := readXLSX(t, b.Bytes())
	if v, _ := f.GetCellValue(sheet, "A2"); v != fits.Rows[0][0] {
		t.Errorf("a text of exactly %d characters came back with %d", xlsxMaxChars, len([]rune(v)))
	}
	for in, want := range map[string]string{"": "result", "a/b[c]": "a_b_c_", "daily_summary": "daily_summary",
		strings.Repeat("n", 40): strings.Repeat("n", 31)} {
		if got := sheetName(in); got != want {
			t.Errorf("sheetName(%q) = %q, want %q", in, got, want)
		}
	}
}
