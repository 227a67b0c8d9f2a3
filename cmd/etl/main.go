// Command etl is calletl: it pulls call data from telecom vendors (MTT, …)
// into a Hive-partitioned Parquet lake and reports on it with DuckDB.
// Run `etl --help` for the commands (cli.go builds them).
package main

import (
	"context"
	"errors"
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
	started    bool          // the command line was good and a command started (see execute)
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
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return a.exitCode(ctx, a.execute(ctx, args))
}

// exitCode prints err (redacted) and maps it to an exit code.
func (a *app) exitCode(ctx context.Context, err error) int {
	if err == nil {
		return exitOK
	}
	var ce *cliError
	if errors.As(err, &ce) {
		return a.exitWith(exitUsage, a.redactor.Redact(ce.message()), fmt.Sprintf("see '%s --help'", ce.cmdPath))
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

func splitComma(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
