package main

import (
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/calletl/calletl/model"
	"github.com/calletl/calletl/sandbox"
)

// BenchmarkBigPages runs the real etl process (this test binary re-executed
// as etl, default memory_limit 160MiB) against the MTT emulator serving fat
// rows: every call carries an unknown field of rowKB random letters, so a
// full 1000-row page is ~rowKB MB of JSON (8 and 62 MB). Two customers × four history
// types are 8 streams, all in flight at once (http concurrency 8), each
// paging through one day of 2000 such calls (two full pages and a short
// one). It reports the etl process's peak RSS (VmHWM, sampled every 20 ms
// as in BenchmarkEndToEnd) and the JSON served per second (approximate: rows × row size).
//
//	go test -run '^$' -bench BigPages -benchtime 1x -count 3 ./cmd/etl/
func BenchmarkBigPages(b *testing.B) {
	for _, rowKB := range []int{8, 62} {
		b.Run(fmt.Sprintf("page=%dMB", rowKB), func(b *testing.B) {
			var rss, bodyBytes int64
			var elapsed time.Duration
			for b.Loop() {
				n, m, d := bigPages(b, rowKB<<10, 2000)
				bodyBytes, rss, elapsed = bodyBytes+n, max(rss, m), elapsed+d
			}
			b.ReportMetric(float64(rss)/1024, "peak-RSS-MB")
			b.ReportMetric(float64(bodyBytes)/1e6/elapsed.Seconds(), "MB/s")
		})
	}
}

// bigPages runs one etl process over 8 streams of perStream calls, each
// with an extra field of rowBytes, and returns the approximate JSON bytes
// served, the process's peak RSS in KiB and the wall time.
func bigPages(b *testing.B, rowBytes, perStream int) (served, maxRSSKB int64, elapsed time.Duration) {
	b.Helper()
	customers := []string{"110011256", "110022512"}
	types := []string{"incoming", "missed", "dialed", "forwarded"}
	emu := sandbox.NewMTT(sandbox.MTTConfig{Seed: 7, Customers: customers, Username: "u", Password: "benchmark-pw"})

	// Random letters (no JSON escaping, barely compressible), each call a
	// different window of one pool: no two rows of a page repeat.
	const poolSize = 64 << 20
	rng := rand.New(rand.NewPCG(1, 2))
	buf := make([]byte, poolSize+rowBytes)
	for i := range buf {
		buf[i] = 'a' + byte(rng.IntN(26))
	}
	pool := string(buf)
	day := model.Day(time.Now().AddDate(0, 0, -1), msk)
	start, _ := time.ParseInLocation(model.DayLayout, day, msk)
	var calls []sandbox.MTTCall
	n := 0
	for _, cust := range customers {
		for _, typ := range types {
			for i := range perStream {
				off := (n * 7919 * 64) % poolSize
				n++
				used := 30 + i%300
				if typ == "missed" {
					used = 0
				}
				calls = append(calls, sandbox.MTTCall{
					Customer: cust, Type: typ,
					ConfID:      fmt.Sprintf("%08X %08X 00000000 00000000", n, i),
					ConnectTime: start.Add(time.Minute + time.Duration(i)*30*time.Second),
					CLI:         "74951234567", CLD: fmt.Sprintf("7916%07d", i),
					Destination: "Moscow mobile", ChargedTime: used, UsedQuantity: used,
					CostE4: int64(used) * 100, DisconnectCause: 16,
					Extra: map[string]string{"x_blob": pool[off : off+rowBytes]},
				})
			}
		}
	}
	emu.AddCalls(calls...)
	calls, buf, pool = nil, nil, ""
	served = int64(len(customers)*len(types)*perStream) * int64(rowBytes+400)

	srv := httptest.NewServer(emu)
	defer srv.Close()
	dir := b.TempDir()
	os.WriteFile(filepath.Join(dir, "pw"), []byte("benchmark-pw"), 0o600)
	cfg := fmt.Sprintf(`lake: lake
state: state
timezone: Europe/Moscow
start_date: %s
sources:
  mtt:
    base_url: %s
    username: u
    password: {file: pw}
    customers: ["110011256", "110022512"]
    http: {concurrency: 8}
`, day, srv.URL)
	os.WriteFile(filepath.Join(dir, "etl.yaml"), []byte(cfg), 0o644)

	stderr, maxRSSKB, elapsed := runETLMeasured(b, filepath.Join(dir, "etl.yaml"), "--log-level", "warn", "--no-progress", "run")
	m := summaryLine.FindStringSubmatch(stderr)
	if m == nil {
		b.Fatalf("no summary line in:\n%s", stderr)
	}
	// The summary also counts the accounts and balance snapshot rows.
	if rows, _ := strconv.Atoi(m[3]); rows < len(customers)*len(types)*perStream {
		b.Fatalf("loaded %d rows, want at least %d:\n%s", rows, len(customers)*len(types)*perStream, stderr)
	}
	return served, maxRSSKB, elapsed
}
