package load_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/calletl/calletl/load"
	"github.com/calletl/calletl/model"
	"github.com/calletl/calletl/storage/storagetest"
)

// BenchmarkCompactionOnS3 measures compaction of a lake on S3 (versitygw
// on loopback) at the account scale of issue #12 item 7: 200 MTT customers
// × 4 history types (800 units) × 3 days of calls, each (unit, day)
// committed by its own transaction, 20 rows each. It reports the objects
// per partition, what a reader of the S3 lake pays to list and fetch it
// (a cold load.Mirror of the calls table, as etl report does on an S3
// lake) and a DuckDB count over that copy, before and after Compact, and
// the time of Compact itself.
//
//	PATH=$(go env GOPATH)/bin:$PATH go test -run '^$' -bench CompactionOnS3 -benchtime 1x -count 3 ./load/
func BenchmarkCompactionOnS3(b *testing.B) {
	const customers, days, perUnit = 200, 3, 20
	types := []string{"incoming", "missed", "dialed", "forwarded"}
	v := storagetest.StartVersity(b)
	for i := 0; i < b.N; i++ {
		st := s3Store(b, v, fmt.Sprintf("bench%d-%d", time.Now().UnixNano(), i))
		lake := openStoreLake(b, st, filepath.Join(b.TempDir(), "spool"), load.Options{})
		first := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
		for d := range days {
			day := first.AddDate(0, 0, d).Format(model.DayLayout)
			for c := range customers {
				account := fmt.Sprintf("1100%05d", c)
				for _, typ := range types {
					writeCalls(b, lake, "mtt", typ+"-"+account, unitCalls("mtt", typ+"-"+account, day, c*perUnit, perUnit))
				}
			}
		}
		read := func(what string) {
			dir := b.TempDir()
			start := time.Now()
			ms, err := load.Mirror(context.Background(), st, "lake", dir, load.Calls.Name)
			if err != nil {
				b.Fatal(err)
			}
			took := time.Since(start)
			db := openDuckDB(b)
			start = time.Now()
			n := queryInt(b, db, "SELECT count(*) FROM "+scan(dir, "calls"))
			query := time.Since(start)
			if n != int64(customers*len(types)*days*perUnit) {
				b.Fatalf("%s: %d rows", what, n)
			}
			b.ReportMetric(float64(ms.Objects)/days, what+"-objects/partition")
			b.ReportMetric(took.Seconds(), what+"-mirror-s")
			b.ReportMetric(query.Seconds(), what+"-count-s")
		}
		read("before")
		start := time.Now()
		cs, err := lake.Compact(context.Background(), "2026-10-04")
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(time.Since(start).Seconds(), "compact-s")
		if cs.Partitions != days {
			b.Fatalf("compacted %d partitions, want %d", cs.Partitions, days)
		}
		read("after")
	}
}
