package receive

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/calletl/calletl/sandbox"
	"github.com/calletl/calletl/storage"
)

// Concurrent senders of the same events (a vendor retrying while its first
// request is still being stored): each event is stored once, exactly one
// Append of it reports new, and all of them return only once it is stored.
func TestSpoolConcurrentDuplicates(t *testing.T) {
	ctx := context.Background()
	store, err := storage.NewLocal(filepath.Join(t.TempDir(), "spool"))
	if err != nil {
		t.Fatal(err)
	}
	sp, err := OpenSpool(ctx, store, SpoolOptions{MaxBatch: 5})
	if err != nil {
		t.Fatal(err)
	}
	pushed, _ := sandbox.GenVotBox(4, 1, 30, at)
	evs := make([]Event, len(pushed))
	for i, p := range pushed {
		if evs[i], err = DecodeVotBox("votbox", p.Query, at); err != nil {
			t.Fatal(err)
		}
	}
	const senders = 8
	news := make([]int, len(evs))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for s := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range evs {
				i := (k + s*7) % len(evs) // each sender in its own order
				dup, err := sp.Append(ctx, evs[i])
				if err != nil {
					t.Error(err)
					return
				}
				if !dup {
					mu.Lock()
					news[i]++
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	sp.Close()
	for i, n := range news {
		if n != 1 {
			t.Errorf("event %d reported new %d times, want once", i, n)
		}
	}
	// What is stored: every event once, across however many batches.
	sp, err = OpenSpool(ctx, store, SpoolOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Close()
	keys, _ := sp.listKeys(ctx, batchPrefix)
	stored := map[string]int{}
	for _, k := range keys {
		b, err := sp.readBatch(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range b {
			stored[ev.ID]++
		}
	}
	if len(stored) != len(evs) {
		t.Errorf("%d events stored, want %d", len(stored), len(evs))
	}
	for id, n := range stored {
		if n != 1 {
			t.Errorf("event %s stored %d times", id, n)
		}
	}
	if sp.Len() != len(evs) {
		t.Errorf("rebuilt index %d ids, want %d", sp.Len(), len(evs))
	}
}

// A spool object that is not a batch stops the spool from opening with
// an error that says what to do, rather than being skipped (its events
// would be lost) or landed half.
func TestSpoolRefusesForeignBatch(t *testing.T) {
	ctx := context.Background()
	store, _ := storage.NewLocal(t.TempDir())
	if _, err := store.Put(ctx, batchPrefix+"junk.jsonl", stringsReader("not json\n"), ""); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenSpool(ctx, store, SpoolOptions{}); err == nil {
		t.Fatal("a spool with a foreign batch opened")
	}
}

func stringsReader(s string) *strings.Reader { return strings.NewReader(s) }
