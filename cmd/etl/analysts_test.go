package main

import (
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
)

func TestViewsDatabaseAndSQL(t *testing.T) {
	w := newWorld(t, 2, 60, 0, "")
	if code, _, stderr := w.etl("run"); code != exitOK {
		t.Fatalf("run: exit %d\n%s", code, stderr)
	}
	out := filepath.Join(w.dir, "calletl.duckdb")
	if code, _, stderr := w.etl("views", "--out", out); code != exitOK {
		t.Fatalf("views: exit %d\n%s", code, stderr)
	}
	// An analyst's process opens it read-only…
	db, err := sql.Open("duckdb", out+"?access_mode=read_only")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	count := func() int {
		t.Helper()
		var n int
		if err := db.QueryRow("SELECT count(*) FROM calls").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	var want int
	duck(t).QueryRow(`SELECT count(*) FROM ` + w.glob("calls")).Scan(&want)
	if got := count(); got != want || want == 0 {
		t.Fatalf("views db: %d calls, lake %d", got, want)
	}
	var comment sql.NullString
	db.QueryRow(`SELECT comment FROM duckdb_columns() WHERE table_name = 'calls' AND column_name = 'cost'`).Scan(&comment)
	if !comment.Valid || comment.String == "" {
		t.Error("calls.cost has no comment in the views database")
	}
	// …and keeps working while a run writes the lake and the views file is refreshed.
	if code, _, stderr := w.etl("run"); code != exitOK {
		t.Fatalf("second run: exit %d\n%s", code, stderr)
	}
	if code, _, stderr := w.etl("views", "--out", out); code != exitOK {
		t.Fatalf("views refresh with a reader open: exit %d\n%s", code, stderr)
	}
	if got := count(); got != want {
		t.Errorf("after a re-run: %d calls, want %d", got, want)
	}

	code, csv, stderr := w.etl("sql", "SELECT direction, count(*) AS n FROM calls GROUP BY ALL ORDER BY 1", "--format", "csv")
	if code != exitOK || !strings.HasPrefix(csv, "direction,n\n") || !strings.Contains(csv, "outgoing,") {
		t.Errorf("sql csv: exit %d\n%s%s", code, csv, stderr)
	}
	pq := filepath.Join(w.dir, "out.parquet")
	if code, _, stderr := w.etl("sql", "SELECT * FROM calls", "--format", "parquet", "--out", pq); code != exitOK {
		t.Fatalf("sql parquet: exit %d\n%s", code, stderr)
	}
	var n int
	duck(t).QueryRow(`SELECT count(*) FROM read_parquet('` + pq + `')`).Scan(&n)
	if n != want {
		t.Errorf("parquet export has %d rows, want %d", n, want)
	}
	if code, _, _ := w.etl("sql", "SELECT 1; DROP VIEW calls"); code == exitOK {
		t.Error("two statements accepted")
	}
	if code, _, _ := w.etl("sql"); code != exitUsage {
		t.Errorf("no query: exit %d", code)
	}
}
