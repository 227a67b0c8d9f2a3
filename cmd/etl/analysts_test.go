package main

import (
	"database/sql"
	"os"
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

// sqlWorld is a world (no run needed: the views over an empty lake work)
// with a T2 token file at its default place in the state directory.
func sqlWorld(t *testing.T) (w *world, token string) {
	t.Helper()
	w = newWorld(t, 1, 1, 0, "")
	token = "t2-access-token-7f3a9c"
	tokenFile := filepath.Join(w.dir, "state", "t2-tokens.json")
	if err := os.MkdirAll(filepath.Dir(tokenFile), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(tokenFile, []byte(`{"access_token":"`+token+`","refresh_token":"t2-refresh-token-b81d"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	return w, token
}

// TestSQLSandbox runs each attack through `etl sql` in every output format:
// each must fail (exit 1), print no secret, print no "wrote", and leave no
// file behind.
func TestSQLSandbox(t *testing.T) {
	w, token := sqlWorld(t)
	q := func(p string) string { return "'" + strings.ReplaceAll(filepath.ToSlash(p), "'", "''") + "'" }
	lake, pw, tokenFile := filepath.Join(w.dir, "lake"), filepath.Join(w.dir, "pw"), filepath.Join(w.dir, "state", "t2-tokens.json")
	for _, tc := range []struct {
		name, sql string
		absent    []string // files the attack would create
	}{
		{name: "read /etc/passwd", sql: "SELECT * FROM read_csv('/etc/passwd')"},
		{name: "read the T2 token file", sql: "SELECT content FROM read_text(" + q(tokenFile) + ")"},
		{name: "read a secret file as a blob", sql: "SELECT content FROM read_blob(" + q(pw) + ")"},
		{name: "a secret file through the lake's ..", sql: "SELECT * FROM read_csv(" + q(lake+"/../pw") + ", header = false)"},
		{name: "CAST of a secret file's content", sql: "SELECT CAST(content AS INTEGER) FROM read_text(" + q(pw) + ")"},
		// The sandbox cannot stop this one (the secret is in the query); the
		// redactor must.
		{name: "a secret in the query's own text", sql: "SELECT CAST('" + testPassword + "' AS INTEGER)"},
		// The old parquet export spliced the SQL into COPY (…) TO OUT and
		// ran every statement of it, then printed "wrote OUT" for no file.
		{name: "SET enable_external_access spliced into the export",
			sql: "SELECT 1 AS x) TO " + q(w.dir+"/a.parquet") + "; SET enable_external_access = true; --", absent: []string{w.dir + "/a.parquet"}},
		{name: "ATTACH and CREATE spliced into the export",
			sql:    "SELECT 1 AS x) TO " + q(w.dir+"/b.parquet") + "; ATTACH " + q(w.dir+"/evil.duckdb") + " AS evil; CREATE TABLE evil.t AS SELECT 1; --",
			absent: []string{w.dir + "/b.parquet", w.dir + "/evil.duckdb"}},
		{name: "COPY TO an arbitrary path spliced into the export",
			sql: "SELECT * FROM calls) TO " + q(w.dir+"/leak.csv") + " (FORMAT csv); --", absent: []string{w.dir + "/leak.csv"}},
	} {
		for _, format := range []string{"table", "csv", "json", "parquet"} {
			t.Run(tc.name+"/"+format, func(t *testing.T) {
				args := []string{"sql", tc.sql, "--format", format}
				out := filepath.Join(w.dir, "out.parquet")
				if format == "parquet" {
					args = append(args, "--out", out)
				}
				code, stdout, stderr := w.etl(args...)
				if code != exitFailed {
					t.Errorf("exit %d, want %d\n%s%s", code, exitFailed, stdout, stderr)
				}
				for _, s := range []string{testPassword, token} {
					if strings.Contains(stdout+stderr, s) {
						t.Errorf("a secret is printed:\n%s%s", stdout, stderr)
					}
				}
				if strings.Contains(stderr, "wrote") {
					t.Errorf("a failed export says: %s", stderr)
				}
				temps, _ := filepath.Glob(filepath.Join(filepath.Dir(out), "."+filepath.Base(out)+".*.tmp"))
				for _, f := range append(append([]string{out}, temps...), tc.absent...) {
					if _, err := os.Stat(f); err == nil {
						t.Errorf("%s exists", f)
						os.Remove(f)
					}
				}
			})
		}
	}
	// Through all of it the lake still reads.
	if code, stdout, stderr := w.etl("sql", "SELECT count(*) AS n FROM calls", "--format", "csv"); code != exitOK || stdout != "n\n0\n" {
		t.Errorf("sql after the attacks: exit %d\n%s%s", code, stdout, stderr)
	}
}

// TestReportSandbox runs a report file that reads outside the lake, and one
// that shows a secret in an error.
func TestReportSandbox(t *testing.T) {
	w, token := sqlWorld(t)
	dir := t.TempDir()
	for name, body := range map[string]string{
		"passwd": "SELECT * FROM read_csv('/etc/passwd')",
		"token":  "SELECT content FROM read_text('" + filepath.ToSlash(filepath.Join(w.dir, "state", "t2-tokens.json")) + "')",
		"cast":   "SELECT CAST('" + token + "' AS INTEGER)",
	} {
		if err := os.WriteFile(filepath.Join(dir, name+".sql"), []byte("-- "+name+": attack\n"+body+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		code, stdout, stderr := w.etl("report", name, "--queries", dir)
		if code != exitFailed || strings.Contains(stdout+stderr, token) || strings.Contains(stdout, "root:") {
			t.Errorf("report %s: exit %d\n%s%s", name, code, stdout, stderr)
		}
	}
}

// TestSQLTimeout checks --timeout on etl sql (every format) and etl report:
// the query is interrupted and the error names the flag.
func TestSQLTimeout(t *testing.T) {
	w, _ := sqlWorld(t)
	const slow = "SELECT sum(a.range * b.range) AS s FROM range(1000000) a, range(1000000) b"
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "slow.sql"), []byte("-- slow: a cross join\n"+slow+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(w.dir, "slow.parquet")
	for _, args := range [][]string{
		{"sql", slow, "--timeout", "100ms"},
		{"sql", slow, "--timeout", "100ms", "--format", "json"},
		{"sql", slow, "--timeout", "100ms", "--format", "parquet", "--out", out},
		{"report", "slow", "--queries", dir, "--timeout", "100ms"},
	} {
		code, stdout, stderr := w.etl(args...)
		if code != exitFailed || !strings.Contains(stderr, "--timeout 100ms") || stdout != "" {
			t.Errorf("%q: exit %d, want %d with the flag named\n%s%s", args, code, exitFailed, stdout, stderr)
		}
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a cancelled export left its file")
	}
	if code, _, stderr := w.etl("sql", "SELECT 1", "--timeout", "-1s"); code != exitUsage {
		t.Errorf("a negative --timeout: exit %d\n%s", code, stderr)
	}
}

// TestSecretFileInLake checks that SQL commands refuse a config whose
// secret file or T2 token file lies inside the lake, which the sandbox lets
// queries read.
func TestSecretFileInLake(t *testing.T) {
	for _, tc := range []struct {
		name, file, to    string // file moves to to, both relative to the config's directory
		from, into, field string // config text replaced, and the field named
	}{
		{"password file", "pw", "lake/secrets/pw", "{file: pw}", "{file: lake/secrets/pw}", "sources.mtt.password"},
		{"state with the T2 token file", "state", "lake/state", "state: state", "state: lake/state", "sources.t2.token_file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, _ := sqlWorld(t)
			to := filepath.Join(w.dir, tc.to)
			if err := os.MkdirAll(filepath.Dir(to), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(filepath.Join(w.dir, tc.file), to); err != nil {
				t.Fatal(err)
			}
			cfg, err := os.ReadFile(w.cfg)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(w.cfg, []byte(strings.Replace(string(cfg), tc.from, tc.into, 1)), 0o644); err != nil {
				t.Fatal(err)
			}
			for _, args := range [][]string{{"sql", "SELECT 1"}, {"report", "daily_summary"}, {"views", "--out", filepath.Join(w.dir, "v.duckdb")}} {
				code, _, stderr := w.etl(args...)
				if code != exitUsage || !strings.Contains(stderr, tc.field) || !strings.Contains(stderr, "inside the lake") {
					t.Errorf("%s: exit %d\n%s", args[0], code, stderr)
				}
			}
		})
	}
}
