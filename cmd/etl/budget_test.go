package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/calletl/calletl/extract/httpx"
	"github.com/calletl/calletl/extract/registry"
	"github.com/calletl/calletl/secret"
)

// max_body_bytes_in_flight: default 2/5 of memory_limit, or as given; too
// small or unreadable is a FieldError naming it.
func TestBodyBytesInFlight(t *testing.T) {
	const src = "sources: {mtt: {username: u, password: {env: X}, customers: [\"1\"]}}\n"
	tests := []struct {
		yaml    string
		want    int64
		wantErr bool
	}{
		{"", 64 << 20, false},
		{"memory_limit: 1GiB\n", 1 << 30 * 2 / 5, false},
		{"max_body_bytes_in_flight: 32MiB\n", 32 << 20, false},
		{"memory_limit: 1GiB\nmax_body_bytes_in_flight: 200MB\n", 200e6, false},
		{"max_body_bytes_in_flight: 4KiB\n", 0, true},
		{"max_body_bytes_in_flight: lots\n", 0, true},
	}
	for _, tt := range tests {
		p := filepath.Join(t.TempDir(), "c.yaml")
		os.WriteFile(p, []byte("lake: l\nstate: s\n"+tt.yaml+src), 0o644)
		c, err := LoadConfig(p)
		if tt.wantErr {
			var fe *FieldError
			if !errors.As(err, &fe) || !strings.Contains(err.Error(), "max_body_bytes_in_flight:") {
				t.Errorf("%q: error %v does not name max_body_bytes_in_flight", tt.yaml, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tt.yaml, err)
			continue
		}
		if c.bodyBudget != tt.want {
			t.Errorf("%q: body budget %d, want %d", tt.yaml, c.bodyBudget, tt.want)
		}
	}
}

// Every source's HTTP client gets the same budget: bodies of all sources
// count against one bound. Each vendor is wrapped to record the budget of
// the HTTP config its env gives it.
func TestSourcesShareOneBodyBudget(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "c.yaml")
	os.WriteFile(filepath.Join(dir, "pw"), []byte("pw"), 0o600)
	os.WriteFile(p, []byte(`lake: l
state: s
max_body_bytes_in_flight: 48MiB
sources:
  mtt: {username: u, password: {file: pw}, customers: ["1"]}
  votbox: {username: u, password: {file: pw}}
  mobilgroup: {api_key: {file: pw}, account: a, broadcast_ids: ["1"]}
`), 0o644)
	var budgets []*httpx.Budget
	reg := registry.New()
	for _, v := range vendors().Vendors() {
		reg.Register(budgetSpy{Vendor: v, seen: &budgets})
	}
	c, err := readConfig(reg, p)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := buildSources(c, nil, secret.NewRedactor(), nil); err != nil {
		t.Fatal(err)
	}
	if len(budgets) != 3 {
		t.Fatalf("%d sources built, want 3", len(budgets))
	}
	for i, b := range budgets {
		if b == nil || b != budgets[0] || b.Size() != 48<<20 {
			t.Errorf("source %d: budget %p (size %v), want the shared 48MiB one %p", i, b, b, budgets[0])
		}
	}
}

// budgetSpy records the body budget of the HTTP config a vendor's env
// gives it.
type budgetSpy struct {
	registry.Vendor
	seen *[]*httpx.Budget
}

func (s budgetSpy) Build(ctx context.Context, cfg registry.Config, env registry.Env) (registry.Parts, error) {
	*s.seen = append(*s.seen, env.HTTP("spy", *cfg.HTTPSection()).Budget)
	return s.Vendor.Build(ctx, cfg, env)
}
