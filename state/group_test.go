package state

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/calletl/calletl/storage"
)

// countingStore counts Replace calls (the state's writes).
type countingStore struct {
	storage.Store
	replaces atomic.Int64
	first    func() // run before the first Replace
}

func (c *countingStore) Replace(ctx context.Context, key string, r io.Reader, cond storage.Cond) (storage.Info, error) {
	if c.replaces.Add(1) == 1 && c.first != nil {
		c.first()
	}
	return c.Store.Replace(ctx, key, r, cond)
}

// TestGroupCommit: many concurrent updates of one Store are all written,
// in fewer writes than updates (they go in groups), and an update whose
// abort fails is left out of its group with its own error while the
// others of the group are written.
func TestGroupCommit(t *testing.T) {
	local, err := storage.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	st := &countingStore{Store: local}
	var s *Store
	s, err = OpenStorage(t.Context(), st, ObjectOptions{Name: "test"})
	if err != nil {
		t.Fatal(err)
	}
	const n = 64
	// The first write waits until every other update is queued, so the
	// rest must go in one group.
	st.first = func() {
		for {
			s.wmu.Lock()
			q := len(s.queue)
			s.wmu.Unlock()
			if q == n-1 {
				return
			}
			time.Sleep(time.Millisecond)
		}
	}
	refuse := errors.New("refused")
	errs := make([]error, n)
	var wg sync.WaitGroup
	// Update 0 writes first, alone; its write waits (st.first) until
	// every other update is queued behind it.
	started := make(chan struct{})
	wg.Go(func() {
		close(started)
		errs[0] = s.SetCursor("mtt/incoming/0", Cursor{Day: "2026-11-20", RunID: "r"})
	})
	<-started
	for {
		s.wmu.Lock()
		w := s.writing
		s.wmu.Unlock()
		if w {
			break
		}
		time.Sleep(time.Millisecond)
	}
	for i := 1; i < n; i++ {
		wg.Go(func() {
			if i%8 == 7 {
				v := 0
				errs[i] = s.Update(fmt.Sprintf("v%d", i), &v, func() error { v = i; return refuse })
				return
			}
			errs[i] = s.SetCursor(fmt.Sprintf("mtt/incoming/%d", i), Cursor{Day: "2026-11-20", RunID: "r"})
		})
	}
	wg.Wait()
	for i, err := range errs {
		if want := i%8 == 7; errors.Is(err, refuse) != want || (!want && err != nil) {
			t.Errorf("update %d: %v", i, err)
		}
	}
	// A fresh Store reads what was written.
	s2, err := OpenStorage(t.Context(), st, ObjectOptions{Name: "test"})
	if err != nil {
		t.Fatal(err)
	}
	keys, _ := s2.Cursors()
	if len(keys) != n-n/8 {
		t.Errorf("%d cursors stored, want %d", len(keys), n-n/8)
	}
	for i := 7; i < n; i += 8 {
		if ok, _ := s2.Get(fmt.Sprintf("v%d", i), new(int)); ok {
			t.Errorf("aborted update v%d was written", i)
		}
	}
	if w := st.replaces.Load(); w != 2 {
		t.Errorf("%d writes for %d updates, want 2: the first, then the %d queued meanwhile in one group", w, n, n-1)
	}
}
