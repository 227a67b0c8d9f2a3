package main

import (
	"bytes"
	"cmp"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/calletl/calletl/model"
	"github.com/calletl/calletl/sandbox"
)

// BenchmarkEndToEnd runs the real etl process (this test binary re-executed
// as etl) against the MTT emulator served from the benchmark process, and
// reports throughput and the etl process's peak RSS. The emulator's memory
// is not counted. Sizes grow by days of ~100k calls (4 history types ×
// ~25k), so a flat peak RSS means memory does not grow with the row count.
//
//	go test -run '^$' -bench EndToEnd -benchtime 1x ./cmd/etl/
func BenchmarkEndToEnd(b *testing.B) {
	for _, days := range []int{3, 11} {
		b.Run(fmt.Sprintf("days=%d", days), func(b *testing.B) {
			var rows int64
			var rss int64
			var elapsed time.Duration
			for b.Loop() {
				r, _, m, d := endToEnd(b, days, 25_000, 0, 0)
				rows, rss, elapsed = rows+r, max(rss, m), elapsed+d
			}
			b.ReportMetric(float64(rows)/float64(b.N), "rows")
			b.ReportMetric(float64(rows)/elapsed.Seconds(), "rows/s")
			b.ReportMetric(float64(rss)/1024, "peak-RSS-MB")
		})
	}
}

// summaryLine is the run summary in a JSON log (a piped stderr).
var summaryLine = regexp.MustCompile(`"msg":"run summary","run_id":"[^"]+","windows":(\d+),"pages":(\d+),"rows":(\d+)`)

// BenchmarkBigDays runs the real etl process as BenchmarkEndToEnd does
// over one day of ~250k calls per history type: four windows of a
// quarter-million rows each in flight at once. It reports throughput and
// peak RSS with the default memory_limit and with none (GOMEMLIMIT=off),
// in the same run.
//
//	go test -run '^$' -bench BigDays -benchtime 1x -count 3 -timeout 30m ./cmd/etl/
func BenchmarkBigDays(b *testing.B) {
	for _, limit := range []string{"", "off"} {
		name := "memory_limit=default"
		if limit != "" {
			name = "memory_limit=" + limit
		}
		b.Run(name, func(b *testing.B) {
			b.Setenv("GOMEMLIMIT", limit) // the environment wins over the config; "" leaves it to the config
			var rows, rss int64
			var elapsed time.Duration
			for b.Loop() {
				r, _, m, d := endToEnd(b, 1, 250_000, 0, 0)
				rows, rss, elapsed = rows+r, max(rss, m), elapsed+d
			}
			b.ReportMetric(float64(rows)/float64(b.N), "rows")
			b.ReportMetric(float64(rows)/elapsed.Seconds(), "rows/s")
			b.ReportMetric(float64(rss)/1024, "peak-RSS-MB")
		})
	}
}

// BenchmarkAPIBound runs the real etl process as BenchmarkEndToEnd does,
// against an emulator that answers every request after latency L, with
// http concurrency C = 4 (4 history streams at once). Such a run is bound
// by the API: its ideal wall time is requests × L ÷ C. It reports the
// wall time over that ideal (measured/ideal); prefetching the next page
// while the current one is processed is what brings it near 1. Pages of
// 1000 rows (the API's maximum) need ~5 ms of CPU each on an idle machine;
// pages of 100 rows (page_size: 100, a tenth of the calls, the same number
// of requests) keep the run bound by the API even when the machine is busy.
//
//	go test -run '^$' -bench APIBound -benchtime 1x -count 3 ./cmd/etl/
func BenchmarkAPIBound(b *testing.B) {
	const concurrency = 4
	for _, c := range []struct{ page, perDay int }{{1000, 25_000}, {100, 2_500}} {
		// Latency 0 measures what the run costs besides its requests'
		// round trips (start, CPU, the lake's commit, the checks).
		for _, latency := range []time.Duration{0, 50 * time.Millisecond, 100 * time.Millisecond} {
			b.Run(fmt.Sprintf("page=%d/latency=%s", c.page, latency), func(b *testing.B) {
				var rows, pages int64
				var elapsed time.Duration
				for b.Loop() {
					r, p, _, d := endToEnd(b, 3, c.perDay, latency, c.page)
					rows, pages, elapsed = rows+r, pages+p, elapsed+d
				}
				ideal := time.Duration(pages) * latency / concurrency
				b.ReportMetric(float64(pages)/float64(b.N), "requests")
				b.ReportMetric(float64(rows)/elapsed.Seconds(), "rows/s")
				if latency > 0 {
					b.ReportMetric(ideal.Seconds()/float64(b.N), "ideal-s")
					b.ReportMetric(elapsed.Seconds()/ideal.Seconds(), "measured/ideal")
				}
			})
		}
	}
}

// endToEnd runs one etl process over days of about perDay calls per
// history type, against an emulator answering after latency, with MTT's
// page_size (0: the default), and returns
// the rows of the run's summary, the requests the emulator answered, the
// process's peak RSS and its wall time.
func endToEnd(b *testing.B, days, perDay int, latency time.Duration, pageSize int) (rows, requests, maxRSSKB int64, elapsed time.Duration) {
	b.Helper()
	now := time.Now()
	today := now.UTC().Truncate(24 * time.Hour)
	emu := sandbox.NewMTT(sandbox.MTTConfig{Seed: 5, Customers: []string{"110011256"},
		From: today.AddDate(0, 0, -days), To: today.AddDate(0, 0, 1), CallsPerDay: perDay, Username: "u", Password: "benchmark-pw"})
	emu.SetFaults(sandbox.Faults{Latency: latency})
	var served atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
		emu.ServeHTTP(w, r)
	}))
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
    customers: ["110011256"]
    page_size: %d
    http: {concurrency: 4}
`, model.Day(now.AddDate(0, 0, -(days-1)), msk), srv.URL, cmp.Or(pageSize, 1000))
	os.WriteFile(filepath.Join(dir, "etl.yaml"), []byte(cfg), 0o644)

	stderr, maxRSSKB, elapsed := runETLMeasured(b, filepath.Join(dir, "etl.yaml"), "--log-level", "warn", "run")
	m := summaryLine.FindStringSubmatch(stderr)
	if m == nil {
		b.Fatalf("no summary line in:\n%s", stderr)
	}
	rows, _ = strconv.ParseInt(m[3], 10, 64)
	return rows, served.Load(), maxRSSKB, elapsed
}

// runETLMeasured runs etl as a child process (the test binary re-executed
// as the CLI) with --config cfg and args, and returns its stderr, its peak
// RSS in KiB and its wall time; a non-zero exit fails b.
func runETLMeasured(b *testing.B, cfg string, args ...string) (stderr string, maxRSSKB int64, elapsed time.Duration) {
	b.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"--config", cfg}, args...)...)
	cmd.Env = append(os.Environ(), "CALLETL_E2E_CHILD=1")
	var errb bytes.Buffer
	cmd.Stderr = &errb
	start := time.Now()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	// The child's own high-water mark (VmHWM), sampled until it exits.
	// Not rusage: Linux carries the parent's RSS at fork into a child's
	// ru_maxrss, which would count the emulator.
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			kb := vmHWM(cmd.Process.Pid)
			if kb == 0 {
				return
			}
			maxRSSKB = max(maxRSSKB, kb)
			time.Sleep(20 * time.Millisecond)
		}
	}()
	err := cmd.Wait()
	<-done
	elapsed = time.Since(start)
	if err != nil {
		b.Fatalf("etl %v: %v\n%s", args, err, errb.String())
	}
	return errb.String(), maxRSSKB, elapsed
}

// vmHWM returns the peak resident set of a live process in KiB, 0 once it
// is gone (or a zombie, whose memory is released).
func vmHWM(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return n
		}
	}
	return 0
}
