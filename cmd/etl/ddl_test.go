package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/calletl/calletl/ddl"
	"github.com/calletl/calletl/load"
	"github.com/calletl/calletl/load/loadtest"
	"github.com/calletl/calletl/model"
)

// TestDDLGolden pins `etl ddl` for every dialect over every lake table.
// A change here changes what analysts create in their engines: review the
// diff, then go test ./cmd/etl -run DDLGolden -update.
func TestDDLGolden(t *testing.T) {
	for _, d := range ddl.Dialects {
		t.Run(d, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := runMain([]string{"--config", filepath.Join(t.TempDir(), "absent.yaml"), "ddl", "--dialect", d, "--location", "s3://calletl-data/lake"}, &out, &errb)
			if code != exitOK {
				t.Fatalf("exit %d: %s", code, errb.String())
			}
			golden := filepath.Join("testdata", "ddl", d+".sql")
			if *update {
				os.MkdirAll(filepath.Dir(golden), 0o755)
				if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if out.String() != string(want) {
				t.Errorf("etl ddl --dialect %s changed; review and run with -update.\n--- got\n%s", d, out.String())
			}
			for _, table := range allTables(vendors()) {
				if !strings.Contains(out.String(), table.Name) {
					t.Errorf("no statement for table %s", table.Name)
				}
			}
		})
	}
}

// TestDDLUsage: a bad command line exits 2 and says what to give.
func TestDDLUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"ddl"}, "--dialect"},
		{[]string{"ddl", "--dialect", "oracle", "--location", "s3://b/l"}, "want one of trino, athena, spark, duckdb"},
		{[]string{"ddl", "--dialect", "trino", "--location", "/var/lake"}, "want a URL"},
		{[]string{"ddl", "--dialect", "athena", "--location", "s3://b/l", "--first-date", "2020-13-01"}, "YYYY-MM-DD"},
		{[]string{"ddl", "--dialect", "spark", "--location", "s3://b/l'; DROP TABLE x; --"}, "quotes"},
		{[]string{"ddl", "--dialect", "duckdb"}, "not found"}, // no --location: the config's lake, and there is no config
	} {
		var out, errb bytes.Buffer
		code := runMain(append([]string{"--config", filepath.Join(t.TempDir(), "absent.yaml")}, tc.args...), &out, &errb)
		if code != exitUsage || !strings.Contains(errb.String(), tc.want) {
			t.Errorf("%q: exit %d, stderr %q: want exit 2 mentioning %q", tc.args, code, errb.String(), tc.want)
		}
	}
}

// TestDDLMatchesLakeSchema checks the DuckDB types `etl ddl` declares
// against the types DuckDB reads from the files a real run writes, as
// pinned in testdata/lake-schema.golden (TestLakeSchemaGolden): the Arrow
// schemas the DDL is built from and the Parquet the writer produces cannot
// drift apart unnoticed.
func TestDDLMatchesLakeSchema(t *testing.T) {
	f, err := os.Open(filepath.Join("testdata", "lake-schema.golden"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	files := map[string]map[string]string{} // table → column → type
	var table string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasSuffix(line, ":") && !strings.HasPrefix(line, " "):
			table = strings.TrimSuffix(line, ":")
			files[table] = map[string]string{}
		case strings.HasPrefix(line, "  ") && table != "":
			name, typ, _ := strings.Cut(strings.TrimSpace(line), " ")
			files[table][name] = strings.TrimSpace(typ)
		}
	}
	checked := 0
	for _, ti := range allTables(vendors()) {
		got, ok := files[ti.Name]
		if !ok {
			continue // no files in the golden run
		}
		for _, f := range ti.Schema.Fields() {
			want := declaredDuckType(t, f.Type)
			if got[f.Name] == "" {
				continue // a column the golden run's files lack
			}
			if got[f.Name] != want {
				t.Errorf("%s.%s: etl ddl declares %s, the lake's files hold %s", ti.Name, f.Name, want, got[f.Name])
			}
			checked++
		}
		if got["source"] != "VARCHAR" || got["date"] != "DATE" {
			t.Errorf("%s: partitions %s/%s, want VARCHAR/DATE", ti.Name, got["source"], got["date"])
		}
	}
	if checked < 100 {
		t.Fatalf("only %d columns compared: is lake-schema.golden's format still the one parsed here?", checked)
	}
}

// declaredDuckType is the type etl ddl --dialect duckdb declares for an
// Arrow type, spelt as DESCRIBE prints it.
func declaredDuckType(t *testing.T, typ arrow.DataType) string {
	t.Helper()
	s, err := ddl.TypeOf("duckdb", typ)
	if err != nil {
		t.Fatal(err)
	}
	if s == "TIMESTAMPTZ" {
		return "TIMESTAMP WITH TIME ZONE"
	}
	return s
}

// TestDDLDuckDBRuns executes `etl ddl --dialect duckdb` in real DuckDB over
// a lake: calls written by the lake writer (two days, and a file of an
// older schema that lacks a column), rejects without any file, every other
// table one file of one row written from its Arrow schema. Every view is
// created (rejects' empty), has the definition's columns and types,
// partitions typed, comments attached, and reads the rows back.
func TestDDLDuckDBRuns(t *testing.T) {
	lake := loadtest.OpenLake(t)
	started := time.Date(2026, 11, 2, 9, 30, 0, 0, time.UTC)
	calls := []model.Call{
		{Source: "mtt", Date: "2026-11-02", Account: "110011256", CallID: "c1", Direction: model.Incoming,
			StartedAt: started, Cost: sql.Null[model.Money]{V: 24800, Valid: true}, Currency: "RUB", RunID: "r1", ExtractedAt: started},
		{Source: "mtt", Date: "2026-11-03", Account: "110011256", CallID: "c2", Direction: model.Incoming,
			StartedAt: started.AddDate(0, 0, 1), RunID: "r1", ExtractedAt: started},
	}
	tx, err := lake.Begin("mtt", "test")
	if err != nil {
		t.Fatal(err)
	}
	w := load.Writer(tx, load.Calls)
	for i := range calls {
		if err := w.Add(calls[i].Date, &calls[i]); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	for _, ti := range allTables(vendors()) {
		schema := ti.Schema
		if ti.Name == load.Rejects.Name {
			continue // a table without files: an empty view
		}
		if ti.Name == load.Calls.Name {
			// An older file without the last column: the view still has it.
			schema = arrow.NewSchema(schema.Fields()[:schema.NumFields()-1], nil)
		}
		writeOneRow(t, filepath.Join(lake.Root(), ti.Name, "source=t2", "date=2026-11-01", "old.parquet"), schema)
	}

	var out, errb bytes.Buffer
	if code := runMain([]string{"--config", filepath.Join(t.TempDir(), "absent.yaml"), "ddl", "--dialect", "duckdb", "--location", lake.Root()}, &out, &errb); code != exitOK {
		t.Fatalf("etl ddl: exit %d: %s", code, errb.String())
	}
	db := loadtest.OpenDuckDB(t)
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, out.String()); err != nil {
		t.Fatalf("DuckDB refused etl ddl's output: %v", err)
	}

	for _, ti := range allTables(vendors()) {
		rows, err := db.QueryContext(ctx, "SELECT column_name, data_type, coalesce(comment, '') FROM duckdb_columns() WHERE table_name = $1 ORDER BY column_index", ti.Name)
		if err != nil {
			t.Fatal(err)
		}
		var names, types []string
		comments := map[string]string{}
		for rows.Next() {
			var n, typ, c string
			if err := rows.Scan(&n, &typ, &c); err != nil {
				t.Fatal(err)
			}
			names, types = append(names, n), append(types, typ)
			comments[n] = c
		}
		rows.Close()
		wantNames := []string{"source", "date"}
		wantTypes := []string{"VARCHAR", "DATE"}
		for _, f := range ti.Schema.Fields() {
			wantNames = append(wantNames, f.Name)
			wantTypes = append(wantTypes, declaredDuckType(t, f.Type))
		}
		if strings.Join(names, ",") != strings.Join(wantNames, ",") || strings.Join(types, ",") != strings.Join(wantTypes, ",") {
			t.Errorf("view %s:\n got  %v %v\n want %v %v", ti.Name, names, types, wantNames, wantTypes)
		}
		for col, doc := range ti.Comments {
			if comments[col] != doc {
				t.Errorf("%s.%s: comment %q, want %q", ti.Name, col, comments[col], doc)
			}
		}
		var n int
		want := 1
		if ti.Name == load.Rejects.Name {
			want = 0
		}
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM "`+ti.Name+`" WHERE source = 't2' AND date = DATE '2026-11-01'`).Scan(&n); err != nil || n != want {
			t.Errorf("%s: %d rows in source=t2/date=2026-11-01 (%v), want %d", ti.Name, n, err, want)
		}
	}

	var cost sql.NullString
	var at time.Time
	var date time.Time
	err = db.QueryRowContext(ctx, `SELECT cost::VARCHAR, started_at, date FROM calls WHERE call_id = 'c1'`).Scan(&cost, &at, &date)
	if err != nil {
		t.Fatal(err)
	}
	if cost.String != "2.4800" || !at.Equal(started) || date.Format(model.DayLayout) != "2026-11-02" {
		t.Errorf("calls c1: cost %v, started_at %v, date %v: want 2.4800, %v, 2026-11-02", cost, at, date, started)
	}
	var dups int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM calls WHERE source = 't2' AND "duplicate" IS NULL`).Scan(&dups); err != nil || dups != 1 {
		t.Errorf("the older calls file: %d rows with duplicate NULL (%v), want 1", dups, err)
	}
}

// TestDDLDuckDBNoFiles: over object storage etl ddl cannot look for files,
// and, as the output's header says, DuckDB refuses the view of a table
// with no file yet (it binds read_parquet's glob at CREATE).
func TestDDLDuckDBNoFiles(t *testing.T) {
	lake := loadtest.OpenLake(t)
	var b strings.Builder
	ti := load.Rejects.Info()
	if err := ddl.Write(&b, []load.TableInfo{ti}, ddl.Options{Dialect: "duckdb", Location: lake.Root()}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "No files found") {
		t.Error("the header no longer warns about tables without files")
	}
	_, err := loadtest.OpenDuckDB(t).Exec(b.String())
	if err == nil || !strings.Contains(err.Error(), "No files found") {
		t.Fatalf("got %v, want DuckDB's No files found (update the header if this changed)", err)
	}
}

// writeOneRow writes a Parquet file of one row of schema: NULL where the
// column is nullable, the type's zero otherwise.
func writeOneRow(t *testing.T, path string, schema *arrow.Schema) {
	t.Helper()
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	for i, f := range schema.Fields() {
		if f.Nullable {
			b.Field(i).AppendNull()
		} else {
			b.Field(i).AppendEmptyValue()
		}
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w, err := pqarrow.NewFileWriter(schema, f, nil, pqarrow.DefaultWriterProps())
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(rec); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}
