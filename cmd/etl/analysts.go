package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"time"

	"github.com/calletl/calletl/load"
	"github.com/calletl/calletl/report"
	"github.com/calletl/calletl/secret"
)

func (a *app) cmdViews(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("views", flag.ContinueOnError)
	out := fs.String("out", "calletl.duckdb", "the DuckDB database file to write")
	if err := a.parseFlags(fs, args, "etl views [--out FILE.duckdb]: write a DuckDB database with one view per lake table (every column described), for the duckdb CLI, DBeaver or Python: duckdb -readonly calletl.duckdb. Re-run it to refresh; readers that have the old file open keep working."); err != nil {
		return err
	}
	cfg, err := LoadConfig(a.configPath)
	if err != nil {
		return err
	}
	lake, err := a.sqlLake(ctx, cfg)
	if err != nil {
		return err
	}
	if err := report.WriteViews(ctx, *out, report.Options{Lake: lake, TimeZone: cfg.Timezone, Tables: allTables()}); err != nil {
		return err
	}
	// The database holds only view definitions, but it is written by us
	// and names the lake: the lake's file mode, not DuckDB's default.
	if err := os.Chmod(*out, cfg.lakeModes[0]); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "wrote %s: %d views over %s\n  duckdb -readonly %s -c \"SELECT * FROM calls LIMIT 5\"\n", *out, len(allTables()), lake, *out)
	return nil
}

func (a *app) cmdSQL(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("sql", flag.ContinueOnError)
	file := fs.String("f", "", "read the query from this file")
	format := fs.String("format", "table", "output: table, csv, json, xlsx or parquet (parquet needs --out; xlsx needs --out or a stdout that is not a terminal)")
	out := fs.String("out", "", "with --format parquet or xlsx: the file to write (outside the lake)")
	timeout := fs.Duration("timeout", defaultQueryTimeout, "cancel the query after this long (0: no limit)")
	// Accept the query before or after the flags.
	var query string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		query, args = args[0], args[1:]
	}
	if err := a.parseFlags(fs, args, `etl sql "SELECT …" | etl sql -f FILE.sql [--format table|csv|json|xlsx|parquet --out FILE] [--timeout 5m]: one SELECT over the lake's views (calls, mtt_calls, t2_calls, votbox_calls, recordings, runs, rejects, …), in the config's time zone. Queries can read the lake and nothing else.`); err != nil {
		return err
	}
	if query == "" && fs.NArg() > 0 {
		query = fs.Arg(0)
	}
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
	cfg, err := LoadConfig(a.configPath)
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
	eng, err := report.Open(ctx, report.Options{Lake: lake, TimeZone: cfg.Timezone, Tables: allTables(), Output: pqOut})
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
func (a *app) sqlLake(ctx context.Context, cfg *Config) (string, error) {
	dir := cfg.path(cfg.Lake)
	switch {
	case a.lakeDir != "":
		dir = a.lakeDir
	case cfg.lakeLoc.IsS3():
		return "", s3LakeSQL(ctx, a.configPath, cfg)
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

// s3LakeSQL is the error of a SQL command on a lake on S3, which DuckDB
// reads through its httpfs extension: it says whether httpfs can be loaded
// here and what to do instead.
func s3LakeSQL(ctx context.Context, configPath string, cfg *Config) error {
	msg := fmt.Sprintf("the lake %s is on S3. ", cfg.lakeName())
	if err := report.LoadExtension(ctx, "httpfs"); err != nil {
		msg += fmt.Sprintf("DuckDB reads S3 through its httpfs extension, which is not available here (%v); "+
			"install it where DuckDB can reach the network (duckdb -c 'INSTALL httpfs'), or ", err)
	} else {
		msg += "DuckDB's httpfs extension loads here, but calletl's SQL sandbox (external access off) does not open S3 yet; "
	}
	msg += "query a local copy: aws s3 sync " + cfg.lakeName() + " DIR, then etl --lake DIR " +
		"report|sql|views …; Trino, Athena and Spark read the S3 lake directly: etl ddl --dialect trino|athena|spark"
	return &FieldError{File: configPath, Field: "lake", Msg: msg}
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
// a section added later is covered without a change here) and the T2 token
// file, configured or at its default place in the state directory.
func secretFiles(cfg *Config) []secretSource {
	var out []secretSource
	var walk func(v reflect.Value, field string)
	walk = func(v reflect.Value, field string) {
		switch v.Kind() {
		case reflect.Pointer:
			if !v.IsNil() {
				walk(v.Elem(), field)
			}
		case reflect.Struct:
			if ref, ok := v.Interface().(SecretRef); ok {
				out = append(out, secretSource{field: field, env: ref.Env, path: cfg.path(ref.File)})
				return
			}
			for i := range v.NumField() {
				sf := v.Type().Field(i)
				name, _, _ := strings.Cut(sf.Tag.Get("yaml"), ",")
				if !sf.IsExported() || name == "" || name == "-" {
					continue
				}
				walk(v.Field(i), strings.TrimPrefix(field+"."+name, "."))
			}
		}
	}
	walk(reflect.ValueOf(cfg).Elem(), "")
	var tokenFiles []string
	if !cfg.stateLoc.IsS3() {
		tokenFiles = append(tokenFiles, cfg.path(filepath.Join(cfg.State, "t2-tokens.json")))
	}
	if t := cfg.Sources.T2; t != nil && t.TokenFile != "" {
		tokenFiles = append(tokenFiles, cfg.path(t.TokenFile))
	}
	for _, f := range tokenFiles {
		out = append(out, secretSource{field: "sources.t2.token_file", path: f, tokens: true})
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
