package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/calletl/calletl/model"
	"github.com/calletl/calletl/secret"
)

// logRecords parses a JSON log: every line of stderr must be one JSON
// object with time, level and msg (a plain line fails the test).
func logRecords(t *testing.T, stderr string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for i, line := range strings.Split(strings.TrimRight(stderr, "\n"), "\n") {
		if line == "" && stderr == "" {
			break
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("stderr line %d is not JSON (%v): %q", i+1, err, line)
		}
		for _, k := range []string{"time", "level", "msg"} {
			if _, ok := rec[k]; !ok {
				t.Fatalf("stderr line %d has no %q: %s", i+1, k, line)
			}
		}
		out = append(out, rec)
	}
	return out
}

// logRecord returns the last record of a JSON log with msg, or nil.
func logRecord(t *testing.T, stderr, msg string) map[string]any {
	t.Helper()
	var found map[string]any
	for _, rec := range logRecords(t, stderr) {
		if rec["msg"] == msg {
			found = rec
		}
	}
	return found
}

// goDuration is a Go duration string (1.5s, 2m0s, 350ms, 4h0m0s).
var goDuration = regexp.MustCompile(`^-?([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$`)

// durationWord: a key that names a time span must say its unit (_s).
var durationWord = regexp.MustCompile(`(^|_)(took|duration|elapsed|wait|waited|backoff|delay|latency|retry_after|age|timeout)$`)

// checkDurations fails for a key that holds a duration other than as
// float seconds in a key ending _s: a Go duration string anywhere, or a
// span-named key without the unit (slog's JSON for a time.Duration is
// nanoseconds under the bare key).
func checkDurations(t *testing.T, where string, v any) {
	t.Helper()
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if durationWord.MatchString(k) {
				t.Errorf("%s: key %q holds a duration without its unit in the key (want %s_s, float seconds): %v", where, k, k, x)
			}
			if strings.HasSuffix(k, "_s") {
				if _, ok := x.(float64); !ok {
					t.Errorf("%s: key %q is not a number of seconds: %v", where, k, x)
				}
			}
			checkDurations(t, where+"."+k, x)
		}
	case []any:
		for _, x := range v {
			checkDurations(t, where, x)
		}
	case string:
		if goDuration.MatchString(v) {
			t.Errorf("%s: a Go duration string %q (want float seconds in a key ending _s)", where, v)
		}
	}
}

// With --log-format json, stderr carries only JSON records over a whole
// demo (every emulated vendor, recordings, a second idempotent run), the
// commands operators run after it, a run with failed streams and a bad
// command line; no record holds a nanosecond or Go-string duration; and the
// summaries are records with their facts as fields. Before: the run and
// recordings summaries, "wrote FILE", "compact: …" and the exit message
// were plain lines among the JSON, and recordings logged "took" in
// nanoseconds.
func TestJSONLogsOnlyJSON(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	cfg := filepath.Join(dir, "etl.yaml")
	type step struct {
		name string
		args []string
		code int
		want []string // msgs that must be among the records
	}
	steps := []step{
		{"demo", []string{"demo", "--dir", dir, "--calls", "12"}, exitOK, []string{"demo: emulators started", "run summary", "recordings summary"}},
		{"demo again", []string{"demo", "--dir", dir, "--calls", "12"}, exitOK, []string{"run summary", "recordings summary"}},
		{"compact", []string{"--config", cfg, "compact"}, exitOK, []string{"compact summary"}},
		{"sql to a file", []string{"--config", cfg, "sql", "--format", "parquet", "--out", filepath.Join(dir, "n.parquet"), "SELECT count(*) AS n FROM calls"}, exitOK, []string{"wrote file"}},
		{"report to a file", []string{"--config", cfg, "report", "daily_summary", "--format", "xlsx", "--out", filepath.Join(dir, "d.xlsx")}, exitOK, []string{"wrote file"}},
		{"bad flag", []string{"--config", cfg, "run", "--bogus"}, exitUsage, []string{"etl exiting"}},
		{"unknown source", []string{"--config", cfg, "backfill", "--source", "nope", "--from", "2026-01-01", "--to", "2026-01-02"}, exitUsage, []string{"etl exiting"}},
	}
	for _, s := range steps {
		var out, errb bytes.Buffer
		code := runMain(append([]string{"--log-format", "json", "--log-level", "debug"}, s.args...), &out, &errb)
		if code != s.code {
			t.Fatalf("%s: exit %d, want %d\n%s", s.name, code, s.code, errb.String())
		}
		recs := logRecords(t, errb.String())
		msgs := map[string]map[string]any{}
		for i, rec := range recs {
			msgs[rec["msg"].(string)] = rec
			checkDurations(t, fmt.Sprintf("%s: record %d (%s)", s.name, i+1, rec["msg"]), rec)
		}
		for _, m := range s.want {
			if msgs[m] == nil {
				t.Errorf("%s: no %q record in:\n%s", s.name, m, errb.String())
			}
		}
		if rec := msgs["run summary"]; rec != nil {
			for _, k := range []string{"run_id", "windows", "pages", "rows", "rejects", "streams", "failed_streams", "took_s"} {
				if _, ok := rec[k]; !ok {
					t.Errorf("%s: run summary lacks %s: %v", s.name, k, rec)
				}
			}
		}
		if rec := msgs["etl exiting"]; rec != nil && (rec["exit_code"] != float64(s.code) || rec["level"] != "ERROR" || rec["err"] == "") {
			t.Errorf("%s: exit record %v, want exit_code %d", s.name, rec, s.code)
		}
	}
}

// A run whose streams fail, with JSON logs: one error record per failed
// stream (or per source a fatal error stopped), the summary and the exit
// record, and nothing else but JSON.
func TestJSONLogsFailedRun(t *testing.T) {
	w := newWorld(t, 2, 20, 1, fmt.Sprintf(`  t2:
    base_url: %s
    access_token: {env: CALLETL_TEST_UNSET_T2_ACCESS}
    refresh_token: {env: CALLETL_TEST_UNSET_T2_REFRESH}
    http: {max_attempts: 1}
`, closedURL(t)))
	tokenFile := filepath.Join(w.dir, "state", "t2-tokens.json")
	os.MkdirAll(filepath.Dir(tokenFile), 0o700)
	os.WriteFile(tokenFile, []byte(`{"access_token": "tok`), 0o600) // corrupt: T2 fails, MTT runs

	code, _, stderr := w.etl("run")
	if code != exitFailed {
		t.Fatalf("run: exit %d, want 1\n%s", code, stderr)
	}
	recs := logRecords(t, stderr)
	var failed, summaries, exits int
	for i, rec := range recs {
		checkDurations(t, fmt.Sprintf("record %d (%s)", i+1, rec["msg"]), rec)
		switch rec["msg"] {
		case "stream did not finish":
			failed++
			if rec["level"] != "ERROR" || !strings.Contains(fmt.Sprint(rec["err"]), "t2/") || rec["failed_streams"] != 5.0 {
				t.Errorf("failed stream record: %v", rec)
			}
		case "run summary":
			summaries++
			if rec["failed_streams"] != 5.0 || rec["rejects"].(float64) < 1 || rec["level"] != "WARN" {
				t.Errorf("run summary: %v", rec)
			}
		case "etl exiting":
			exits++
			if rec["exit_code"] != 1.0 {
				t.Errorf("exit record: %v", rec)
			}
		}
	}
	if failed != 5 || summaries != 1 || exits != 1 {
		t.Errorf("%d failed-stream records (want 5, the T2 streams), %d summaries (want 1), %d exit records (want 1):\n%s", failed, summaries, exits, stderr)
	}
}

// Every duration attribute, whatever its key, nesting or handler, leaves
// the log as float seconds under a key ending _s.
func TestSecondsAttr(t *testing.T) {
	tests := []struct {
		name string
		attr slog.Attr
		json string // the attribute as the JSON handler writes it
	}{
		{"took", slog.Duration("took", 1500*time.Millisecond), `"took_s":1.5`},
		{"already in seconds", slog.Duration("wait_s", 250*time.Millisecond), `"wait_s":0.25`},
		{"any of a duration", slog.Any("duration", 2*time.Minute), `"duration_s":120`},
		{"in a group", slog.Group("retry", slog.Duration("after", 3*time.Second)), `"retry":{"after_s":3}`},
		{"not a duration", slog.Int64("rows", 12), `"rows":12`},
		{"a float already", slog.Float64("took_s", 0.5), `"took_s":0.5`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, format := range []string{"json", "text"} {
				var b bytes.Buffer
				a := &app{stderr: &b, logFormat: format, logLevel: "info", redactor: secret.NewRedactor()}
				log, err := a.newLogger()
				if err != nil {
					t.Fatal(err)
				}
				log.LogAttrs(t.Context(), slog.LevelInfo, "x", tt.attr)
				got := b.String()
				want := tt.json
				if format == "text" {
					want = strings.NewReplacer(`"`, "", ":", "=", "{", "", "}", "").Replace(want)
					want = strings.Replace(want, "retry=", "retry.", 1)
				}
				if !strings.Contains(got, want) {
					t.Errorf("%s: %q lacks %q", format, got, want)
				}
			}
		})
	}
}

// fakeTerm is a terminal screen: it honours \r, \n and ESC[2K (erase the
// line) and overwrites in place, so what a reader sees is in lines. It says
// it is a terminal (isTerminal), so etl draws its progress bars on it.
type fakeTerm struct {
	lines [][]rune
	row   int
	col   int
	esc   []byte // an escape sequence being read
}

func (f *fakeTerm) Terminal() bool { return true }

func (f *fakeTerm) Write(p []byte) (int, error) {
	if f.lines == nil {
		f.lines = [][]rune{nil}
	}
	for len(p) > 0 {
		r, size := utf8.DecodeRune(p)
		p = p[size:]
		if f.esc != nil {
			f.esc = append(f.esc, string(r)...)
			if r >= '@' && r <= '~' && len(f.esc) > 2 { // final byte of a CSI sequence
				if string(f.esc) == "\x1b[2K" {
					f.lines[f.row] = nil
				}
				f.esc = nil
			}
			continue
		}
		switch r {
		case '\x1b':
			f.esc = []byte{0x1b}
		case '\r':
			f.col = 0
		case '\n':
			f.row++
			f.col = 0
			if f.row == len(f.lines) {
				f.lines = append(f.lines, nil)
			}
		default:
			line := f.lines[f.row]
			for len(line) <= f.col {
				line = append(line, ' ')
			}
			line[f.col] = r
			f.lines[f.row] = line
			f.col++
		}
	}
	return 0, nil
}

// screen returns the visible lines, trailing blanks trimmed.
func (f *fakeTerm) screen() []string {
	var out []string
	for _, l := range f.lines {
		out = append(out, strings.TrimRight(string(l), " "))
	}
	return out
}

// On a terminal, a warning logged while the progress bar shows gets a line
// of its own above the bar, which is drawn again below it. Before, the bar
// and the log wrote to stderr independently: the bar leaves the cursor at
// the end of its line, so the warning was glued to it (the control case
// shows the fake terminal sees exactly that).
func TestWarningAboveProgressBar(t *testing.T) {
	t.Run("control: bar and log unaware of each other", func(t *testing.T) {
		var term fakeTerm
		fmt.Fprint(&term, "\rextracting 1/3 [====>    ]")
		fmt.Fprint(&term, "time=2026-12-03T10:00:00Z level=WARN msg=slow\n")
		if s := term.screen(); !strings.Contains(s[0], "extracting") || !strings.Contains(s[0], "level=WARN") {
			t.Fatalf("the fake terminal does not show a glued line: %q", s)
		}
	})

	var term fakeTerm
	a := &app{stderr: &term, logFormat: "auto", logLevel: "info", redactor: secret.NewRedactor()}
	log, err := a.newLogger()
	if err != nil {
		t.Fatal(err)
	}
	a.log = log
	if a.format != "text" || a.term == nil {
		t.Fatalf("on a terminal: format %q, bar coordinator %v; want text with bars", a.format, a.term != nil)
	}
	bar := a.newProgress("extracting")
	bar.Plan(3)
	key := model.StreamKey{Source: "mtt", Stream: "dialed", Account: "1"}
	bar.Window(key, "2026-12-01", model.Counts{Rows: 5}, nil)
	if s := term.screen(); len(s) != 1 || !strings.HasPrefix(s[0], "extracting") {
		t.Fatalf("the bar is not drawn: %q", s)
	}
	a.log.Warn("mtt: slow answers", "stream", key.String())
	a.log.Info("hidden while the bar shows")
	a.log.Error("window failed", "day", "2026-12-02")
	s := term.screen()
	if len(s) != 3 {
		t.Fatalf("want 2 log lines and the bar below them, got %d lines: %q", len(s), s)
	}
	for i, want := range []string{"level=WARN msg=\"mtt: slow answers\"", "level=ERROR msg=\"window failed\""} {
		if !strings.HasPrefix(s[i], "time=") || !strings.Contains(s[i], want) || strings.Contains(s[i], "extracting") {
			t.Errorf("line %d: %q, want a log line of its own with %s", i, s[i], want)
		}
	}
	if !strings.HasPrefix(s[2], "extracting") {
		t.Errorf("the bar is not drawn again below the log lines: %q", s[2])
	}
	bar.Window(key, "2026-12-02", model.Counts{Rows: 5}, nil)
	bar.Window(key, "2026-12-03", model.Counts{Rows: 5}, nil)
	bar.finish()
	a.note(slog.LevelInfo, "run summary", "run r1: 3 windows")
	s = term.screen()
	if last := s[len(s)-1]; last != "" && last != "run r1: 3 windows" {
		t.Errorf("after the bar finished: last line %q", last)
	}
	if !strings.Contains(strings.Join(s, "\n"), "\nrun r1: 3 windows") {
		t.Errorf("the summary is not on a line of its own: %q", s)
	}
}
