package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/calletl/calletl/queries"
	"github.com/calletl/calletl/report"
)

// params collects repeated --param name=value flags.
type params map[string]string

func (p params) String() string { return "" }
func (p params) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return fmt.Errorf("want name=value, got %q", s)
	}
	p[k] = v
	return nil
}

func queryFS(dir string) fs.FS {
	if dir != "" {
		return os.DirFS(dir)
	}
	return queries.FS()
}

func (a *app) cmdReport(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	from := fs.String("from", "", "first day, YYYY-MM-DD (the report's $from parameter)")
	to := fs.String("to", "", "last day, YYYY-MM-DD, inclusive (the report's $to parameter)")
	format := fs.String("format", "table", "output: table, csv, json or html (one self-contained page with a chart, for reports that declare one)")
	qdir := fs.String("queries", "", "read reports from this directory instead of the built-in queries/")
	timeout := fs.Duration("timeout", defaultQueryTimeout, "cancel the report's query after this long (0: no limit)")
	ps := params{}
	fs.Var(ps, "param", "a report parameter, name=value (repeatable); see etl reports")
	// Accept the report name before or after the flags.
	var name string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, args = args[0], args[1:]
	}
	if err := a.parseFlags(fs, args, "etl report NAME [--from D] [--to D] [--param k=v] [--format table|csv|json|html] [--timeout 5m]: run queries/NAME.sql over the lake with DuckDB, which can read the lake and nothing else. `etl reports` lists the reports."); err != nil {
		return err
	}
	if name == "" && fs.NArg() > 0 {
		name = fs.Arg(0)
	}
	if name == "" {
		return &usageError{"report needs a NAME: etl reports lists them"}
	}
	if *from != "" {
		ps["from"] = *from
	}
	if *to != "" {
		ps["to"] = *to
	}
	if *timeout < 0 {
		return &usageError{fmt.Sprintf("--timeout %s: want a duration ≥ 0 (0: no limit)", *timeout)}
	}
	cfg, err := LoadConfig(a.configPath)
	if err != nil {
		return err
	}
	err = withTimeout(ctx, *timeout, func(ctx context.Context) error {
		return a.printReport(ctx, cfg, queryFS(*qdir), name, ps, *format)
	})
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("report %s: %w", name, err)
	}
	return err
}

// printReport runs one report over the config's lake and writes it to stdout.
func (a *app) printReport(ctx context.Context, cfg *Config, qfs fs.FS, name string, args map[string]string, format string) error {
	switch format {
	case "table", "csv", "json", "html":
	default:
		return &usageError{fmt.Sprintf("--format %q: want table, csv, json or html", format)}
	}
	r, err := report.Find(qfs, name)
	if err != nil {
		return &usageError{err.Error()}
	}
	lake, err := a.sqlLake(ctx, cfg)
	if err != nil {
		return err
	}
	eng, err := report.Open(ctx, report.Options{Lake: lake, TimeZone: cfg.Timezone, Tables: allTables()})
	if err != nil {
		return err
	}
	defer eng.Close()
	res, err := eng.Query(ctx, r, args)
	if err != nil {
		return fmt.Errorf("report %s: %w", name, err)
	}
	if format == "html" { // one self-contained page, with the report's chart if it declares one
		return res.WriteHTML(a.stdout, r.Title, r.Chart)
	}
	return res.Write(a.stdout, format)
}

func (a *app) cmdReports(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("reports", flag.ContinueOnError)
	qdir := fs.String("queries", "", "read reports from this directory instead of the built-in queries/")
	if err := a.parseFlags(fs, args, "etl reports: list the SQL reports with their descriptions and parameters."); err != nil {
		return err
	}
	cat, err := report.Catalogue(queryFS(*qdir))
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	for _, r := range cat {
		fmt.Fprintf(tw, "%s\t%s\n", r.Name, r.Title)
		for _, line := range strings.Split(r.Description, "\n") {
			if line != "" {
				fmt.Fprintf(tw, "\t  %s\n", line)
			}
		}
		for _, p := range r.Params {
			fmt.Fprintf(tw, "\t  --param %s\t%s\n", p, p.Doc)
		}
	}
	return tw.Flush()
}
