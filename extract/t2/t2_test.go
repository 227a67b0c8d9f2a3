package t2

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/calletl/calletl/extract/httpx"
	"github.com/calletl/calletl/model"
	"github.com/calletl/calletl/secret"
)

// fake is a small T2 API: one live token pair that rotates on refresh,
// call records and missed calls served with page/size.
type fake struct {
	t *testing.T

	mu        sync.Mutex
	access    string
	refresh   string
	old       map[string]bool // rotated tokens → "already updated", as the vendor answers
	expired   bool            // the live access token is expired
	refreshes int
	deny      string            // when set, every data request gets 403 with this detail
	denyRef   string            // when set, the refresh gets 403 with this detail
	onRefresh func()            // runs (unlocked) before the refresh answers
	onData    func(auth string) // runs (unlocked) on every authorised data request
	// afterRotate runs (unlocked) after a refresh has rotated the pair and
	// before it answers: the window in which the client does not yet have
	// the new pair but the old one is dead.
	afterRotate func()
	// onForbid runs (unlocked) before a data request is refused.
	onForbid func(detail string)

	records     []map[string]any
	missed      []map[string]any
	queries     []string // query strings of data requests, in order
	tokens      []string // Authorization of data requests that succeeded
	pageHit     atomic.Int64
	expireAfter int64 // expire the access token after this many data answers (0 = never)
}

func newFake(t *testing.T) *fake {
	return &fake{t: t, access: "access-0-aaaaaaaa", refresh: "refresh-0-bbbbbbbb", old: map[string]bool{}}
}

func forbid(w http.ResponseWriter, detail string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusForbidden)
	fmt.Fprintf(w, `{"details":%q,"message":"Forbidden"}`, detail)
}

func (f *fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimPrefix(r.URL.Path, "/crm/openapi")
	auth := r.Header.Get("Authorization")
	if path == "/authorization/refresh/token" {
		if r.Method != http.MethodPut {
			w.WriteHeader(http.StatusMethodNotAllowed)
			return
		}
		if f.onRefresh != nil {
			f.onRefresh()
		}
		f.mu.Lock()
		switch {
		case f.denyRef != "":
			forbid(w, f.denyRef)
		case f.old[auth]:
			forbid(w, "The token has already been updated")
		case auth != f.refresh:
			forbid(w, "Bad token")
		default:
			f.refreshes++
			f.old[f.access], f.old[f.refresh] = true, true
			f.access = fmt.Sprintf("access-%d-%s", f.refreshes, strings.Repeat("x", 8))
			f.refresh = fmt.Sprintf("refresh-%d-%s", f.refreshes, strings.Repeat("y", 8))
			f.expired = false
			answer := map[string]string{"accessToken": f.access, "refreshToken": f.refresh}
			f.mu.Unlock()
			if f.afterRotate != nil {
				f.afterRotate()
			}
			json.NewEncoder(w).Encode(answer)
			return
		}
		f.mu.Unlock()
		return
	}
	f.mu.Lock()
	var detail string
	switch {
	case f.deny != "":
		detail = f.deny
	case auth == "":
		detail = "Authorization header required"
	case f.old[auth]:
		detail = "The token has already been updated"
	case auth == f.access && f.expired:
		detail = "The token is expired"
	case auth != f.access:
		detail = "Bad token"
	}
	if detail != "" {
		f.mu.Unlock()
		if f.onForbid != nil {
			f.onForbid(detail)
		}
		forbid(w, detail)
		return
	}
	if f.onData != nil {
		f.mu.Unlock()
		f.onData(auth)
		f.mu.Lock()
	}
	f.queries = append(f.queries, r.URL.RawQuery)
	f.tokens = append(f.tokens, auth)
	if f.expireAfter > 0 && f.pageHit.Add(1) == f.expireAfter {
		f.expired = true
	}
	q := r.URL.Query()
	var rows []map[string]any
	switch path {
	case "/call-records/info":
		rows = f.records
	case "/statistics/missing":
		rows = f.missed
	case "/employees":
		f.mu.Unlock()
		fmt.Fprint(w, `[{"employeeId": 433, "name": "Артем", "fullNumber": "79081560008", "email": "asd@asd.ru"}, {"employeeId": 5412}]`)
		return
	case "/statistics/common":
		f.mu.Unlock()
		fmt.Fprint(w, `{"allCallCount": 22, "successCallCount": 8, "lostCallCount": 5, "callCountPerDay": 4.333333333333333}`)
		return
	default:
		f.mu.Unlock()
		http.NotFound(w, r)
		return
	}
	f.mu.Unlock()
	page, _ := strconv.Atoi(q.Get("page"))
	size, _ := strconv.Atoi(q.Get("size"))
	lo, hi := min(page*size, len(rows)), min((page+1)*size, len(rows))
	json.NewEncoder(w).Encode(rows[lo:hi])
}

// client returns a client of srv whose token file is in dir.
func newTestClient(t *testing.T, f *fake, srv *httptest.Server, dir string, mod func(*Config)) (*Client, *secret.Redactor) {
	t.Helper()
	red := secret.NewRedactor()
	cfg := Config{
		BaseURL:   srv.URL + "/crm/openapi",
		Access:    secret.New("access-0-aaaaaaaa"),
		Refresh:   secret.New("refresh-0-bbbbbbbb"),
		TokenFile: filepath.Join(dir, "t2-tokens.json"),
		PageSize:  3,
		HTTP: httpx.Config{
			Redactor:    red,
			MaxAttempts: 3,
			Sleep:       func(ctx context.Context, d time.Duration) error { return ctx.Err() },
		},
	}
	if mod != nil {
		mod(&cfg)
	}
	c, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c, red
}

func serve(t *testing.T, f *fake) *httptest.Server {
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return srv
}

func record(i int, day string) map[string]any {
	return map[string]any{
		"callTimestamp":        fmt.Sprintf("%sT%02d:00:00.000+03:00", day, 9+i%10),
		"callType":             "SINGLE_CHANNEL",
		"destinationNumber":    "79104739472",
		"callerNumber":         fmt.Sprintf("8900000%04d", i),
		"calleeNumber":         "79104739472",
		"callDuration":         20,
		"conversationDuration": 6,
		"callStatus":           "ANSWERED_COMMON",
		"recordFileName":       fmt.Sprintf("%s/mo_%d", day, i),
	}
}

func moscow() *time.Location { return time.FixedZone("MSK", 3*3600) }

func collect(t *testing.T, c *Client, day string) (pages []int, rows int, err error) {
	t.Helper()
	w, _ := model.DayWindow(day, moscow())
	err = c.CallRecords(context.Background(), w.From, w.To, moscow(), func(p Page) error {
		pages = append(pages, len(p.Rows))
		rows += len(p.Rows)
		return nil
	})
	return pages, rows, err
}

func TestPaging(t *testing.T) {
	for _, tc := range []struct {
		rows  int
		pages []int
	}{
		{0, []int{0}},
		{2, []int{2}},
		{3, []int{3, 0}},
		{7, []int{3, 3, 1}},
	} {
		t.Run(strconv.Itoa(tc.rows), func(t *testing.T) {
			f := newFake(t)
			for i := range tc.rows {
				f.records = append(f.records, record(i, "2022-07-15"))
			}
			c, _ := newTestClient(t, f, serve(t, f), t.TempDir(), nil)
			pages, rows, err := collect(t, c, "2022-07-15")
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(pages) != fmt.Sprint(tc.pages) || rows != tc.rows {
				t.Fatalf("pages %v rows %d, want %v %d", pages, rows, tc.pages, tc.rows)
			}
			// The ISO times are URL-encoded (+ and :) and in the business zone.
			q := f.queries[0]
			for _, want := range []string{"start=2022-07-15T00%3A00%3A00.000%2B03%3A00", "end=2022-07-16T00%3A00%3A00.000%2B03%3A00", "sort=date%2CASC", "size=3", "page=0"} {
				if !strings.Contains(q, want) {
					t.Errorf("query %q lacks %q", q, want)
				}
			}
		})
	}
}

func TestMissingQuery(t *testing.T) {
	f := newFake(t)
	c, _ := newTestClient(t, f, serve(t, f), t.TempDir(), func(c *Config) { c.MCNNumbers = []string{"79779117670", "79779117671"} })
	w, _ := model.DayWindow("2023-08-28", moscow())
	if err := c.Missing(context.Background(), w.From, w.To, moscow(), func(Page) error { return nil }); err != nil {
		t.Fatal(err)
	}
	q := f.queries[0]
	for _, want := range []string{"mcn_numbers=79779117670&mcn_numbers=79779117671", "sort=startDate", "page=0"} {
		if !strings.Contains(q, want) {
			t.Errorf("query %q lacks %q", q, want)
		}
	}
}

func readTokenFile(t *testing.T, path string) tokenFile {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("token file mode %v, want 0600", st.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var p tokenFile
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestTokenExpiresMidRun(t *testing.T) {
	f := newFake(t)
	for i := range 8 {
		f.records = append(f.records, record(i, "2022-07-15"))
	}
	f.expireAfter = 1 // the first page is served, then the token expires
	dir := t.TempDir()
	c, _ := newTestClient(t, f, serve(t, f), dir, nil)
	_, rows, err := collect(t, c, "2022-07-15")
	if err != nil {
		t.Fatal(err)
	}
	if rows != 8 || f.refreshes != 1 || c.Tokens().Refreshes() != 1 {
		t.Fatalf("rows %d refreshes %d/%d, want 8 and 1", rows, f.refreshes, c.Tokens().Refreshes())
	}
	p := readTokenFile(t, filepath.Join(dir, "t2-tokens.json"))
	if p.AccessToken != f.access || p.RefreshToken != f.refresh || p.RefreshedAt.IsZero() {
		t.Fatalf("token file %+v does not hold the live pair", p)
	}
	if got := c.Tokens().RefreshedAt(); !got.Equal(p.RefreshedAt) {
		t.Errorf("RefreshedAt %v, token file %v", got, p.RefreshedAt)
	}
	if f.tokens[len(f.tokens)-1] != f.access {
		t.Fatal("later pages not sent with the new token")
	}
}

func TestRefreshRace(t *testing.T) {
	f := newFake(t)
	f.expired = true
	c, _ := newTestClient(t, f, serve(t, f), t.TempDir(), func(c *Config) { c.HTTP.Concurrency = 16 })
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for range 64 {
		wg.Go(func() {
			if _, err := c.Employees(context.Background()); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if f.refreshes != 1 {
		t.Fatalf("%d refreshes, want exactly 1", f.refreshes)
	}
}

// A request that failed with an older token than the current one retries
// without refreshing again.
func TestStaleTokenRetriesWithoutRefresh(t *testing.T) {
	f := newFake(t)
	c, _ := newTestClient(t, f, serve(t, f), t.TempDir(), nil)
	if err := c.tokens.refresh(context.Background(), 0); err != nil {
		t.Fatal(err)
	}
	// A request of generation 0 meets "expired": it must not refresh.
	if err := c.tokens.refresh(context.Background(), 0); err != nil {
		t.Fatal(err)
	}
	if f.refreshes != 1 {
		t.Fatalf("%d refreshes, want 1", f.refreshes)
	}
}

// A kill right after a refresh: the new pair is on disk before its first
// use, and a fresh client (configured with the dead pair) uses it.
func TestKillAfterRefresh(t *testing.T) {
	f := newFake(t)
	f.expired = true
	dir := t.TempDir()
	file := filepath.Join(dir, "t2-tokens.json")
	// Every data request made with a refreshed token finds it on disk.
	f.onData = func(auth string) {
		if auth == "access-0-aaaaaaaa" {
			return
		}
		b, err := os.ReadFile(file)
		if err != nil || !strings.Contains(string(b), auth) {
			t.Errorf("token used before it was saved (file: %v)", err)
		}
	}
	srv := serve(t, f)
	c1, _ := newTestClient(t, f, srv, dir, nil)
	if _, err := c1.Employees(context.Background()); err != nil {
		t.Fatal(err)
	}
	// "Kill" c1: nothing of it survives but the file. The configuration
	// still holds the original pair, now dead.
	c2, _ := newTestClient(t, f, srv, dir, nil)
	if _, err := c2.Employees(context.Background()); err != nil {
		t.Fatal(err)
	}
	if f.refreshes != 1 {
		t.Fatalf("%d refreshes, want 1", f.refreshes)
	}
	if n := len(f.tokens); n != 2 || f.tokens[0] != f.access || f.tokens[1] != f.access {
		t.Fatalf("tokens used %d, want the refreshed one twice", n)
	}
}

// saveCheck: the pair is saved before the first request that uses it; a
// failed save makes the store unusable rather than use an unsaved pair.
func TestRefreshSaveFails(t *testing.T) {
	f := newFake(t)
	f.expired = true
	dir := t.TempDir()
	c, red := newTestClient(t, f, serve(t, f), dir, func(c *Config) { c.TokenFile = filepath.Join(dir, "missing-dir", "t.json") })
	_, err := c.Employees(context.Background())
	if !errors.Is(err, ErrAuth) || !strings.Contains(err.Error(), "could not be saved") {
		t.Fatalf("err = %v, want an ErrAuth about saving", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, tok := range f.tokens {
		if tok == f.access {
			t.Fatal("the unsaved pair was used")
		}
	}
	noTokens(t, err.Error(), red, f)
}

func noTokens(t *testing.T, s string, _ *secret.Redactor, f *fake) {
	t.Helper()
	for tok := range f.old {
		if strings.Contains(s, tok) {
			t.Errorf("text holds a token: %s", s)
		}
	}
	for _, tok := range []string{f.access, f.refresh, "access-0", "refresh-0"} {
		if strings.Contains(s, tok) {
			t.Errorf("text holds a token: %s", s)
		}
	}
}

func Test403Variants(t *testing.T) {
	for _, tc := range []struct {
		name      string
		deny      string // on data requests
		denyRef   string // on the refresh
		expired   bool
		refreshes int
		want      string // "" = success
	}{
		{name: "expired", expired: true, refreshes: 1},
		{name: "already updated", deny: "The token has already been updated", want: "issue a new access/refresh token pair in the T2 PBX web UI"},
		{name: "bad token", deny: "Bad token", want: "cannot parse the token"},
		{name: "invalid type", deny: "Invalid token type", want: "swapped"},
		{name: "header required", deny: "Authorization header required", want: "configure sources.t2.access_token"},
		{name: "unknown detail", deny: "Something new", want: "refused the token"},
		{name: "refresh token expired", expired: true, denyRef: "The token is expired", want: "the refresh token has expired"},
		{name: "refresh already updated", expired: true, denyRef: "The token has already been updated", want: "token refresh refused"},
		{name: "refresh invalid type", expired: true, denyRef: "Invalid token type", want: "swapped"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t)
			f.deny, f.denyRef, f.expired = tc.deny, tc.denyRef, tc.expired
			dir := t.TempDir()
			c, red := newTestClient(t, f, serve(t, f), dir, nil)
			_, err := c.Employees(context.Background())
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
			} else {
				if !errors.Is(err, ErrAuth) {
					t.Fatalf("err = %v, want ErrAuth", err)
				}
				if !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("err = %v, want it to say %q", err, tc.want)
				}
				var ae *AuthError
				if !errors.As(err, &ae) {
					t.Fatalf("err = %v, want *AuthError", err)
				}
				noTokens(t, err.Error(), red, f)
				// A refused refresh leaves the store failed: no second attempt.
				if tc.denyRef != "" {
					_, err2 := c.Employees(context.Background())
					if !errors.Is(err2, ErrAuth) {
						t.Fatalf("second call: %v", err2)
					}
					if w := c.Warnings(time.Now()); len(w) == 0 {
						t.Error("no warning for a failed store")
					}
				}
			}
			if f.refreshes != tc.refreshes {
				t.Fatalf("%d refreshes, want %d", f.refreshes, tc.refreshes)
			}
		})
	}
}

// jwt returns an unsigned JWT with the exp claim.
func jwt(sub string, exp time.Time) string {
	enc := base64.RawURLEncoding
	return enc.EncodeToString([]byte(`{"alg":"none"}`)) + "." +
		enc.EncodeToString(fmt.Appendf(nil, `{"sub":%q,"exp":%d}`, sub, exp.Unix())) + ".sig"
}

func TestProactiveRefresh(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	f := newFake(t)
	f.access, f.refresh = jwt("a", now.Add(2*time.Minute)), jwt("r", now.Add(7*24*time.Hour))
	c, _ := newTestClient(t, f, serve(t, f), t.TempDir(), func(c *Config) {
		c.Access, c.Refresh = secret.New(f.access), secret.New(f.refresh)
		c.Now = func() time.Time { return now }
	})
	if _, err := c.Employees(context.Background()); err != nil {
		t.Fatal(err)
	}
	if f.refreshes != 1 || f.tokens[0] != f.access {
		t.Fatalf("refreshes %d; first token sent is the new one: %v", f.refreshes, f.tokens[0] == f.access)
	}
}

func TestWarnings(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name      string
		refresh   string
		refreshed time.Time
		want      []string
	}{
		{"fine", jwt("r", now.Add(6*24*time.Hour)), now.Add(-24 * time.Hour), nil},
		{"expiring", jwt("r", now.Add(36*time.Hour)), now.Add(-24 * time.Hour), []string{"expires at"}},
		{"expired", jwt("r", now.Add(-time.Hour)), time.Time{}, []string{"expired at"}},
		{"unused", "opaque-refresh-token", now.Add(-6 * 24 * time.Hour), []string{"6 days ago"}},
		{"unknown", "opaque-refresh-token", time.Time{}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			file := filepath.Join(dir, "t.json")
			b, _ := json.Marshal(tokenFile{AccessToken: "access-token", RefreshToken: tc.refresh, RefreshedAt: tc.refreshed})
			if err := os.WriteFile(file, b, 0o600); err != nil {
				t.Fatal(err)
			}
			c, err := New(Config{BaseURL: "http://127.0.0.1:1", TokenFile: file}, nil)
			if err != nil {
				t.Fatal(err)
			}
			got := c.Warnings(now)
			if len(got) != len(tc.want) {
				t.Fatalf("warnings %q, want %d", got, len(tc.want))
			}
			for i, w := range tc.want {
				if !strings.Contains(got[i], w) || strings.Contains(got[i], tc.refresh) {
					t.Errorf("warning %q, want %q and no token", got[i], w)
				}
			}
		})
	}
}

func TestTokenFileWinsOverConfig(t *testing.T) {
	f := newFake(t)
	f.access, f.refresh = "access-from-file", "refresh-from-file"
	dir := t.TempDir()
	b, _ := json.Marshal(tokenFile{AccessToken: f.access, RefreshToken: f.refresh})
	if err := os.WriteFile(filepath.Join(dir, "t2-tokens.json"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	c, _ := newTestClient(t, f, serve(t, f), dir, nil)
	if _, err := c.Employees(context.Background()); err != nil {
		t.Fatal(err)
	}
	if f.tokens[0] != "access-from-file" {
		t.Fatal("the configured token was used although the file exists")
	}
}

func TestNewErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte("{"), 0o600)
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"no file", Config{Access: secret.New("aaaa"), Refresh: secret.New("bbbb")}, "token file not configured"},
		{"no tokens", Config{TokenFile: filepath.Join(dir, "none.json")}, "not configured"},
		{"bad file", Config{TokenFile: bad}, "delete it"},
		{"page size", Config{TokenFile: bad, PageSize: -1}, "page size"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.cfg, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}
