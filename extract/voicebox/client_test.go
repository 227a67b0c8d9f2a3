package voicebox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/calletl/calletl/extract/httpx"
	"github.com/calletl/calletl/sandbox"
	"github.com/calletl/calletl/secret"
)

func noSleep(ctx context.Context, _ time.Duration) error { return ctx.Err() }

// testConfig is a client configuration for base with the emulator's
// default credentials.
func testConfig(base string) Config {
	return Config{
		BaseURL: base, ClientID: sandbox.VoiceBoxDefaultClientID, ClientSecret: secret.New(sandbox.VoiceBoxDefaultClientSecret),
		Username: sandbox.VoiceBoxDefaultUsername, Password: secret.New(sandbox.VoiceBoxDefaultPassword),
		Customers: []string{"1001"}, PageSize: 10,
		HTTP: httpx.Config{MaxAttempts: 4, Sleep: noSleep},
	}
}

func newClient(t testing.TB, cfg Config, log *slog.Logger) *Client {
	t.Helper()
	c, err := New(cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// emulator serves a sandbox.VoiceBox mounted under /voicebox as the CLI
// mounts it.
func emulator(t testing.TB, cfg sandbox.VoiceBoxConfig) (*sandbox.VoiceBox, string) {
	t.Helper()
	v := sandbox.NewVoiceBox(cfg)
	mux := http.NewServeMux()
	mux.Handle("/voicebox/", http.StripPrefix("/voicebox", v))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return v, srv.URL + "/voicebox"
}

func smallEmulator(t testing.TB, mod func(*sandbox.VoiceBoxConfig)) (*sandbox.VoiceBox, string) {
	cfg := sandbox.VoiceBoxConfig{Customers: []string{"1001"}, CallsPerDay: 10, Days: 2, Seed: 3,
		Start: time.Date(2026, 11, 18, 0, 0, 0, 0, time.UTC)}
	if mod != nil {
		mod(&cfg)
	}
	return emulator(t, cfg)
}

func TestNewValidates(t *testing.T) {
	good := testConfig("https://vb.example/api")
	for _, tc := range []struct {
		field string
		mod   func(*Config)
	}{
		{"BaseURL", func(c *Config) { c.BaseURL = "" }},
		{"BaseURL", func(c *Config) { c.BaseURL = "ftp://x" }},
		{"TokenURL", func(c *Config) { c.TokenURL = "/oauth" }},
		{"ClientID", func(c *Config) { c.ClientID = "" }},
		{"Username", func(c *Config) { c.Username = "" }},
		{"Password", func(c *Config) { c.Password = secret.Value{} }},
		{"Customers", func(c *Config) { c.Customers = nil }},
		{"Customers", func(c *Config) { c.Customers = []string{"12a"} }},
		{"Customers", func(c *Config) { c.Customers = []string{"1", "1"} }},
		{"PageSize", func(c *Config) { c.PageSize = MaxPageSize + 1 }},
	} {
		cfg := good
		tc.mod(&cfg)
		_, err := New(cfg, nil)
		var ce *ConfigError
		if !errors.As(err, &ce) || ce.Field != tc.field {
			t.Errorf("%s: %v", tc.field, err)
		}
	}
	c, err := New(good, nil)
	if err != nil || c.cfg.TokenURL != "https://vb.example/api/oauth/token" || c.cfg.Vendor != Moscow {
		t.Fatalf("%v %+v", err, c.cfg)
	}
}

// TestOAuth: issuance, expiry by the server's clock (401 → refresh grant),
// expiry by the local clock (ReuseTokenSource refreshes ahead), revocation
// (401 → refresh refused → password grant).
func TestOAuth(t *testing.T) {
	t.Run("issue once, then reuse", func(t *testing.T) {
		v, base := smallEmulator(t, nil)
		c := newClient(t, testConfig(base), nil)
		for range 3 {
			if _, err := c.Balance(context.Background(), "1001"); err != nil {
				t.Fatal(err)
			}
		}
		if v.PasswordGrants() != 1 || v.RefreshGrants() != 0 || v.Unauthorized() != 0 || c.TokensIssued() != 1 {
			t.Fatalf("password %d refresh %d 401 %d", v.PasswordGrants(), v.RefreshGrants(), v.Unauthorized())
		}
	})
	t.Run("expired mid-run by the server clock", func(t *testing.T) {
		v, base := smallEmulator(t, func(c *sandbox.VoiceBoxConfig) { c.CallsPerDay = 40 })
		c := newClient(t, testConfig(base), nil)
		var rows, pages int
		err := c.List(context.Background(), "1001", ListCallHistory, func(p Page) error {
			pages++
			rows += len(p.Rows)
			if pages == 2 {
				v.Advance(2 * time.Hour) // the token dies between pages
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if rows != len(v.Calls("1001")) || pages < 3 {
			t.Fatalf("%d rows in %d pages, want %d", rows, pages, len(v.Calls("1001")))
		}
		if v.PasswordGrants() != 1 || v.RefreshGrants() != 1 || v.Unauthorized() != 1 {
			t.Fatalf("password %d refresh %d 401 %d", v.PasswordGrants(), v.RefreshGrants(), v.Unauthorized())
		}
	})
	t.Run("expires by the local clock", func(t *testing.T) {
		// expires_in 5 s is within oauth2's 10 s early-expiry margin: the
		// token source refreshes before each use (the first one too, right
		// after the password grant), without any 401.
		v, base := smallEmulator(t, func(c *sandbox.VoiceBoxConfig) { c.TokenTTL = 5 * time.Second })
		c := newClient(t, testConfig(base), nil)
		for range 3 {
			if _, err := c.Balance(context.Background(), "1001"); err != nil {
				t.Fatal(err)
			}
		}
		if v.PasswordGrants() != 1 || v.RefreshGrants() != 3 || v.Unauthorized() != 0 {
			t.Fatalf("password %d refresh %d 401 %d", v.PasswordGrants(), v.RefreshGrants(), v.Unauthorized())
		}
	})
	t.Run("revoked", func(t *testing.T) {
		v, base := smallEmulator(t, nil)
		c := newClient(t, testConfig(base), nil)
		if _, err := c.Balance(context.Background(), "1001"); err != nil {
			t.Fatal(err)
		}
		v.RevokeTokens()
		if _, err := c.Balance(context.Background(), "1001"); err != nil {
			t.Fatal(err)
		}
		if v.PasswordGrants() != 2 || v.RefreshGrants() != 0 || v.Unauthorized() != 1 {
			t.Fatalf("password %d refresh %d 401 %d", v.PasswordGrants(), v.RefreshGrants(), v.Unauthorized())
		}
	})
	t.Run("concurrent 401s renew once", func(t *testing.T) {
		v, base := smallEmulator(t, func(c *sandbox.VoiceBoxConfig) { c.Customers = []string{"1001", "1002", "1003", "1004"} })
		cfg := testConfig(base)
		cfg.Customers = []string{"1001", "1002", "1003", "1004"}
		c := newClient(t, cfg, nil)
		if _, err := c.Balance(context.Background(), "1001"); err != nil {
			t.Fatal(err)
		}
		v.Advance(2 * time.Hour)
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for i := range 8 {
			wg.Go(func() {
				_, err := c.Balance(context.Background(), cfg.Customers[i%4])
				errs <- err
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		if v.RefreshGrants() != 1 || v.PasswordGrants() != 1 {
			t.Fatalf("password %d refresh %d", v.PasswordGrants(), v.RefreshGrants())
		}
	})
}

// TestAuthErrors: refusals are permanent *AuthErrors naming what to check,
// remembered, and free of secrets.
func TestAuthErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		mod  func(*Config)
		want string
	}{
		{"bad client secret", func(c *Config) { c.ClientSecret = secret.New("wrong-secret-123") }, "check client_id and client_secret"},
		{"bad client id", func(c *Config) { c.ClientID = "someone" }, "check client_id and client_secret"},
		{"bad password", func(c *Config) { c.Password = secret.New("wrong-password-456") }, "check username and password"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, base := smallEmulator(t, nil)
			var logs bytes.Buffer
			cfg := testConfig(base)
			tc.mod(&cfg)
			c := newClient(t, cfg, slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
			_, err := c.Balance(context.Background(), "1001")
			if !errors.Is(err, ErrAuth) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v", err)
			}
			var ae *AuthError
			if !errors.As(err, &ae) {
				t.Fatalf("not an *AuthError: %#v", err)
			}
			before := v.Requests()["token"]
			if before > 2 { // AutoDetect tries Basic, then form fields; no retries
				t.Fatalf("%d token requests", before)
			}
			if _, err2 := c.Balance(context.Background(), "1001"); !errors.Is(err2, ErrAuth) || v.Requests()["token"] != before {
				t.Fatalf("second call: %v, %d token requests", err2, v.Requests()["token"])
			}
			for _, s := range []string{cfg.ClientSecret.Reveal(), cfg.Password.Reveal(), sandbox.VoiceBoxDefaultPassword, sandbox.VoiceBoxDefaultClientSecret} {
				if strings.Contains(err.Error(), s) || strings.Contains(logs.String(), s) {
					t.Fatalf("secret %q leaked: %v\n%s", s, err, logs.String())
				}
			}
			if v.Requests()["balance"] != 0 {
				t.Fatal("the API was called without a token")
			}
		})
	}
}

// fakeAuth is a token endpoint plus an API that answers with api.
type fakeAuth struct {
	mu          sync.Mutex
	tokenCalls  int
	grants      []string // grant_type of each token request
	apiCalls    int
	tokenStatus []int // statuses of the first token answers (then 200)
	noRefresh   bool  // issue no refresh token, expires_in 5
	api         func(w http.ResponseWriter, r *http.Request)
}

func (f *fakeAuth) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r.URL.Path == "/oauth/token" {
		f.tokenCalls++
		_ = r.ParseForm()
		f.grants = append(f.grants, r.PostForm.Get("grant_type"))
		if len(f.tokenStatus) > 0 {
			code := f.tokenStatus[0]
			f.tokenStatus = f.tokenStatus[1:]
			w.WriteHeader(code)
			fmt.Fprintf(w, "<html>%d</html>", code)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		n := strconv.Itoa(f.tokenCalls)
		if f.noRefresh {
			fmt.Fprintf(w, `{"access_token":"fake-access-%s","token_type":"bearer","expires_in":5}`, n)
			return
		}
		fmt.Fprintf(w, `{"access_token":"fake-access-%s","token_type":"bearer","expires_in":3600,"refresh_token":"fake-refresh-%s"}`, n, n)
		return
	}
	f.apiCalls++
	f.api(w, r)
}

func TestSecond401IsPermanent(t *testing.T) {
	f := &fakeAuth{api: func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"error":"invalid_token"}`))
	}}
	srv := httptest.NewServer(f)
	defer srv.Close()
	c := newClient(t, testConfig(srv.URL), nil)
	_, err := c.Balance(context.Background(), "1001")
	if !errors.Is(err, ErrAuth) || !strings.Contains(err.Error(), "401 twice") {
		t.Fatalf("err = %v", err)
	}
	// password grant, request, 401, refresh grant, request again, 401: stop.
	if f.apiCalls != 2 || f.tokenCalls != 2 {
		t.Fatalf("%d API calls, %d token calls", f.apiCalls, f.tokenCalls)
	}
	if strings.Contains(err.Error(), "fake-access") || strings.Contains(err.Error(), "fake-refresh") {
		t.Fatalf("token leaked: %v", err)
	}
}

func TestTokenEndpointTransient(t *testing.T) {
	f := &fakeAuth{tokenStatus: []int{503, 503, 502}, api: func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer fake-access-4" {
			t.Errorf("authorization %q", r.Header.Get("Authorization"))
		}
		_, _ = w.Write([]byte(`{"balance":1}`))
	}}
	srv := httptest.NewServer(f)
	defer srv.Close()
	c := newClient(t, testConfig(srv.URL), nil)
	if _, err := c.Balance(context.Background(), "1001"); err != nil {
		t.Fatal(err)
	}
	if f.tokenCalls != 4 {
		t.Fatalf("%d token calls", f.tokenCalls)
	}
}

// TestNoRefreshToken: a token endpoint that issues no refresh token gets
// the password grant again when the token expires.
func TestNoRefreshToken(t *testing.T) {
	f := &fakeAuth{noRefresh: true, api: func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"balance":1}`))
	}}
	srv := httptest.NewServer(f)
	defer srv.Close()
	c := newClient(t, testConfig(srv.URL), nil)
	for range 2 {
		if _, err := c.Balance(context.Background(), "1001"); err != nil {
			t.Fatal(err)
		}
	}
	// expires_in 5 is within oauth2's early-expiry margin: each use needs
	// a new token, and without a refresh token that is a password grant.
	if strings.Join(f.grants, " ") != "password password password" {
		t.Fatalf("grants %v", f.grants)
	}
}

// pagingFake serves n rows at /customers/1/callhistory in one of several
// behaviours and records the Range headers it got.
type pagingFake struct {
	n      int
	mode   string
	cap    int // rows per answer at most (0 = no cap)
	mu     sync.Mutex
	ranges []string
}

func (p *pagingFake) row(i int) string {
	return fmt.Sprintf(`{"id":%d,"startTime":"2026-11-20T10:00:%02d+03:00"}`, i, i%60)
}

func (p *pagingFake) rows(a, b int) string {
	var parts []string
	for i := a; i <= b && i < p.n; i++ {
		parts = append(parts, p.row(i))
	}
	return "[" + strings.Join(parts, ",") + "]"
}

func (p *pagingFake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/oauth/token" {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"access_token":"tok-abcdef","token_type":"Bearer","expires_in":3600}`))
		return
	}
	rng := r.Header.Get("Range")
	p.mu.Lock()
	p.ranges = append(p.ranges, rng)
	call := len(p.ranges)
	p.mu.Unlock()
	var first, last int
	if _, err := fmt.Sscanf(rng, "numbers=%d-%d", &first, &last); err != nil {
		http.Error(w, "bad range", 400)
		return
	}
	if p.cap > 0 {
		last = min(last, first+p.cap-1)
	}
	send := func(code int, cr, body string) {
		if cr != "" {
			w.Header().Set("Content-Range", cr)
		}
		w.WriteHeader(code)
		_, _ = w.Write([]byte(body))
	}
	total := strconv.Itoa(p.n)
	switch p.mode {
	case "ignore":
		send(200, "", p.rows(0, p.n-1))
		return
	case "repeat":
		send(206, fmt.Sprintf("numbers %d-%d/*", first, last), p.rows(0, last-first))
		return
	case "wrongstart":
		send(206, fmt.Sprintf("numbers %d-%d/%d", first+1, last+1, p.n), p.rows(first+1, last+1))
		return
	case "later200":
		if call == 2 {
			send(200, "", p.rows(0, p.n-1))
			return
		}
	case "wrapped":
		send(200, "", `{"data":`+p.rows(0, p.n-1)+`,"total":`+total+`}`)
		return
	case "star":
		total = "*"
	case "no-content-range":
		if first >= p.n {
			send(416, "", "")
			return
		}
		send(206, "", p.rows(first, last))
		return
	case "empty416":
		send(416, "numbers */0", "")
		return
	case "star-empty": // total unknown, the end is an empty 206
		if first >= p.n {
			send(206, "", "[]")
			return
		}
		send(206, fmt.Sprintf("numbers %d-%d/*", first, min(last, p.n-1)), p.rows(first, last))
		return
	case "capped200": // every answer a (capped) page, but HTTP 200
		send(200, "", p.rows(first, last))
		return
	case "first200": // the first page answered 200, the others paged
		if call == 1 {
			send(200, "", p.rows(first, last))
			return
		}
		total = "*"
	case "shortbody": // the Content-Range claims the asked range, the body is capped
		send(206, fmt.Sprintf("numbers %d-%d/*", first, first+9), p.rows(first, last))
		return
	case "shrink": // the total drops by one on every answer
		total = strconv.Itoa(p.n - call + 1)
	case "early416":
		if call > 1 {
			send(416, "numbers */"+total, "")
			return
		}
	case "early-empty":
		if call > 1 {
			send(206, "numbers */"+total, "[]")
			return
		}
	case "cycle": // pages alternate between the first two; 416 after six
		if call > 6 {
			send(416, "", "")
			return
		}
		f := (call - 1) % 2 * 10
		send(206, fmt.Sprintf("numbers %d-%d/*", first, last), p.rows(f, f+9))
		return
	}
	switch {
	case first >= p.n && first == 0:
		send(200, "", "[]")
	case first >= p.n:
		send(416, "numbers */"+strconv.Itoa(p.n), "")
	case first == 0 && last >= p.n-1:
		send(200, "", p.rows(0, p.n-1))
	default:
		send(206, fmt.Sprintf("numbers %d-%d/%s", first, min(last, p.n-1), total), p.rows(first, last))
	}
}

func TestPaging(t *testing.T) {
	rngs := func(firsts ...int) []string {
		var out []string
		for _, f := range firsts {
			out = append(out, fmt.Sprintf("numbers=%d-%d", f, f+9))
		}
		return out
	}
	capped4 := []string{"numbers=0-9", "numbers=4-13", "numbers=8-17", "numbers=11-20"}
	for _, tc := range []struct {
		name   string
		n      int
		mode   string
		cap    int
		ranges []string
		err    string
	}{
		{"empty, 200 []", 0, "", 0, rngs(0), ""},
		{"empty, 416 at 0", 0, "empty416", 0, rngs(0), ""},
		{"one row", 1, "", 0, rngs(0, 1), ""},
		{"exactly one page", 10, "", 0, rngs(0, 10), ""},
		{"one past a page", 11, "", 0, rngs(0, 10), ""},
		{"two full pages, total known", 20, "", 0, rngs(0, 10), ""},
		{"two full pages, total unknown", 20, "star", 0, rngs(0, 10, 20), ""},
		{"21 rows, total unknown", 21, "star", 0, rngs(0, 10, 20, 21), ""},
		{"no Content-Range", 20, "no-content-range", 0, rngs(0, 10, 20), ""},
		{"server caps pages at 4", 11, "", 4, []string{"numbers=0-9", "numbers=4-13", "numbers=8-17"}, ""},
		{"server ignores Range", 25, "ignore", 0, rngs(0, 25), ""},
		{"200 on a later page", 25, "later200", 0, rngs(0, 10, 25), ""},
		{"wrapped in an object", 25, "wrapped", 0, rngs(0, 25), ""},
		{"repeated page", 25, "repeat", 0, rngs(0, 10), "numbers=10-19: the page repeats the previous one"},
		{"wrong start", 25, "wrongstart", 0, rngs(0), "asked for rows from 0"},
		// Pages capped below the asked size with an unknown total: a short
		// page is not the end.
		{"capped at 4, total unknown", 11, "star", 4, capped4, ""},
		{"capped at 4, no Content-Range", 11, "no-content-range", 4, capped4, ""},
		{"capped at 4, ends with an empty page", 11, "star-empty", 4, capped4, ""},
		{"first page 200 and short, then 206", 11, "first200", 4, capped4, ""},
		// Answers that cannot be proven complete fail loudly.
		{"capped pages answered 200", 11, "capped200", 4, []string{"numbers=0-9", "numbers=4-13"}, "numbers=4-13: answered 200 (the whole list) with 4 rows that lack 4 of the 4 rows read before"},
		{"Content-Range counts more rows than sent", 25, "shortbody", 4, rngs(0), `numbers=0-9: the answer's Content-Range "numbers 0-9/*" counts 10 rows, its body holds 4`},
		{"list shrinks", 25, "shrink", 0, rngs(0, 10), "numbers=10-19: the list shrank from 25 to 24 rows"},
		{"416 before the total", 25, "early416", 0, rngs(0, 10), "numbers=10-19: answered 416 (range not satisfiable) at row 10 of a list of 25 rows"},
		{"empty page before the total", 25, "early-empty", 0, rngs(0, 10), "numbers=10-19: answered an empty page at row 10 of a list of 25 rows"},
		{"pages cycle", 25, "cycle", 0, rngs(0, 10, 20), "numbers=20-29: the page repeats the answer to request 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &pagingFake{n: tc.n, mode: tc.mode, cap: tc.cap}
			srv := httptest.NewServer(p)
			defer srv.Close()
			cfg := testConfig(srv.URL)
			cfg.Customers = []string{"1"}
			c := newClient(t, cfg, nil)
			var got []string
			err := c.List(context.Background(), "1", ListCallHistory, func(pg Page) error {
				for _, r := range pg.Rows {
					got = append(got, string(r))
				}
				return nil
			})
			if strings.Join(p.ranges, " ") != strings.Join(tc.ranges, " ") {
				t.Errorf("ranges %v, want %v", p.ranges, tc.ranges)
			}
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), "/customers/1/callhistory") {
					t.Fatalf("err = %v, want %q naming the endpoint", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tc.n {
				t.Fatalf("%d rows, want %d", len(got), tc.n)
			}
			for i, r := range got {
				if r != p.row(i) {
					t.Fatalf("row %d = %s, want %s", i, r, p.row(i))
				}
			}
		})
	}
}

// TestPagingWholeListChanges: a server that ignores Range and whose list
// gains a row (newest first) between the first answer and the probe past
// it: the new list is delivered whole again (First 0, the caller skips
// the rows it has), and the list ends when an answer repeats it.
func TestPagingWholeListChanges(t *testing.T) {
	p := &pagingFake{n: 4}
	var calls int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/oauth/token" {
			p.ServeHTTP(w, r)
			return
		}
		calls++
		if calls == 1 {
			_, _ = w.Write([]byte(p.rows(1, 3))) // rows 1..3; row 0 arrives later
			return
		}
		_, _ = w.Write([]byte(p.rows(0, 3)))
	}))
	defer srv.Close()
	cfg := testConfig(srv.URL)
	cfg.Customers = []string{"1"}
	var pages []string
	err := newClient(t, cfg, nil).List(context.Background(), "1", ListCallHistory, func(pg Page) error {
		pages = append(pages, fmt.Sprintf("first %d rows %d", pg.First, len(pg.Rows)))
		return nil
	})
	if err != nil || strings.Join(pages, ", ") != "first 0 rows 3, first 0 rows 4" || calls != 3 {
		t.Fatalf("pages %v after %d requests, err %v", pages, calls, err)
	}
}

func TestNotJSONAnswer(t *testing.T) {
	// A list answer that is JSON but no list fails at once, quoting it.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/oauth/token" {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"access_token":"tok-abcdef","expires_in":3600}`))
			return
		}
		_, _ = w.Write([]byte(`{"message":"use the v2 API"}`))
	}))
	defer srv.Close()
	c := newClient(t, testConfig(srv.URL), nil)
	err := c.List(context.Background(), "1001", ListCallHistory, func(Page) error { return nil })
	if err == nil || !strings.Contains(err.Error(), `use the v2 API`) || !strings.Contains(err.Error(), "GET /customers/1001/callhistory") {
		t.Fatalf("err = %v", err)
	}
}

func TestPing(t *testing.T) {
	v, base := smallEmulator(t, nil)
	c := newClient(t, testConfig(base), nil)
	if err := c.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	if v.Requests()["campaigns"] != 1 || v.PasswordGrants() != 1 {
		t.Fatalf("requests %v", v.Requests())
	}
	bad := testConfig(base)
	bad.Password = secret.New("nope-nope")
	if err := newClient(t, bad, nil).Ping(context.Background()); !errors.Is(err, ErrAuth) {
		t.Fatalf("ping with a bad password: %v", err)
	}
}

func TestPageSumDiffers(t *testing.T) {
	a := pageSum([]json.RawMessage{json.RawMessage(`{"a":1}`), json.RawMessage(`{"b":2}`)})
	b := pageSum([]json.RawMessage{json.RawMessage(`{"a":1}{"b":2}`)})
	if a == b {
		t.Fatal("row boundaries are not part of the page sum")
	}
}
