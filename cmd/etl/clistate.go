package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/calletl/calletl/extract/registry"
	"github.com/calletl/calletl/extract/t2"
	"github.com/calletl/calletl/load"
	"github.com/calletl/calletl/pipeline"
	"github.com/calletl/calletl/recordings"
	"github.com/calletl/calletl/secret"
	"github.com/calletl/calletl/shard"
	"github.com/calletl/calletl/state"
)

// stateReport is `etl state --format json`: a stable shape for scripts.
// Times are RFC 3339 UTC; spans are float seconds in keys ending _s; a
// section that does not apply is null (recordings off, T2 not configured);
// shard is present only with --shards n (n > 1).
type stateReport struct {
	State      string          `json:"state"` // the state directory or s3:// URL
	Cursors    []cursorRow     `json:"cursors"`
	Backfills  []backfillRow   `json:"backfills"`
	Items      []itemRow       `json:"items"`
	Recordings *recordingsInfo `json:"recordings"`
	T2Token    *tokenInfo      `json:"t2_token"`
}

// cursorRow is a stream's cursor: the last day committed to the lake.
type cursorRow struct {
	Stream    string    `json:"stream"` // source/stream/account
	Day       string    `json:"day"`
	RunID     string    `json:"run_id"`
	UpdatedAt time.Time `json:"updated_at"`
	Shard     string    `json:"shard,omitempty"`
}

// backfillRow is one `etl backfill` range's progress.
type backfillRow struct {
	Stream    string    `json:"stream"`
	From      string    `json:"from"`
	To        string    `json:"to"`
	Day       string    `json:"day"`  // the last day committed
	Done      bool      `json:"done"` // day == to
	RunID     string    `json:"run_id"`
	UpdatedAt time.Time `json:"updated_at"`
	Shard     string    `json:"shard,omitempty"`
}

// itemRow is an item (VotBox task, Mobilgroup broadcast) runs remember.
type itemRow struct {
	Source    string    `json:"source"`
	Kind      string    `json:"kind"`
	Key       string    `json:"key"`
	Final     bool      `json:"final"`    // not polled any more
	GivenUp   bool      `json:"given_up"` // final because it was given up, not because the vendor said so
	Reason    string    `json:"given_up_reason,omitempty"`
	FirstSeen time.Time `json:"first_seen,omitzero"`
	UpdatedAt time.Time `json:"updated_at"`
	RunID     string    `json:"run_id"`
	Shard     string    `json:"shard,omitempty"`
}

// recordingsInfo is the recordings backlog, read from the lake.
type recordingsInfo struct {
	Lake    string               `json:"lake"`
	Sources []recordings.Backlog `json:"sources"`
	Error   string               `json:"error,omitempty"` // why the backlog could not be read
}

// tokenInfo is the T2 token pair: its times, never a token.
type tokenInfo struct {
	Where             string    `json:"where"` // the token file or object
	Saved             bool      `json:"saved"` // false: the pair still comes from the configuration
	SavedAt           time.Time `json:"saved_at,omitzero"`
	AgeS              *float64  `json:"age_s"` // since saved_at; null when not saved
	RefreshedAt       time.Time `json:"refreshed_at,omitzero"`
	AccessExpiresAt   time.Time `json:"access_expires_at,omitzero"`
	RefreshExpiresAt  time.Time `json:"refresh_expires_at,omitzero"`
	RefreshExpiresInS *float64  `json:"refresh_expires_in_s"` // negative: expired; null: unknown
	Warnings          []string  `json:"warnings"`
	Error             string    `json:"error,omitempty"`
}

func (a *app) stateCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "state",
		Short: "Show what the state holds: cursors, backfills, items, recordings backlog, T2 token",
		Long: `What the state holds, for an operator: every stream's cursor (the last day
committed to the lake), backfill progress, the items runs poll (VotBox tasks,
Mobilgroup broadcasts: final or not, first seen, given up), the recordings backlog
(new, retry due, waiting for backoff, given up; read from a local lake) and the T2
token pair's age and expiry (never the tokens). The shards of a sharded run share
one state, so this is the whole picture. Nothing is locked or written.`,
		Example: `  etl state                  # tables for a human
  etl state --format json    # one JSON object for scripts (see README "Inspecting the state")
  etl state --shards 4       # which of 4 shards owns each stream and item`,
		Args:              noArgs,
		ValidArgsFunction: cobra.NoFileCompletions,
	}
	shards := c.Flags().Int("shards", 0, "also show which of n shards owns each stream and item")
	format := c.Flags().String("format", "table", "table (for people) or json (for scripts)")
	completeValues(c, "format", "table", "json")
	c.RunE = a.runs(func(ctx context.Context, _ *cobra.Command, _ []string) error { return a.cmdState(ctx, shards, format) })
	return c
}

func (a *app) cmdState(ctx context.Context, shards *int, format *string) error {
	if *shards < 0 {
		return &usageError{fmt.Sprintf("--shards %d: the number of shards must be >= 1", *shards)}
	}
	if *format != "table" && *format != "json" {
		return &usageError{fmt.Sprintf("state --format %q: want table or json", *format)}
	}
	cfg, err := a.loadConfig()
	if err != nil {
		return err
	}
	st, err := cfg.openState(ctx, a.log)
	if err != nil {
		return err
	}
	rep, err := a.inspectState(ctx, cfg, st, *shards, time.Now())
	if err != nil {
		return err
	}
	if *format == "json" {
		enc := json.NewEncoder(a.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	return rep.table(a.stdout, *shards > 1)
}

// inspectState gathers the report; it reads the state, the token file and
// (for the recordings backlog) a local lake, and writes nothing.
func (a *app) inspectState(ctx context.Context, cfg *Config, st *state.Store, shards int, now time.Time) (*stateReport, error) {
	as := assigner(a.vendors, shard.Shard{Count: shards})
	owner := func(source string, parts ...string) string {
		if shards <= 1 {
			return ""
		}
		return fmt.Sprintf("%d/%d", shard.Of(as.Key(source, parts...), shards), shards)
	}
	streamOwner := func(key string) string {
		p := strings.SplitN(key, "/", 3)
		return owner(p[0], p[1:]...)
	}
	rep := &stateReport{State: st.Dir(), Cursors: []cursorRow{}, Backfills: []backfillRow{}, Items: []itemRow{}}
	keys, cursors := st.Cursors()
	for _, k := range keys {
		c := cursors[k]
		rep.Cursors = append(rep.Cursors, cursorRow{Stream: k, Day: c.Day, RunID: c.RunID, UpdatedAt: c.UpdatedAt.UTC(), Shard: streamOwner(k)})
	}
	keys, backfills := st.Backfills()
	for _, k := range keys {
		c := backfills[k]
		stream, rng, _ := strings.Cut(k, "@") // stream@from..to: see pipeline.Backfill
		from, to, _ := strings.Cut(rng, "..")
		rep.Backfills = append(rep.Backfills, backfillRow{Stream: stream, From: from, To: to, Day: c.Day, Done: c.Day == to,
			RunID: c.RunID, UpdatedAt: c.UpdatedAt.UTC(), Shard: streamOwner(stream)})
	}
	books, err := pipeline.RememberedItems(st)
	if err != nil {
		return nil, err
	}
	for _, source := range slices.Sorted(maps.Keys(books)) {
		book := books[source]
		for _, id := range slices.Sorted(maps.Keys(book)) {
			it := book[id]
			rep.Items = append(rep.Items, itemRow{Source: source, Kind: a.vendors.ItemKind(source), Key: id, Final: it.Final,
				GivenUp: it.Gone != "", Reason: it.Gone, FirstSeen: it.FirstSeen.UTC(), UpdatedAt: it.UpdatedAt.UTC(),
				RunID: it.RunID, Shard: owner(source, a.vendors.ItemKind(source), id)})
		}
	}
	rep.Recordings = a.recordingsBacklog(ctx, cfg, now)
	rep.T2Token = a.t2Token(ctx, cfg, st, now)
	return rep, nil
}

// recordingSources are the configured sources that have recordings, and
// those of them with transcripts (as buildSources gives them fetchers).
func recordingSources(c *Config) (sources, transcripts []string) {
	if !c.Recordings.on() {
		return nil, nil
	}
	for _, sec := range c.Sources.sections {
		r, ok := sec.cfg.(registry.Recorded)
		if !ok || !sec.cfg.On() {
			continue
		}
		if rec, tr := r.RecordingKinds(); rec {
			sources = append(sources, sec.vendor.Name())
			if tr {
				transcripts = append(transcripts, sec.vendor.Name())
			}
		}
	}
	slices.Sort(sources)
	return sources, transcripts
}

// recordingsBacklog reads the backlog from a local lake; nil when
// recordings are off.
func (a *app) recordingsBacklog(ctx context.Context, c *Config, now time.Time) *recordingsInfo {
	sources, transcripts := recordingSources(c)
	if sources == nil {
		return nil
	}
	info := &recordingsInfo{Lake: c.lakeName(), Sources: []recordings.Backlog{}}
	dir := c.path(c.Lake)
	switch {
	case a.lakeDir != "":
		dir, info.Lake = a.lakeDir, a.lakeDir
	case c.lakeLoc.IsS3():
		// The tables the backlog reads, in the mirror the SQL commands use.
		var err error
		if dir, err = a.mirrorS3Lake(ctx, c, []string{load.Calls.Name, recordings.Manifest.Name, recordings.Days.Name}); err != nil {
			info.Error = a.redactor.Redact(err.Error())
			return info
		}
	}
	b, err := recordings.InspectBacklog(ctx, dir, sources, transcripts, c.Recordings.MaxAttempts, c.Recordings.RetryBase, now)
	if err != nil {
		info.Error = a.redactor.Redact(err.Error())
		return info
	}
	info.Sources = b
	return info
}

// t2Token describes the T2 token pair; nil when T2 is not configured.
func (a *app) t2Token(ctx context.Context, c *Config, st *state.Store, now time.Time) *tokenInfo {
	t, _ := c.Sources.Get(t2.Name).(*t2.Settings)
	if t == nil || !t.On() {
		return nil
	}
	path, store, where := c.path(t.TokenFile), st.Storage(), c.path(t.TokenFile)
	if t.TokenFile == "" && store != nil { // the state is on S3: see buildSources
		path, where = t2.TokenObject, c.stateLoc.String()+"/"+t2.TokenObject
	} else {
		store = nil
	}
	info := &tokenInfo{Where: where, Warnings: []string{}}
	ti, err := t2.InspectTokens(ctx, path, store)
	if err != nil {
		info.Error = a.redactor.Redact(err.Error())
		return info
	}
	if !ti.Saved {
		// The configured pair: its expiry if its secret can be read here.
		if refresh, err := secret.Load(t.RefreshToken.Env, c.path(t.RefreshToken.File)); err == nil {
			a.redactor.Add(refresh.Reveal())
			ti.RefreshExpires, _ = t2.TokenExpiry(refresh.Reveal())
		}
	}
	info.Saved, info.SavedAt, info.RefreshedAt = ti.Saved, ti.SavedAt.UTC(), ti.RefreshedAt.UTC()
	info.AccessExpiresAt, info.RefreshExpiresAt = ti.AccessExpires.UTC(), ti.RefreshExpires.UTC()
	if !ti.SavedAt.IsZero() {
		age := now.Sub(ti.SavedAt).Seconds()
		info.AgeS = &age
		if now.Sub(ti.SavedAt) > t2.WarnUnused {
			info.Warnings = append(info.Warnings, fmt.Sprintf("the pair was saved %s ago; a refresh token unused for 7 days dies: run the ETL soon", days(now.Sub(ti.SavedAt))))
		}
	}
	if !ti.RefreshExpires.IsZero() {
		left := ti.RefreshExpires.Sub(now)
		s := left.Seconds()
		info.RefreshExpiresInS = &s
		switch {
		case left <= 0:
			info.Warnings = append(info.Warnings, "the refresh token has expired: issue a new pair in the T2 PBX web UI (see etl check)")
		case left < t2.WarnRefreshExpiry:
			info.Warnings = append(info.Warnings, fmt.Sprintf("the refresh token expires in %s: run the ETL before then so it is refreshed", days(left)))
		}
	}
	return info
}

// days renders a span for people: "3d 4h", "5h 12m", "40s".
func days(d time.Duration) string {
	switch {
	case d >= 24*time.Hour:
		return fmt.Sprintf("%dd %dh", int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour))
	case d >= time.Hour:
		return fmt.Sprintf("%dh %dm", int(d/time.Hour), int(d%time.Hour/time.Minute))
	}
	return d.Round(time.Second).String()
}

// table writes the report for people: one table per section.
func (r *stateReport) table(w io.Writer, shardCol bool) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	col := func(s string) string {
		if shardCol {
			return "\t" + s
		}
		return ""
	}
	ts := func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return t.Format(time.RFC3339)
	}
	if len(r.Cursors) == 0 {
		fmt.Fprintln(tw, "no cursors yet: `etl run` has not committed a window")
	} else {
		fmt.Fprintln(tw, "STREAM\tLAST DAY\tRUN\tUPDATED"+col("SHARD"))
		for _, c := range r.Cursors {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s%s\n", c.Stream, c.Day, c.RunID, ts(c.UpdatedAt), col(c.Shard))
		}
	}
	if len(r.Backfills) > 0 {
		fmt.Fprintln(tw, "\nBACKFILL\tRANGE\tDONE THROUGH\tRUN\tUPDATED"+col("SHARD"))
		for _, b := range r.Backfills {
			through := b.Day
			if b.Done {
				through += " (complete)"
			}
			fmt.Fprintf(tw, "%s\t%s..%s\t%s\t%s\t%s%s\n", b.Stream, b.From, b.To, through, b.RunID, ts(b.UpdatedAt), col(b.Shard))
		}
	}
	final := 0
	header := false
	for _, it := range r.Items {
		if it.Final && !it.GivenUp {
			final++
			continue
		}
		if !header {
			fmt.Fprintln(tw, "\nITEM\tSTATE\tFIRST SEEN\tRUN\tUPDATED"+col("SHARD"))
			header = true
		}
		state := "polled"
		if it.GivenUp {
			state = "given up: " + it.Reason
			if len(state) > 70 {
				state = state[:67] + "..."
			}
		}
		fmt.Fprintf(tw, "%s/%s\t%s\t%s\t%s\t%s%s\n", it.Source, it.Key, state, ts(it.FirstSeen), it.RunID, ts(it.UpdatedAt), col(it.Shard))
	}
	if final > 0 {
		fmt.Fprintf(tw, "%d items final (not polled any more; etl state --format json lists them)\n", final)
	}
	if rec := r.Recordings; rec != nil {
		fmt.Fprintf(tw, "\nRECORDINGS (%s)\tNEW\tRETRY DUE\tWAITING\tNEXT RETRY\tGIVEN UP\tTRANSCRIPTS\tOLDEST\n", rec.Lake)
		if rec.Error != "" {
			fmt.Fprintf(tw, "backlog not read: %s\n", rec.Error)
		}
		for _, b := range rec.Sources {
			oldest := b.Oldest
			if oldest == "" {
				oldest = "-"
			}
			fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%s\t%d\t%d\t%s\n", b.Source, b.New, b.RetryDue, b.RetryWaiting, ts(b.NextRetry), b.GivenUp, b.TranscriptBackfill, oldest)
		}
	}
	if tok := r.T2Token; tok != nil {
		fmt.Fprintf(tw, "\nT2 TOKENS\t%s\n", tok.Where)
		switch {
		case tok.Error != "":
			fmt.Fprintf(tw, "  error\t%s\n", tok.Error)
		case !tok.Saved:
			fmt.Fprintln(tw, "  saved\tno: the configured pair is used until the first refresh saves it")
		case tok.AgeS == nil:
			fmt.Fprintln(tw, "  saved\tyes (when: unknown)")
		default:
			fmt.Fprintf(tw, "  saved\t%s (%s ago)\n", ts(tok.SavedAt), days(time.Duration(*tok.AgeS*float64(time.Second))))
		}
		if !tok.AccessExpiresAt.IsZero() {
			fmt.Fprintf(tw, "  access token expires\t%s\n", ts(tok.AccessExpiresAt))
		}
		if tok.RefreshExpiresInS != nil {
			left := time.Duration(*tok.RefreshExpiresInS * float64(time.Second))
			when := "in " + days(left)
			if left <= 0 {
				when = "expired " + days(-left) + " ago"
			}
			fmt.Fprintf(tw, "  refresh token expires\t%s (%s)\n", ts(tok.RefreshExpiresAt), when)
		} else if tok.Error == "" {
			fmt.Fprintln(tw, "  refresh token expires\tunknown (not a JWT with exp)")
		}
		for _, w := range tok.Warnings {
			fmt.Fprintf(tw, "  WARNING\t%s\n", w)
		}
	}
	return tw.Flush()
}
