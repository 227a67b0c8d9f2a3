package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/spf13/cobra"

	"github.com/calletl/calletl/model"
)

func (a *app) compactCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "compact",
		Short: "Rewrite each partition older than the lookback as one file",
		Long: `Rewrite each (table, source, date) partition older than the lookback window as one
file, compacted.parquet, so that engines read a few large files instead of many
small ones. Rows are unchanged; a later backfill of a stream still replaces exactly
that stream's rows. Set compact_after_run: true to run it at the end of every etl
run. It takes the whole run's lock (no shard may run meanwhile). On an S3 lake each
partition's compacted object is uploaded before its unit objects are deleted: a
query listing that partition during those deletes sees its rows twice, never misses
one; a compaction killed there is finished by the next etl compact or unsharded
etl run.`,
		Example: `  etl compact
  etl compact --before 2026-10-01`,
		Args:              noArgs,
		ValidArgsFunction: cobra.NoFileCompletions,
	}
	before := c.Flags().String("before", "", "compact only days before this one, YYYY-MM-DD (default and latest allowed: the first day the next run writes, today − lookback_days or a lagging stream's next day)")
	c.RunE = a.runs(func(ctx context.Context, _ *cobra.Command, _ []string) error { return a.cmdCompact(ctx, before) })
	return c
}

func (a *app) cmdCompact(ctx context.Context, before *string) error {
	e, err := a.open(ctx, true)
	if err != nil {
		return err
	}
	defer e.close()
	return a.compact(ctx, e, *before, time.Now())
}

// compact compacts the days before `before`, or before the first day the
// next run writes when before is "". Days the next run writes are never
// compacted: a run would rewrite the compacted file once per stream.
func (a *app) compact(ctx context.Context, e *env, before string, now time.Time) error {
	limit, err := nextRunStart(e, now)
	if err != nil {
		return err
	}
	switch {
	case before == "":
		before = limit
	case !isDay(before):
		return &usageError{fmt.Sprintf("compact --before %q: want YYYY-MM-DD", before)}
	case before > limit:
		return &usageError{fmt.Sprintf("compact --before %s: the next run writes the days from %s on (lookback_days, or a stream whose cursor lags); compact only days before it", before, limit)}
	}
	start := time.Now()
	st, err := e.lake.Compact(ctx, before)
	for _, s := range st.Skipped {
		a.log.Warn("compact: partition skipped", "partition", s)
	}
	a.note(slog.LevelInfo, "compact summary", fmt.Sprintf("compact: days before %s: %d partitions, %d files → %d, %d rows, %.1f MB",
		before, st.Partitions, st.FilesBefore, st.Partitions, st.Rows, float64(st.Bytes)/1e6),
		slog.String("before", before), slog.Int("partitions", st.Partitions), slog.Int("files_before", st.FilesBefore),
		slog.Int64("rows", st.Rows), slog.Int64("bytes", st.Bytes), slog.Int("skipped", len(st.Skipped)),
		slog.Float64("took_s", time.Since(start).Seconds()))
	if err != nil {
		return fmt.Errorf("compact: %w (the lake is readable; run etl compact again to finish)", err)
	}
	return nil
}

// nextRunStart is the first day the next `etl run` extracts for any stream
// of the configured sources: today − lookback_days, or earlier for a stream
// whose cursor lags behind it or that has no cursor and a start_date.
func nextRunStart(e *env, now time.Time) (string, error) {
	today := model.Day(now, e.cfg.location)
	t, _ := time.Parse(model.DayLayout, today)
	first := t.AddDate(0, 0, -*e.cfg.LookbackDays).Format(model.DayLayout)
	windowed, _ := split(e.sources)
	for _, src := range windowed {
		for _, key := range src.Streams() {
			c, ok := e.state.Cursor(key.String())
			switch {
			case ok:
				d, err := time.Parse(model.DayLayout, c.Day)
				if err != nil {
					return "", fmt.Errorf("compact: cursor of %s: %q is not a day", key, c.Day)
				}
				first = min(first, d.AddDate(0, 0, 1).Format(model.DayLayout))
			case e.cfg.StartDate != "":
				first = min(first, e.cfg.StartDate)
			}
		}
	}
	return first, nil
}

func isDay(s string) bool {
	t, err := time.Parse(model.DayLayout, s)
	return err == nil && t.Format(model.DayLayout) == s
}
