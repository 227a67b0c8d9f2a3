package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The example config documents every field: it must load and mean what it
// says.
func TestExampleConfigLoads(t *testing.T) {
	c, err := LoadConfig(filepath.Join("..", "..", "configs", "etl.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	m := c.Sources.MTT
	if c.Timezone != "Europe/Moscow" || *c.LookbackDays != 2 || c.memoryLimit != 160<<20 ||
		m.PageSize != 1000 || m.HTTP.MaxRetryAfter != time.Minute || m.Password.Env != "MTT_PASSWORD" ||
		c.Sources.T2 == nil || c.Sources.T2.PageSize != 500 || c.Sources.T2.RefreshToken.Env != "T2_REFRESH_TOKEN" {
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
		"enabled", "base_url", "username", "password", "customers", "types", "page_size", "vendor_timezone",
		"concurrency", "rate_per_sec", "max_attempts", "base_backoff", "max_backoff", "max_retry_after",
		"max_body_bytes", "response_header_timeout", "attempt_timeout",
		"access_token", "refresh_token", "token_file", "mcn_numbers", "task_ids", "detail", "detail_concurrency",
		"local", "per_host", "retry_base", "mtt_records_base", "endpoint", "bucket", "path_style", "access_key", "secret_key", "part_size"} {
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
