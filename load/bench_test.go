package load_test

import (
	"bytes"
	"os"
	"strconv"
	"testing"

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
