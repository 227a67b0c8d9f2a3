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
	"github.com/calletl/calletl/storage"
	"github.com/calletl/calletl/storage/storagetest"
)

// BenchmarkReceive measures events acknowledged per second through the
// HTTP handler, 32 senders over loopback keep-alive connections, each event
// stored before its 200 (group commit): in a local spool (fsync) and in an
// S3 spool on versitygw (upload); then the landing of what was stored into
// a local lake.
//
//	PATH=$(go env GOPATH)/bin:$PATH go test ./receive -run '^$' -bench Receive -benchtime 20000x -count 3
func BenchmarkReceive(top *testing.B) {
	var v *storagetest.Versity
	for _, c := range []struct {
		name  string
		store func(b *testing.B) storage.Store
	}{
		{"local", func(b *testing.B) storage.Store {
			st, err := storage.NewLocal(b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
			return st
		}},
		{"s3", func(b *testing.B) storage.Store {
			if v == nil {
				v = storagetest.StartVersity(top)
			}
			return v.Store(b, storage.S3Config{Prefix: "bench" + randHex(4)})
		}},
	} {
		top.Run(c.name, func(b *testing.B) { benchReceive(b, c.store(b)) })
	}
}

func benchReceive(b *testing.B, store storage.Store) {
	r := newRigOn(b, store)
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
