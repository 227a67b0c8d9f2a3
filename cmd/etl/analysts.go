package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/calletl/calletl/extract/registry"
	"github.com/calletl/calletl/load"
	"github.com/calletl/calletl/report"
	"github.com/calletl/calletl/secret"
	"github.com/calletl/calletl/storage"
)

func (a *app) viewsCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "views",
		Short: "Write a DuckDB database of views over the lake, for analysts",
		Long: `Write a DuckDB database with one view per lake table (every column described),
for the duckdb CLI, DBeaver or Python. Re-run it to refresh; readers that have
the old file open keep working.`,
		Example: `  etl views --out calletl.duckdb
  duckdb -readonly calletl.duckdb -c "SELECT * FROM calls LIMIT 5"`,
		Args:              noArgs,
		ValidArgsFunction: cobra.NoFileCompletions,
	}
	out := c.Flags().String("out", "calletl.duckdb", "the DuckDB database file to write")
	_ = c.MarkFlagFilename("out", "duckdb")
	c.RunE = a.runs(func(ctx context.Context, _ *cobra.Command, _ []string) error { return a.cmdViews(ctx, out) })
	return c
}

func (a *app) cmdViews(ctx context.Context, out *string) error {
	cfg, err := readConfig(a.registry(), a.configPath)
	if err != nil {
		return err
	}
	lake, err := a.sqlLake(ctx, cfg)
	if err != nil {
		return err
	}
	if err := report.WriteViews(ctx, *out, report.Options{Lake: lake, TimeZone: cfg.Timezone, Tables: allTables(cfg.Sources.vendors)}); err != nil {
		return err
	}
	// The database holds only view definitions, but it is written by us
	// and names the lake: the lake's file mode, not DuckDB's default.
	if err := os.Chmod(*out, cfg.lakeModes[0]); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "wrote %s: %d views over %s\n  duckdb -readonly %s -c \"SELECT * FROM calls LIMIT 5\"\n", *out, len(allTables(cfg.Sources.vendors)), lake, *out)
	return nil
}

func (a *app) sqlCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   `sql "SELECT …" [flags]`,
		Short: "Run one ad hoc SELECT over the lake",
		Long: `Run one SELECT over the lake's views (calls, mtt_calls, t2_calls, votbox_calls,
recordings, runs, rejects, …), in the config's time zone. DuckDB is sandboxed to
the lake: queries can read the lake and nothing else. A query that starts with
"-" (a comment) goes after --.`,
		Example: `  etl sql "SELECT count(*) FROM calls"
  etl sql "SELECT * FROM calls WHERE date >= '2026-11-01'" --format csv > calls.csv
  etl sql -f monthly.sql --format xlsx --out monthly.xlsx
  etl sql --format json -- "-- who called most
  SELECT caller, count(*) AS n FROM calls GROUP BY 1 ORDER BY n DESC LIMIT 10"`,
		Args:              atMostOneArg("one query (or -f FILE)"),
		ValidArgsFunction: cobra.NoFileCompletions,
	}
	fs := c.Flags()
	file := fs.StringP("file", "f", "", "read the query from this file")
	format := fs.String("format", "table", "output: table, csv, json, xlsx or parquet (parquet needs --out; xlsx needs --out or a stdout that is not a terminal)")
	out := fs.String("out", "", "with --format parquet or xlsx: the file to write (outside the lake)")
	timeout := fs.Duration("timeout", defaultQueryTimeout, "cancel the query after this long (0: no limit)")
	_ = c.MarkFlagFilename("file", "sql")
	_ = c.MarkFlagFilename("out", "parquet", "xlsx")
	completeValues(c, "format", "table", "csv", "json", "xlsx", "parquet")
	c.RunE = a.runs(func(ctx context.Context, _ *cobra.Command, args []string) error {
		var query string
		if len(args) > 0 {
			query = args[0]
			if *file != "" {
				return &usageError{"sql: give the query as an argument or with -f FILE, not both"}
			}
		}
		return a.cmdSQL(ctx, query, file, format, out, timeout)
	})
	return c
}

func (a *app) cmdSQL(ctx context.Context, query string, file, format, out *string, timeout *time.Duration) error {
	if *file != "" {
		b, err := os.ReadFile(*file)
		if err != nil {
			return &usageError{err.Error()}
		}
		query = string(b)
	}
	if strings.TrimSpace(query) == "" {
		return &usageError{`sql needs a query: etl sql "SELECT count(*) FROM calls" or etl sql -f FILE`}
	}
	switch *format {
	case "table", "csv", "json":
		if *out != "" {
			return &usageError{"--out is for --format parquet or xlsx; table, csv and json go to stdout"}
		}
	case "xlsx":
	case "parquet":
		if *out == "" {
			return &usageError{"--format parquet needs --out FILE.parquet"}
		}
	default:
		return &usageError{fmt.Sprintf("--format %q: want table, csv, json, xlsx or parquet", *format)}
	}
	if *timeout < 0 {
		return &usageError{fmt.Sprintf("--timeout %s: want a duration ≥ 0 (0: no limit)", *timeout)}
	}
	cfg, err := readConfig(a.registry(), a.configPath)
	if err != nil {
		return err
	}
	lake, err := a.sqlLake(ctx, cfg)
	if err != nil {
		return err
	}
	// The output file is part of the sandbox, so it is named when the
	// engine opens: DuckDB may write out.tmp and nothing else outside the lake.
	pqOut := *out
	if *format != "parquet" {
		pqOut = "" // an xlsx file is written by etl, not by DuckDB
	}
	eng, err := report.Open(ctx, report.Options{Lake: lake, TimeZone: cfg.Timezone, Tables: allTables(cfg.Sources.vendors), Output: pqOut})
	if err != nil {
		return err
	}
	defer eng.Close()
	if *format == "parquet" {
		if err := withTimeout(ctx, *timeout, func(ctx context.Context) error { return eng.CopyParquet(ctx, query) }); err != nil {
			return fmt.Errorf("sql: %w", err)
		}
		a.noteWrote(*out)
		return nil
	}
	var res *report.Result
	if err := withTimeout(ctx, *timeout, func(ctx context.Context) (err error) {
		res, err = eng.Query(ctx, report.Report{Name: "sql", SQL: query}, nil)
		return err
	}); errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("sql: %w", err)
	} else if err != nil {
		return err // "report sql: …"
	}
	if *format == "xlsx" {
		return a.writeOutput(*out, "xlsx", true, func(w io.Writer) error { return res.WriteXLSX(w, "sql") })
	}
	return res.Write(a.stdout, *format)
}

// defaultQueryTimeout is the default --timeout of etl sql and etl report.
const defaultQueryTimeout = 5 * time.Minute

// withTimeout runs fn with a context that ends after d (0: no limit), and
// turns that deadline into an error naming the flag. DuckDB is interrupted
// when the context ends (duckdb-go calls duckdb_interrupt).
func withTimeout(ctx context.Context, d time.Duration, fn func(context.Context) error) error {
	if d <= 0 {
		return fn(ctx)
	}
	tctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	err := fn(tctx)
	if err != nil && ctx.Err() == nil && errors.Is(tctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("the query was cancelled after --timeout %s: narrow it (a WHERE on date reads fewer files) or raise --timeout (0: no limit): %w", d, context.DeadlineExceeded)
	}
	return err
}

// sqlLake prepares a command that runs SQL over the lake (sql, report,
// views) and returns the lake directory, created if missing. It registers
// every secret the config names with the redactor, so that no error can
// print one whatever a query did, and refuses a secret file inside the
// lake, the one directory DuckDB's sandbox lets queries read.
//
// A lake on S3 is queried in a local mirror of the tables named (every
// table when none is), brought up to date first (see mirrorS3Lake);
// --lake DIR queries DIR as it is instead.
func (a *app) sqlLake(ctx context.Context, cfg *Config, tables ...string) (string, error) {
	dir := cfg.path(cfg.Lake)
	switch {
	case a.lakeDir != "":
		dir = a.lakeDir
	case cfg.lakeLoc.IsS3():
		var err error
		if dir, err = a.mirrorS3Lake(ctx, cfg, tables); err != nil {
			return "", err
		}
	}
	lake, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for _, f := range secretFiles(cfg) {
		// A secret that cannot be loaded now (an unset variable, a missing
		// file) cannot leak either: it is skipped, not an error, so an
		// analyst's shell needs no credentials.
		if f.tokens {
			a.redactor.Add(tokenFileSecrets(f.path)...)
		} else if v, err := secret.Load(f.env, f.path); err == nil {
			a.redactor.Add(v.Reveal())
		}
		if f.path == "" {
			continue
		}
		if _, err := os.Stat(f.path); err != nil {
			continue // nothing there to read
		}
		if abs, err := filepath.Abs(f.path); err == nil && within(lake, abs) {
			return "", &FieldError{File: a.configPath, Field: f.field,
				Msg: fmt.Sprintf("%s is inside the lake %s, which SQL queries can read: move it out of the lake", abs, lake)}
		}
	}
	if err := load.MkdirRoot(lake, cfg.lakeModes[1]); err != nil {
		return "", err
	}
	return lake, nil
}

// mirrorS3Lake brings the local mirror of a lake on S3 up to date and
// returns its directory: DuckDB reads S3 through its httpfs extension,
// which is not installed with calletl (and cannot be installed offline),
// so the SQL commands read a copy instead. The mirror lives in the user's
// cache directory, one per lake URL; only objects new or changed since
// the last mirror (by ETag) are downloaded, and files whose object is gone
// are removed. Processes mirroring the same lake take turns (a flock).
func (a *app) mirrorS3Lake(ctx context.Context, cfg *Config, tables []string) (string, error) {
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir() // no HOME (a container): the mirror is per run
	}
	sum := sha256.Sum256([]byte(cfg.lakeName()))
	dir := filepath.Join(base, "calletl", "lake-"+hex.EncodeToString(sum[:8]))
	fail := func(err error) error {
		return fmt.Errorf("the lake %s is on S3; SQL commands query a local mirror of it in %s, which could not be brought up to date: %w "+
			"(or query a copy you made: aws s3 sync %s DIR, then etl --lake DIR …; Trino, Athena and Spark read the S3 lake directly: etl ddl)",
			cfg.lakeName(), dir, err, cfg.lakeName())
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return "", fail(err)
	}
	unlock, err := storage.WaitLockFile(ctx, dir+".lock", 50*time.Millisecond)
	if err != nil {
		return "", fail(err)
	}
	defer unlock()
	st, err := cfg.openS3(ctx, "lake", cfg.lakeLoc.Bucket, cfg.lakeLoc.Prefix, nil)
	if err != nil {
		return "", err
	}
	if len(tables) == 0 {
		for _, t := range allTables(cfg.Sources.vendors) {
			tables = append(tables, t.Name)
		}
	}
	began := time.Now()
	ms, err := load.Mirror(ctx, st, "", dir, tables...)
	if err != nil {
		return "", fail(err)
	}
	a.log.Info("lake on S3: querying a local mirror", "lake", cfg.lakeName(), "dir", dir, "objects", ms.Objects,
		"downloaded", ms.Downloaded, "removed", ms.Removed, "bytes", ms.Bytes, "took_s", time.Since(began).Seconds())
	return dir, nil
}

// within reports whether path is dir or lies under it.
func within(dir, path string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

// secretSource is one place a secret comes from: a config SecretRef (an
// environment variable or a file) or a token file the etl writes.
type secretSource struct {
	field  string // YAML path, for errors
	env    string
	path   string // resolved against the config's directory; "" for env
	tokens bool   // a JSON token file (T2's), not a plain secret file
}

// secretFiles lists every SecretRef in the config (found by reflection, so
// a section added later is covered without a change here) and the JSON
// token files vendors write: those their sections name (T2's token_file)
// and those they keep in a local state directory, configured or not.
func secretFiles(cfg *Config) []secretSource {
	var out []secretSource
	var walk func(v reflect.Value, field string)
	walk = func(v reflect.Value, field string) {
		switch v.Kind() {
		case reflect.Pointer, reflect.Interface:
			if !v.IsNil() {
				walk(v.Elem(), field)
			}
		case reflect.Struct:
			if ref, ok := v.Interface().(SecretRef); ok {
				out = append(out, secretSource{field: field, env: ref.Env, path: cfg.path(ref.File)})
				return
			}
			if sc, ok := v.Interface().(SourcesConfig); ok {
				for _, sec := range sc.sections {
					walk(reflect.ValueOf(sec.cfg), field+"."+sec.vendor.Name())
				}
				return
			}
			for i := range v.NumField() {
				sf := v.Type().Field(i)
				name, opts, _ := strings.Cut(sf.Tag.Get("yaml"), ",")
				switch {
				case !sf.IsExported() || name == "-":
				case strings.Contains(opts, "inline"):
					walk(v.Field(i), field)
				case name != "":
					walk(v.Field(i), strings.TrimPrefix(field+"."+name, "."))
				}
			}
		}
	}
	walk(reflect.ValueOf(cfg).Elem(), "")
	for _, sec := range cfg.Sources.sections {
		if tf, ok := sec.cfg.(registry.TokenFiles); ok {
			for field, path := range tf.TokenFiles() {
				out = append(out, secretSource{field: "sources." + sec.vendor.Name() + "." + field, path: cfg.path(path), tokens: true})
			}
		}
	}
	if !cfg.stateLoc.IsS3() {
		for _, v := range cfg.Sources.vendors.Vendors() {
			if ss, ok := v.(registry.StateSecrets); ok {
				for field, name := range ss.StateSecrets() {
					out = append(out, secretSource{field: "sources." + v.Name() + "." + field, path: cfg.path(filepath.Join(cfg.State, name)), tokens: true})
				}
			}
		}
	}
	return out
}

// tokenFileSecrets returns the tokens in a JSON token file (T2's
// {"access_token": …, "refresh_token": …}); none when it cannot be read.
func tokenFileSecrets(path string) []string {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var m map[string]any
	if json.Unmarshal(b, &m) != nil {
		return nil
	}
	var out []string
	for k, v := range m {
		if s, ok := v.(string); ok && strings.HasSuffix(k, "_token") {
			out = append(out, s)
		}
	}
	return out
}
