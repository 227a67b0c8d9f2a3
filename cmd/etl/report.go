package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/calletl/calletl/queries"
	"github.com/calletl/calletl/report"
)

// params collects repeated --param name=value flags.
type params map[string]string

func (p params) String() string { return "" }
func (p params) Type() string   { return "name=value" }
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

func (a *app) reportCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "report NAME",
		Short: "Run a SQL report over the lake",
		Long: `Run queries/NAME.sql over the lake with DuckDB, which can read the lake and
nothing else. etl reports lists the reports and their parameters.`,
		Example: `  etl report daily_summary --from 2026-11-01 --to 2026-11-30
  etl report cost_reconciliation --from 2026-11-01 --format xlsx --out november.xlsx
  etl report daily_summary --format parquet --out daily.parquet
  etl report daily_summary --format html --out daily.html   # a page with the chart
  etl report top_destinations --param limit=20 --format csv`,
		Args:              atMostOneArg("one report NAME"),
		ValidArgsFunction: completeReports,
	}
	fs := c.Flags()
	from := fs.String("from", "", "first day, YYYY-MM-DD (the report's $from parameter)")
	to := fs.String("to", "", "last day, YYYY-MM-DD, inclusive (the report's $to parameter)")
	format := fs.String("format", "table", "output: table, csv, json, html (one self-contained page with a chart, for reports that declare one), xlsx (a typed Excel sheet) or parquet (needs --out)")
	out := fs.String("out", "", "write the output to this file instead of stdout (written whole, then renamed into place); xlsx goes to stdout only when it is not a terminal")
	qdir := fs.String("queries", "", "read reports from this directory instead of the built-in queries/")
	timeout := fs.Duration("timeout", defaultQueryTimeout, "cancel the report's query after this long (0: no limit)")
	ps := params{}
	fs.Var(ps, "param", "a report parameter, name=value (repeatable); see etl reports")
	completeValues(c, "format", "table", "csv", "json", "html", "xlsx", "parquet")
	_ = c.RegisterFlagCompletionFunc("param", completeParams)
	_ = c.MarkFlagDirname("queries")
	c.RunE = a.runs(func(ctx context.Context, _ *cobra.Command, args []string) error {
		var name string
		if len(args) > 0 {
			name = args[0]
		}
		return a.cmdReport(ctx, name, from, to, format, out, qdir, timeout, ps)
	})
	return c
}

func (a *app) cmdReport(ctx context.Context, name string, from, to, format, out, qdir *string, timeout *time.Duration, ps params) error {
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
	cfg, err := readConfig(a.registry(), a.configPath)
	if err != nil {
		return err
	}
	err = withTimeout(ctx, *timeout, func(ctx context.Context) error {
		return a.printReport(ctx, cfg, queryFS(*qdir), name, ps, *format, *out)
	})
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("report %s: %w", name, err)
	}
	return err
}

// printReport runs one report over the config's lake and writes it to
// stdout, or to the file out when it is named.
func (a *app) printReport(ctx context.Context, cfg *Config, qfs fs.FS, name string, args map[string]string, format, out string) error {
	switch format {
	case "table", "csv", "json", "html", "xlsx":
	case "parquet":
		if out == "" {
			return &usageError{"--format parquet needs --out FILE.parquet"}
		}
	default:
		return &usageError{fmt.Sprintf("--format %q: want table, csv, json, html, xlsx or parquet", format)}
	}
	r, err := report.Find(qfs, name)
	if err != nil {
		return &usageError{err.Error()}
	}
	lake, err := a.sqlLake(ctx, cfg)
	if err != nil {
		return err
	}
	opt := report.Options{Lake: lake, TimeZone: cfg.Timezone, Tables: allTables(cfg.Sources.vendors)}
	if format == "parquet" {
		opt.Output = out // part of the sandbox: DuckDB may write out.tmp and nothing else outside the lake
	}
	eng, err := report.Open(ctx, opt)
	if err != nil {
		return err
	}
	defer eng.Close()
	if format == "parquet" {
		if err := eng.CopyReport(ctx, r, args); err != nil {
			return err
		}
		a.noteWrote(out)
		return nil
	}
	res, err := eng.Query(ctx, r, args)
	if err != nil {
		return fmt.Errorf("report %s: %w", name, err)
	}
	return a.writeOutput(out, format, format == "xlsx", func(w io.Writer) error {
		switch format {
		case "html": // one self-contained page, with the report's chart if it declares one
			return res.WriteHTML(w, r.Title, r.Chart)
		case "xlsx":
			return res.WriteXLSX(w, r.Name)
		}
		return res.Write(w, format)
	})
}

func (a *app) reportsCommand() *cobra.Command {
	c := &cobra.Command{
		Use:               "reports",
		Short:             "List the reports with their descriptions and parameters",
		Long:              "List the SQL reports with their descriptions and parameters (for etl report NAME --param name=value).",
		Example:           "  etl reports\n  etl reports --queries ./queries",
		Args:              noArgs,
		ValidArgsFunction: cobra.NoFileCompletions,
	}
	qdir := c.Flags().String("queries", "", "read reports from this directory instead of the built-in queries/")
	_ = c.MarkFlagDirname("queries")
	c.RunE = a.runs(func(ctx context.Context, _ *cobra.Command, _ []string) error { return a.cmdReports(ctx, qdir) })
	return c
}

func (a *app) cmdReports(_ context.Context, qdir *string) error {
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
