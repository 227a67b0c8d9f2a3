package report

import (
	"database/sql"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/calletl/calletl/lakeread"
	"github.com/calletl/calletl/load"
)

// writeRuns writes one runs file with DuckDB: first_day and last_day as
// the SQL type typ ("VARCHAR" as lakes before DATE wrote them, or "DATE"),
// each row's values as SQL literals.
func writeRuns(t *testing.T, lake, date, typ string, days [][2]string) {
	t.Helper()
	dir := filepath.Join(lake, "runs", "source=mtt", "date="+date)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	vals := ""
	for i, d := range days {
		if i > 0 {
			vals += ", "
		}
		vals += "(" + lakeread.QuoteString("run"+string(rune('a'+i))) + ", " + d[0] + ", " + d[1] + ")"
	}
	q := "COPY (SELECT run_id, 'run' AS mode, 'dialed' AS stream, 'acc' AS account, " +
		"CAST(NULL AS TIMESTAMPTZ) AS started_at, CAST(NULL AS TIMESTAMPTZ) AS finished_at, CAST(NULL AS BIGINT) AS duration_ms, " +
		"CAST(f AS " + typ + ") AS first_day, CAST(l AS " + typ + ") AS last_day, " +
		"0::BIGINT AS windows, 0::BIGINT AS pages, 0::BIGINT AS rows, 0::BIGINT AS rejects, 'ok' AS status, '' AS error " +
		"FROM (VALUES " + vals + ") v(run_id, f, l)) TO " + lakeread.QuoteString(filepath.Join(dir, "u.parquet")) + " (FORMAT parquet)"
	if _, err := db.Exec(q); err != nil {
		t.Fatalf("write runs: %v", err)
	}
}

// TestRunsDaysAreDates: runs.first_day and last_day read as DATE, from a
// lake written now (DATE in the files), from one written before (text, an empty string
// for no window) and from a lake holding both; the comment stays.
func TestRunsDaysAreDates(t *testing.T) {
	oldRows := [][2]string{{"'2026-11-18'", "'2026-11-19'"}, {"''", "''"}}
	newRows := [][2]string{{"DATE '2026-11-20'", "DATE '2026-11-20'"}, {"NULL", "NULL"}}
	for _, tc := range []struct {
		name string
		old  bool
		new  bool
		want [][]string
	}{
		{"empty", false, false, nil},
		{"old", true, false, [][]string{{"2026-11-18", "2026-11-19"}, {"NULL", "NULL"}}},
		{"new", false, true, [][]string{{"2026-11-20", "2026-11-20"}, {"NULL", "NULL"}}},
		{"both", true, true, [][]string{{"2026-11-18", "2026-11-19"}, {"NULL", "NULL"}, {"2026-11-20", "2026-11-20"}, {"NULL", "NULL"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lake := t.TempDir()
			if tc.old {
				writeRuns(t, lake, "2026-11-19", "VARCHAR", oldRows)
			}
			if tc.new {
				writeRuns(t, lake, "2026-11-20", "DATE", newRows)
			}
			e, err := Open(t.Context(), Options{Lake: lake, TimeZone: "UTC", Tables: []load.TableInfo{load.Runs.Info()}})
			if err != nil {
				t.Fatal(err)
			}
			defer e.Close()
			types := query(t, e, adhoc(`SELECT column_name, data_type, comment IS NOT NULL AND comment <> '' FROM duckdb_columns()
				WHERE table_name = 'runs' AND column_name IN ('first_day', 'last_day') ORDER BY 1`), nil)
			if got, want := cells(types), [][]string{{"first_day", "DATE", "true"}, {"last_day", "DATE", "true"}}; !reflect.DeepEqual(got, want) {
				t.Errorf("types = %q, want %q", got, want)
			}
			res := query(t, e, adhoc("SELECT first_day, last_day FROM runs ORDER BY date, run_id"), nil)
			if got := cells(res); !reflect.DeepEqual(got, tc.want) && len(got)+len(tc.want) > 0 {
				t.Errorf("rows = %q, want %q", got, tc.want)
			}
			// A date comparison works, as it would not on text.
			query(t, e, adhoc("SELECT count(*) FROM runs WHERE first_day >= DATE '2026-11-01'"), nil)
		})
	}
}
