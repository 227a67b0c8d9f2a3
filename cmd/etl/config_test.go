package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/calletl/calletl/extract/mtt"
	"github.com/calletl/calletl/extract/registry"
	"github.com/calletl/calletl/extract/t2"
)

// The example config documents every field: it must load and mean what it
// says.
func TestExampleConfigLoads(t *testing.T) {
	c, err := LoadConfig(filepath.Join("..", "..", "configs", "etl.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	m, t2c := section[*mtt.Settings](t, c, mtt.Name), section[*t2.Settings](t, c, t2.Name)
	if c.Timezone != "Europe/Moscow" || *c.LookbackDays != 2 || c.memoryLimit != 160<<20 ||
		m.PageSize != 1000 || m.HTTP.MaxRetryAfter != time.Minute || m.Password.Env != "MTT_PASSWORD" ||
		t2c.PageSize != 500 || t2c.RefreshToken.Env != "T2_REFRESH_TOKEN" {
		t.Errorf("example config: %+v %+v", c, m)
	}
}

// Every yaml field of Config appears in the example config.
func TestExampleConfigCoversEveryField(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "configs", "etl.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, field := range []string{"lake", "state", "timezone", "lookback_days", "start_date", "memory_limit",
		"lake_file_mode", "lake_dir_mode", "max_run_time", "idle_timeout", "s3", "compact_after_run", "max_body_bytes_in_flight",
		"enabled", "base_url", "username", "password", "customers", "types", "page_size", "vendor_timezone",
		"concurrency", "rate_per_sec", "max_attempts", "base_backoff", "max_backoff", "max_retry_after",
		"max_body_bytes", "response_header_timeout", "attempt_timeout",
		"access_token", "refresh_token", "token_file", "mcn_numbers", "task_ids", "detail", "detail_concurrency",
		"local", "per_host", "retry_base", "mtt_records_base", "endpoint", "bucket", "path_style", "access_key", "secret_key", "part_size",
		"data_quality", "fail_run", "baseline_days", "low_calls_ratio", "min_baseline_calls", "max_reject_rate",
		"max_cost_without_talk", "coverage_drop", "metrics", "textfile", "pushgateway", "job", "timeout",
		"callback_ids", "callback_ids_file", "callback_customer", "recording_format", "per_number_stats", "stats_numbers",
		"receive", "listen", "spool", "landing_interval", "retention", "endpoints"} {
		if !strings.Contains(string(b), "\n"+field+":") && !strings.Contains(string(b), " "+field+":") {
			t.Errorf("configs/etl.example.yaml does not document %s", field)
		}
	}
}

func TestConfigErrorsNameTheField(t *testing.T) {
	tests := []struct{ yaml, field string }{
		{"state: s\nsources: {mtt: {username: u, password: {env: X}, customers: [\"1\"]}}", "lake"},
		{"lake: l\nstate: s\ntimezone: Mars/Olympus\nsources: {mtt: {username: u, password: {env: X}, customers: [\"1\"]}}", "timezone"},
		{"lake: l\nstate: s\nsources: {mtt: {username: u, password: {env: X, file: y}, customers: [\"1\"]}}", "sources.mtt.password"},
		{"lake: l\nstate: s\nsources: {mtt: {username: u, password: {env: X}, customers: [\"../x\"]}}", "sources.mtt.customers[0]"},
		{"lake: l\nstate: s\nsources: {mtt: {username: u, password: {env: X}, customers: [\"1\"], types: [outgoing]}}", "sources.mtt.types[0]"},
		{"lake: l\nstate: s\nstart_date: 2026-13-01\nsources: {mtt: {username: u, password: {env: X}, customers: [\"1\"]}}", "start_date"},
		{"lake: l\nstate: s\nmemory_limit: lots\nsources: {mtt: {username: u, password: {env: X}, customers: [\"1\"]}}", "memory_limit"},
		{"lake: l\nstate: s\nsources: {}", "sources"},
	}
	for _, tt := range tests {
		p := filepath.Join(t.TempDir(), "c.yaml")
		os.WriteFile(p, []byte(tt.yaml), 0o644)
		_, err := LoadConfig(p)
		var fe *FieldError
		if !errors.As(err, &fe) || !strings.Contains(err.Error(), tt.field+":") {
			t.Errorf("%q: error %v does not name %s", tt.yaml, err, tt.field)
		}
	}
	// Unknown fields are errors, with the line.
	p := filepath.Join(t.TempDir(), "c.yaml")
	os.WriteFile(p, []byte("lake: l\nstate: s\nlokback_days: 3\n"), 0o644)
	if _, err := LoadConfig(p); err == nil || !strings.Contains(err.Error(), "lokback_days") || !strings.Contains(err.Error(), "line 3") {
		t.Errorf("typo: %v", err)
	}
}

// Every config mistake exits 2 through the real CLI, with a message naming
// the field (and the line where there is one). Each case exited 1 or 0, or
// said nothing, before config decoding was made strict.
func TestConfigMistakesExit2(t *testing.T) {
	const base = "lake: l\nstate: s\nsources:\n  mtt:\n    username: u\n    password: {env: X}\n    customers: [\"110011256\"]\n"
	future := time.Now().AddDate(0, 0, 40).Format("2006-01-02")
	tests := []struct {
		name string
		yaml string // "" with missing: no file at all
		code int
		want []string // substrings of stderr
		once string   // a substring that must appear exactly once
	}{
		{name: "missing file", yaml: "\x00missing", code: exitUsage, want: []string{"not found", "--config"}},
		{name: "empty file", yaml: "", code: exitUsage, want: []string{"empty"}},
		{name: "only comments", yaml: "# lake: l\n\n# state: s\n", code: exitUsage, want: []string{"only comments"}},
		{name: "null document", yaml: "~\n", code: exitUsage, want: []string{"no settings"}},
		{name: "top level is a list", yaml: "- lake: l\n", code: exitUsage, want: []string{"line 1", "top level", "a list"}},
		{name: "syntax error", yaml: base + "    page_size: [1, 2\n", code: exitUsage, want: []string{"YAML syntax error", "line "}},
		{name: "syntax error names the key", yaml: "lake: l\nstate: s: t\n", code: exitUsage, want: []string{"line 2: state: YAML syntax error"}},
		{name: "unknown field", yaml: base + "    pagesize: 100\n", code: exitUsage, want: []string{"line 8", "sources.mtt.pagesize: unknown field", "did you mean page_size"}},
		{name: "unknown top-level field", yaml: "lokback_days: 3\n" + base, code: exitUsage, want: []string{"line 1", "lokback_days: unknown field", "lookback_days"}},
		{name: "wrong type: text for a number", yaml: base + "    page_size: lots\n", code: exitUsage, want: []string{"line 8", "sources.mtt.page_size", `"lots": want a whole number`}},
		{name: "wrong type: scalar for a list", yaml: "lake: l\nstate: s\nsources:\n  mtt:\n    username: u\n    password: {env: X}\n    customers: 110011256\n", code: exitUsage, want: []string{"line 7", "sources.mtt.customers", "want a list"}},
		{name: "wrong type: list for text", yaml: "lake: [a, b]\nstate: s\n", code: exitUsage, want: []string{"line 1", "lake: a list: want a single value"}},
		{name: "wrong type: number for a duration", yaml: base + "    http: {base_backoff: 5}\n", code: exitUsage, want: []string{"line 8", "sources.mtt.http.base_backoff", "want a duration"}},
		{name: "wrong type: not a bool", yaml: base + "    enabled: maybe\n", code: exitUsage, want: []string{"line 8", "sources.mtt.enabled", "want true or false"}},
		{name: "wrong type: mapping for a secret", yaml: "lake: l\nstate: s\nsources:\n  mtt:\n    username: u\n    password: hunter2\n    customers: [\"1\"]\n", code: exitUsage, want: []string{"line 6", "sources.mtt.password", "want a mapping"}},
		{name: "fraction truncated before", yaml: base + "    page_size: 2.5\n", code: exitUsage, want: []string{"line 8", "sources.mtt.page_size", `"2.5": want a whole number`}},
		{name: "exponent is not a whole number literal", yaml: "lookback_days: 1e1\n" + base, code: exitUsage, want: []string{"line 1", "lookback_days", "want a whole number"}},
		{name: "duplicate key", yaml: base + "lake: other\n", code: exitUsage, want: []string{"line 8", "lake: set twice (first at line 1)"}},
		{name: "duplicate nested key", yaml: base + "    username: v\n", code: exitUsage, want: []string{"line 8", "sources.mtt.username: set twice (first at line 5)"}},
		{name: "tab in the indentation", yaml: "lake: l\nstate: s\nsources:\n  mtt:\n\tusername: u\n", code: exitUsage, want: []string{"line 5", "username", "tab"}},
		{name: "second document", yaml: base + "---\nlake: m\n", code: exitUsage, want: []string{"line 8", "second YAML document"}},
		{name: "duplicate customers", yaml: "lake: l\nstate: s\nsources:\n  mtt:\n    username: u\n    password: {env: X}\n    customers: [\"110011256\", \"110022512\", \"110011256\"]\n",
			code: exitUsage, want: []string{"line 7", "sources.mtt.customers[2]", `"110011256" is listed twice (also customers[0])`}, once: "listed twice"},
		{name: "duplicate customers of a list written one per line", yaml: "lake: l\nstate: s\nsources:\n  mtt:\n    username: u\n    password: {env: X}\n    customers:\n      - \"1\"\n      - \"1\"\n",
			code: exitUsage, want: []string{"sources.mtt.customers[1]", "listed twice"}, once: "listed twice"},
		{name: "validation error carries the line", yaml: base + "    page_size: 5000\n", code: exitUsage, want: []string{"line 8", "sources.mtt.page_size: 5000: must be 1..1000"}},
		{name: "start_date in the future warns", yaml: "start_date: " + future + "\n" + base, code: exitOK, want: []string{"start_date", future, "is after today", "extract nothing"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			p := filepath.Join(dir, "etl.yaml")
			if tt.yaml != "\x00missing" {
				if err := os.WriteFile(p, []byte(tt.yaml), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			var out, errb bytes.Buffer
			code := runMain([]string{"--config", p, "--log-format", "text", "state"}, &out, &errb)
			if code != tt.code {
				t.Errorf("exit %d, want %d\n%s", code, tt.code, errb.String())
			}
			for _, w := range tt.want {
				if !strings.Contains(errb.String(), w) {
					t.Errorf("stderr does not say %q:\n%s", w, errb.String())
				}
			}
			if tt.once != "" && strings.Count(errb.String(), tt.once) != 1 {
				t.Errorf("%q appears %d times, want once:\n%s", tt.once, strings.Count(errb.String(), tt.once), errb.String())
			}
		})
	}
}

// section returns a vendor's section of c as its own config type.
func section[T registry.Config](t testing.TB, c *Config, name string) T {
	t.Helper()
	s, ok := c.Sources.Get(name).(T)
	if !ok {
		t.Fatalf("sources.%s is %T, want %T", name, c.Sources.Get(name), s)
	}
	return s
}
