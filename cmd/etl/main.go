// Command etl is calletl: it pulls call data from telecom vendors (MTT, …)
// into a Hive-partitioned Parquet lake and reports on it with DuckDB.
// Run `etl help` for the commands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	_ "time/tzdata" // time zones work on hosts without zoneinfo (slim containers)

	"golang.org/x/term"

	"github.com/calletl/calletl/extract/registry"
	"github.com/calletl/calletl/secret"
	"github.com/calletl/calletl/state"
)

// Exit codes, for cron and Kubernetes.
const (
	exitOK          = 0   // every stream succeeded
	exitFailed      = 1   // the run finished but some streams failed (named on stderr); committed work is kept
	exitUsage       = 2   // bad flags or config: fix and rerun
	exitLocked      = 3   // another etl process holds the state lock: nothing was done
	exitMaxRunTime  = 4   // max_run_time reached: stopped like an interrupt; committed work is kept
	exitLeaseLost   = 6   // the state on S3: this run's lease was taken over by another process, so it stopped; committed work is kept
	exitInterrupted = 130 // SIGINT/SIGTERM: committed work is kept, the next run resumes
)

const usage = `etl — pull telecom call data into a Parquet lake and report on it with DuckDB.

Usage:
  etl [global flags] <command> [flags]

Commands:
  run        The nightly job: every configured source, every stream, from its
             cursor (or the last lookback_days, whichever is earlier) to today.
             --shard i/n (or --shards n with $JOB_COMPLETION_INDEX, or $CALLETL_SHARD):
             this process does shard i of n; the shards share one lake and state.
             --dry-run [--format table|json]: print what it would extract (streams ×
             day windows, items) without calling a vendor, locking or writing.
  backfill   Load history: etl backfill --source mtt --from 2026-01-01 --to 2026-03-31
             Re-running the same command resumes after the last committed day.
  recordings Fetch the recordings backlog alone (etl run fetches them too, after
             the call rows are committed, when a recordings section is configured).
  state      What the state holds: cursors (the last committed day of every stream),
             backfill progress, items (final or not, first seen, given up), the
             recordings backlog and the T2 token pair's age and expiry
             (--format table|json; --shards n: which shard owns each).
  report     Run a SQL report over the lake: etl report daily_summary --from 2026-11-01
  reports    List the reports with their descriptions and parameters.
  views      Write a DuckDB database of views over the lake for analysts:
             etl views --out calletl.duckdb, then duckdb -readonly calletl.duckdb
  compact    Rewrite each partition older than the lookback as one file (etl compact
             [--before DAY]); compact_after_run: true does it after every run.
  sql        One ad hoc SELECT over the lake: etl sql "SELECT count(*) FROM calls"
             (--format table|csv|json|xlsx|parquet, -f FILE, --timeout 5m; DuckDB sandboxed to the lake)
  serve      A read-only report page on loopback: etl serve [--addr 127.0.0.1:8080];
             pick a report, set its dates, see the chart and table, download
             CSV, XLSX or Parquet (same engine and sandbox as etl report).
  ddl        Print CREATE statements for every lake table, for other engines:
             etl ddl --dialect trino|athena|spark|duckdb [--location s3://bucket/prefix]
  check      Validate the config and test the credentials of every source and every
             configured customer, one cheap call each, all at once, within --timeout
             (default 10s; each call within --probe-timeout, default 5s).
  demo       Start the built-in vendor emulators, write DIR/etl.yaml, run, print
             daily_summary (default DIR ./demo). Safe to run again.
  sandbox    Serve the vendor emulators on loopback to try a config against.
  version    Print the version.

Global flags:
  --config FILE       config file (default $CALLETL_CONFIG or ./etl.yaml)
  --log-format F      auto, text or json (auto: text on a terminal, json otherwise).
                      json: stderr carries only JSON lines, one record each, the
                      summaries included (msg "run summary", "recordings summary",
                      "etl exiting" …); durations are float seconds in keys
                      ending _s (took_s). No progress bar with json.
  --log-level L       debug, info, warn or error (default info)
  --no-progress       no progress bars even on a terminal
  --lake DIR          report, sql, views, serve and state (its recordings backlog): read
                      this local copy of the lake as it is (an S3 lake is otherwise read
                      in a mirror in ~/.cache/calletl that each command brings up to date)

Exit codes:
  0    every stream succeeded
  1    the run finished but some streams failed; stderr names each with its error
       (a source whose credentials or account the vendor refused is one error: it
       stopped at the first refusal), or the run could not write the lake or the
       state. Committed windows are kept; the next run resumes at the failed day.
  2    bad command line, config or state file (the message names the field or key)
  3    another etl process holds the state lock (state/lock, or a shard's
       state/lock.s<i>of<n>; with the state on S3 the same names are leases
       that expire 60s after their holder stops renewing them); nothing was done
  4    max_run_time reached (config max_run_time, default 20h; run, backfill and
       recordings take --max-run-time to override it, 0 = no limit): the run was
       stopped like an interrupt, committed windows are kept and the lock released
  5    etl run succeeded but the data-quality checks after it found something
       (only with data_quality.fail_run: true or --fail-on-data-quality; the
       findings are logged, and listed by etl report data_quality)
  6    state on S3: this run's lease was lost (not renewed in time, and another
       process took it over), so it stopped; committed windows are kept
  130  interrupted (SIGINT/SIGTERM); committed windows are kept

Secrets (passwords, tokens) are read from environment variables or files named in
the config, and never printed. Run 'etl <command> --help' for a command's flags.
`

func main() {
	os.Exit(runMain(os.Args[1:], os.Stdout, os.Stderr))
}

// app carries what every command needs.
type app struct {
	configPath string
	logFormat  string
	logLevel   string
	noProgress bool
	lakeDir    string // --lake: a local copy of the lake to query instead of the configured one
	stdout     io.Writer
	stderr     io.Writer
	redactor   *secret.Redactor
	log        *slog.Logger
	level      slog.LevelVar // lowered to warn while a progress bar is shown
	levelSet   bool          // --log-level given explicitly
	vendors    *registry.Registry
	format     string // the log format in use: "text" or "json" (--log-format auto resolved)
	tty        bool   // stderr is a terminal
	// term is stderr shared by the log and the progress bars: set when
	// bars can be shown (text logs on a terminal), nil otherwise.
	term *termOut
}

// usageError is a bad command line: exit 2 with the message.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// exitError carries a specific exit code.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func runMain(args []string, stdout, stderr io.Writer) int {
	return runWith(vendors(), args, stdout, stderr)
}

// runWith is runMain with the vendors of reg.
func runWith(reg *registry.Registry, args []string, stdout, stderr io.Writer) int {
	a := &app{stdout: stdout, stderr: stderr, redactor: secret.NewRedactor(), vendors: reg}
	global := flag.NewFlagSet("etl", flag.ContinueOnError)
	global.SetOutput(io.Discard)
	def := os.Getenv("CALLETL_CONFIG")
	if def == "" {
		def = "etl.yaml"
	}
	global.StringVar(&a.configPath, "config", def, "")
	global.StringVar(&a.logFormat, "log-format", "auto", "")
	global.StringVar(&a.logLevel, "log-level", "info", "")
	global.BoolVar(&a.noProgress, "no-progress", false, "")
	global.StringVar(&a.lakeDir, "lake", "", "")
	if err := global.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, usage)
			return exitOK
		}
		fmt.Fprintf(stderr, "etl: %v\n\n%s", err, usage)
		return exitUsage
	}
	global.Visit(func(f *flag.Flag) { a.levelSet = a.levelSet || f.Name == "log-level" })
	rest := global.Args()
	if len(rest) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	log, err := a.newLogger()
	if err != nil {
		fmt.Fprintf(stderr, "etl: %v\n", err)
		return exitUsage
	}
	a.log = log

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	cmd, cmdArgs := rest[0], rest[1:]
	commands := map[string]func(context.Context, []string) error{
		"run": a.cmdRun, "backfill": a.cmdBackfill, "state": a.cmdState,
		"report": a.cmdReport, "reports": a.cmdReports, "check": a.cmdCheck,
		"demo": a.cmdDemo, "sandbox": a.cmdSandbox, "recordings": a.cmdRecordings,
		"views": a.cmdViews, "sql": a.cmdSQL,
		"ddl":     a.cmdDDL,
		"compact": a.cmdCompact,
		"serve":   a.cmdServe,
		"version": func(context.Context, []string) error { fmt.Fprintln(stdout, "etl", version()); return nil },
		"help":    func(context.Context, []string) error { fmt.Fprint(stdout, usage); return nil },
	}
	fn, ok := commands[cmd]
	if !ok {
		fmt.Fprintf(stderr, "etl: unknown command %q\n\n%s", cmd, usage)
		return exitUsage
	}
	err = fn(ctx, cmdArgs)
	return a.exitCode(ctx, err)
}

// exitCode prints err (redacted) and maps it to an exit code.
func (a *app) exitCode(ctx context.Context, err error) int {
	if err == nil {
		return exitOK
	}
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	msg := a.redactor.Redact(err.Error())
	var ue *usageError
	var fe *FieldError
	var se *state.FileError
	var ee *exitError
	switch {
	case errors.As(err, &ue), errors.As(err, &fe), errors.As(err, &se):
		return a.exitWith(exitUsage, msg, "")
	case errors.Is(err, state.ErrLocked):
		return a.exitWith(exitLocked, msg, "wait for it to finish, or check that no etl process is running and retry")
	case ctx.Err() != nil:
		return a.exitWith(exitInterrupted, "interrupted: "+msg, "committed windows are kept; run again to resume")
	case errors.As(err, &ee):
		return a.exitWith(ee.code, msg, "")
	}
	return a.exitWith(exitFailed, msg, "")
}

// exitWith reports why etl exits with code: "etl: msg" and the hint on
// its own line on a text log; one error record (msg "etl exiting", with
// err, exit_code and hint) on a JSON log.
func (a *app) exitWith(code int, msg, hint string) int {
	text := "etl: " + msg
	if hint != "" {
		text += "\n  " + hint
	}
	attrs := []slog.Attr{slog.String("err", msg), slog.Int("exit_code", code)}
	if hint != "" {
		attrs = append(attrs, slog.String("hint", hint))
	}
	a.note(slog.LevelError, "etl exiting", text, attrs...)
	return code
}

// newLogger builds the slog logger: text on a terminal, JSON otherwise,
// every record passed through the secret redactor.
func (a *app) newLogger() (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(a.logLevel)); err != nil {
		return nil, &usageError{fmt.Sprintf("--log-level %q: want debug, info, warn or error", a.logLevel)}
	}
	a.level.Set(level)
	opts := &slog.HandlerOptions{Level: &a.level, ReplaceAttr: secondsAttr}
	a.tty = isTerminal(a.stderr)
	format := a.logFormat
	if format == "auto" {
		format = "json"
		if a.tty {
			format = "text"
		}
	}
	var h slog.Handler
	switch format {
	case "text":
		w := a.stderr
		if a.tty && !a.noProgress {
			a.term = newTermOut(a.stderr)
			w = a.term
		}
		h = slog.NewTextHandler(w, opts)
	case "json":
		h = slog.NewJSONHandler(a.stderr, opts)
	default:
		return nil, &usageError{fmt.Sprintf("--log-format %q: want auto, text or json", a.logFormat)}
	}
	a.format = format
	return slog.New(secret.NewHandler(h, a.redactor)), nil
}

// isTerminal reports whether w is a terminal: a terminal *os.File, or a
// writer that says it is one (a test's fake terminal).
func isTerminal(w io.Writer) bool {
	if t, ok := w.(interface{ Terminal() bool }); ok {
		return t.Terminal()
	}
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// parseFlags parses a command's flags; --help prints its usage to stdout.
func (a *app) parseFlags(fs *flag.FlagSet, args []string, synopsis string) error {
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(a.stdout, "%s\n\nFlags:\n", synopsis)
			fs.SetOutput(a.stdout)
			fs.PrintDefaults()
			return flag.ErrHelp
		}
		return &usageError{fmt.Sprintf("%s: %v (see --help)", fs.Name(), err)}
	}
	return nil
}

func splitComma(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
