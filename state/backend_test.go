package state

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/calletl/calletl/storage"
	"github.com/calletl/calletl/storage/storagetest"
)

// shared is one state that several Stores open, as the processes of a
// sharded run do.
type shared struct {
	// open opens another Store on the state.
	open func() (*Store, error)
	// put stores raw bytes as the state document, behind the stores'
	// backs.
	put func(b []byte)
	// where is the name a *FileError gives the document.
	where string
	// obj is the object store, nil for a directory.
	obj storage.Store
}

// stateBackend makes a fresh shared state.
type stateBackend struct {
	name string
	obj  bool // an object store (leases), not a directory (flocks)
	new  func(t *testing.T) *shared
}

var prefixes atomic.Int64

// backends returns the backends every state test runs against: a local
// directory (flock, as before), a storage.Local and S3 (versitygw, started
// at most once per top-level test; skipped without versitygw unless
// CALLETL_REQUIRE_S3=1).
func backends(top *testing.T) []stateBackend {
	var once sync.Once
	var v *storagetest.Versity
	versity := func() *storagetest.Versity {
		once.Do(func() { v = storagetest.StartVersity(top) })
		return v
	}
	objectShared := func(t *testing.T, st storage.Store, name string) *shared {
		return &shared{
			open: func() (*Store, error) {
				return OpenStorage(t.Context(), st, ObjectOptions{Name: name})
			},
			put: func(b []byte) {
				if _, err := st.Replace(t.Context(), fileName, bytes.NewReader(b), storage.Unconditional()); err != nil {
					t.Fatal(err)
				}
			},
			where: name + "/" + fileName,
			obj:   st,
		}
	}
	return []stateBackend{
		{name: "directory", new: func(t *testing.T) *shared {
			dir := t.TempDir()
			return &shared{
				open: func() (*Store, error) { return Open(dir) },
				put: func(b []byte) {
					if err := os.WriteFile(filepath.Join(dir, fileName), b, 0o600); err != nil {
						t.Fatal(err)
					}
				},
				where: filepath.Join(dir, fileName),
			}
		}},
		{name: "storage.Local", obj: true, new: func(t *testing.T) *shared {
			dir := t.TempDir()
			st, err := storage.NewLocal(dir)
			if err != nil {
				t.Fatal(err)
			}
			return objectShared(t, st, "local:"+dir)
		}},
		{name: "S3", obj: true, new: func(t *testing.T) *shared {
			v := versity()
			prefix := fmt.Sprintf("state-%d", prefixes.Add(1))
			st := v.Store(t, storage.S3Config{Prefix: prefix})
			return objectShared(t, st, "s3://"+storagetest.VersityBucket+"/"+prefix)
		}},
	}
}

func mustOpen(t *testing.T, sh *shared) *Store {
	t.Helper()
	s, err := sh.open()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestBackendsKeepTheState: what one Store writes another opening the
// same state reads, on every backend.
func TestBackendsKeepTheState(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			sh := b.new(t)
			s := mustOpen(t, sh)
			at := time.Date(2026, 11, 20, 3, 0, 0, 0, time.UTC)
			if err := s.SetCursor("mtt/dialed/1", Cursor{Day: "2026-11-19", RunID: "r1", UpdatedAt: at}); err != nil {
				t.Fatal(err)
			}
			if err := s.SetBackfill("mtt/dialed/1@x", Cursor{Day: "2026-01-05"}); err != nil {
				t.Fatal(err)
			}
			if err := s.Put("votbox/tasks", []int{1, 2}); err != nil {
				t.Fatal(err)
			}
			s2 := mustOpen(t, sh)
			c, ok := s2.Cursor("mtt/dialed/1")
			if !ok || c.Day != "2026-11-19" || c.RunID != "r1" || !c.UpdatedAt.Equal(at) {
				t.Fatalf("cursor after reopen: %+v %v", c, ok)
			}
			if c, ok := s2.Backfill("mtt/dialed/1@x"); !ok || c.Day != "2026-01-05" {
				t.Fatalf("backfill after reopen: %+v %v", c, ok)
			}
			var tasks []int
			if ok, err := s2.Get("votbox/tasks", &tasks); !ok || err != nil || len(tasks) != 2 {
				t.Fatalf("value after reopen: %v %v %v", tasks, ok, err)
			}
			// A bad day is refused and not kept.
			if err := s2.SetCursor("mtt/dialed/2", Cursor{Day: "2026-13-45"}); err == nil {
				t.Error("SetCursor with a bad day: no error")
			}
			if _, ok := s2.Cursor("mtt/dialed/2"); ok {
				t.Error("the bad cursor was kept")
			}
			// An aborted Update writes nothing.
			boom := errors.New("boom")
			v := map[string]int{}
			if err := s2.Update("k", &v, func() error { v["a"] = 1; return boom }); !errors.Is(err, boom) {
				t.Fatalf("Update: %v, want boom", err)
			}
			if ok, _ := mustOpen(t, sh).Get("k", &v); ok {
				t.Error("an aborted Update was stored")
			}
		})
	}
}

// TestBackendsRefuseABadStateDocument: the *FileError checks of a state
// file apply to the object as well, naming it.
func TestBackendsRefuseABadStateDocument(t *testing.T) {
	tests := []struct{ name, body, key, msg string }{
		{"not JSON", `{half`, "", "not valid state JSON"},
		{"empty", ``, "", "the file is empty"},
		{"unknown version", `{"version": 2, "cursors": {}}`, "version", "2 is not a version this etl reads"},
		{"bad cursor day", `{"version": 1, "cursors": {"mtt/dialed/1": {"day": "2026-13-45"}}}`, `cursors["mtt/dialed/1"].day`, "not a YYYY-MM-DD day"},
	}
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					sh := b.new(t)
					s := mustOpen(t, sh)
					sh.put([]byte(tt.body))
					_, err := sh.open()
					var fe *FileError
					if !errors.As(err, &fe) {
						t.Fatalf("open: %v, want a *FileError", err)
					}
					if fe.File != sh.where || fe.Key != tt.key || !strings.Contains(err.Error(), tt.msg) {
						t.Errorf("error %q (file %q key %q), want file %q key %q saying %q", err, fe.File, fe.Key, sh.where, tt.key, tt.msg)
					}
					// A Store opened before refuses to write over it.
					if err := s.SetCursor("a", Cursor{Day: "2026-11-19"}); !errors.As(err, &fe) {
						t.Errorf("write over a bad document: %v, want a *FileError", err)
					}
				})
			}
		})
	}
}

// TestBackendsConcurrentWritersLoseNothing: several Stores on one state
// (the shards of a run), each with several goroutines, write their own
// cursors and update one shared item map at once; afterwards every cursor
// and every item is there. On an object store, each write that lost the
// race reads again and retries.
func TestBackendsConcurrentWritersLoseNothing(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			sh := b.new(t)
			const stores, goroutines, keys = 3, 2, 8
			var wg sync.WaitGroup
			for i := range stores {
				s := mustOpen(t, sh)
				for g := range goroutines {
					wg.Go(func() {
						for k := range keys {
							key := fmt.Sprintf("mtt/dialed/%d-%d-%d", i, g, k)
							if err := s.SetCursor(key, Cursor{Day: "2026-11-19", RunID: "r"}); err != nil {
								t.Error(err)
							}
							items := map[string]int{}
							if err := s.Update("items/votbox", &items, func() error { items[key] = k; return nil }); err != nil {
								t.Error(err)
							}
						}
					})
				}
			}
			wg.Wait()
			s := mustOpen(t, sh)
			const want = stores * goroutines * keys
			if got, _ := s.Cursors(); len(got) != want {
				t.Errorf("cursors: %d, want %d", len(got), want)
			}
			var items map[string]int
			if _, err := s.Get("items/votbox", &items); err != nil || len(items) != want {
				t.Errorf("items: %d (%v), want %d", len(items), err, want)
			}
		})
	}
}

// TestUpdateRetryStartsAfresh: when an object store's write is retried,
// Update's fn sees the value as stored now, not merged with the attempt
// that lost (json.Unmarshal merges maps): a key another process removed
// stays removed.
func TestUpdateRetryStartsAfresh(t *testing.T) {
	st, err := storage.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	a, err := OpenStorage(t.Context(), st, ObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := OpenStorage(t.Context(), st, ObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]int{}
	if err := a.Update("m", &m, func() error { m["gone"] = 1; return nil }); err != nil {
		t.Fatal(err)
	}
	calls := 0
	v := map[string]int{}
	err = a.Update("m", &v, func() error {
		calls++
		if calls == 1 { // another process removes "gone" meanwhile
			w := map[string]int{}
			if err := b.Update("m", &w, func() error { delete(w, "gone"); w["other"] = 2; return nil }); err != nil {
				return err
			}
		}
		v["mine"] = 3
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	if _, err := mustOpenStorage(t, st).Get("m", &got); err != nil {
		t.Fatal(err)
	}
	if calls != 2 || len(got) != 2 || got["mine"] != 3 || got["other"] != 2 {
		t.Errorf("after a retried update: %v (fn called %d times), want other and mine", got, calls)
	}
}

func mustOpenStorage(t *testing.T, st storage.Store) *Store {
	t.Helper()
	s, err := OpenStorage(t.Context(), st, ObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}
