package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/calletl/calletl/report"
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
	lake, err := cfg.makeLake()
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
	format := fs.String("format", "table", "output: table, csv, json or parquet (parquet needs --out)")
	out := fs.String("out", "", "with --format parquet: the file to write")
	// Accept the query before or after the flags.
	var query string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		query, args = args[0], args[1:]
	}
	if err := a.parseFlags(fs, args, `etl sql "SELECT …" | etl sql -f FILE.sql [--format table|csv|json|parquet --out FILE]: one SELECT over the lake's views (calls, mtt_calls, t2_calls, votbox_calls, recordings, runs, rejects, …), in the config's time zone.`); err != nil {
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
	case "parquet":
		if *out == "" {
			return &usageError{"--format parquet needs --out FILE.parquet"}
		}
	default:
		return &usageError{fmt.Sprintf("--format %q: want table, csv, json or parquet", *format)}
	}
	cfg, err := LoadConfig(a.configPath)
	if err != nil {
		return err
	}
	lake, err := cfg.makeLake()
	if err != nil {
		return err
	}
	eng, err := report.Open(ctx, report.Options{Lake: lake, TimeZone: cfg.Timezone, Tables: allTables()})
	if err != nil {
		return err
	}
	defer eng.Close()
	if *format == "parquet" {
		if err := eng.CopyParquet(ctx, query, *out); err != nil {
			return err
		}
		fmt.Fprintf(a.stderr, "wrote %s\n", *out)
		return nil
	}
	res, err := eng.Query(ctx, report.Report{Name: "sql", SQL: query}, nil)
	if err != nil {
		return fmt.Errorf("sql: %w", err)
	}
	return res.Write(a.stdout, *format)
}
