package state

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// TestShardsSharingStateLoseNothing: several Stores opened on one
// directory (the shards of a run, each its own process) write their own
// cursors and update one shared item map at once; every cursor and every
// item is in the file afterwards. Before the read-modify-write under the
// write lock, each Store wrote its own view and the last writer won.
func TestShardsSharingStateLoseNothing(t *testing.T) {
	dir := t.TempDir()
	const shards, keys = 3, 40
	stores := make([]*Store, shards)
	for i := range stores {
		s, err := Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		stores[i] = s
	}
	var wg sync.WaitGroup
	for i, s := range stores {
		wg.Go(func() {
			for k := range keys {
				key := fmt.Sprintf("mtt/dialed/%d-%d", i, k)
				if err := s.SetCursor(key, Cursor{Day: "2026-11-19", RunID: "r", UpdatedAt: time.Now()}); err != nil {
					t.Error(err)
				}
				items := map[string]int{}
				if err := s.Update("items/votbox", &items, func() error { items[key] = k; return nil }); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	keysGot, _ := s.Cursors()
	if len(keysGot) != shards*keys {
		t.Errorf("cursors: %d, want %d", len(keysGot), shards*keys)
	}
	var items map[string]int
	if _, err := s.Get("items/votbox", &items); err != nil || len(items) != shards*keys {
		t.Errorf("items: %d (%v), want %d", len(items), err, shards*keys)
	}
}

// TestUpdateAbortWritesNothing: fn's error leaves the file and the memory
// as they were.
func TestUpdateAbortWritesNothing(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	v := map[string]int{}
	if err := s.Update("k", &v, func() error { v["a"] = 1; return nil }); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	if err := s.Update("k", &v, func() error { v["b"] = 2; return boom }); !errors.Is(err, boom) {
		t.Fatalf("err %v, want boom", err)
	}
	got := map[string]int{}
	if _, err := s.Get("k", &got); err != nil || len(got) != 1 {
		t.Fatalf("after abort: %v %v", got, err)
	}
}

// TestShardLocks: shards of a run lock side by side; the same shard twice,
// or a whole run alongside a shard, is ErrLocked; after the shards end the
// whole run locks.
func TestShardLocks(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	u0, err := s.LockShard("s0of2")
	if err != nil {
		t.Fatal(err)
	}
	u1, err := s.LockShard("s1of2")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.LockShard("s1of2"); !errors.Is(err, ErrLocked) {
		t.Errorf("same shard twice: %v, want ErrLocked", err)
	}
	if _, err := s.Lock(); !errors.Is(err, ErrLocked) {
		t.Errorf("whole run alongside shards: %v, want ErrLocked", err)
	}
	u0()
	u1()
	u, err := s.Lock()
	if err != nil {
		t.Fatalf("whole run after the shards: %v", err)
	}
	if _, err := s.LockShard("s0of2"); !errors.Is(err, ErrLocked) {
		t.Errorf("shard alongside a whole run: %v, want ErrLocked", err)
	}
	u()
	if _, err := s.LockShard("../x"); err == nil {
		t.Error("a label with a path in it was accepted")
	}
}
