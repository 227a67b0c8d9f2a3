package main

import (
	"context"
	"crypto/rand"
	"embed"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/calletl/calletl/model"
	"github.com/calletl/calletl/pipeline"
	"github.com/calletl/calletl/queries"
	"github.com/calletl/calletl/sandbox"
)

// The emulated world of `etl demo` and `etl sandbox`.
const (
	demoUser     = "demo"
	demoPassword = "demo-password-not-a-secret"
	demoSeed     = 42
	demoDays     = 14
)

var (
	demoCustomers         = []string{"110011256", "110022512"}
	demoVoiceBoxCustomers = []string{"1001", "1002"}
)

// demoVoiceBoxClient is the OAuth 2.0 client id of the demo's VoiceBox.
const demoVoiceBoxClient = "calletl-demo"

// emulators are the vendor emulators behind one handler, each under its
// own path prefix.
type emulators struct {
	mux        *http.ServeMux
	mtt        *sandbox.MTT
	t2         *sandbox.T2
	votbox     *sandbox.VotBox
	voicebox   *sandbox.VoiceBox
	mobilgroup *sandbox.Mobilgroup
	mttRec     *sandbox.MTTRecords // its download host is served separately (Files)
}

// t2Path is where the T2 emulator is mounted: a base URL ends in /crm/openapi
// as the real one does.
const t2Path = "/t2/crm/openapi"

func newEmulators(now time.Time, days, callsPerDay int, faults bool) *emulators {
	today := now.UTC().Truncate(24 * time.Hour)
	m := sandbox.NewMTT(sandbox.MTTConfig{
		Seed: demoSeed, Customers: demoCustomers,
		From: today.AddDate(0, 0, -days), To: today,
		CallsPerDay: callsPerDay, Username: demoUser, Password: demoPassword,
		IncludeDocExamples: true, CallbacksPerCustomer: demoCallbacks,
	})
	if faults {
		// A little weather, so the demo shows retries doing their job.
		m.SetFaults(sandbox.Faults{Error5xxEvery: 41, TooManyEvery: 67, RetryAfter: time.Second})
	}
	t := sandbox.NewT2(sandbox.T2Config{
		Seed: demoSeed, From: today.AddDate(0, 0, -days), To: today,
		CallsPerDay: callsPerDay * 3, MissedPerDay: callsPerDay / 3, Managers: 4,
	})
	if faults {
		t.SetFaults(sandbox.Faults{Error5xxEvery: 37})
	}
	// Three autocall tasks started in the last days, part-way through: the
	// pipeline keeps polling the unfinished ones on later runs.
	v := sandbox.NewVotBox(sandbox.VotBoxConfig{
		Seed: demoSeed, Username: demoUser, Password: demoPassword,
		Tasks: 3, ItemsPerTask: callsPerDay, Start: today.AddDate(0, 0, -3).Add(7 * time.Hour),
		// Some items' costs only in their ENDCALL notifications (etl receive).
		NoCostEvery: 3,
	})
	for range 3 {
		v.Advance()
	}
	vb := sandbox.NewVoiceBox(sandbox.VoiceBoxConfig{
		ClientID: demoVoiceBoxClient, ClientSecret: demoPassword, Username: demoUser, Password: demoPassword,
		Customers: demoVoiceBoxCustomers, CallsPerDay: callsPerDay / 2, Days: days + 1,
		Start: today.AddDate(0, 0, -days), Seed: demoSeed,
	})
	if faults {
		vb.SetFaults(sandbox.Faults{Error5xxEvery: 43})
	}
	// Voice broadcasts sent over the last days, part-way through, like the
	// VotBox tasks.
	mg := sandbox.NewMobilgroup(sandbox.MobilgroupConfig{APIKey: demoPassword, Broadcasts: 4,
		SubscribersPerBroadcast: callsPerDay, Seed: demoSeed, Days: 3, Now: func() time.Time { return now }})
	for range 2 {
		mg.Advance()
	}
	if faults {
		mg.SetFaults(sandbox.Faults{Error5xxEvery: 29})
	}
	rec := sandbox.NewMTTRecords(sandbox.MTTRecordsConfig{Username: demoUser, Password: demoPassword,
		Seed: demoSeed, PartSize: 8 << 10, MissingEvery: 25})
	mux := http.NewServeMux()
	mux.Handle("/mtt/", m)
	mux.Handle("/mttrec/", http.StripPrefix("/mttrec", rec.API()))
	mux.Handle("/votbox/", v)
	mux.Handle("/voicebox/", http.StripPrefix("/voicebox", vb))
	mux.Handle("/mobilgroup/", http.StripPrefix("/mobilgroup", mg))
	mux.Handle(t2Path+"/", http.StripPrefix(t2Path, t))
	return &emulators{mux: mux, mtt: m, t2: t, votbox: v, voicebox: vb, mobilgroup: mg, mttRec: rec}
}

// demoQueries holds the demo's own queries: demo_snapshots.sql (what the
// per-run snapshot tables, balances, voicebox_numbers and
// voicebox_customers, hold for the demo's day), demo_events.sql and
// demo_event_costs.sql (what etl receive landed, and the VotBox costs that
// came only from it).
//
//go:embed demo_snapshots.sql demo_events.sql demo_event_costs.sql
var demoQueries embed.FS

func (a *app) demoCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "demo",
		Short: "Run the nightly job on the built-in emulators and print daily_summary",
		Long: `Start the built-in vendor emulators on loopback, write DIR/etl.yaml, run the
nightly job into DIR/lake, and print daily_summary. Running it again re-extracts
only the lookback days: the lake ends the same.`,
		Example: `  etl demo
  etl demo --dir /tmp/calletl-demo
  etl --config demo/etl.yaml report daily_summary   # then query the demo's lake`,
		Args:              noArgs,
		ValidArgsFunction: cobra.NoFileCompletions,
	}
	dir := c.Flags().String("dir", "demo", "directory for the demo's config, secrets, state and lake")
	calls := c.Flags().Int("calls", 120, "mean emulated calls per customer, per history type, per day")
	_ = c.MarkFlagDirname("dir")
	c.RunE = a.runs(func(ctx context.Context, _ *cobra.Command, _ []string) error { return a.cmdDemo(ctx, dir, calls) })
	return c
}

func (a *app) cmdDemo(ctx context.Context, dir *string, calls *int) error {
	now := time.Now()
	emu := newEmulators(now, demoDays+1, *calls, true)
	base, stop, err := sandbox.Start(ctx, "127.0.0.1:0", emu.mux)
	if err != nil {
		return err
	}
	defer stop()
	// MTT's download links are on another host: so are the emulator's.
	files, stopFiles, err := sandbox.Start(ctx, "127.0.0.1:0", emu.mttRec.Files())
	if err != nil {
		return err
	}
	defer stopFiles()
	emu.mttRec.SetDownloadBase(files)
	emu.mtt.SetCallbackRecordBase(files)
	if err := writeDemoCallbacks(*dir, emu.mtt); err != nil {
		return err
	}

	// The T2 emulator is new on every demo, like an administrator issuing a
	// fresh token pair in the PBX web UI: the token file of an earlier demo
	// holds a pair this emulator never issued, so it goes.
	access, refresh := emu.t2.IssueTokens()
	if err := os.Remove(filepath.Join(*dir, "state", "t2-tokens.json")); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	cfgPath, err := writeDemoConfig(*dir, base, now, access, refresh, emu.mobilgroup.IDs())
	if err != nil {
		return err
	}
	a.configPath = cfgPath
	a.note(slog.LevelInfo, "demo: emulators started", fmt.Sprintf("demo: emulators at %s (MTT /mtt/, T2 %s, VotBox /votbox/api, VoiceBox /voicebox, Mobilgroup /mobilgroup), config %s", base, t2Path, cfgPath),
		slog.String("base_url", base), slog.String("t2_path", t2Path), slog.String("config", cfgPath))

	e, err := a.open(ctx, true)
	if err != nil {
		return err
	}
	began := time.Now()
	bar := a.newProgress("demo")
	windowed, items := split(e.sources)
	sum, err := a.pipeline(e, bar).Run(ctx, windowed, items...)
	bar.finish()
	if err != nil {
		e.close()
		return err
	}
	runErr := a.summarize(ctx, sum, began)
	if err := a.fetchRecordings(ctx, e); err != nil && runErr == nil {
		runErr = err
	}
	e.close()
	// The push receiver (etl receive) on loopback: the vendors' example
	// events and the VotBox items' notifications, landed once.
	if err := a.demoReceive(ctx, e.cfg, emu.votbox.Tasks()); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "\ndaily_summary (lake %s):\n", e.lake.Root())
	if err := a.printReport(ctx, e.cfg, queries.FS(), "daily_summary", nil, "table", ""); err != nil {
		return err
	}
	// The T2 managers' reference (t2_managers) joined to the calls, for
	// yesterday and today: a short table.
	fmt.Fprintf(a.stdout, "\nreference (calls with T2 managers' customers; also in the lake: t2_managers, t2_journal, t2_employee_stats):\n")
	since := model.Day(now.AddDate(0, 0, -1), e.cfg.location)
	if err := a.printReport(ctx, e.cfg, queries.FS(), "reference", map[string]string{"from": since}, "table", ""); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "\nrecording_coverage (recordings in %s):\n", e.cfg.path(e.cfg.Recordings.Local))
	if err := a.printReport(ctx, e.cfg, queries.FS(), "recording_coverage", nil, "table", ""); err != nil {
		return err
	}
	today := map[string]string{"from": model.Day(now, e.cfg.location), "to": model.Day(now, e.cfg.location)}
	fmt.Fprintf(a.stdout, "\ncost_reconciliation, today (VotBox balances, VoiceBox number fees):\n")
	if err := a.printReport(ctx, e.cfg, queries.FS(), "cost_reconciliation", today, "table", ""); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "\nsnapshots, today:\n")
	if err := a.printReport(ctx, e.cfg, demoQueries, "demo_snapshots", map[string]string{"day": today["from"]}, "table", ""); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "\npush notifications (etl receive on loopback; lake tables votbox_events, mtt_events):\n")
	if err := a.printReport(ctx, e.cfg, demoQueries, "demo_events", nil, "table", ""); err != nil {
		return err
	}
	if err := a.printReport(ctx, e.cfg, demoQueries, "demo_event_costs", nil, "table", ""); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "\nTry: etl --config %s report daily_summary --format csv\n     duckdb -c \"SELECT source, count(*) FROM read_parquet('%s/calls/**/*.parquet', hive_partitioning=true) GROUP BY ALL\"\n",
		cfgPath, e.lake.Root())
	return runErr
}

// writeDemoConfig writes DIR/etl.yaml pointing at the emulator, and the
// demo password as a file secret, as a real deployment would.
func writeDemoConfig(dir, base string, now time.Time, t2Access, t2Refresh string, broadcasts []string) (string, error) {
	if err := os.MkdirAll(filepath.Join(dir, "secrets"), 0o700); err != nil {
		return "", err
	}
	ids := "# Mobilgroup broadcast ids, one per line: append the id /api/send/ returns.\n" + strings.Join(broadcasts, "\n") + "\n"
	if err := os.WriteFile(filepath.Join(dir, "mobilgroup-broadcasts.txt"), []byte(ids), 0o644); err != nil {
		return "", err
	}
	for name, value := range map[string]string{"mtt-password": demoPassword, "votbox-password": demoPassword,
		"voicebox-client-secret": demoPassword, "voicebox-password": demoPassword, "mobilgroup-api-key": demoPassword,
		"t2-access-token": t2Access, "t2-refresh-token": t2Refresh, "receive-secret": rand.Text()} {
		if err := os.WriteFile(filepath.Join(dir, "secrets", name), []byte(value+"\n"), 0o600); err != nil {
			return "", err
		}
	}
	loc, err := time.LoadLocation(defaultTimezone)
	if err != nil {
		return "", err
	}
	start := model.Day(now.AddDate(0, 0, -(demoDays-1)), loc)
	cfg := fmt.Sprintf(`# Written by 'etl demo': the built-in MTT, T2, VotBox, VoiceBox and Mobilgroup emulators on loopback.
# Paths are relative to this file. See configs/etl.example.yaml for every field.
lake: lake
state: state
timezone: %s
recordings:
  local: blobs
  mtt_records_base: %s/mttrec
  concurrency: 16
  per_host: 8
lookback_days: 2
start_date: %s
sources:
  mtt:
    base_url: %s/mtt/index.php
    username: %s
    password: {file: secrets/mtt-password}
    customers: [%s]
    callback_customer: "`+demoCustomers[0]+`"
    callback_ids_file: mtt-callbacks.txt
    page_size: 1000
    http:
      concurrency: 4
      max_attempts: 6
      max_retry_after: 5s
  t2:
    base_url: %s%s
    access_token: {file: secrets/t2-access-token}
    refresh_token: {file: secrets/t2-refresh-token}
    page_size: 500
    http:
      concurrency: 3
      max_retry_after: 5s
  votbox:
    base_url: %s/votbox/api
    username: %s
    password: {file: secrets/votbox-password}
  voicebox:
    base_url: %s/voicebox
    client_id: %s
    client_secret: {file: secrets/voicebox-client-secret}
    username: %s
    password: {file: secrets/voicebox-password}
    customers: [%s]
  mobilgroup:
    base_url: %s/mobilgroup
    api_key: {file: secrets/mobilgroup-api-key}
    # Whoever sends a broadcast appends its id here.
    broadcast_ids_file: mobilgroup-broadcasts.txt
# etl receive: the vendors' push notifications (the demo pushes to it on loopback).
receive:
  listen: 127.0.0.1:8090
  spool: spool
  secret: {file: secrets/receive-secret}
  # Event ids are kept for dedupe this long: every demo pushes the same example events again.
  retention: 87600h
  endpoints:
    - {vendor: votbox, source: votbox}
    - {vendor: mtt, source: mtt}
`, defaultTimezone, base, start, base, demoUser, `"`+strings.Join(demoCustomers, `", "`)+`"`, base, t2Path, base, demoUser,
		base, demoVoiceBoxClient, demoUser, `"`+strings.Join(demoVoiceBoxCustomers, `", "`)+`"`, base)
	path := filepath.Join(dir, "etl.yaml")
	return path, os.WriteFile(path, []byte(cfg), 0o644)
}

func (a *app) sandboxCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "sandbox",
		Short: "Serve the vendor emulators on loopback to try a config against",
		Long: `Serve the vendor emulators until Ctrl-C, to try a config or the real binary
against. It prints each vendor's base URL and credentials.`,
		Example: `  etl sandbox
  etl sandbox --addr 127.0.0.1:9090 --days 60 --faults`,
		Args:              noArgs,
		ValidArgsFunction: cobra.NoFileCompletions,
	}
	fs := c.Flags()
	addr := fs.String("addr", "127.0.0.1:8089", "address to listen on (loopback recommended)")
	days := fs.Int("days", 30, "days of emulated traffic, ending today")
	calls := fs.Int("calls", 120, "mean calls per customer, per history type, per day")
	faults := fs.Bool("faults", false, "inject occasional 503s and 429s with Retry-After")
	c.RunE = a.runs(func(ctx context.Context, _ *cobra.Command, _ []string) error {
		return a.cmdSandbox(ctx, addr, days, calls, faults)
	})
	return c
}

func (a *app) cmdSandbox(ctx context.Context, addr *string, days, calls *int, faults *bool) error {
	emu := newEmulators(time.Now(), *days, *calls, *faults)
	base, stop, err := sandbox.Start(ctx, *addr, emu.mux)
	if err != nil {
		return err
	}
	defer stop()
	access, refresh := emu.t2.IssueTokens()
	fmt.Fprintf(a.stdout, `sandbox serving until Ctrl-C
  MTT:  base_url %s/mtt/index.php  username %q  password %q
        customers %s
Point a config at it (the password through an env var):
  export MTT_PASSWORD=%s
  sources:
    mtt:
      base_url: %s/mtt/index.php
      username: %s
      password: {env: MTT_PASSWORD}
      customers: ["%s"]
`, base, demoUser, demoPassword, strings.Join(demoCustomers, ", "), demoPassword, base, demoUser, strings.Join(demoCustomers, `", "`))
	fmt.Fprintf(a.stdout, "  T2:   base_url %s%s\n        access token  %s\n        refresh token %s\n  VotBox: base_url %s/votbox/api  username %q  password %q (sent as its MD5)\n",
		base, t2Path, access, refresh, base, demoUser, demoPassword)
	fmt.Fprintf(a.stdout, "  VoiceBox: base_url %s/voicebox  client_id %q  client_secret %q  username %q  password %q  customers %s\n",
		base, demoVoiceBoxClient, demoPassword, demoUser, demoPassword, strings.Join(demoVoiceBoxCustomers, ", "))
	fmt.Fprintf(a.stdout, "  Mobilgroup: base_url %s/mobilgroup  api_key %q  broadcast ids %s\n",
		base, demoPassword, strings.Join(emu.mobilgroup.IDs(), ", "))
	<-ctx.Done()
	return nil
}

var _ = pipeline.NewRunID
