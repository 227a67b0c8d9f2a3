package report

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/calletl/calletl/load"
	"github.com/calletl/calletl/model"
	"github.com/calletl/calletl/queries"
)

// BenchmarkCompaction measures what compaction buys readers at the scale
// of issue #12 item 7: 200 MTT customers × 4 history types (800 units, as
// the pipeline names them: "<type>-<customer>") × 30 days of the calls
// table, each (unit, day) committed by its own load transaction as the
// pipeline commits a window, with CALLETL_COMPACT_ROWS rows each (default
// 20, about the demo's median file). It reports files per partition, and
// the latency of the daily_summary report (report engine) and of a plain
// DuckDB count/sum over read_parquet, before and after `Lake.Compact`.
//
//	go test -run '^$' -bench Compaction -benchtime 3x -v ./report/
func BenchmarkCompaction(b *testing.B) {
	const customers, days = 200, 30
	types := []string{"incoming", "missed", "dialed", "forwarded"}
	perUnit := 20
	if s := os.Getenv("CALLETL_COMPACT_ROWS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			b.Fatalf("CALLETL_COMPACT_ROWS=%q: want a positive number", s)
		}
		perUnit = n
	}
	root := b.TempDir()
	lake, err := load.Open(root, load.Options{})
	if err != nil {
		b.Fatal(err)
	}
	first := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	start := time.Now()
	var total int64
	for d := range days {
		day := first.AddDate(0, 0, d).Format(model.DayLayout)
		for c := range customers {
			account := fmt.Sprintf("1100%05d", c)
			for ti, typ := range types {
				tx, err := lake.Begin("mtt", typ+"-"+account)
				if err != nil {
					b.Fatal(err)
				}
				w := load.Writer(tx, load.Calls)
				for i := range perUnit {
					call := benchCall(day, account, typ, (c*len(types)+ti)*perUnit+i)
					if err := w.Add(day, &call); err != nil {
						b.Fatal(err)
					}
				}
				if _, err := tx.Commit(); err != nil {
					b.Fatal(err)
				}
				total += int64(perUnit)
			}
		}
	}
	b.Logf("wrote %d rows in %d unit files in %v", total, days*customers*len(types), time.Since(start).Round(time.Millisecond))

	ctx := context.Background()
	var compactSeconds float64 // 0 before compaction
	measure := func(stage string) {
		files, bytes := lakeFileStats(b, filepath.Join(root, "calls"))
		perPartition := float64(files) / days
		e, err := Open(ctx, Options{Lake: root, TimeZone: "UTC", Tables: allTables()})
		if err != nil {
			b.Fatal(err)
		}
		defer e.Close()
		cat, err := Catalogue(queries.FS())
		if err != nil {
			b.Fatal(err)
		}
		var daily Report
		for _, r := range cat {
			if r.Name == "daily_summary" {
				daily = r
			}
		}
		b.Run(stage+"/daily_summary", func(b *testing.B) {
			for b.Loop() {
				res, err := e.Query(ctx, daily, nil)
				if err != nil {
					b.Fatal(err)
				}
				if len(res.Rows) != days*len(types) { // one per day and direction
					b.Fatalf("daily_summary: %d rows, want %d", len(res.Rows), days*len(types))
				}
			}
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/report")
			b.ReportMetric(perPartition, "files/partition")
			b.ReportMetric(float64(bytes)/float64(files)/1024, "KB/file")
			if compactSeconds > 0 {
				b.ReportMetric(compactSeconds, "compact-s")
			}
		})
		db, err := sql.Open("duckdb", "")
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		q := "SELECT count(*), CAST(sum(cost) AS VARCHAR) FROM read_parquet('" + filepath.ToSlash(root) +
			"/calls/**/*.parquet', hive_partitioning=true, hive_types={'source':VARCHAR,'date':DATE})"
		b.Run(stage+"/duckdb_count_sum", func(b *testing.B) {
			for b.Loop() {
				var n int64
				var sum sql.NullString
				if err := db.QueryRow(q).Scan(&n, &sum); err != nil || n != total {
					b.Fatalf("count %d, want %d (%v)", n, total, err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/query")
			b.ReportMetric(perPartition, "files/partition")
		})
	}
	measure("before")
	start = time.Now()
	st, err := lake.Compact(ctx, first.AddDate(0, 0, days).Format(model.DayLayout))
	if err != nil {
		b.Fatal(err)
	}
	compactSeconds = time.Since(start).Seconds()
	b.Logf("compacted %d partitions, %d files → %d, %d rows, %.1f MB in %.1f s",
		st.Partitions, st.FilesBefore, st.Partitions, st.Rows, float64(st.Bytes)/1e6, compactSeconds)
	measure("after")

	// A backfill of one stream into a compacted day: the cost of
	// rewriting that day's compacted file.
	b.Run("after/backfill_one_unit_day", func(b *testing.B) {
		day := first.Format(model.DayLayout)
		for b.Loop() {
			tx, err := lake.Begin("mtt", "dialed-110000007")
			if err != nil {
				b.Fatal(err)
			}
			w := load.Writer(tx, load.Calls)
			for i := range perUnit {
				call := benchCall(day, "110000007", "dialed", (7*len(types)+2)*perUnit+i)
				if err := w.Add(day, &call); err != nil {
					b.Fatal(err)
				}
			}
			if _, err := tx.Commit(); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/commit")
	})
}

// benchCall is call number i of an MTT history type on day.
func benchCall(day, account, typ string, i int) model.Call {
	d, _ := time.Parse(model.DayLayout, day)
	start := d.Add(time.Duration(i%86400) * time.Second)
	dir := map[string]string{"incoming": model.Incoming, "missed": model.Missed, "dialed": model.Outgoing, "forwarded": model.Forwarded}[typ]
	talk := int32(i % 500)
	if dir == model.Missed {
		talk = 0
	}
	return model.Call{
		Source: "mtt", Date: day, Account: account,
		CallID:    fmt.Sprintf("%s-%s-%d", day, account, i),
		Direction: dir, StartedAt: start,
		Caller: fmt.Sprintf("7916%07d", i%10000000), CallerRaw: fmt.Sprintf("8916%07d", i%10000000),
		Callee: fmt.Sprintf("7495%07d", (i*7)%10000000), CalleeRaw: fmt.Sprintf("7495%07d", (i*7)%10000000),
		DurationS:       sql.Null[int32]{V: talk + 5, Valid: true},
		TalkS:           sql.Null[int32]{V: talk, Valid: true},
		BilledS:         sql.Null[int32]{V: (talk + 59) / 60 * 60, Valid: true},
		Cost:            sql.Null[model.Money]{V: model.Money(int64(i%1000) * 100), Valid: true},
		Currency:        "RUB",
		Status:          "answered",
		DisconnectCause: sql.Null[int16]{V: 16, Valid: true}, DisconnectLabel: "normal clearing",
		HasRecording: i%3 == 0, RecordingRef: fmt.Sprintf("ref%d", i),
		RunID: "bench", ExtractedAt: start.Add(24 * time.Hour),
	}
}

// lakeFileStats counts the Parquet files under dir and their bytes.
func lakeFileStats(b *testing.B, dir string) (files int, bytes int64) {
	b.Helper()
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && filepath.Ext(path) == ".parquet" {
			fi, err := d.Info()
			if err != nil {
				return err
			}
			files++
			bytes += fi.Size()
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return files, bytes
}
