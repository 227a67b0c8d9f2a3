package mobilgroup

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/calletl/calletl/extract/httpx"
	"github.com/calletl/calletl/load"
	"github.com/calletl/calletl/load/loadtest"
	"github.com/calletl/calletl/model"
	"github.com/calletl/calletl/secret"
)

const testKey = "mg-K3y-9f8e7d6c5b4a"

// fakeMobilgroup answers api/get from handlers keyed by the request member;
// it checks method, path, headers and the key, and counts requests.
type fakeMobilgroup struct {
	t        testing.TB
	mu       sync.Mutex
	requests map[string]int
	bodies   []map[string]any
	handlers map[string]func(req map[string]any) (status int, body string)
}

func newFake(t testing.TB) (*fakeMobilgroup, *httptest.Server) {
	f := &fakeMobilgroup{t: t, requests: map[string]int{}, handlers: map[string]func(map[string]any) (int, string){}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

func (f *fakeMobilgroup) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/api/get/" || r.Header.Get("Content-Type") != "application/json" {
		f.t.Errorf("%s %s with content type %q", r.Method, r.URL.Path, r.Header.Get("Content-Type"))
	}
	if got := r.Header.Get("Authorization"); got != testKey {
		f.t.Errorf("Authorization %q", got)
	}
	b, _ := io.ReadAll(r.Body)
	var req map[string]any
	if err := json.Unmarshal(b, &req); err != nil {
		f.t.Errorf("body %q: %v", b, err)
	}
	name, _ := req["request"].(string)
	f.mu.Lock()
	f.requests[name]++
	f.bodies = append(f.bodies, req)
	h := f.handlers[name]
	f.mu.Unlock()
	if h == nil {
		http.NotFound(w, r)
		return
	}
	status, body := h(req)
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

func (f *fakeMobilgroup) count(request string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.requests[request]
}

// noSleep makes retries immediate.
func noSleep(ctx context.Context, _ time.Duration) error { return ctx.Err() }

func testClient(t testing.TB, base string, mod func(*Config), log *slog.Logger) *Client {
	t.Helper()
	cfg := Config{BaseURL: base, APIKey: secret.New(testKey), HTTP: httpx.Config{MaxAttempts: 2, Sleep: noSleep}}
	if mod != nil {
		mod(&cfg)
	}
	c, err := New(cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var testRun = model.Run{ID: "run-1", Mode: "run", StartedAt: time.Date(2025, 3, 10, 3, 0, 0, 0, time.UTC), Location: Moscow}

// extract runs ExtractItem for key into lake and commits.
func extract(t testing.TB, s *Source, lake *load.Lake, key string) (model.Counts, bool, error) {
	t.Helper()
	return extractRun(t, s, lake, key, testRun)
}

func extractRun(t testing.TB, s *Source, lake *load.Lake, key string, run model.Run) (model.Counts, bool, error) {
	t.Helper()
	return loadtest.ExtractItem(t, s, lake, key, run)
}

func openLake(t testing.TB) *load.Lake { return loadtest.OpenLake(t) }

// readRows reads table's rows of this source back from the lake's files.
func readRows(t testing.TB, lake *load.Lake, table string) []map[string]any {
	return loadtest.ReadRows(t, lake, table, Name)
}

// decimal formats a DECIMAL(18,4) value read back from Parquet with four
// decimals, like model.Money.String; NULL is "NULL".
func decimal(v any) string {
	if v == nil {
		return "NULL"
	}
	s := fmt.Sprint(v)
	whole, frac, _ := strings.Cut(s, ".")
	for len(frac) < 4 {
		frac += "0"
	}
	return whole + "." + frac
}

func openDuckDB(t testing.TB) *sql.DB { return loadtest.OpenDuckDB(t) }

// scan is the DuckDB read of a lake table of this source.
func scan(lake *load.Lake, table string) string {
	glob := filepath.ToSlash(filepath.Join(lake.Root(), table)) + "/source=" + Name + "/**/*.parquet"
	return "read_parquet('" + strings.ReplaceAll(glob, "'", "''") +
		"', hive_partitioning=true, union_by_name=true, hive_types={'source':VARCHAR,'date':DATE})"
}

// queryString runs a query returning one value, as text.
func queryString(t testing.TB, db *sql.DB, q string) string {
	t.Helper()
	var v any
	if err := db.QueryRow(q).Scan(&v); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	if v == nil {
		return "NULL"
	}
	return fmt.Sprint(v)
}

// lakeBytes returns the concatenated contents of every file under dir.
func lakeBytes(t testing.TB, dir string) []byte {
	t.Helper()
	var all []byte
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		all = append(all, b...)
		all = append(all, []byte(p)...)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return all
}

// stateBody builds a state answer around subscriber elements.
func stateBody(id string, subs ...string) string {
	return `{"result":"ok","id":"` + id + `","phones":"` + fmt.Sprint(len(subs)) + `","budget":"1,00","subscribers":[` +
		strings.Join(subs, ",") + `]}`
}

// sub returns a subscriber element; extra is appended inside the object.
func sub(phone, date, status, price, extra string) string {
	return `{"phone":"` + phone + `","date":"` + date + `","status":"` + status + `","attempts":"1","duration":"13","price":"` +
		price + `"` + extra + `}`
}

// subN returns a subscriber element with the given attempts and a 0
// duration.
func subN(phone, date, status, attempts, price string) string {
	return `{"phone":"` + phone + `","date":"` + date + `","status":"` + status + `","attempts":"` + attempts +
		`","duration":"0","price":"` + price + `"}`
}

// testClock is a controllable clock shared by the emulator and the
// pipeline; safe for concurrent use.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}
