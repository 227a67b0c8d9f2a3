// Package state keeps what a run must remember for the next one: a cursor
// per source, stream and account (the last day whose data is committed to
// the lake), backfill progress, and small per-source values. It lives in one
// JSON file rewritten atomically, and a lock file stops two runs from
// working on the same state at once.
package state

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"syscall"
	"time"
)

// Cursor is the last day (YYYY-MM-DD, business time zone) whose window is
// committed, and which run committed it.
type Cursor struct {
	Day       string    `json:"day"`
	RunID     string    `json:"run_id"`
	UpdatedAt time.Time `json:"updated_at"`
}

// file is the on-disk form.
type file struct {
	Version   int                        `json:"version"`
	Cursors   map[string]Cursor          `json:"cursors"`
	Backfills map[string]Cursor          `json:"backfills,omitempty"`
	Values    map[string]json.RawMessage `json:"values,omitempty"`
}

// Store is the state directory. Its methods are safe for concurrent use;
// every change is on disk when the method returns.
type Store struct {
	dir string
	mu  sync.Mutex
	f   file
}

// ErrLocked means another process holds the state lock.
var ErrLocked = errors.New("state: another etl process is running on this state directory")

const fileName = "state.json"

// Open reads the state in dir, creating dir if needed.
func Open(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("state: create %s: %w", dir, err)
	}
	s := &Store{dir: dir, f: file{Version: 1, Cursors: map[string]Cursor{}}}
	b, err := os.ReadFile(filepath.Join(dir, fileName))
	switch {
	case errors.Is(err, os.ErrNotExist):
		return s, nil
	case err != nil:
		return nil, fmt.Errorf("state: %w", err)
	}
	if err := json.Unmarshal(b, &s.f); err != nil {
		return nil, fmt.Errorf("state: %s is not valid state JSON (restore it from a backup or move it away to start from scratch): %w", filepath.Join(dir, fileName), err)
	}
	if s.f.Cursors == nil {
		s.f.Cursors = map[string]Cursor{}
	}
	return s, nil
}

// Dir returns the state directory.
func (s *Store) Dir() string { return s.dir }

// Lock takes an exclusive lock on the state directory for the life of the
// process (or until unlock). It fails at once with ErrLocked when another
// process holds it.
func (s *Store) Lock() (unlock func(), err error) {
	path := filepath.Join(s.dir, "lock")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("state: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w (%s)", ErrLocked, path)
		}
		return nil, fmt.Errorf("state: lock %s: %w", path, err)
	}
	return func() { f.Close() }, nil
}

// Cursor returns the cursor of key.
func (s *Store) Cursor(key string) (Cursor, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.f.Cursors[key]
	return c, ok
}

// Cursors returns every cursor, keyed and sorted by key.
func (s *Store) Cursors() (keys []string, cursors map[string]Cursor) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cursors = make(map[string]Cursor, len(s.f.Cursors))
	for k, c := range s.f.Cursors {
		keys = append(keys, k)
		cursors[k] = c
	}
	sort.Strings(keys)
	return keys, cursors
}

// SetCursor records c for key and writes the state.
func (s *Store) SetCursor(key string, c Cursor) error {
	return s.update(func(f *file) { f.Cursors[key] = c })
}

// Backfill returns the progress of a backfill (keyed by stream and range).
func (s *Store) Backfill(key string) (Cursor, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.f.Backfills[key]
	return c, ok
}

// SetBackfill records backfill progress and writes the state.
func (s *Store) SetBackfill(key string, c Cursor) error {
	return s.update(func(f *file) {
		if f.Backfills == nil {
			f.Backfills = map[string]Cursor{}
		}
		f.Backfills[key] = c
	})
}

// Get decodes the value stored under key into v; ok is false when absent.
func (s *Store) Get(key string, v any) (ok bool, err error) {
	s.mu.Lock()
	raw, ok := s.f.Values[key]
	s.mu.Unlock()
	if !ok {
		return false, nil
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return true, fmt.Errorf("state: value %s: %w", key, err)
	}
	return true, nil
}

// Put stores v under key and writes the state.
func (s *Store) Put(key string, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("state: value %s: %w", key, err)
	}
	return s.update(func(f *file) {
		if f.Values == nil {
			f.Values = map[string]json.RawMessage{}
		}
		f.Values[key] = raw
	})
}

// update applies fn and writes the file atomically; on a write error the
// in-memory state is rolled back so it never runs ahead of the disk.
func (s *Store) update(fn func(*file)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	old, err := json.Marshal(s.f)
	if err != nil {
		return fmt.Errorf("state: %w", err)
	}
	fn(&s.f)
	b, err := json.MarshalIndent(s.f, "", "  ")
	if err == nil {
		err = WriteFileAtomic(filepath.Join(s.dir, fileName), append(b, '\n'), 0o600)
	}
	if err != nil {
		var prev file
		if json.Unmarshal(old, &prev) == nil {
			s.f = prev
		}
		return fmt.Errorf("state: %w", err)
	}
	return nil
}

// WriteFileAtomic writes data to path so that a reader or a crash sees
// either the old file or the new one: temp file in the same directory,
// fsync, rename, fsync of the directory.
func WriteFileAtomic(path string, data []byte, perm os.FileMode) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
