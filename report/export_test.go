package report

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/calletl/calletl/lakeread"
)

// openExport opens an engine over w's lake that may write out.
func openExport(t *testing.T, w sandboxWorld, out string) *Engine {
	t.Helper()
	e, err := Open(context.Background(), Options{Lake: w.lake, TimeZone: "UTC", Tables: allTables(), Output: out})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := e.Close(); err != nil {
			t.Error(err)
		}
	})
	return e
}

// TestSelectOnly checks that Query and CopyParquet refuse the same SQL
// through the same check, and that a refused export leaves no file and no
// side effect.
func TestSelectOnly(t *testing.T) {
	w := newSandboxWorld(t)
	out := filepath.Join(w.root, "out.parquet")
	e := openExport(t, w, out)
	ctx := context.Background()
	q := lakeread.QuoteString
	inLake := w.lake + "/calls/source=mtt/date=2026-11-20/evil.parquet"
	for _, tc := range []struct {
		name, sql string
		absent    string // a file the statement would create
	}{
		{name: "two statements", sql: "SELECT 1; DROP VIEW calls"},
		{name: "DDL", sql: "CREATE TABLE t AS SELECT 1"},
		{name: "DROP", sql: "DROP VIEW calls"},
		{name: "COPY into the lake", sql: "COPY (SELECT 1 AS x) TO " + q(inLake), absent: inLake},
		{name: "ATTACH in the lake", sql: "ATTACH " + q(w.lake+"/x.duckdb"), absent: w.lake + "/x.duckdb"},
		{name: "SET", sql: "SET threads = 1"},
		{name: "PRAGMA assignment", sql: "PRAGMA threads = 1"},
		{name: "PRAGMA profiling_output", sql: "PRAGMA profiling_output = " + q(w.root+"/profile.json"), absent: w.root + "/profile.json"},
		{name: "CALL", sql: "CALL pragma_version()"},
		{name: "EXPLAIN", sql: "EXPLAIN SELECT 1"},
		{name: "NUL hides a second statement", sql: "SELECT 1\x00; DROP VIEW calls"},
		// The old export spliced the SQL into COPY (…) TO: closing the bracket
		// ran COPY, ATTACH and CREATE and printed "wrote" for a missing file.
		{name: "splice out of the COPY", sql: "SELECT 1) TO " + q(inLake) + "; ATTACH " + q(w.lake+"/y.duckdb") + " AS y; CREATE TABLE y.t AS SELECT 1; --", absent: inLake},
		{name: "splice with a block comment", sql: "SELECT 1) TO " + q(inLake) + " /*", absent: inLake},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := e.Query(ctx, adhoc(tc.sql), nil); !errors.Is(err, ErrNotSelect) && !isParseError(err) {
				t.Errorf("Query: error %v, want ErrNotSelect or a parser error", err)
			}
			if err := e.CopyParquet(ctx, tc.sql); !errors.Is(err, ErrNotSelect) && !isParseError(err) {
				t.Errorf("CopyParquet: error %v, want ErrNotSelect or a parser error", err)
			}
			for _, f := range []string{out, out + ".tmp", tc.absent, w.lake + "/y.duckdb"} {
				if _, err := os.Stat(f); f != "" && err == nil {
					t.Errorf("%s exists", f)
				}
			}
		})
	}
	if got := cells(query(t, e, adhoc("SELECT count(*) FROM calls"), nil))[0][0]; got != "12" {
		t.Errorf("after the attempts, calls has %s rows, want 12", got)
	}
}

func isParseError(err error) bool {
	return err != nil && strings.Contains(err.Error(), "Parser Error")
}

func TestCopyParquet(t *testing.T) {
	w := newSandboxWorld(t)
	out := filepath.Join(w.root, "out dir", "it's.parquet")
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		t.Fatal(err)
	}
	e := openExport(t, w, out)
	ctx := context.Background()
	// A trailing semicolon and comment are fine: the query is passed whole.
	if err := e.CopyParquet(ctx, "SELECT call_id, cost FROM calls WHERE source = 'mtt' ORDER BY call_id; -- seven"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(out + ".tmp"); err == nil {
		t.Error("the temp file is left")
	}
	var n, minID, typ string
	if err := duckDB(t, "").QueryRow("SELECT count(*), min(call_id), typeof(min(cost)) FROM read_parquet("+lakeread.QuoteString(out)+")").Scan(&n, &minID, &typ); err != nil {
		t.Fatal(err)
	}
	if got, want := n+" "+minID+" "+typ, "7 1 DECIMAL(18,4)"; got != want {
		t.Errorf("export: %s, want %s", got, want)
	}

	// A failing query leaves the previous file as it was, and no temp file.
	before, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{
		"SELECT CAST(call_id AS INTEGER) / 0 FROM calls WHERE call_id = 'x' UNION ALL SELECT CAST('nope' AS INTEGER)",
		"SELECT * FROM read_csv('/etc/passwd')",
		"SELECT $x",
	} {
		if err := e.CopyParquet(ctx, bad); err == nil {
			t.Errorf("%s: exported", bad)
		}
		if after, err := os.ReadFile(out); err != nil || string(after) != string(before) {
			t.Errorf("%s: the previous export changed (%v)", bad, err)
		}
		if _, err := os.Stat(out + ".tmp"); err == nil {
			t.Errorf("%s: the temp file is left", bad)
		}
	}

	// Only the named output can be written, and it cannot be in the lake.
	if err := openEngine(t, w.lake, "UTC").CopyParquet(ctx, "SELECT 1"); err == nil {
		t.Error("an engine without Options.Output exported")
	}
	if _, err := Open(ctx, Options{Lake: w.lake, TimeZone: "UTC", Output: filepath.Join(w.lake, "calls", "x.parquet")}); err == nil {
		t.Error("an output inside the lake was accepted")
	}
}

// TestQueryTimeout checks that a cancelled context interrupts DuckDB in the
// middle of a query, for Query and CopyParquet alike.
func TestQueryTimeout(t *testing.T) {
	w := newSandboxWorld(t)
	out := filepath.Join(w.root, "slow.parquet")
	e := openExport(t, w, out)
	const slow = "SELECT sum(a.range * b.range) AS s FROM range(1000000) a, range(1000000) b"
	for name, run := range map[string]func(context.Context) error{
		"Query": func(ctx context.Context) error {
			_, err := e.Query(ctx, adhoc(slow), nil)
			return err
		},
		"CopyParquet": func(ctx context.Context) error { return e.CopyParquet(ctx, slow) },
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		err := run(ctx)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%s: error %v, want one wrapping context.DeadlineExceeded", name, err)
		}
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("the cancelled export left a file")
	}
	// The engine is still usable.
	if got := cells(query(t, e, adhoc("SELECT count(*) FROM calls"), nil))[0][0]; got != "12" {
		t.Errorf("after the timeouts: %s calls, want 12", got)
	}
}

// TestViewsDatabaseSandboxed checks that WriteViews works under the sandbox
// and that the file it writes carries none of it: an analyst's own DuckDB
// opens it read-only and has its usual access.
func TestViewsDatabaseSandboxed(t *testing.T) {
	w := newSandboxWorld(t)
	out := filepath.Join(w.root, "views", "calletl.duckdb")
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := WriteViews(context.Background(), out, Options{Lake: w.lake, TimeZone: "UTC", Tables: allTables()}); err != nil {
		t.Fatal(err)
	}
	db := duckDB(t, out+"?access_mode=read_only")
	var n int
	if err := db.QueryRow("SELECT count(*) FROM calls").Scan(&n); err != nil || n != 12 {
		t.Errorf("calls in the views database: %d, %v", n, err)
	}
	var ext string
	if err := db.QueryRow("SELECT current_setting('enable_external_access')").Scan(&ext); err != nil || ext != "true" {
		t.Errorf("the analyst's process: enable_external_access=%s, %v", ext, err)
	}
}

// duckDB opens a plain DuckDB database, as an analyst's process would.
func duckDB(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open("duckdb", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
