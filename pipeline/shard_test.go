package pipeline

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/calletl/calletl/load"
	"github.com/calletl/calletl/shard"
	"github.com/calletl/calletl/state"
)

// TestShardsSplitTheRun: the shards of a run, at once, each with its own
// Store and Lake on one state directory and one lake (as separate
// processes have), extract every stream and item exactly once between
// them, keep every cursor and item state, and write one runs file each.
// Then n changes from 3 to 2: every stream continues from its cursor.
func TestShardsSplitTheRun(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 11, 20, 3, 0, 0, 0, time.UTC)
	var streams []string
	for i := range 12 {
		streams = append(streams, fmt.Sprintf("s%d", i))
	}
	var tasks []string
	for i := range 9 {
		tasks = append(tasks, fmt.Sprint(100+i))
	}
	night := func(n int, now time.Time) (srcs []*fakeSource, items []*fakeTasks) {
		var wg sync.WaitGroup
		for i := range n {
			src := &fakeSource{streams: keys(streams...)}
			its := &fakeTasks{active: tasks, finalAt: map[string]int{}, polls: map[string]int{}}
			srcs, items = append(srcs, src), append(items, its)
			wg.Go(func() {
				lake, err := load.Open(filepath.Join(dir, "lake"), load.Options{})
				if err != nil {
					t.Error(err)
					return
				}
				st, err := state.Open(filepath.Join(dir, "state"))
				if err != nil {
					t.Error(err)
					return
				}
				sh := shard.Shard{Index: i, Count: n}
				unlock, err := st.LockShard(sh.Label())
				if err != nil {
					t.Error(err)
					return
				}
				defer unlock()
				p := New(Config{Lake: lake, State: st, Location: time.UTC, LookbackDays: 1, StartDay: "2026-11-15",
					Now: func() time.Time { return now }, Shard: shard.Assigner{Shard: sh}})
				sum, err := p.Run(context.Background(), []Source{src}, its)
				if err != nil || sum.Err() != nil {
					t.Errorf("shard %v: %v %v", sh, err, sum.Err())
				}
			})
		}
		wg.Wait()
		return srcs, items
	}

	srcs, items := night(3, now)
	for _, s := range streams {
		owners := 0
		for _, src := range srcs {
			if d := src.seen[s]; len(d) > 0 {
				owners++
				if len(d) != 6 || d[0] != "2026-11-15" {
					t.Errorf("stream %s extracted %v, want 2026-11-15..20", s, d)
				}
			}
		}
		if owners != 1 {
			t.Errorf("stream %s extracted by %d shards, want 1", s, owners)
		}
	}
	for _, k := range tasks {
		polls := 0
		for _, it := range items {
			polls += it.polls[k]
		}
		if polls != 1 {
			t.Errorf("task %s polled %d times by the shards, want 1", k, polls)
		}
	}
	st, err := state.Open(filepath.Join(dir, "state"))
	if err != nil {
		t.Fatal(err)
	}
	if ks, _ := st.Cursors(); len(ks) != len(streams) {
		t.Errorf("cursors after the 3 shards: %d, want %d", len(ks), len(streams))
	}
	var book map[string]itemState
	if _, err := st.Get("items/fake", &book); err != nil || len(book) != len(tasks) {
		t.Errorf("item states after the 3 shards: %d (%v), want %d", len(book), err, len(tasks))
	}
	runs, _ := filepath.Glob(filepath.Join(dir, "lake", "runs", "source=fake", "*", "run-*-s*of3.parquet"))
	if len(runs) != 3 {
		t.Errorf("runs files %v, want one per shard", runs)
	}

	// Next night, 2 shards: each stream re-extracts only the lookback and
	// the new day, from its cursor, wherever it lands.
	srcs, _ = night(2, now.AddDate(0, 0, 1))
	for _, s := range streams {
		var got []string
		for _, src := range srcs {
			got = append(got, src.seen[s]...)
		}
		if want := days("2026-11-20", "2026-11-21"); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("stream %s extracted %v on the 2-shard night, want %v", s, got, want)
		}
	}
}
