package load_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/calletl/calletl/load"
)

// TestSweepStaleSparesLiveTemps: with other processes writing the lake
// (the shards of a run), SweepStale removes only temp files older than its
// age, never another process's live transaction's.
func TestSweepStaleSparesLiveTemps(t *testing.T) {
	lake, err := load.Open(filepath.Join(t.TempDir(), "lake"), load.Options{})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(lake.Root(), "calls", "source=mtt", "date=2026-11-20")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	live := filepath.Join(dir, ".dialed-1.parquet.abc.tmp")  // another shard, writing now
	stale := filepath.Join(dir, ".dialed-2.parquet.def.tmp") // a killed run's, two hours old
	for _, p := range []string{live, stale} {
		if err := os.WriteFile(p, []byte("PAR1"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-2 * time.Hour)
	if err := os.Chtimes(stale, old, old); err != nil {
		t.Fatal(err)
	}
	n, err := lake.SweepStale(time.Hour)
	if err != nil || n != 1 {
		t.Fatalf("SweepStale: removed %d, %v; want 1", n, err)
	}
	if _, err := os.Stat(live); err != nil {
		t.Errorf("the live temp file was removed: %v", err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("the stale temp file is still there: %v", err)
	}
}
