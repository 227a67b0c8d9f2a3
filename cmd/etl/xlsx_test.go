package main

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

// TestReportAndSQLFormats: etl report and etl sql write xlsx (to stdout when
// it is not a terminal, or to --out) that reads back with the same rows and
// sums as the csv format, and etl report writes a report's Parquet file
// with its parameters bound.
func TestReportAndSQLFormats(t *testing.T) {
	w := newWorld(t, 2, 40, 0, "")
	if code, _, stderr := w.etl("run"); code != exitOK {
		t.Fatalf("run: exit %d\n%s", code, stderr)
	}
	code, csv, stderr := w.etl("report", "daily_summary", "--format", "csv")
	if code != exitOK {
		t.Fatalf("report csv: exit %d\n%s", code, stderr)
	}
	csvRows := strings.Split(strings.TrimSuffix(csv, "\n"), "\n")

	code, xlsx, stderr := w.etl("report", "daily_summary", "--format", "xlsx")
	if code != exitOK {
		t.Fatalf("report xlsx to a pipe: exit %d\n%s", code, stderr)
	}
	f, err := excelize.OpenReader(strings.NewReader(xlsx))
	if err != nil {
		t.Fatalf("report xlsx: %v", err)
	}
	defer f.Close()
	rows, err := f.GetRows("daily_summary", excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(csvRows) || strings.Join(rows[0], ",") != csvRows[0] {
		t.Fatalf("xlsx has %d rows (header %q), csv %d (%q)", len(rows), rows[0], len(csvRows), csvRows[0])
	}
	callsCol := -1
	for i, c := range rows[0] {
		if c == "calls" {
			callsCol = i
		}
	}
	sum := func(get func(i int) string) (n int) {
		for i := 1; i < len(rows); i++ {
			v, err := strconv.Atoi(get(i))
			if err != nil {
				t.Fatalf("row %d: calls %q", i, get(i))
			}
			n += v
		}
		return n
	}
	xs := sum(func(i int) string { return rows[i][callsCol] })
	cs := sum(func(i int) string { return strings.Split(csvRows[i], ",")[callsCol] })
	if xs != cs || xs == 0 {
		t.Errorf("calls: xlsx sums %d, csv %d", xs, cs)
	}

	out := filepath.Join(w.dir, "q.xlsx")
	if code, stdout, stderr := w.etl("sql", "SELECT date, count(*) AS n, sum(cost) AS cost FROM calls GROUP BY ALL ORDER BY 1",
		"--format", "xlsx", "--out", out); code != exitOK || stdout != "" {
		t.Fatalf("sql xlsx --out: exit %d, stdout %d bytes\n%s", code, len(stdout), stderr)
	}
	g, err := excelize.OpenFile(out)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	if v, _ := g.GetCellValue("sql", "C1"); v != "cost" {
		t.Errorf("sql sheet C1 = %q, want cost", v)
	}
	if temps, _ := filepath.Glob(filepath.Join(filepath.Dir(out), "."+filepath.Base(out)+".*.tmp")); len(temps) != 0 {
		t.Errorf("temp files left behind: %q", temps)
	}

	pq := filepath.Join(w.dir, "daily.parquet")
	days := strings.Split(csvRows[1], ",")[0]
	if code, _, stderr := w.etl("report", "daily_summary", "--from", days, "--to", days, "--format", "parquet", "--out", pq); code != exitOK {
		t.Fatalf("report parquet: exit %d\n%s", code, stderr)
	}
	var n, wantN int
	if err := duck(t).QueryRow("SELECT count(*) FROM read_parquet('" + pq + "') WHERE date::VARCHAR = '" + days + "'").Scan(&n); err != nil {
		t.Fatal(err)
	}
	for _, r := range csvRows[1:] {
		if strings.HasPrefix(r, days+",") {
			wantN++
		}
	}
	if n != wantN || n == 0 {
		t.Errorf("report parquet of %s: %d rows, want %d", days, n, wantN)
	}
	for _, args := range [][]string{
		{"report", "daily_summary", "--format", "parquet"},
		{"sql", "SELECT 1", "--format", "csv", "--out", out},
		{"report", "daily_summary", "--format", "pdf"},
	} {
		if code, _, _ := w.etl(args...); code != exitUsage {
			t.Errorf("%q: exit %d, want %d", args, code, exitUsage)
		}
	}
}
