package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/calletl/calletl/ddl"
	"github.com/calletl/calletl/lakeread"
	"github.com/calletl/calletl/model"
)

func (a *app) ddlCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "ddl",
		Short: "Print CREATE statements for every lake table, for other engines",
		Long: `Print the CREATE statements for every lake table (partitions typed, columns
described) so that Trino, Athena, Spark or DuckDB query the lake where it lies.`,
		Example: `  etl ddl --dialect trino --location s3://calletl-data/lake
  etl ddl --dialect athena --location s3://calletl-data/lake --first-date 2024-01-01
  etl ddl --dialect duckdb`,
		Args:              noArgs,
		ValidArgsFunction: cobra.NoFileCompletions,
	}
	fset := c.Flags()
	dialect := fset.String("dialect", "", "the engine: "+strings.Join(ddl.Dialects, ", "))
	location := fset.String("location", "", "the lake's root, e.g. s3://bucket/prefix (default: the config's lake)")
	schema := fset.String("schema", "calletl", "the database/schema the tables go to (trino, athena, spark)")
	first := fset.String("first-date", "2020-01-01", "athena: the first day of the projected date partitions")
	precision := fset.Int("timestamp-precision", 3, "trino: 3 or 6, the Hive catalog's hive.timestamp-precision (MILLISECONDS or MICROSECONDS)")
	completeValues(c, "dialect", ddl.Dialects...)
	c.RunE = a.runs(func(ctx context.Context, _ *cobra.Command, _ []string) error {
		return a.cmdDDL(ctx, dialect, location, schema, first, precision)
	})
	return c
}

func (a *app) cmdDDL(ctx context.Context, dialect, location, schema, first *string, precision *int) error {
	if *dialect == "" {
		return &usageError{"ddl needs --dialect " + strings.Join(ddl.Dialects, "|")}
	}
	if _, err := time.Parse(model.DayLayout, *first); err != nil {
		return &usageError{fmt.Sprintf("--first-date %q: want YYYY-MM-DD", *first)}
	}
	loc := *location
	if loc == "" {
		cfg, err := readConfig(a.registry(), a.configPath)
		if err != nil {
			return err
		}
		loc = cfg.Lake
		if !strings.Contains(loc, "://") {
			abs, err := filepath.Abs(cfg.path(loc))
			if err != nil {
				return err
			}
			loc = abs
			if *dialect != "duckdb" {
				loc = "file://" + abs
			}
		}
	}
	opt := ddl.Options{
		Dialect: *dialect, Location: loc, Schema: *schema,
		Sources: a.registry().Names(), FirstDate: *first, TimestampPrecision: *precision,
	}
	if *dialect == "duckdb" && !strings.Contains(loc, "://") {
		// A local lake can be looked at: tables without files get empty
		// views rather than a CREATE that DuckDB refuses.
		opt.HasFiles = func(table string) (bool, error) { return lakeread.HasData(loc, table) }
	}
	err := ddl.Write(a.stdout, allTables(a.registry()), opt)
	if err != nil {
		return &usageError{err.Error()}
	}
	return nil
}
