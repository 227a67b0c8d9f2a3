package report

import (
	"bytes"
	"database/sql"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/calletl/calletl/lakeread"
	"github.com/calletl/calletl/queries"
)

// newServeTest serves the report page over sampleLake, as etl serve does.
func newServeTest(t *testing.T) (*httptest.Server, *Engine, string) {
	t.Helper()
	lake := t.TempDir()
	sampleLake(t, lake)
	pq := filepath.Join(t.TempDir(), "download.parquet")
	e, err := Open(t.Context(), Options{Lake: lake, TimeZone: "Europe/Moscow", Tables: allTables(), Output: pq})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	srv := httptest.NewServer(NewServer(e, ServerOptions{Reports: queries.FS(), ParquetFile: pq}))
	t.Cleanup(srv.Close)
	return srv, e, pq
}

func get(t *testing.T, url string) (int, http.Header, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

func TestServe(t *testing.T) {
	srv, e, pq := newServeTest(t)
	r, err := Find(queries.FS(), "daily_summary")
	if err != nil {
		t.Fatal(err)
	}
	args := map[string]string{"from": "2026-11-20", "to": "2026-11-20"}
	var wantCSV bytes.Buffer
	if err := query(t, e, r, args).Write(&wantCSV, "csv"); err != nil {
		t.Fatal(err)
	}

	code, h, body := get(t, srv.URL+"/")
	page := string(body)
	if code != http.StatusOK || !strings.Contains(page, `href="/?report=daily_summary"`) || !strings.Contains(page, `href="/?report=agent_activity"`) {
		t.Errorf("catalogue: %d\n%s", code, page)
	}
	if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("CSP %q", csp)
	}

	code, _, body = get(t, srv.URL+"/?report=daily_summary&from=2026-11-20&to=2026-11-20")
	page = string(body)
	for _, want := range []string{`<input type="date" name="from" value="2026-11-20"`, "<svg", "<title>outgoing, 2026-11-20: 6 calls</title>",
		"5 rows", `href="/download/daily_summary.csv?from=2026-11-20&amp;to=2026-11-20"`, `daily_summary.xlsx?`, `daily_summary.parquet?`} {
		if !strings.Contains(page, want) {
			t.Errorf("report page lacks %q", want)
		}
	}
	if code != http.StatusOK || strings.Contains(page, "<script") {
		t.Errorf("report page: %d, script %v", code, strings.Contains(page, "<script"))
	}

	code, h, body = get(t, srv.URL+"/download/daily_summary.csv?from=2026-11-20&to=2026-11-20")
	if code != http.StatusOK || string(body) != wantCSV.String() || !strings.Contains(h.Get("Content-Disposition"), `filename="daily_summary_from-2026-11-20_to-2026-11-20.csv"`) {
		t.Errorf("csv download: %d %q\n%s\nwant\n%s", code, h.Get("Content-Disposition"), body, wantCSV.String())
	}
	code, _, body = get(t, srv.URL+"/download/daily_summary.xlsx?from=2026-11-20&to=2026-11-20")
	f, err := excelize.OpenReader(bytes.NewReader(body))
	if code != http.StatusOK || err != nil {
		t.Fatalf("xlsx download: %d %v", code, err)
	}
	if rows, _ := f.GetRows("daily_summary"); len(rows) != 6 {
		t.Errorf("xlsx download: %d rows, want 5 and a header", len(rows))
	}
	f.Close()
	code, _, body = get(t, srv.URL+"/download/daily_summary.parquet?from=2026-11-20&to=2026-11-20")
	if code != http.StatusOK {
		t.Fatalf("parquet download: %d %s", code, body)
	}
	file := filepath.Join(t.TempDir(), "d.parquet")
	os.WriteFile(file, body, 0o644)
	db, _ := sql.Open("duckdb", "")
	defer db.Close()
	var n int
	if err := db.QueryRow("SELECT count(*) FROM read_parquet(" + lakeread.QuoteString(file) + ")").Scan(&n); err != nil || n != 5 {
		t.Errorf("parquet download: %d rows, %v; want 5", n, err)
	}
	if _, err := os.Stat(pq); !os.IsNotExist(err) {
		t.Errorf("the parquet file stays on disk after its download: %v", err)
	}

	for _, tc := range []struct {
		method, path string
		code         int
	}{
		{"GET", "/?report=daily_summary&from=20.11.2026", http.StatusBadRequest},
		{"GET", "/download/daily_summary.csv?from=bad", http.StatusBadRequest},
		{"GET", "/download/daily_summary.parquet?from=bad", http.StatusBadRequest},
		{"GET", "/?report=nope", http.StatusNotFound},
		{"GET", "/download/daily_summary.exe", http.StatusNotFound},
		{"GET", "/download/nope.csv", http.StatusNotFound},
		{"GET", "/etc/passwd", http.StatusNotFound},
		{"POST", "/?report=daily_summary", http.StatusMethodNotAllowed},
		{"DELETE", "/", http.StatusMethodNotAllowed},
	} {
		req, _ := http.NewRequest(tc.method, srv.URL+tc.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.code {
			t.Errorf("%s %s: %d, want %d\n%s", tc.method, tc.path, resp.StatusCode, tc.code, b)
		}
		if tc.code == http.StatusBadRequest && !strings.Contains(string(b), "bad DATE") {
			t.Errorf("%s %s: no reason given:\n%s", tc.method, tc.path, b)
		}
	}
}
