package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/calletl/calletl/extract/httpx"
	"github.com/calletl/calletl/extract/registry"
	"github.com/calletl/calletl/load"
	"github.com/calletl/calletl/model"
	"github.com/calletl/calletl/pipeline"
	"github.com/calletl/calletl/secret"
)

// tinyvoip is a vendor written in this test the way README's "Adding a
// vendor" says: its own config type, validation, constructor and source,
// registered with one line. Nothing else in calletl learns its name.

// tinySettings is sources.tinyvoip.
type tinySettings struct {
	registry.Common `yaml:",inline"`
	BaseURL         string             `yaml:"base_url"`
	Token           registry.SecretRef `yaml:"token"`
	Account         string             `yaml:"account"`
}

func (s *tinySettings) Validate(c *registry.Check) {
	c.URL("base_url", s.BaseURL, "want the http(s) URL of the tinyvoip API")
	c.Secret("token", s.Token)
	if s.Account == "" {
		c.Bad("account", "required: the account the calls belong to")
	}
	s.HTTP.Validate(c, "http.")
}

func tinyVendor() registry.Vendor {
	return registry.Define("tinyvoip", func() []load.TableInfo { return nil },
		func(_ context.Context, s *tinySettings, env registry.Env) (registry.Parts, error) {
			tok, err := env.Secret("token", s.Token)
			if err != nil {
				return registry.Parts{}, err
			}
			return registry.Parts{Source: &tinySource{base: s.BaseURL, account: s.Account, token: tok,
				http: httpx.New(env.HTTP("tinyvoip", s.HTTP))}}, nil
		})
}

// tinySource has one stream: GET {base}/calls?day=YYYY-MM-DD answers
// [{"id", "started", "seconds"}].
type tinySource struct {
	base, account string
	token         secret.Value
	http          *httpx.Client
}

func (s *tinySource) Name() string             { return "tinyvoip" }
func (s *tinySource) Tables() []load.TableInfo { return nil }
func (s *tinySource) Concurrency() int         { return 1 }
func (s *tinySource) Streams() []model.StreamKey {
	return []model.StreamKey{{Source: "tinyvoip", Stream: "calls", Account: s.account}}
}
func (s *tinySource) Ping(ctx context.Context) error { _, err := s.get(ctx, "ping"); return err }

func (s *tinySource) get(ctx context.Context, day string) ([]byte, error) {
	return s.http.Do(ctx, "calls "+day, func(ctx context.Context) (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.base+"/calls?day="+day, nil)
		if err == nil {
			req.Header.Set("Authorization", "Bearer "+s.token.Reveal())
		}
		return req, err
	}, nil)
}

func (s *tinySource) Extract(ctx context.Context, key model.StreamKey, w model.Window, sink *pipeline.Sink) (int64, error) {
	body, err := s.get(ctx, w.Day)
	if err != nil {
		return 0, err
	}
	var calls []struct {
		ID      string    `json:"id"`
		Started time.Time `json:"started"`
		Seconds int32     `json:"seconds"`
	}
	if err := json.Unmarshal(body, &calls); err != nil {
		return 1, fmt.Errorf("tinyvoip: calls %s: %w", w.Day, err)
	}
	run := sink.Run()
	for _, c := range calls {
		row := model.Call{Source: "tinyvoip", Date: w.Day, Account: key.Account, CallID: c.ID, Direction: model.Incoming,
			StartedAt: c.Started, RunID: run.ID, ExtractedAt: run.StartedAt}
		row.DurationS.V, row.DurationS.Valid = c.Seconds, true
		if err := sink.Call(&row); err != nil {
			return 1, err
		}
	}
	return 1, nil
}

// tinyEmulator serves two calls a day to the bearer of token, and records
// the days asked.
func tinyEmulator(t *testing.T, token string) (*httptest.Server, func() []string) {
	var mu sync.Mutex
	var days []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+token {
			http.Error(w, `{"error":"bad token"}`, http.StatusUnauthorized)
			return
		}
		day := r.URL.Query().Get("day")
		d, err := time.Parse(model.DayLayout, day)
		if err != nil {
			w.Write([]byte("[]"))
			return
		}
		mu.Lock()
		days = append(days, day)
		mu.Unlock()
		fmt.Fprintf(w, `[{"id":"%s-1","started":%q,"seconds":30},{"id":"%s-2","started":%q,"seconds":95}]`,
			day, d.Add(9*time.Hour).Format(time.RFC3339), day, d.Add(15*time.Hour).Format(time.RFC3339))
	}))
	t.Cleanup(srv.Close)
	return srv, func() []string { mu.Lock(); defer mu.Unlock(); return append([]string(nil), days...) }
}

// TestAddVendorThroughRegistry adds a vendor the README's way (its own
// package's config, validation and constructor, and one Register line)
// and runs `etl check` and `etl run` with it end to end: its section
// decodes strictly and validates with its fields named, its secret is
// loaded and redacted, its source runs into the lake. Without the one
// line, the same config is refused: nothing else knows the vendor.
func TestAddVendorThroughRegistry(t *testing.T) {
	const token = "tiny-bearer-5e1f0c"
	srv, asked := tinyEmulator(t, token)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "tok"), []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	write := func(section string) string {
		p := filepath.Join(dir, "etl.yaml")
		cfg := "lake: lake\nstate: state\ntimezone: UTC\nlookback_days: 1\nsources:\n  tinyvoip:\n" + section
		if err := os.WriteFile(p, []byte(cfg), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := "    base_url: " + srv.URL + "\n    token: {file: tok}\n    account: acme\n    http: {max_attempts: 1}\n"
	reg := vendors()
	reg.Register(tinyVendor()) // the one line
	etl := func(reg *registry.Registry, cfg string, args ...string) (int, string) {
		var out, errb strings.Builder
		// Text logs: the messages as a person reads them, quotes unescaped.
		code := runWith(reg, append([]string{"--config", cfg, "--log-format", "text", "--no-progress"}, args...), &out, &errb)
		return code, out.String() + errb.String()
	}

	// Its config is decoded and validated as strictly as any built-in's.
	for _, tc := range []struct{ section, want string }{
		{good + "    acount: x\n", "sources.tinyvoip.acount: unknown field (did you mean account?)"},
		{"    token: {file: tok}\n    account: acme\n", `sources.tinyvoip.base_url: "": want the http(s) URL`},
		{"    base_url: " + srv.URL + "\n    token: {}\n    account: acme\n", "sources.tinyvoip.token: required"},
		{strings.Replace(good, "max_attempts: 1", "max_attempts: lots", 1), `sources.tinyvoip.http.max_attempts: "lots": want a whole number`},
	} {
		if code, out := etl(reg, write(tc.section), "check"); code != exitUsage || !strings.Contains(out, tc.want) {
			t.Errorf("section %q: exit %d, want 2 naming %q:\n%s", tc.section, code, tc.want, out)
		}
	}
	// Without the Register line, the vendor is unknown.
	cfg := write(good)
	if code, out := etl(vendors(), cfg, "check"); code != exitUsage || !strings.Contains(out, "sources.tinyvoip: unknown field") {
		t.Errorf("unregistered vendor: exit %d, want 2 naming sources.tinyvoip:\n%s", code, out)
	}

	if code, out := etl(reg, cfg, "check"); code != exitOK || !strings.Contains(out, "source tinyvoip: credentials ok") {
		t.Fatalf("check: exit %d\n%s", code, out)
	}
	code, out := etl(reg, cfg, "run")
	if code != exitOK {
		t.Fatalf("run: exit %d\n%s", code, out)
	}
	if strings.Contains(out, token) {
		t.Errorf("the token is in the output:\n%s", out)
	}
	days := asked()
	if len(days) < 2 {
		t.Fatalf("the emulator was asked for days %v, want at least today and yesterday", days)
	}
	var n, sum int
	err := duck(t).QueryRow(`SELECT count(*), CAST(sum(duration_s) AS INTEGER) FROM read_parquet('`+filepath.ToSlash(filepath.Join(dir, "lake"))+
		`/calls/**/*.parquet', hive_partitioning=true, hive_types={'source':VARCHAR,'date':DATE}) WHERE source = 'tinyvoip' AND account = 'acme'`).Scan(&n, &sum)
	if err != nil || n != 2*len(days) || sum != 125*len(days) {
		t.Errorf("lake: %d tinyvoip calls, %d seconds (%v); want %d and %d", n, sum, err, 2*len(days), 125*len(days))
	}
}

// The vendor traits cmd/etl once switched on by name come from the
// registry: T2 is pinned to one shard; VotBox, Mobilgroup and MTT (its
// callback calls, beside its history streams) have items.
func TestVendorTraits(t *testing.T) {
	reg := vendors()
	if got := reg.Pinned(); len(got) != 1 || !got["t2"] {
		t.Errorf("pinned %v, want only t2", got)
	}
	for source, want := range map[string]string{"votbox": "task", "mobilgroup": "broadcast", "mtt": "callback", "t2": "", "nope": ""} {
		if got := reg.ItemKind(source); got != want {
			t.Errorf("ItemKind(%s) = %q, want %q", source, got, want)
		}
	}
}
