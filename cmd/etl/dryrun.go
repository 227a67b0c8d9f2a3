package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/calletl/calletl/shard"
)

// dryRun prints what `etl run` would extract now (pipeline.Plan: the code
// Run plans with) and stops. It reads the config and the state, builds the
// sources (secrets are loaded, no request is made), and neither calls a
// vendor, nor takes the lock, nor opens or writes the lake or the state.
func (a *app) dryRun(ctx context.Context, sh shard.Shard, only []string, format string) error {
	cfg, err := a.loadConfig()
	if err != nil {
		return err
	}
	e := &env{cfg: cfg, shard: sh, ctx: ctx}
	if e.state, err = cfg.openState(ctx, a.log); err != nil {
		return err
	}
	if e.sources, _, err = buildSources(cfg, e.state.Storage(), a.redactor, a.log); err != nil {
		return &usageError{err.Error()}
	}
	srcs, err := pick(e.sources, only)
	if err != nil {
		return err
	}
	windowed, items := split(srcs)
	plan, err := a.pipeline(e, nil).Plan(windowed, items...)
	if err != nil {
		return err
	}
	if format == "json" {
		enc := json.NewEncoder(a.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(plan)
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	label := ""
	if !sh.Whole() {
		label = " (shard " + sh.Label() + ")"
	}
	fmt.Fprintf(tw, "dry run%s: today is %s (%s); no vendor was called, nothing was written\n", label, plan.Today, cfg.Timezone)
	if len(plan.Streams) > 0 {
		fmt.Fprintln(tw, "\nSTREAM\tCURSOR\tFROM\tTO\tWINDOWS\tWHY")
		for _, s := range plan.Streams {
			cursor, from, to := "-", "-", "-"
			if s.Cursor != "" {
				cursor = s.Cursor
			}
			if len(s.Days) > 0 {
				from, to = s.Days[0], s.Days[len(s.Days)-1]
			}
			why := s.Start
			switch s.Start {
			case "cursor":
				why = fmt.Sprintf("cursor lags the lookback by %d days", s.Lag)
			case "lookback":
				why = fmt.Sprintf("lookback_days %d", *cfg.LookbackDays)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\n", s.Stream, cursor, from, to, len(s.Days), why)
		}
	}
	nItems := 0
	if len(plan.Items) > 0 {
		fmt.Fprintln(tw, "\nITEMS\tKIND\tCOUNT\tKEYS")
		for _, it := range plan.Items {
			nItems += len(it.Keys)
			keys := strings.Join(it.Keys, " ")
			if len(it.Keys) > 20 {
				keys = strings.Join(it.Keys[:20], " ") + fmt.Sprintf(" … (%d more; --format json lists them)", len(it.Keys)-20)
			}
			if it.Partial {
				keys += " + those the vendor lists as active (not asked)"
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", it.Source, it.Kind, len(it.Keys), strings.TrimSpace(keys))
			if len(it.GiveUp) > 0 {
				fmt.Fprintf(tw, "%s\t%s\t%d\tgiven up by this run (older than item_max_age_days): %s\n", it.Source, it.Kind, len(it.GiveUp), strings.Join(it.GiveUp, " "))
			}
		}
	}
	fmt.Fprintf(tw, "\ntotal: %d streams, %d day windows, %d items\n", len(plan.Streams), plan.Windows(), nItems)
	return tw.Flush()
}
