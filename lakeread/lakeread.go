// Package lakeread is how calletl reads its local lake with DuckDB. The
// reports (package report: its views, and the views file it writes for
// analysts) and the recordings backlog (package recordings) both create
// their tables with [CreateView], so they see the same rows of the same
// files.
//
// One rule says which files hold a table's rows, the rule of the lake's
// writer (package load):
//
//	ROOT/<table>/source=<S>/date=<D>/<name>.parquet, name not starting with "."
//
// So a compacted partition's one file (load.CompactedFile) is read like any
// unit's file; temporary files (".<unit>.parquet.<random>.tmp",
// ".<name>.*.tmp") and other hidden files (a macOS "._u.parquet" copied
// along with a lake) are not; nor is a Parquet file anywhere else under the
// table (in the table's own directory, deeper in a partition, in a hidden
// directory), which no reader could give both partition columns. DuckDB
// reads that rule as the glob of [Glob]; [HasData] is the same rule in Go,
// for the callers that ask before there is a database.
//
// A table with no data file yet reads as an empty view with the same
// columns, typed from its schema (DuckDB refuses read_parquet of a glob that
// matches nothing), so queries over it run and return no rows.
//
// This package builds SQL only; it does not open DuckDB. Reading a lake in
// a store (S3) goes through a local copy (load.Mirror), which has the same
// layout.
package lakeread

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/calletl/calletl/load"
)

// DB is what CreateView needs of a database: *sql.DB and *sql.Conn are one.
type DB interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// Glob returns the DuckDB glob of table's data files under the lake root,
// with forward slashes. DuckDB's "[!.]" is a character other than a dot.
func Glob(root, table string) string {
	return filepath.ToSlash(root) + "/" + table + "/" + load.SourceColumn + "=*/" + load.DateColumn + "=*/[!.]*.parquet"
}

// IsDataName reports whether a file named name in a partition directory is
// one of the table's data files.
func IsDataName(name string) bool {
	return !strings.HasPrefix(name, ".") && strings.HasSuffix(name, ".parquet")
}

// HasData reports whether table has at least one data file under root: a
// regular file that [Glob] matches. A missing table directory has none.
func HasData(root, table string) (bool, error) {
	tableDir := filepath.Join(root, table)
	parts, err := subdirs(tableDir, load.SourceColumn+"=")
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("lakeread: table %s: %w", table, err)
	}
	for _, s := range parts {
		dates, err := subdirs(s, load.DateColumn+"=")
		if err != nil && !errors.Is(err, fs.ErrNotExist) { // removed meanwhile: no files
			return false, fmt.Errorf("lakeread: table %s: %w", table, err)
		}
		for _, d := range dates {
			entries, err := os.ReadDir(d)
			if err != nil && !errors.Is(err, fs.ErrNotExist) {
				return false, fmt.Errorf("lakeread: table %s: %w", table, err)
			}
			for _, e := range entries {
				if IsDataName(e.Name()) && e.Type().IsRegular() {
					return true, nil
				}
			}
		}
	}
	return false, nil
}

// subdirs returns the paths of dir's subdirectories whose names start with
// prefix.
func subdirs(dir, prefix string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() && strings.HasPrefix(e.Name(), prefix) {
			out = append(out, filepath.Join(dir, e.Name()))
		}
	}
	return out, nil
}

// CreateView creates in db the view t.Name over table t of the lake at root
// and returns its columns with their DuckDB types ("VARCHAR", "DATE", …).
// The columns are source (VARCHAR), date (DATE), then the file columns;
// with no data file yet, the view is empty and its file columns are those
// of t.Schema. A column the schema types (DATE, a number, …) but some files
// hold as text, as files written before the column got its type do, is
// cast to the schema's type, an empty string becoming NULL.
//
// The table's data files are found when a query runs, by [Glob]: a
// partition or a file added later is read, except while the view is the
// empty one (create it again once the table has files).
func CreateView(ctx context.Context, db DB, root string, t load.TableInfo) (map[string]string, error) {
	if err := checkTableName(t.Name); err != nil {
		return nil, err
	}
	if t.Schema == nil {
		return nil, fmt.Errorf("lakeread: table %s: no schema", t.Name)
	}
	if err := checkRoot(root); err != nil {
		return nil, err
	}
	has, err := HasData(root, t.Name)
	if err != nil {
		return nil, err
	}
	if !has {
		query, err := emptySelect(t.Schema)
		if err != nil {
			return nil, fmt.Errorf("lakeread: table %s: %w", t.Name, err)
		}
		return createView(ctx, db, "CREATE VIEW", t.Name, query)
	}
	glob := Glob(root, t.Name)
	cols, err := createView(ctx, db, "CREATE VIEW", t.Name, readSelect(glob, nil))
	if err != nil {
		return nil, err
	}
	// A column that older files hold as text and the schema now types
	// (runs.first_day became a DATE): union_by_name reads the mix as
	// VARCHAR, so the view casts it back, '' (the old "none") becoming NULL.
	var casts []string
	for _, f := range t.Schema.Fields() {
		typ, err := DuckType(f.Type)
		if err != nil {
			return nil, fmt.Errorf("lakeread: table %s: column %s: %w", t.Name, f.Name, err)
		}
		if cols[f.Name] == "VARCHAR" && typ != "VARCHAR" {
			casts = append(casts, "CAST(nullif("+QuoteIdent(f.Name)+", '') AS "+typ+") AS "+QuoteIdent(f.Name))
		}
	}
	if len(casts) == 0 {
		return cols, nil
	}
	return createView(ctx, db, "CREATE OR REPLACE VIEW", t.Name, readSelect(glob, casts))
}

// readSelect returns the SELECT of the files glob matches, with the
// partition columns first, as in the empty view, so that SELECT * has the
// same columns whether the table has files or not; casts (column
// expressions "CAST(…) AS name") replace file columns.
func readSelect(glob string, casts []string) string {
	src, date := QuoteIdent(load.SourceColumn), QuoteIdent(load.DateColumn)
	star := "* EXCLUDE (" + src + ", " + date + ")"
	if len(casts) > 0 {
		star += " REPLACE (" + strings.Join(casts, ", ") + ")"
	}
	return "SELECT " + src + ", " + date + ", " + star + " FROM read_parquet(" + QuoteString(glob) +
		", hive_partitioning = true, union_by_name = true, hive_types = {" +
		QuoteString(load.SourceColumn) + ": VARCHAR, " + QuoteString(load.DateColumn) + ": DATE})"
}

// createView runs create (CREATE VIEW, CREATE OR REPLACE VIEW) of view name
// as query and returns the view's columns.
func createView(ctx context.Context, db DB, create, name, query string) (map[string]string, error) {
	if _, err := db.ExecContext(ctx, create+" "+QuoteIdent(name)+" AS "+query); err != nil {
		return nil, fmt.Errorf("lakeread: create view %s: %w", name, err)
	}
	rows, err := db.QueryContext(ctx,
		"SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = $t AND schema_name = current_schema()",
		sql.Named("t", name))
	if err != nil {
		return nil, fmt.Errorf("lakeread: columns of %s: %w", name, err)
	}
	defer rows.Close()
	cols := make(map[string]string)
	for rows.Next() {
		var c, typ string
		if err := rows.Scan(&c, &typ); err != nil {
			return nil, fmt.Errorf("lakeread: columns of %s: %w", name, err)
		}
		cols[c] = typ
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("lakeread: columns of %s: %w", name, err)
	}
	return cols, nil
}

// checkRoot refuses a lake root that cannot stand in a DuckDB glob: quotes
// are escaped by QuoteString, but a control character, a backslash or a
// glob metacharacter would change what the glob matches.
func checkRoot(root string) error {
	r := filepath.ToSlash(root)
	if !utf8.ValidString(r) {
		return fmt.Errorf("lakeread: lake %q: the path is not valid UTF-8", root)
	}
	if i := strings.IndexFunc(r, func(c rune) bool {
		return unicode.IsControl(c) || strings.ContainsRune(`\*?[]{}`, c)
	}); i >= 0 {
		return fmt.Errorf("lakeread: lake %q: unsupported character %q in the path, which DuckDB's glob would read as a pattern: move the lake", root, r[i:i+1])
	}
	return nil
}

// checkTableName accepts [a-z][a-z0-9_]*, the lake's table names.
func checkTableName(s string) error {
	for i, c := range s {
		if !('a' <= c && c <= 'z' || i > 0 && ('0' <= c && c <= '9' || c == '_')) {
			return fmt.Errorf("lakeread: bad table name %q: want [a-z][a-z0-9_]*", s)
		}
	}
	if s == "" {
		return errors.New("lakeread: empty table name")
	}
	return nil
}

// emptySelect returns a SELECT of no rows with the partition columns and the
// schema's columns, typed as reading the files would type them.
func emptySelect(schema *arrow.Schema) (string, error) {
	cols := []string{"CAST(NULL AS VARCHAR) AS " + QuoteIdent(load.SourceColumn), "CAST(NULL AS DATE) AS " + QuoteIdent(load.DateColumn)}
	for _, f := range schema.Fields() {
		typ, err := DuckType(f.Type)
		if err != nil {
			return "", fmt.Errorf("column %s: %w", f.Name, err)
		}
		cols = append(cols, "CAST(NULL AS "+typ+") AS "+QuoteIdent(f.Name))
	}
	return "SELECT " + strings.Join(cols, ", ") + " WHERE false", nil
}

// DuckType returns the DuckDB type that DuckDB gives a Parquet column
// written from an Arrow column of type t.
func DuckType(t arrow.DataType) (string, error) {
	switch t := t.(type) {
	case *arrow.StringType, *arrow.LargeStringType:
		return "VARCHAR", nil
	case *arrow.BinaryType, *arrow.LargeBinaryType:
		return "BLOB", nil
	case *arrow.BooleanType:
		return "BOOLEAN", nil
	case *arrow.Int8Type:
		return "TINYINT", nil
	case *arrow.Int16Type:
		return "SMALLINT", nil
	case *arrow.Int32Type:
		return "INTEGER", nil
	case *arrow.Int64Type:
		return "BIGINT", nil
	case *arrow.Float32Type:
		return "FLOAT", nil
	case *arrow.Float64Type:
		return "DOUBLE", nil
	case *arrow.Decimal128Type:
		return fmt.Sprintf("DECIMAL(%d,%d)", t.Precision, t.Scale), nil
	case *arrow.Date32Type:
		return "DATE", nil
	case *arrow.TimestampType:
		if t.TimeZone != "" {
			return "TIMESTAMPTZ", nil
		}
		return "TIMESTAMP", nil
	case *arrow.DictionaryType:
		return DuckType(t.ValueType)
	}
	return "", fmt.Errorf("no DuckDB type for Arrow type %s", t)
}

// QuoteString returns s as a SQL string literal: quotes doubled, NUL
// characters (which a literal cannot hold) dropped.
func QuoteString(s string) string {
	s = strings.ReplaceAll(s, "\x00", "")
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// QuoteIdent returns s as a quoted SQL identifier.
func QuoteIdent(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}
