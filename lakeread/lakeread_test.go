package lakeread_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	_ "github.com/duckdb/duckdb-go/v2"

	"github.com/calletl/calletl/lakeread"
	"github.com/calletl/calletl/load"
)

func duck(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	return db
}

// HasData (Go) and Glob (DuckDB) are one rule: for each tree, HasData
// answers true exactly when DuckDB's glob matches a file, and the glob
// matches exactly the data files.
func TestHasDataAndGlobAgree(t *testing.T) {
	db := duck(t)
	for _, tc := range []struct {
		name  string
		files []string // under ROOT/t
		want  []string // what the glob must match
	}{
		{name: "no table directory"},
		{name: "empty partition", files: []string{"source=a/date=2026-01-01/"}},
		{name: "unit and compacted files", files: []string{"source=a/date=2026-01-01/u1.parquet", "source=a/date=2026-01-02/compacted.parquet"},
			want: []string{"source=a/date=2026-01-01/u1.parquet", "source=a/date=2026-01-02/compacted.parquet"}},
		{name: "temporary files only", files: []string{"source=a/date=2026-01-01/.u1.parquet.X.tmp", "source=a/date=2026-01-01/.u1.parquet"}},
		{name: "hidden and AppleDouble", files: []string{"source=a/date=2026-01-01/._u1.parquet", "source=a/date=2026-01-01/u1.parquet"},
			want: []string{"source=a/date=2026-01-01/u1.parquet"}},
		{name: "not a partition", files: []string{"u.parquet", "source=a/u.parquet", "x/date=2026-01-01/u.parquet",
			".trash/source=a/date=2026-01-01/u.parquet", "source=a/date=2026-01-01/old/u.parquet", "source=a/date=2026-01-01/u.csv"}},
		{name: "a directory named like a file", files: []string{"source=a/date=2026-01-01/d.parquet/"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			for _, f := range tc.files {
				p := filepath.Join(root, "t", filepath.FromSlash(f))
				if strings.HasSuffix(f, "/") {
					if err := os.MkdirAll(p, 0o755); err != nil {
						t.Fatal(err)
					}
					continue
				}
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			rows, err := db.Query("SELECT file FROM glob($1) ORDER BY file", lakeread.Glob(root, "t"))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for rows.Next() {
				var f string
				if err := rows.Scan(&f); err != nil {
					t.Fatal(err)
				}
				got = append(got, strings.TrimPrefix(f, filepath.ToSlash(root)+"/t/"))
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("DuckDB's glob matches %q, want %q", got, tc.want)
			}
			has, err := lakeread.HasData(root, "t")
			if err != nil {
				t.Fatal(err)
			}
			if has != (len(tc.want) > 0) {
				t.Errorf("HasData = %v, but the glob matches %q", has, tc.want)
			}
		})
	}
}

// A table without files is an empty view typed from its schema, with the
// partition columns first; a root DuckDB's glob would misread is refused.
func TestCreateViewEmptyAndBadRoot(t *testing.T) {
	ctx := context.Background()
	db := duck(t)
	info := load.TableInfo{Name: "things", Schema: arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.BinaryTypes.String},
		{Name: "n", Type: arrow.PrimitiveTypes.Int64},
		{Name: "at", Type: &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}},
	}, nil)}
	cols, err := lakeread.CreateView(ctx, db, t.TempDir(), info)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"source": "VARCHAR", "date": "DATE", "id": "VARCHAR", "n": "BIGINT", "at": "TIMESTAMP WITH TIME ZONE"}
	for c, typ := range want {
		if cols[c] != typ {
			t.Errorf("column %s: %q, want %q (all: %v)", c, cols[c], typ, cols)
		}
	}
	var n int
	if err := db.QueryRow("SELECT count(*) FROM things").Scan(&n); err != nil || n != 0 {
		t.Errorf("count %d, %v; want 0 rows", n, err)
	}
	for _, root := range []string{"/tmp/lake[1]", "/tmp/la*ke", "/tmp/lake\n"} {
		if _, err := lakeread.CreateView(ctx, db, root, info); err == nil || !strings.Contains(err.Error(), "unsupported character") {
			t.Errorf("root %q: %v, want unsupported character", root, err)
		}
	}
}
