package votbox

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/calletl/calletl/extract/httpx"
	"github.com/calletl/calletl/load"
	"github.com/calletl/calletl/load/loadtest"
	"github.com/calletl/calletl/model"
	"github.com/calletl/calletl/secret"
)

const (
	testUser     = "acme"
	testPassword = "s3cret-Pa55"
)

func testHash() string {
	s := md5.Sum([]byte(testPassword))
	return hex.EncodeToString(s[:])
}

// fakeVotBox serves scripts from handlers keyed by script name; it checks
// the method, content type and credentials and counts requests.
type fakeVotBox struct {
	t        testing.TB
	mu       sync.Mutex
	requests map[string]int
	forms    []map[string]string
	scripts  map[string]func(form map[string]string) (status int, body []byte)
}

func newFake(t testing.TB) (*fakeVotBox, *httptest.Server) {
	f := &fakeVotBox{t: t, requests: map[string]int{}, scripts: map[string]func(map[string]string) (int, []byte){}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

func (f *fakeVotBox) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
		f.t.Errorf("%s %s with content type %q", r.Method, r.URL.Path, r.Header.Get("Content-Type"))
	}
	if err := r.ParseForm(); err != nil {
		f.t.Errorf("form: %v", err)
	}
	form := map[string]string{}
	for k := range r.PostForm {
		form[k] = r.PostForm.Get(k)
	}
	if form["username"] != testUser || form["password"] != testHash() {
		f.t.Errorf("credentials %q/%q", form["username"], form["password"])
	}
	script := filepath.Base(r.URL.Path)
	f.mu.Lock()
	f.requests[script]++
	f.forms = append(f.forms, form)
	h := f.scripts[script]
	f.mu.Unlock()
	if h == nil {
		http.NotFound(w, r)
		return
	}
	status, body := h(form)
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func (f *fakeVotBox) count(script string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.requests[script]
}

func testClient(t testing.TB, base string, mod func(*Config), log *slog.Logger) *Client {
	t.Helper()
	cfg := Config{
		BaseURL: base, Username: testUser, Password: secret.New(testPassword),
		HTTP: httpx.Config{MaxAttempts: 2, Sleep: func(ctx context.Context, _ time.Duration) error { return ctx.Err() }},
	}
	if mod != nil {
		mod(&cfg)
	}
	c, err := New(cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var testRun = model.Run{ID: "run-1", Mode: "run", StartedAt: time.Date(2025, 1, 20, 3, 0, 0, 0, time.UTC), Location: Moscow}

// extract runs ExtractItem for key into lake and commits.
func extract(t testing.TB, s *Source, lake *load.Lake, key string) (model.Counts, bool, error) {
	t.Helper()
	return loadtest.ExtractItem(t, s, lake, key, testRun)
}

func openLake(t testing.TB) *load.Lake { return loadtest.OpenLake(t) }

// readRows reads table's rows of this source back from the lake's files.
func readRows(t testing.TB, lake *load.Lake, table string) []map[string]any {
	return loadtest.ReadRows(t, lake, table, Name)
}

// xmlDoc wraps records in a declaration and <response>.
func xmlDoc(inner string) []byte {
	return []byte(`<?xml version="1.0" encoding="utf-8"?>` + "\n<response>\n" + inner + "</response>\n")
}

func itemAttr(id int, js int, extra string) string {
	return fmt.Sprintf(`<item id="%d" phonenumber="8916%07d" jobstatus="%d" jobstatusstr="s" attempts="1"%s/>`+"\n", id, id, js, extra)
}
