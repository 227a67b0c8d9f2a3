package load_test

import (
	"bytes"
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"testing"
	"time"

	"github.com/calletl/calletl/load"
	"github.com/calletl/calletl/model"
)

// BenchmarkWriteCalls writes b.N canonical calls to one partition in one
// transaction, commit included, and reports rows/s, file bytes per row and
// the process's peak RSS (VmHWM, Linux only). With -benchtime=1000000x and
// more, peak RSS must stay flat: a partition holds one row group and one
// batch in memory whatever the number of rows.
func BenchmarkWriteCalls(b *testing.B) {
	lake, err := load.Open(b.TempDir(), load.Options{})
	if err != nil {
		b.Fatal(err)
	}
	rows := make([]model.Call, 16384) // cycle > one 1 MiB page, so zstd cannot just repeat it
	for i := range rows {
		rows[i] = syntheticCall(i, day1)
	}
	b.ReportAllocs()
	b.ResetTimer()

	tx, err := lake.Begin("mtt", "bench")
	if err != nil {
		b.Fatal(err)
	}
	defer tx.Abort()
	w := load.Writer(tx, load.Calls)
	for i := 0; i < b.N; i++ {
		if err := w.Add(day1, &rows[i%len(rows)]); err != nil {
			b.Fatal(err)
		}
	}
	stats, err := tx.Commit()
	if err != nil {
		b.Fatal(err)
	}
	b.StopTimer()

	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(stats.Bytes)/float64(b.N), "file-B/row")
	if kb, ok := peakRSSKB(); ok {
		b.ReportMetric(float64(kb)/1024, "peak-RSS-MB")
	}
}

// peakRSSKB returns the process's peak resident set size from
// /proc/self/status.
func peakRSSKB() (int64, bool) {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, false
	}
	for line := range bytes.Lines(status) {
		if v, ok := bytes.CutPrefix(line, []byte("VmHWM:")); ok {
			v = bytes.TrimSuffix(bytes.TrimSpace(v), []byte("kB"))
			kb, err := strconv.ParseInt(string(bytes.TrimSpace(v)), 10, 64)
			return kb, err == nil
		}
	}
	return 0, false
}

// BenchmarkTxManyDays writes 1M canonical calls spread over 30 days in
// one transaction, day after day, as a whole-history read does (VoiceBox
// items), commit included; every day's partition stays open until the
// commit. It reports rows/s and the process's peak RSS during the
// transaction (VmHWM, reset through /proc/self/clear_refs first), under
// the default memory_limit (a 160 MiB Go soft limit) and without one.
//
//	go test -run '^$' -bench TxManyDays -benchtime 1x -count 3 ./load/
func BenchmarkTxManyDays(b *testing.B) {
	const days, rows = 30, 1_000_000
	pool := make([]model.Call, 16384)
	for i := range pool {
		pool[i] = syntheticCall(i, day1)
	}
	for _, limit := range []int64{160 << 20, math.MaxInt64} {
		name := "memory_limit=160MiB"
		if limit == math.MaxInt64 {
			name = "memory_limit=off"
		}
		b.Run(name, func(b *testing.B) {
			defer debug.SetMemoryLimit(debug.SetMemoryLimit(limit))
			lake, err := load.Open(b.TempDir(), load.Options{})
			if err != nil {
				b.Fatal(err)
			}
			start, _ := time.Parse(model.DayLayout, day1)
			var peak int64
			for b.Loop() {
				runtime.GC()
				resetPeakRSS(b)
				tx, err := lake.Begin("voicebox", "history")
				if err != nil {
					b.Fatal(err)
				}
				w := load.Writer(tx, load.Calls)
				for d := range days {
					date := start.AddDate(0, 0, d).Format(model.DayLayout)
					for i := range rows / days {
						c := &pool[i%len(pool)]
						c.Date = date
						if err := w.Add(date, c); err != nil {
							b.Fatal(err)
						}
					}
				}
				if _, err := tx.Commit(); err != nil {
					b.Fatal(err)
				}
				if kb, ok := peakRSSKB(); ok {
					peak = max(peak, kb)
				}
			}
			b.ReportMetric(float64(b.N)*rows/b.Elapsed().Seconds(), "rows/s")
			b.ReportMetric(float64(peak)/1024, "peak-RSS-MB")
		})
	}
}

// resetPeakRSS resets the process's VmHWM to its current RSS (Linux).
func resetPeakRSS(b *testing.B) {
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		b.Logf("peak RSS not reset: %v", err)
	}
}
