package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// cliConfig writes a minimal config (an empty local lake: sql and report
// answer from it without a run) and returns its path. $CALLETL_CONFIG is
// cleared so that only --config can name it.
func cliConfig(t *testing.T) string {
	t.Helper()
	t.Setenv("CALLETL_CONFIG", "")
	dir := t.TempDir()
	cfg := filepath.Join(dir, "etl.yaml")
	body := "lake: lake\nstate: state\ntimezone: Europe/Moscow\nsources:\n  mtt:\n    username: u\n    password: {env: CALLETL_TEST_UNSET}\n    customers: [\"1\"]\n"
	if err := os.WriteFile(cfg, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return cfg
}

func runCLI(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = runMain(args, &out, &errb)
	return code, out.String(), errb.String()
}

// Global flags work anywhere on the line: before the command, between it
// and its argument, after everything (the old parser took them only before
// the command: "flag provided but not defined: -config").
func TestGlobalFlagsAnywhere(t *testing.T) {
	cfg := cliConfig(t)
	for _, tc := range []struct {
		name string
		args []string
		out  string // in stdout
	}{
		{"before the command", []string{"--config", cfg, "sql", "SELECT 1 AS one", "--format", "json"}, `{"one":1}`},
		{"after the query", []string{"sql", "SELECT 1 AS one", "--format", "json", "--config", cfg}, `{"one":1}`},
		{"between command and query", []string{"sql", "--config", cfg, "SELECT 1 AS one", "--format", "json"}, `{"one":1}`},
		{"after the report name", []string{"report", "daily_summary", "--config", cfg, "--format", "json"}, "[]"},
		{"before the report name, = form", []string{"report", "--config=" + cfg, "daily_summary", "--format=json"}, "[]"},
		{"every global flag after", []string{"report", "daily_summary", "--format", "csv", "--config", cfg, "--log-format", "json", "--log-level", "debug", "--no-progress"}, "date,source,direction"},
		{"-- ends the flags", []string{"sql", "--config", cfg, "--format", "json", "--", "-- a comment first\nSELECT 2 AS two"}, `{"two":2}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(tc.args...)
			if code != exitOK || !strings.Contains(stdout, tc.out) {
				t.Errorf("%q: exit %d, stdout %q, want %q in it\n%s", tc.args, code, stdout, tc.out, stderr)
			}
		})
	}
	// --log-format after the command applies to the exit record.
	code, _, stderr := runCLI("report", "no_such_report", "--config", cfg, "--log-format", "json")
	if code == exitOK || !strings.HasPrefix(stderr, "{") || !strings.Contains(stderr, `"msg":"etl exiting"`) {
		t.Errorf("--log-format json after the command: exit %d, stderr not JSON:\n%s", code, stderr)
	}
}

// Unknown flags, bad flag values, extra or unknown arguments and unknown
// commands are exit 2, with a message naming the culprit and a hint to
// --help, before anything runs. The old parser ignored everything after
// the first positional argument (--bogus, a second query or report name).
func TestCommandLineErrors(t *testing.T) {
	cfg := cliConfig(t)
	for _, tc := range []struct {
		name string
		args []string
		want []string // in stderr
	}{
		{"unknown flag after the name", []string{"report", "--format", "json", "daily_summary", "--bogus", "1"}, []string{"unknown flag: --bogus", "see 'etl report --help'"}},
		{"unknown flag before the name", []string{"report", "--bogus", "1", "daily_summary"}, []string{"unknown flag: --bogus"}},
		{"unknown global flag", []string{"--bogus", "run"}, []string{"unknown flag: --bogus"}},
		{"two queries", []string{"sql", "SELECT 1", "SELECT 2"}, []string{"etl sql takes one query", `"SELECT 2"`, "see 'etl sql --help'"}},
		{"query and -f", []string{"sql", "SELECT 1", "-f", "q.sql"}, []string{"not both"}},
		{"two report names", []string{"report", "daily_summary", "missed_calls"}, []string{"etl report takes one report NAME, got 2 arguments", `"missed_calls"`}},
		{"an argument to run", []string{"run", "mtt"}, []string{`etl run takes no arguments, got ["mtt"]`, "see 'etl run --help'"}},
		{"an argument to serve", []string{"serve", "extra"}, []string{"etl serve takes no arguments"}},
		{"a flag without its value", []string{"state", "--format"}, []string{"flag needs an argument: --format"}},
		{"a bad duration", []string{"check", "--timeout", "soon"}, []string{`invalid argument "soon" for "--timeout"`}},
		{"a bad --param", []string{"report", "daily_summary", "--param", "oops"}, []string{"want name=value"}},
		{"a flag of another command", []string{"reports", "--format", "json"}, []string{"unknown flag: --format", "see 'etl reports --help'"}},
		{"--version is the root's", []string{"run", "--version"}, []string{"unknown flag: --version"}},
		{"one dash, long name", []string{"run", "-config", cfg}, []string{"long flags take two dashes: --config"}},
		{"unknown command", []string{"rn"}, []string{`unknown command "rn"`, `did you mean "run"?`, "see 'etl --help'"}},
		{"misspelt command with flags", []string{"reprot", "daily_summary", "--format", "csv"}, []string{`did you mean "report"?`}},
		{"no command", nil, []string{"no command given"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// A good config: the command line alone is at fault.
			code, stdout, stderr := runCLI(append([]string{"--config", cfg, "--log-format", "text"}, tc.args...)...)
			if code != exitUsage {
				t.Errorf("%q: exit %d, want %d\n%s", tc.args, code, exitUsage, stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("%q: stderr lacks %q:\n%s", tc.args, w, stderr)
				}
			}
			if stdout != "" {
				t.Errorf("%q: a rejected command line printed to stdout:\n%s", tc.args, stdout)
			}
		})
	}
}

// A bad command line is reported as --log-format says, wherever that flag
// is: with json, one JSON record (msg "etl exiting", exit_code 2, the hint).
func TestCommandLineErrorAsJSON(t *testing.T) {
	for _, args := range [][]string{
		{"run", "--bogus", "--log-format", "json"},
		{"--log-format", "json", "run", "--bogus"},
		{"sql", "SELECT 1", "SELECT 2", "--log-format=json"},
		{"rn", "--log-format", "json"},
	} {
		code, _, stderr := runCLI(args...)
		lines := strings.Split(strings.TrimSpace(stderr), "\n")
		if code != exitUsage || len(lines) != 1 || !strings.HasPrefix(lines[0], `{"time":`) ||
			!strings.Contains(stderr, `"msg":"etl exiting"`) || !strings.Contains(stderr, `"exit_code":2`) || !strings.Contains(stderr, `--help'"`) {
			t.Errorf("%q: exit %d, want 2 and one JSON record with the hint:\n%s", args, code, stderr)
		}
	}
}

// A repeated single-value flag: the last one wins, as in most CLIs (and
// pflag), and the output is what that last flag says. The old parser
// stopped at the query and printed CSV.
func TestRepeatedFlagLastWins(t *testing.T) {
	cfg := cliConfig(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"sql", "--format", "csv", "SELECT 1 AS one", "--format", "json"}, `{"one":1}`},
		{[]string{"sql", "SELECT 1 AS one", "--format", "json", "--format", "csv"}, "one\n1\n"},
		{[]string{"report", "--format", "csv", "daily_summary", "--format", "json"}, "[]"},
		{[]string{"--config", "/nonexistent/etl.yaml", "sql", "SELECT 1 AS one", "--config", cfg}, "one"},
	} {
		code, stdout, stderr := runCLI(append([]string{"--config", cfg}, tc.args...)...)
		if code != exitOK || !strings.Contains(stdout, tc.want) {
			t.Errorf("%q: exit %d, stdout %q, want %q\n%s", tc.args, code, stdout, tc.want, stderr)
		}
	}
}

// etl --version and etl version print the version and the commit.
func TestVersionFlag(t *testing.T) {
	code, flagOut, stderr := runCLI("--version")
	if code != exitOK || !strings.HasPrefix(flagOut, "etl ") || !strings.Contains(flagOut, "(commit ") {
		t.Errorf("--version: exit %d, stdout %q\n%s", code, flagOut, stderr)
	}
	if code, out, _ := runCLI("version"); code != exitOK || out != flagOut {
		t.Errorf("etl version: exit %d, %q; want what --version prints, %q", code, out, flagOut)
	}
}

// cliCommands are etl's commands (TestCommandTree checks the list).
var cliCommands = []string{"run", "backfill", "recordings", "compact", "receive", "report", "reports", "sql", "views", "serve", "ddl", "state", "check", "version", "demo", "sandbox"}

// Every command has --help with a usage line and examples, to stdout
// with exit 0, and etl help CMD prints the same.
func TestHelpWithExamples(t *testing.T) {
	for _, name := range cliCommands {
		code, out, stderr := runCLI(name, "--help")
		if code != exitOK || !strings.Contains(out, "Usage:\n  etl "+name) || !strings.Contains(out, "Examples:\n  etl ") {
			t.Errorf("etl %s --help: exit %d, no usage line or examples:\n%s%s", name, code, out, stderr)
		}
		if code, help, _ := runCLI("help", name); code != exitOK || help != out {
			t.Errorf("etl help %s: exit %d, not what etl %s --help prints:\n%s", name, code, name, help)
		}
	}
	code, out, _ := runCLI("report", "-h")
	for _, w := range []string{"etl report daily_summary --from 2026-11-01", "--format string", "Global Flags:", "--config string"} {
		if code != exitOK || !strings.Contains(out, w) {
			t.Errorf("etl report -h: exit %d, lacks %q:\n%s", code, w, out)
		}
	}
	code, out, _ = runCLI("--help")
	for _, w := range append([]string{"Exit codes:", "130  interrupted", "completion"}, cliCommands...) {
		if code != exitOK || !strings.Contains(out, w) {
			t.Errorf("etl --help: exit %d, lacks %q", code, w)
		}
	}
	if strings.Contains(out, "Global Flags:") {
		t.Errorf("etl --help lists its own flags as inherited ones:\n%s", out)
	}
}
