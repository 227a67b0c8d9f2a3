package mtt

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/calletl/calletl/extract/httpx"
	"github.com/calletl/calletl/load"
	"github.com/calletl/calletl/model"
	"github.com/calletl/calletl/pipeline"
	"github.com/calletl/calletl/secret"
)

// anchorPages is the size of the anchor: 1,000 full pages, 1M rows.
const anchorPages = 1000

// duckdbHistoryColumns types every documented field of a
// getServiceHistoryByCustomer answer for DuckDB's read_json, so that it
// does no sampling or type detection: times as TIMESTAMPTZ, money as
// DECIMAL(18,4), the way the lake stores them.
const duckdbHistoryColumns = `{result: 'STRUCT(dialed STRUCT(cli VARCHAR, cld VARCHAR,
	customer_local_time TIMESTAMPTZ, connect_time TIMESTAMPTZ, charged_time INTEGER, charged DECIMAL(18,4),
	destination VARCHAR, h323_conf_id VARCHAR, h323_incoming_conf_id VARCHAR, curr VARCHAR,
	setup_time_ms INTEGER, disconnect_cause SMALLINT, account_id VARCHAR, used_quantity INTEGER,
	voice_record_exist BOOLEAN)[])'}`

// BenchmarkAnchor is the honest anchor: in one run, over the same 1,000
// generated 1000-row MTT pages (1M rows), it measures
//
//   - calletl: the extractor (Source.Extract) over the pages served from
//     memory: decode, validate and map every row, write calls and
//     mtt_calls, the next page decoded while the current one is written;
//   - duckdb-1table: DuckDB, through the same driver, reading the pages
//     with an explicitly typed read_json (no auto-detection) and COPYing
//     one table of the rows to Parquet, zstd;
//   - duckdb-2tables: DuckDB reading them the same way into a temporary
//     table and COPYing the two tables calletl writes (calls with the
//     canonical columns it can compute in SQL, mtt_calls with the
//     columns calls does not hold), zstd.
//
// Each iteration runs the three back to back and the benchmark reports
// each one's rows/s and calletl's rate over each DuckDB rate (x-1table,
// x-2tables): on a shared machine a ratio compares runs made under the
// same load. With -count each sample regenerates the pages.
//
//	go test -run '^$' -bench Anchor -benchtime 1x -count 3 -timeout 30m ./extract/mtt/
func BenchmarkAnchor(b *testing.B) {
	pages, day := benchPages(b, anchorPages*MaxPageSize*3/2) // the generator may make fewer than asked
	if len(pages) < anchorPages {
		b.Fatalf("only %d full pages, want %d", len(pages), anchorPages)
	}
	pages = pages[:anchorPages]
	rows := len(pages) * MaxPageSize
	dir := b.TempDir()
	var size int
	for i, p := range pages {
		size += len(p)
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("page-%04d.json", i)), p, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("%d pages, %d rows, %.0f MB of JSON", len(pages), rows, float64(size)/1e6)
	lake, _ := benchLake(b)
	db, err := sql.Open("duckdb", "")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`SET TimeZone = 'UTC'`); err != nil {
		b.Fatal(err)
	}
	src := fmt.Sprintf(`SELECT unnest(result.dialed, recursive := true)
		FROM read_json('%s/page-*.json', columns = %s, format = 'auto')`, dir, duckdbHistoryColumns)
	var got int64
	if err := db.QueryRow(`SELECT count(*) FROM (` + src + `)`).Scan(&got); err != nil || got != int64(rows) {
		b.Fatalf("duckdb sees %d rows (%v), want %d", got, err, rows)
	}
	out := b.TempDir()
	// timed runs f and adds its CPU time (every thread of the process:
	// DuckDB's run in it too) to *cpu.
	timed := func(cpu *time.Duration, f func()) time.Duration {
		start, cpu0 := time.Now(), cpuTime(b)
		f()
		*cpu += cpuTime(b) - cpu0
		return time.Since(start)
	}

	// calletl's rate counts the rows it loads: each page after the first
	// repeats the rows of the second it starts at, which History drops
	// (~1% of the rows DuckDB writes).
	var loaded, calletlBytes int64
	var tCalletl, tOne, tTwo, cpuCalletl, cpuOne, cpuTwo time.Duration
	b.ResetTimer()
	for b.Loop() {
		tCalletl += timed(&cpuCalletl, func() { loaded, calletlBytes = extractPages(b, lake, pages, day) })
		tOne += timed(&cpuOne, func() {
			if _, err := db.Exec(fmt.Sprintf(`COPY (%s) TO '%s/one.parquet' (FORMAT parquet, COMPRESSION zstd)`, src, out)); err != nil {
				b.Fatal(err)
			}
		})
		tTwo += timed(&cpuTwo, func() {
			for _, q := range duckdbTwoTables(src, out) {
				if _, err := db.Exec(q); err != nil {
					b.Fatalf("%v\n%s", err, q)
				}
			}
		})
	}
	b.StopTimer()
	if loaded < int64(rows)*95/100 {
		b.Fatalf("extracted %d rows of %d", loaded, rows)
	}
	n := float64(b.N)
	calletl, one, two := n*float64(loaded)/tCalletl.Seconds(), n*float64(rows)/tOne.Seconds(), n*float64(rows)/tTwo.Seconds()
	b.ReportMetric(calletl, "calletl-rows/s")
	b.ReportMetric(one, "duckdb-1table-rows/s")
	b.ReportMetric(two, "duckdb-2tables-rows/s")
	b.ReportMetric(calletl/one, "x-1table")
	b.ReportMetric(calletl/two, "x-2tables")
	// CPU seconds per million rows written: what each needs of the
	// machine, which the load of other processes changes less than rates.
	perM := func(cpu time.Duration, rows float64) float64 { return cpu.Seconds() * 1e6 / (n * rows) }
	b.ReportMetric(perM(cpuCalletl, float64(loaded)), "calletl-cpu-s/Mrows")
	b.ReportMetric(perM(cpuOne, float64(rows)), "duckdb-1table-cpu-s/Mrows")
	b.ReportMetric(perM(cpuTwo, float64(rows)), "duckdb-2tables-cpu-s/Mrows")
	// Parquet bytes written: calletl's calls + mtt_calls (+ rejects), DuckDB's one table and its two.
	b.ReportMetric(float64(calletlBytes)/1e6, "calletl-MB")
	b.ReportMetric(float64(fileSize(b, out, "one.parquet"))/1e6, "duckdb-1table-MB")
	b.ReportMetric(float64(fileSize(b, out, "calls.parquet")+fileSize(b, out, "mtt_calls.parquet"))/1e6, "duckdb-2tables-MB")
}

// fileSize is the size of dir/name.
func fileSize(b *testing.B, dir, name string) int64 {
	fi, err := os.Stat(filepath.Join(dir, name))
	if err != nil {
		b.Fatal(err)
	}
	return fi.Size()
}

// pageTransport answers each request with the next of pages, and then
// with an empty history, as the API ends a day.
type pageTransport struct {
	mu    sync.Mutex
	pages [][]byte
	next  int
}

func (t *pageTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		req.Body.Close()
	}
	t.mu.Lock()
	body := []byte(`{"jsonrpc":"2.0","id":"1","result":{"dialed":[],"success":1}}`)
	if t.next < len(t.pages) {
		body = t.pages[t.next]
		t.next++
	}
	t.mu.Unlock()
	return &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(bytes.NewReader(body)), ContentLength: int64(len(body)), Request: req}, nil
}

// extractPages is the extractor at work on pages, the network left out:
// Source.Extract of the day's dialed window (History's paging with the
// next page fetched and decoded while the current one is written, Map,
// calls, mtt_calls and rejects) into one transaction of lake, with the
// answers served from memory. It returns the rows loaded and the bytes of
// the files written.
func extractPages(b *testing.B, lake *load.Lake, pages [][]byte, day model.Window) (rows, bytes int64) {
	b.Helper()
	c, err := New(Config{BaseURL: "http://mtt.invalid/", Username: "u", Password: secret.New("p"), Customers: []string{"110011256"},
		// Concurrency 1: pageTransport replays the pages in order whatever
		// range is asked, so the window must not split into chains.
		Types: []string{"dialed"}, HTTP: httpx.Config{Transport: &pageTransport{pages: pages}, Concurrency: 1}}, nil)
	if err != nil {
		b.Fatal(err)
	}
	tx, err := lake.Begin(Name, "dialed-110011256")
	if err != nil {
		b.Fatal(err)
	}
	defer tx.Abort()
	key := model.StreamKey{Source: Name, Stream: "dialed", Account: "110011256"}
	sink := pipeline.NewSink(tx, model.Run{ID: "bench", Mode: "run", StartedAt: time.Now(), Location: time.UTC}, model.Origin{Key: key, Window: day.String()})
	if _, err := NewSource(c).Extract(context.Background(), key, day, sink); err != nil {
		b.Fatal(err)
	}
	stats, err := tx.Commit()
	if err != nil {
		b.Fatal(err)
	}
	return sink.Counts().Rows, stats.Bytes
}

// duckdbTwoTables are the statements with which DuckDB writes what calletl
// writes from the rows of src: a temporary table, then calls (the
// canonical columns, phones reduced to digits with 8 → 7, the status
// derived as Map does) and mtt_calls (the key, the fields calls does
// not hold, the charges and the duplicate flag).
func duckdbTwoTables(src, out string) []string {
	now := time.Now().UTC().Format("2006-01-02 15:04:05")
	phone := func(col string) string {
		return fmt.Sprintf(`CASE WHEN length(regexp_replace(%[1]s, '[^0-9]', '', 'g')) = 11 AND %[1]s LIKE '8%%'
			THEN '7' || regexp_replace(%[1]s, '[^0-9]', '', 'g')[2:] ELSE regexp_replace(%[1]s, '[^0-9]', '', 'g') END`, col)
	}
	calls := fmt.Sprintf(`COPY (SELECT '110011256' AS account, coalesce(nullif(trim(h323_conf_id), ''), md5(cli || cld || connect_time::VARCHAR)) AS call_id,
		'outgoing' AS direction, connect_time AS started_at, %s AS caller, cli AS caller_raw, %s AS callee, cld AS callee_raw,
		used_quantity AS duration_s, used_quantity AS talk_s, charged_time AS billed_s, charged AS cost, curr AS currency,
		CASE WHEN used_quantity > 0 THEN 'answered' ELSE 'not_answered' END AS status, disconnect_cause,
		CASE disconnect_cause WHEN 16 THEN 'normal call clearing' WHEN 17 THEN 'user busy' WHEN 19 THEN 'no answer' ELSE '' END AS disconnect_label,
		coalesce(voice_record_exist, false) AS has_recording,
		CASE WHEN voice_record_exist THEN replace(trim(h323_conf_id), ' ', '_') ELSE '' END AS recording_ref,
		'bench' AS run_id, TIMESTAMPTZ '%s' AS extracted_at, false AS duplicate
		FROM rows) TO '%s/calls.parquet' (FORMAT parquet, COMPRESSION zstd)`, phone("cli"), phone("cld"), now, out)
	details := fmt.Sprintf(`COPY (SELECT '110011256' AS customer_name, 'dialed' AS type,
		coalesce(nullif(trim(h323_conf_id), ''), md5(cli || cld || connect_time::VARCHAR)) AS call_id,
		customer_local_time, destination, setup_time_ms, account_id, h323_conf_id, h323_incoming_conf_id,
		voice_record_exist, '' AS extras, charged_time, charged, curr, false AS duplicate
		FROM rows) TO '%s/mtt_calls.parquet' (FORMAT parquet, COMPRESSION zstd)`, out)
	return []string{
		`CREATE OR REPLACE TEMP TABLE rows AS ` + strings.TrimSpace(src),
		calls,
		details,
		`DROP TABLE rows`,
	}
}

// BenchmarkExtractPages is the calletl half of BenchmarkAnchor alone, over
// 200 pages (200k rows), for profiles:
//
//	go test -run '^$' -bench ExtractPages -benchtime 3x -cpuprofile cpu.out ./extract/mtt/
func BenchmarkExtractPages(b *testing.B) {
	pages, day := benchPages(b, 300*MaxPageSize)
	if len(pages) < 200 {
		b.Fatalf("only %d full pages, want 200", len(pages))
	}
	pages = pages[:200]
	lake, _ := benchLake(b)
	var loaded, size int64
	cpu0 := cpuTime(b)
	b.ResetTimer()
	for b.Loop() {
		rows, bytes := extractPages(b, lake, pages, day)
		loaded += rows
		size = bytes
	}
	b.StopTimer()
	b.ReportMetric(float64(loaded)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(size)/1e6, "file-MB")
	// CPU seconds per million rows, over every goroutine: steadier than
	// the rate on a shared machine.
	b.ReportMetric((cpuTime(b)-cpu0).Seconds()*1e6/float64(loaded), "cpu-s/Mrows")
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
