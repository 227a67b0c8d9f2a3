package recordings_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/calletl/calletl/recordings"
	"github.com/calletl/calletl/secret"
	"github.com/calletl/calletl/storage"
)

// BenchmarkFetchToS3 compares fetching recordings from the MTT emulator
// into S3 (versitygw) with a plain upload (storage.S3.Put) of the same number
// of bytes from memory to the same server; "download" is the vendor side
// alone (emulator → io.Discard); "peak" runs 8 concurrent 50 MB recordings
// and reports the peak heap.
func BenchmarkFetchToS3(b *testing.B) {
	endpoint := startVersity(b)
	const partSize = 16 << 20
	// 32 calls (~0.8 GB): enough that a run's fixed cost (finding the
	// pending calls, committing the manifest and recording_days) is a small
	// part of it, as in a nightly batch.
	ids := mttIDs(32)
	env := newMTTEnv(b, partSize, 0)
	total := 0
	for _, id := range ids {
		total += env.emu.Parts(id)
	}
	size := int64(total) * partSize
	n := 0
	store := func(b *testing.B) *storage.S3 {
		n++
		cfg := storage.S3Config{Endpoint: endpoint, Region: "us-east-1", Bucket: testBucket, Prefix: fmt.Sprintf("bench%d", n),
			PathStyle: true, AccessKey: secret.New(versityAccess), SecretKey: secret.New(versitySecret),
			PartSize: 8 << 20, Concurrency: 2}
		s, err := storage.NewS3(context.Background(), cfg)
		if err != nil {
			b.Fatal(err)
		}
		return s
	}

	b.Run("fetch", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			b.StopTimer()
			lake := lakeWithCalls(b, "mtt", ids...)
			st := store(b)
			b.StartTimer()
			sum, err := recordings.Run(context.Background(), recordings.Config{Store: st, Lake: lake, Concurrency: 8, PerHost: 8},
				testRun("b", time.Now()), env.fetcher)
			if err != nil || sum.Stored != total {
				b.Fatalf("%+v %v", sum, err)
			}
		}
	})
	b.Run("put", func(b *testing.B) {
		buf := bytes.Repeat([]byte("0123456789abcdef"), partSize/16)
		b.SetBytes(size)
		for b.Loop() {
			b.StopTimer()
			st := store(b)
			b.StartTimer()
			sem := make(chan struct{}, 8)
			errs := make(chan error, total)
			for i := 0; i < total; i++ {
				sem <- struct{}{}
				go func() {
					defer func() { <-sem }()
					_, err := st.Put(context.Background(), fmt.Sprintf("p/%d", i), bytes.NewReader(buf), "audio/wav")
					errs <- err
				}()
			}
			for i := 0; i < total; i++ {
				if err := <-errs; err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	// download: the fetch's vendor side alone (emulator → io.Discard, the
	// same parts, 8 at a time), which shares the CPU with the upload.
	b.Run("download", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			var parts []recordings.Part
			for _, id := range ids {
				err := env.fetcher.Parts(context.Background(), id,
					func(p recordings.Part) error { parts = append(parts, p); return nil })
				if err != nil {
					b.Fatal(err)
				}
			}
			sem := make(chan struct{}, 8)
			errs := make(chan error, len(parts))
			for _, p := range parts {
				sem <- struct{}{}
				go func() {
					defer func() { <-sem }()
					body, _, err := p.Open(context.Background())
					if err == nil {
						_, err = io.Copy(io.Discard, body)
						body.Close()
					}
					errs <- err
				}()
			}
			for range parts {
				if err := <-errs; err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("peak-8x50MB", func(b *testing.B) {
		env := newMTTEnv(b, 50<<20, 0)
		var ids8 []string
		for _, id := range mttIDs(40) {
			if env.emu.Parts(id) == 1 && len(ids8) < 8 {
				ids8 = append(ids8, id)
			}
		}
		b.SetBytes(8 * 50 << 20)
		for b.Loop() {
			b.StopTimer()
			lake := lakeWithCalls(b, "mtt", ids8...)
			st := store(b)
			runtime.GC()
			var base runtime.MemStats
			runtime.ReadMemStats(&base)
			var peak atomic.Uint64
			stop := make(chan struct{})
			done := make(chan struct{})
			go func() {
				defer close(done)
				var m runtime.MemStats
				for {
					select {
					case <-stop:
						return
					case <-time.After(20 * time.Millisecond):
					}
					runtime.ReadMemStats(&m)
					if m.HeapInuse > peak.Load() {
						peak.Store(m.HeapInuse)
					}
				}
			}()
			b.StartTimer()
			sum, err := recordings.Run(context.Background(), recordings.Config{Store: st, Lake: lake, Concurrency: 8, PerHost: 8},
				testRun("b", time.Now()), env.fetcher)
			b.StopTimer()
			close(stop)
			<-done
			if err != nil || sum.Stored != 8 {
				b.Fatalf("%+v %v", sum, err)
			}
			b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MiB")
			b.ReportMetric(float64(base.HeapInuse)/(1<<20), "base-heap-MiB")
			b.StartTimer()
		}
	})
}
