package report

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/calletl/calletl/lakeread"
	"github.com/calletl/calletl/load"
	"github.com/calletl/calletl/storage"
)

// Options configures an [Engine].
type Options struct {
	// Lake is the lake's root directory: LAKE/<table>/source=…/date=…/*.parquet.
	// It must exist.
	Lake string
	// TimeZone is the business time zone, an IANA name such as
	// "Europe/Moscow". It is DuckDB's TimeZone setting (date_trunc, casts of
	// TIMESTAMPTZ…) and the zone in which results print timestamps.
	TimeZone string
	// Tables are the lake tables to expose, one view each.
	Tables []load.TableInfo
	// Database is a DuckDB database file to create the views in; "" keeps
	// them in memory. See WriteViews.
	Database string
	// Output is the Parquet file CopyParquet writes; "" for none. It must
	// lie outside the lake. It is named here because the sandbox (see Open)
	// is fixed before the first query: DuckDB may write Output+".tmp" and
	// nothing else outside the lake.
	Output string
}

// Engine runs reports on an in-memory DuckDB database in which every lake
// table is a view named after it. It is safe for concurrent use; Close it
// when done.
type Engine struct {
	db     *sql.DB
	loc    *time.Location
	lake   string // absolute, forward slashes
	output string // Options.Output, absolute; "" for none
	tmpDir string // DuckDB's temp_directory, private to this engine
}

// ErrNotSelect is returned (wrapped) for SQL that is not exactly one SELECT
// statement: several statements, DDL, COPY, ATTACH, SET, PRAGMA, CALL, ….
var ErrNotSelect = errors.New("the SQL must be exactly one SELECT statement")

// Open creates the database and its views, one per table, as
// [lakeread.CreateView] creates them (the recordings backlog reads the lake
// the same way): a table's data files are
// LAKE/<name>/source=…/date=…/*.parquet but hidden ones, read with the Hive
// partition columns source (VARCHAR) and date (DATE); a table with no data
// file yet becomes an empty view with the same columns, typed from its
// schema, so reports run and return no rows. Either way the columns are
// source, date, then the file columns. A column the schema types (DATE, a
// number, …) but some files hold as text, as files written before the
// column got its type do, is cast to the schema's type, an empty string becoming NULL.
// Table.Doc and Table.Comments become DuckDB comments on the view and its
// columns.
//
// The views are created once: files added to a table that had none when
// Open ran are not seen until the next Open.
//
// DuckDB itself sandboxes every query: external access is off
// (enable_external_access=false), so no file outside the lake can be read
// or written, no database attached and no extension installed; the only
// allowed directories are the lake and a private temp directory (removed by
// Close), the only allowed files Options.Output+".tmp" and Options.Database;
// and the configuration is locked, so a query cannot SET any of it back.
// Extension autoload and autoinstall are off, so a query needing a missing
// extension fails at once instead of going to the network.
func Open(ctx context.Context, opt Options) (*Engine, error) {
	loc, err := checkTimeZone(opt.TimeZone)
	if err != nil {
		return nil, err
	}
	lake, err := checkLake(opt.Lake)
	if err != nil {
		return nil, err
	}
	var output string
	if opt.Output != "" {
		if output, err = checkOutput(opt.Output, lake); err != nil {
			return nil, err
		}
	}
	tmpDir, err := os.MkdirTemp("", "calletl-duckdb-")
	if err != nil {
		return nil, fmt.Errorf("report: open duckdb: temp directory: %w", err)
	}
	connector, err := duckdb.NewConnector(opt.Database, nil)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("report: open duckdb: %w", err), os.RemoveAll(tmpDir))
	}
	e := &Engine{db: sql.OpenDB(connector), loc: loc, lake: lake, output: output, tmpDir: filepath.ToSlash(tmpDir)}
	if err := e.sandbox(ctx, opt.TimeZone); err != nil {
		return nil, errors.Join(err, e.Close())
	}
	if err := e.createViews(ctx, lake, opt.Tables); err != nil {
		return nil, errors.Join(err, e.Close())
	}
	return e, nil
}

// sandbox applies the database-wide settings, once, before any query runs;
// every connection the pool opens later inherits them (so no per-connection
// setup is needed, and none would be allowed after the lock). The order
// matters: DuckDB adds the temp directory to the allowed directories when
// external access goes off, accepts allowed_* only while it is still on, and
// accepts no SET at all once the configuration is locked.
func (e *Engine) sandbox(ctx context.Context, zone string) error {
	setup := []string{
		"SET GLOBAL autoinstall_known_extensions = false",
		"SET GLOBAL autoload_known_extensions = false",
		"SET GLOBAL TimeZone = " + lakeread.QuoteString(zone), // checkTimeZone allowed no quote anyway
		// The default, .tmp in the working directory, would become readable.
		"SET GLOBAL temp_directory = " + lakeread.QuoteString(e.tmpDir),
		// DuckDB matches these as path prefixes after resolving "..", with a
		// trailing slash, so LAKE/../x and LAKE2/x stay outside.
		"SET GLOBAL allowed_directories = [" + lakeread.QuoteString(e.lake+"/") + "]",
	}
	if e.output != "" {
		setup = append(setup, "SET GLOBAL allowed_paths = ["+lakeread.QuoteString(e.output+".tmp")+"]")
	}
	setup = append(setup,
		"SET GLOBAL enable_external_access = false",
		"SET GLOBAL lock_configuration = true")
	conn, err := e.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("report: open duckdb: %w", err)
	}
	defer conn.Close()
	for _, s := range setup {
		if _, err := conn.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("report: open duckdb: %s: %w", s, err)
		}
	}
	return nil
}

// Close closes the database and removes its temp directory.
func (e *Engine) Close() error {
	var errs []error
	if err := e.db.Close(); err != nil { // also closes the connector
		errs = append(errs, fmt.Errorf("report: close: %w", err))
	}
	if err := os.RemoveAll(filepath.FromSlash(e.tmpDir)); err != nil {
		errs = append(errs, fmt.Errorf("report: close: %w", err))
	}
	return errors.Join(errs...)
}

// checkTimeZone validates an IANA zone name that both Go and DuckDB (ICU)
// know, and that is safe inside a SQL string literal.
func checkTimeZone(zone string) (*time.Location, error) {
	if zone == "" || zone == "Local" || strings.ContainsFunc(zone, func(r rune) bool {
		return !(r < utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("/_+-", r)))
	}) {
		return nil, fmt.Errorf("report: bad time zone %q: want an IANA name such as Europe/Moscow", zone)
	}
	loc, err := time.LoadLocation(zone)
	if err != nil {
		return nil, fmt.Errorf("report: bad time zone %q: %w", zone, err)
	}
	return loc, nil
}

// checkLake validates the lake directory and returns its absolute path with
// forward slashes, safe to quote as a SQL string literal and to use in a
// DuckDB glob.
func checkLake(dir string) (string, error) {
	if dir == "" {
		return "", errors.New("report: no lake directory")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("report: lake %q: %w", dir, err)
	}
	abs = filepath.ToSlash(abs)
	if !utf8.ValidString(abs) {
		return "", fmt.Errorf("report: lake %q: path is not valid UTF-8", dir)
	}
	// Quotes are escaped by lakeread.QuoteString; what cannot be escaped is a control
	// character, a backslash, or a glob metacharacter that DuckDB would expand.
	if i := strings.IndexFunc(abs, func(r rune) bool {
		return unicode.IsControl(r) || strings.ContainsRune(`\*?[]{}`, r)
	}); i >= 0 {
		return "", fmt.Errorf("report: lake %q: unsupported character %q in path", dir, abs[i:i+1])
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return "", fmt.Errorf("report: lake: %w", err)
	}
	if !fi.IsDir() {
		return "", fmt.Errorf("report: lake %q is not a directory", dir)
	}
	return abs, nil
}

// checkOutput validates the Parquet output file and returns its absolute
// path with forward slashes. It must not lie inside the lake, where the
// views would read it as lake data.
func checkOutput(out, lake string) (string, error) {
	abs, err := filepath.Abs(out)
	if err != nil {
		return "", fmt.Errorf("report: output %q: %w", out, err)
	}
	abs = filepath.ToSlash(abs)
	if !utf8.ValidString(abs) || strings.ContainsFunc(abs, unicode.IsControl) {
		return "", fmt.Errorf("report: output %q: the path has control characters or is not UTF-8", out)
	}
	if abs == lake || strings.HasPrefix(abs, lake+"/") {
		return "", fmt.Errorf("report: output %q is inside the lake %s, whose views would read it: write it elsewhere", out, lake)
	}
	return abs, nil
}

// createViews creates one view per table (see [lakeread.CreateView]), with
// the tables' and columns' docs as DuckDB comments.
func (e *Engine) createViews(ctx context.Context, lake string, tables []load.TableInfo) error {
	for _, t := range tables {
		if !isName(t.Name) {
			return fmt.Errorf("report: bad table name %q: want %s", t.Name, namePattern)
		}
		cols, err := lakeread.CreateView(ctx, e.db, lake, t)
		if err != nil {
			return fmt.Errorf("report: table %s: %w", t.Name, err)
		}
		var stmts []string
		if t.Doc != "" {
			stmts = append(stmts, "COMMENT ON VIEW "+lakeread.QuoteIdent(t.Name)+" IS "+lakeread.QuoteString(t.Doc))
		}
		for col, doc := range t.Comments {
			if cols[col] != "" { // a column absent from every file has no comment to carry
				stmts = append(stmts, "COMMENT ON COLUMN "+lakeread.QuoteIdent(t.Name)+"."+lakeread.QuoteIdent(col)+" IS "+lakeread.QuoteString(doc))
			}
		}
		for _, s := range stmts {
			if _, err := e.db.ExecContext(ctx, s); err != nil {
				return fmt.Errorf("report: table %s: %s: %w", t.Name, s, err)
			}
		}
	}
	return nil
}

// WriteViews writes a DuckDB database file at out holding one view per
// lake table (over read_parquet of the lake's absolute path, hive
// partitions typed, every column commented), for analysts to open with the
// duckdb CLI, DBeaver or Python. The file is built next to out and renamed
// over it (fsynced, as every file calletl writes), so a process that has
// the old file open (read-only) keeps working; re-run it to pick up tables that had no files before.
func WriteViews(ctx context.Context, out string, opt Options) error {
	abs, err := filepath.Abs(out)
	if err != nil {
		return fmt.Errorf("report: views: %w", err)
	}
	tmp := abs + ".tmp"
	for _, f := range []string{tmp, tmp + ".wal"} {
		if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("report: views: %w", err)
		}
	}
	opt.Database = tmp
	e, err := Open(ctx, opt)
	if err != nil {
		return err
	}
	if _, err := e.db.ExecContext(ctx, "CHECKPOINT"); err != nil {
		return errors.Join(fmt.Errorf("report: views: checkpoint: %w", err), e.Close())
	}
	if err := e.Close(); err != nil {
		return fmt.Errorf("report: views: close: %w", err)
	}
	if err := storage.CommitFile(tmp, abs); err != nil {
		return fmt.Errorf("report: views: %w", err)
	}
	return nil
}

// CopyParquet runs query, which must be exactly one SELECT statement
// without parameters (checked as Query checks it), and writes its result to
// Options.Output as Parquet (zstd). DuckDB writes Output+".tmp", which is
// synced and renamed over Output only once complete: on any error Output is
// left as it was (absent, if it was) and the temp file is removed.
func (e *Engine) CopyParquet(ctx context.Context, query string) error {
	if e.output == "" {
		return errors.New("report: copy: no output file: name it in Options.Output when opening the engine")
	}
	out := filepath.FromSlash(e.output)
	tmp := out + ".tmp"
	if err := os.Remove(tmp); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("report: copy to %s: %w", out, err)
	}
	if err := e.copyParquet(ctx, query, e.output+".tmp"); err != nil {
		return errors.Join(fmt.Errorf("report: copy to %s: %w", out, e.explain(err)), removeIfExists(tmp))
	}
	if err := storage.CommitFile(tmp, out); err != nil {
		return errors.Join(fmt.Errorf("report: copy to %s: %w", out, err), removeIfExists(tmp))
	}
	return nil
}

// copyParquet checks query and runs the COPY to tmp.
func (e *Engine) copyParquet(ctx context.Context, query, tmp string) error {
	conn, err := e.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		c, ok := dc.(*duckdb.Conn)
		if !ok {
			return fmt.Errorf("unexpected driver connection %T", dc)
		}
		stmt, err := prepareSelect(c, query)
		if err != nil {
			return err
		}
		n := stmt.NumInput()
		if err := stmt.Close(); err != nil {
			return err
		}
		if n > 0 {
			return errors.New("the SQL has parameters ($name or ?), which nothing binds here")
		}
		// The query goes in as a string literal, never spliced as SQL: query()
		// parses it again and itself accepts only one SELECT statement.
		export := "COPY (FROM query(" + lakeread.QuoteString(query) + ")) TO " + lakeread.QuoteString(tmp) +
			" (FORMAT parquet, COMPRESSION zstd, USE_TMP_FILE false)"
		return execCopy(ctx, c, export, nil)
	})
}

// execCopy prepares export, which must be a COPY statement, binds its
// parameters with bind (nil: none) and runs it.
func execCopy(ctx context.Context, c *duckdb.Conn, export string, bind func(*duckdb.Stmt) ([]driver.NamedValue, error)) error {
	ds, err := c.Prepare(export)
	if err != nil {
		return err
	}
	cs := ds.(*duckdb.Stmt)
	defer cs.Close()
	if typ, err := cs.StatementType(); err != nil {
		return err
	} else if typ != duckdb.STATEMENT_TYPE_COPY {
		return fmt.Errorf("internal: the export is a statement of type %d, not a COPY", typ)
	}
	var args []driver.NamedValue
	if bind != nil {
		if args, err = bind(cs); err != nil {
			return err
		}
	}
	_, err = cs.ExecContext(ctx, args)
	return err
}

// removeIfExists removes name; a missing file is not an error.
func removeIfExists(name string) error {
	if err := os.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}
