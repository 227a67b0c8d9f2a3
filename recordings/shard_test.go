package recordings_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/calletl/calletl/load"
	"github.com/calletl/calletl/recordings"
	"github.com/calletl/calletl/shard"
)

// TestShardsFetchDisjointCalls: three shards fetch at once, each its own
// Lake on one lake directory and one store: every call is attempted by
// exactly one shard, each shard's manifest is a unit of its own, and
// recording_days (recomputed by each shard in turn, under DaysLock) counts
// every call once.
func TestShardsFetchDisjointCalls(t *testing.T) {
	ctx := context.Background()
	env := newMTTEnv(t, 64<<10, 0)
	ids := mttIDs(30)
	root := lakeWithCalls(t, "mtt", ids...).Root()
	store := localStore(t)
	clk := newClock()
	var daysMu sync.Mutex
	const n = 3
	var wg sync.WaitGroup
	sums := make([]recordings.Summary, n)
	for i := range n {
		wg.Go(func() {
			lake, err := load.Open(root, load.Options{})
			if err != nil {
				t.Error(err)
				return
			}
			a := shard.Assigner{Shard: shard.Shard{Index: i, Count: n}}
			cfg := recordings.Config{Store: store, Lake: lake, Concurrency: 2, PerHost: 2, Now: clk.Now,
				Owns:     func(source, callID string) bool { return a.Owns(source, "call", callID) },
				DaysLock: func() (func(), error) { daysMu.Lock(); return daysMu.Unlock, nil }}
			sums[i], err = recordings.Run(ctx, cfg, testRun(fmt.Sprintf("r1-%s", a.Shard.Label()), clk.Now()), env.fetcher)
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	total := 0
	for i, s := range sums {
		if s.Calls == 0 {
			t.Errorf("shard %d fetched no call of %d", i, len(ids))
		}
		total += s.Calls
	}
	if total != len(ids) {
		t.Errorf("calls attempted by the shards: %d, want %d (each once)", total, len(ids))
	}
	man := latestManifest(t, root)
	for _, id := range ids {
		for p, r := range man[id] {
			if r.Attempts != 1 {
				t.Errorf("%s part %d: attempts %d, want 1", id, p, r.Attempts)
			}
		}
		if man[id] == nil {
			t.Errorf("%s: no manifest row", id)
		}
	}
	files, _ := filepath.Glob(filepath.Join(root, "recordings", "source=mtt", "*", "manifest-*.parquet"))
	if len(files) != n {
		t.Errorf("manifest files %v, want one per shard", files)
	}
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var attempted int
	if err := db.QueryRow(`SELECT sum(calls_attempted) FROM read_parquet('` +
		filepath.Join(root, "recording_days", "*", "*", "*.parquet") + `')`).Scan(&attempted); err != nil {
		t.Fatal(err)
	}
	if attempted != len(ids) {
		t.Errorf("recording_days calls_attempted %d, want %d", attempted, len(ids))
	}
}
