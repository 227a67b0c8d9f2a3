package main

import (
	"fmt"
	"os/exec"
	"testing"
	"time"

	"github.com/calletl/calletl/storage/storagetest"
)

// BenchmarkShardsOnS3 is the scale-out speed-up: the same emulated night
// (100 MTT customers × 4 history types over 3 days, 50 ms per MTT answer,
// T2 and VotBox beside them) run by 1, 2 and 4 shard processes at once,
// the lake and the state on S3 (versitygw). One op is one night from an
// empty lake: the wall time until the last shard exits. API-bound, so
// the ideal is 1/n of one shard's time, less the work pinned to one shard
// (T2) and the fixed cost of a process.
//
//	PATH=$(go env GOPATH)/bin:$PATH go test -run '^$' -bench ShardsOnS3 -benchtime 1x -count 3 ./cmd/etl/
func BenchmarkShardsOnS3(b *testing.B) {
	v := storagetest.StartVersity(b)
	for _, n := range []int{1, 2, 4} {
		b.Run(fmt.Sprintf("shards=%d", n), func(b *testing.B) {
			var windows int
			for range b.N {
				b.StopTimer()
				w := newShardWorldWith(b, shardWorldOptions{customers: 100, callsPerDay: 4, latency: 50 * time.Millisecond, s3: v})
				b.StartTimer()
				cmds := make([]*exec.Cmd, n)
				outs := make([]fmt.Stringer, n)
				for i := range n {
					cmds[i], outs[i] = w.start(b, i, nil, "run", "--shard", fmt.Sprintf("%d/%d", i, n))
				}
				for i, c := range cmds {
					if err := c.Wait(); err != nil {
						b.Fatalf("shard %d/%d: %v\n%s", i, n, err, outs[i])
					}
				}
				windows = len(w.mtt) * 4 * 3
			}
			b.ReportMetric(float64(windows)*float64(b.N)/b.Elapsed().Seconds(), "mtt-windows/s")
		})
	}
}
