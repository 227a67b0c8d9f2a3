package mtt

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"

	"github.com/calletl/calletl/extract/httpx"
	"github.com/calletl/calletl/load"
	"github.com/calletl/calletl/model"
	"github.com/calletl/calletl/sandbox"
	"github.com/calletl/calletl/secret"
)

// recorder keeps every response body the client reads.
type recorder struct {
	mu     sync.Mutex
	bodies [][]byte
	next   http.RoundTripper
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.next.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.bodies = append(r.bodies, b)
	r.mu.Unlock()
	resp.Body = io.NopCloser(bytes.NewReader(b))
	return resp, nil
}

// benchPages fetches full 1000-row getServiceHistoryByCustomer pages from
// the emulator, exactly as the extractor receives them.
func benchPages(b *testing.B, rows int) (pages [][]byte, day model.Window) {
	b.Helper()
	from := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	emu := sandbox.NewMTT(sandbox.MTTConfig{Seed: 3, Customers: []string{"110011256"}, From: from, To: from,
		CallsPerDay: rows * 2 / 3, Username: "u", Password: "p"}) // mean ±50%: at least `rows` on most seeds
	srv := httptest.NewServer(emu)
	defer srv.Close()
	rec := &recorder{next: http.DefaultTransport}
	c, err := New(Config{BaseURL: srv.URL, Username: "u", Password: secret.New("p"), Customers: []string{"110011256"},
		// Concurrency 1: one paging chain, so the recorded pages are in
		// the order a replay (pageTransport) serves them.
		HTTP: httpx.Config{Transport: rec, Concurrency: 1}}, nil)
	if err != nil {
		b.Fatal(err)
	}
	day, _ = model.DayWindow("2026-10-01", time.UTC)
	if err := c.History(context.Background(), "110011256", "dialed", day.From, day.To, func(Page) error { return nil }); err != nil {
		b.Fatal(err)
	}
	for _, p := range rec.bodies {
		if r, _, err := DecodeHistory(p, "dialed", nil); err == nil && len(r) == MaxPageSize {
			pages = append(pages, p)
		}
	}
	if len(pages)*MaxPageSize < rows/2 {
		b.Fatalf("only %d full pages", len(pages))
	}
	return pages, day
}

// benchLake opens a lake in a temporary directory, with the MapContext of
// the bench pages.
func benchLake(b *testing.B) (*load.Lake, *MapContext) {
	b.Helper()
	lake, err := load.Open(b.TempDir(), load.Options{})
	if err != nil {
		b.Fatal(err)
	}
	return lake, &MapContext{Customer: "110011256", Type: "dialed", Vendor: time.UTC, Business: time.UTC, RunID: "bench", ExtractedAt: time.Now()}
}

// pagesToLake is what the extractor does with pages, in one transaction:
// decode, validate and map every row, and write calls and mtt_calls.
func pagesToLake(b *testing.B, lake *load.Lake, mc *MapContext, pages [][]byte, day model.Window) {
	b.Helper()
	tx, err := lake.Begin("mtt", "dialed-110011256")
	if err != nil {
		b.Fatal(err)
	}
	calls, details := load.Writer(tx, load.Calls), load.Writer(tx, CallsTable)
	var (
		rs []Row
		c  model.Call
		d  Detail
	)
	for _, p := range pages {
		rs, _, err = DecodeHistory(p, "dialed", rs)
		if err != nil {
			b.Fatal(err)
		}
		for i := range rs {
			c, d, err = Map(mc, &rs[i])
			if err != nil {
				b.Fatal(err)
			}
			if err := calls.Add(day.Day, &c); err != nil {
				b.Fatal(err)
			}
			if err := details.Add(day.Day, &d); err != nil {
				b.Fatal(err)
			}
		}
	}
	if _, err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkPagesToParquet compares calletl's parse → normalise → Parquet
// (canonical calls and mtt_calls, zstd) with DuckDB's own read_json → COPY
// TO parquet over the same 1000-row MTT pages, in one process.
//
//	go test -run '^$' -bench PagesToParquet -benchtime 5x ./extract/mtt/
func BenchmarkPagesToParquet(b *testing.B) {
	pages, day := benchPages(b, 50_000)
	rows := len(pages) * MaxPageSize
	var size int
	for _, p := range pages {
		size += len(p)
	}
	b.Logf("%d pages, %d rows, %.1f MB of JSON", len(pages), rows, float64(size)/1e6)

	b.Run("calletl", func(b *testing.B) {
		lake, mc := benchLake(b)
		var ms0, ms1 runtime.MemStats
		runtime.ReadMemStats(&ms0)
		b.ResetTimer()
		for b.Loop() {
			pagesToLake(b, lake, mc, pages, day)
		}
		b.StopTimer()
		runtime.ReadMemStats(&ms1)
		n := float64(b.N) * float64(rows)
		b.ReportMetric(n/b.Elapsed().Seconds(), "rows/s")
		b.ReportMetric(float64(ms1.Mallocs-ms0.Mallocs)/n, "allocs/row")
	})

	b.Run("duckdb", func(b *testing.B) {
		dir := b.TempDir()
		for i, p := range pages {
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("page-%04d.json", i)), p, 0o644); err != nil {
				b.Fatal(err)
			}
		}
		db, err := sql.Open("duckdb", "")
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		out := filepath.Join(dir, "out.parquet")
		q := fmt.Sprintf(`COPY (SELECT unnest(result.dialed, recursive := true) FROM read_json('%s/page-*.json'))
			TO '%s' (FORMAT parquet, COMPRESSION zstd)`, dir, out)
		var got int64
		if err := db.QueryRow(fmt.Sprintf(`SELECT count(*) FROM (SELECT unnest(result.dialed) FROM read_json('%s/page-*.json'))`, dir)).Scan(&got); err != nil || got != int64(rows) {
			b.Fatalf("duckdb sees %d rows (%v), want %d", got, err, rows)
		}
		b.ResetTimer()
		for b.Loop() {
			if _, err := db.Exec(q); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)*float64(rows)/b.Elapsed().Seconds(), "rows/s")
	})

	// DuckDB as an incremental extractor would use it: each page is
	// converted when it arrives, one COPY per page.
	b.Run("duckdb-per-page", func(b *testing.B) {
		dir := b.TempDir()
		for i, p := range pages {
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("page-%04d.json", i)), p, 0o644); err != nil {
				b.Fatal(err)
			}
		}
		db, err := sql.Open("duckdb", "")
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		b.ResetTimer()
		for b.Loop() {
			for i := range pages {
				q := fmt.Sprintf(`COPY (SELECT unnest(result.dialed, recursive := true) FROM read_json('%s/page-%04d.json'))
					TO '%s/out-%04d.parquet' (FORMAT parquet, COMPRESSION zstd)`, dir, i, dir, i)
				if _, err := db.Exec(q); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(b.N)*float64(rows)/b.Elapsed().Seconds(), "rows/s")
	})
}
