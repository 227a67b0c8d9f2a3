package receive

import (
	"context"
	"io"
	"net/http"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/calletl/calletl/load"
	"github.com/calletl/calletl/sandbox"
)

// BenchmarkReceive measures events acknowledged per second through the
// HTTP handler into a local spool (every event fsynced before its 200,
// group commit), with 32 concurrent senders over loopback keep-alive
// connections; then the landing of what was stored into a local lake.
//
//	go test ./receive -run '^$' -bench Receive -benchtime 20000x
func BenchmarkReceive(b *testing.B) {
	r := newRig(b, b.TempDir())
	evs, _ := sandbox.GenVotBox(9, 1, b.N/3+1, at)
	url := r.srv.URL + "/v1/votbox/votbox/" + testSecret + "?"
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	var next atomic.Int64
	b.SetParallelism(max(1, 32/runtime.GOMAXPROCS(0))) // 32 senders
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := int(next.Add(1)-1) % len(evs)
			resp, err := client.Get(url + evs[i].Query)
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
		}
	})
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
	lake, err := load.Open(filepath.Join(b.TempDir(), "lake"), load.Options{})
	if err != nil {
		b.Fatal(err)
	}
	t0 := time.Now()
	st, err := NewLander(r.spool, lake, LanderOptions{}).LandOnce(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	if n := st.Rows["votbox_events"]; n > 0 {
		b.ReportMetric(float64(n)/time.Since(t0).Seconds(), "landed_rows/s")
	}
}
