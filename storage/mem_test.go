package storage_test

import (
	"runtime"
	"runtime/debug"
	"sync"
	"testing"
	"time"
)

// measurePeakHeap runs fn and returns the peak growth of HeapInuse over the
// level before it, sampled every millisecond. The GC runs at GOGC=10 meanwhile,
// so the figure tracks live memory rather than the collector's slack.
func measurePeakHeap(t *testing.T, fn func()) uint64 {
	t.Helper()
	defer debug.SetGCPercent(debug.SetGCPercent(10))
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse

	var (
		wg   sync.WaitGroup
		peak uint64
		stop = make(chan struct{})
	)
	wg.Go(func() {
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > base && ms.HeapInuse-base > peak {
				peak = ms.HeapInuse - base
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	})
	fn()
	close(stop)
	wg.Wait()
	t.Logf("peak HeapInuse growth: %.1f MiB", float64(peak)/(1<<20))
	return peak
}
