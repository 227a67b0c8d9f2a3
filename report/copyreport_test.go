package report

import (
	"context"
	"database/sql"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/calletl/calletl/lakeread"
	"github.com/calletl/calletl/queries"
)

// TestCopyReport: a report's Parquet file has the rows its table has, with
// its parameters bound; a bad parameter leaves no file.
func TestCopyReport(t *testing.T) {
	lake := t.TempDir()
	sampleLake(t, lake)
	out := filepath.Join(t.TempDir(), "r.parquet")
	e, err := Open(context.Background(), Options{Lake: lake, TimeZone: "UTC", Tables: allTables(), Output: out})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	r, err := Find(queries.FS(), "daily_summary")
	if err != nil {
		t.Fatal(err)
	}
	args := map[string]string{"from": "2026-11-21", "to": "2026-11-21"}
	if err := e.CopyReport(context.Background(), r, map[string]string{"from": "21.11.2026"}); err == nil {
		t.Error("a bad DATE: no error")
	}
	if err := e.CopyReport(context.Background(), r, args); err != nil {
		t.Fatal(err)
	}
	want := cells(query(t, e, r, args))
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query("SELECT date::VARCHAR, source, direction, calls::VARCHAR FROM read_parquet(" + lakeread.QuoteString(out) + ")")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got [][]string
	for rows.Next() {
		var d, s, dir, n string
		if err := rows.Scan(&d, &s, &dir, &n); err != nil {
			t.Fatal(err)
		}
		got = append(got, []string{d, s, dir, n})
	}
	var wantHead [][]string
	for _, w := range want {
		wantHead = append(wantHead, w[:4])
	}
	if len(want) == 0 || !reflect.DeepEqual(got, wantHead) {
		t.Errorf("parquet rows %q, want %q", got, wantHead)
	}
}
