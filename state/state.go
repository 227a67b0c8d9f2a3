// Package state keeps what a run must remember for the next one: a cursor
// per source, stream and account (the last day whose data is committed to
// the lake), backfill progress, and small per-source values. It lives in one
// JSON document, state.json, in a local directory (Open) or in an object
// store such as S3 (OpenStorage), rewritten atomically.
//
// In a directory, a lock file stops two runs from working on the same
// state at once; the shards of one sharded run share the state directory,
// each under its own lock (LockShard), and every write is a
// read-modify-write of the file under a short write lock, so no shard loses
// another's cursors. In an object store the same guarantees come from
// conditional writes: every write is a read-modify-write conditional on the
// version read (If-Match, If-None-Match), retried when another process
// wrote first, and the locks are leases with an expiry that their holder
// renews (Acquire).
package state

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/calletl/calletl/storage"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
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

// Store is the state: a directory on local disk (Open) or a prefix of an
// object store (OpenStorage). Its methods are safe for concurrent use;
// every change is stored when the method returns.
type Store struct {
	dir string // the local directory, or the object store's name
	b   backend
	obj *objectState // nil for a local directory
	mu  sync.Mutex   // guards f
	f   file

	// Writes are group commits: updates that arrive while one is being
	// written wait and go together in the next read-modify-write.
	wmu     sync.Mutex // guards queue and writing
	queue   []*pendingUpdate
	writing bool
}

// pendingUpdate is one update waiting for its group commit.
type pendingUpdate struct {
	fn    func(*file)
	abort []func() error
	err   error
	done  chan struct{}
}

// ErrLocked means another process holds the state lock.
var ErrLocked = errors.New("state: another etl process is running on this state directory")

const fileName = "state.json"

// Version is the state file format this package reads and writes.
const Version = 1

// dayLayout is a cursor's day, YYYY-MM-DD.
const dayLayout = "2006-01-02"

// FileError is a state file that cannot be used as it is: not JSON, not a
// state object, an unknown version, or an entry that does not parse. It
// names the file and, when one entry is at fault, its key. Nothing is
// repaired or skipped automatically: a guessed cursor could silently skip
// days or re-extract everything.
type FileError struct {
	File string
	Key  string // e.g. cursors["mtt/dialed/1"].day; "" when the whole file is at fault
	Msg  string
	Err  error // the decoder's error, if any
}

func (e *FileError) Error() string {
	s := "state " + e.File + ": "
	if e.Key != "" {
		s += e.Key + ": "
	}
	s += e.Msg
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s + " (fix it by hand, restore it from a backup, or move it away to start from scratch: every stream then starts again from start_date or the lookback)"
}

func (e *FileError) Unwrap() error { return e.Err }

// Open reads the state in dir, creating dir if needed. A missing state file
// is the fresh state; a present one must be a state object of a known
// version whose every cursor names a valid day, else Open returns a
// *FileError.
func Open(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("state: create %s: %w", dir, err)
	}
	s := &Store{dir: dir, b: fileBackend{dir: dir}}
	if err := s.load(context.Background()); err != nil {
		return nil, err
	}
	return s, nil
}

// load reads the stored document into s.f: the fresh state when there is
// none.
func (s *Store) load(ctx context.Context) error {
	s.f = file{Version: Version, Cursors: map[string]Cursor{}}
	b, err := s.b.read(ctx)
	if err != nil || b == nil {
		return err
	}
	f, err := decodeFile(s.b.where(), b)
	if err != nil {
		return err
	}
	s.f = f
	return nil
}

// decodeFile decodes and checks a state file.
func decodeFile(path string, b []byte) (file, error) {
	bad := func(key, msg string, err error) (file, error) {
		return file{}, &FileError{File: path, Key: key, Msg: msg, Err: err}
	}
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return bad("", "the file is empty; a state file holds {\"version\": 1, \"cursors\": {…}}", nil)
	}
	if b[0] != '{' {
		return bad("", "not a state object (want {\"version\": 1, \"cursors\": {…}})", nil)
	}
	var raw struct {
		Version   *int                       `json:"version"`
		Cursors   map[string]json.RawMessage `json:"cursors"`
		Backfills map[string]json.RawMessage `json:"backfills"`
		Values    map[string]json.RawMessage `json:"values"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&raw); err != nil {
		return bad("", "not valid state JSON", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return bad("", "data after the state object", nil)
	}
	switch {
	case raw.Version == nil:
		return bad("version", "missing: a state file carries its format version (a missing file is the fresh state; a present one must say what it is)", nil)
	case *raw.Version != Version:
		return bad("version", fmt.Sprintf("%d is not a version this etl reads (it reads %d): was the file written by another etl version?", *raw.Version, Version), nil)
	}
	f := file{Version: Version, Cursors: map[string]Cursor{}}
	for _, part := range []struct {
		name string
		raw  map[string]json.RawMessage
		dst  *map[string]Cursor
	}{{"cursors", raw.Cursors, &f.Cursors}, {"backfills", raw.Backfills, &f.Backfills}} {
		for k, v := range part.raw {
			key := fmt.Sprintf("%s[%q]", part.name, k)
			c, err := decodeCursor(v)
			if err != nil {
				return bad(key, "not a cursor {\"day\": \"YYYY-MM-DD\", \"run_id\": …, \"updated_at\": …}", err)
			}
			if err := checkDay(c.Day); err != nil {
				return bad(key+".day", err.Error(), nil)
			}
			if *part.dst == nil {
				*part.dst = map[string]Cursor{}
			}
			(*part.dst)[k] = c
		}
	}
	if len(raw.Values) > 0 {
		f.Values = raw.Values
	}
	return f, nil
}

func decodeCursor(raw json.RawMessage) (Cursor, error) {
	var c Cursor
	if bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return c, errors.New("null")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	err := dec.Decode(&c)
	return c, err
}

// checkDay checks a cursor's day is a real YYYY-MM-DD day.
func checkDay(day string) error {
	if _, err := time.Parse(dayLayout, day); err != nil {
		return fmt.Errorf("%q is not a YYYY-MM-DD day", day)
	}
	return nil
}

// Dir returns the state directory, or the name of the object store (see
// ObjectOptions.Name).
func (s *Store) Dir() string { return s.dir }

// Storage returns the object store the state is kept in, or nil for a
// state directory. Other objects of the state (the T2 token pair) live
// there beside state.json.
func (s *Store) Storage() storage.Store {
	if s.obj == nil {
		return nil
	}
	return s.obj.st
}

// errObjectLock is the error of the flock-based methods on a state in an
// object store, which locks with leases (Acquire).
func (s *Store) errObjectLock(what string) error {
	return fmt.Errorf("state: %s: the state in %s is locked with a lease: use Acquire", what, s.dir)
}

// Lock takes an exclusive lock on the state directory for the life of the
// process (or until unlock). It fails at once with ErrLocked when another
// process holds it, a whole run or any shard of a sharded one.
func (s *Store) Lock() (unlock func(), err error) {
	if s.obj != nil {
		return nil, s.errObjectLock("lock")
	}
	return flock(filepath.Join(s.dir, "lock"), syscall.LOCK_EX|syscall.LOCK_NB)
}

// LockShard takes the lock of one shard of a sharded run for the life of
// the process (or until unlock): a shared lock on the state directory, so
// shards run side by side but no whole run (Lock) runs with them, and an
// exclusive lock on lock.<label> (label names the shard, e.g. s1of3), so
// the same shard cannot run twice. It fails at once with ErrLocked.
func (s *Store) LockShard(label string) (unlock func(), err error) {
	if err := checkLabel(label); err != nil {
		return nil, err
	}
	if s.obj != nil {
		return nil, s.errObjectLock("lock shard " + label)
	}
	whole, err := flock(filepath.Join(s.dir, "lock"), syscall.LOCK_SH|syscall.LOCK_NB)
	if err != nil {
		return nil, err
	}
	one, err := flock(filepath.Join(s.dir, "lock."+label), syscall.LOCK_EX|syscall.LOCK_NB)
	if err != nil {
		whole()
		return nil, err
	}
	return func() { one(); whole() }, nil
}

// Exclusive waits for and takes the exclusive lock <name>.lock in the state
// directory: work that the processes sharing the state (the shards of a
// run) must do one at a time.
func (s *Store) Exclusive(name string) (unlock func(), err error) {
	if err := checkLabel(name); err != nil {
		return nil, err
	}
	if s.obj != nil {
		// No context to cancel here: a lost lease is logged (at error
		// level) by the renewal; ExclusiveContext reports it.
		_, unlock, err := s.ExclusiveContext(context.Background(), name)
		return unlock, err
	}
	return flock(filepath.Join(s.dir, name+".lock"), syscall.LOCK_EX)
}

func checkLabel(label string) error {
	if label == "" {
		return errors.New("state: empty shard label")
	}
	for _, r := range label {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return fmt.Errorf("state: shard label %q: only letters, digits, - and _", label)
		}
	}
	return nil
}

// flock opens path and locks it with how (syscall.LOCK_*); with
// LOCK_NB a lock held elsewhere is ErrLocked.
func flock(path string, how int) (unlock func(), err error) {
	unlock, err = storage.LockFile(path, how)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return nil, fmt.Errorf("%w (%s)", ErrLocked, path)
	}
	if err != nil {
		return nil, fmt.Errorf("state: %w", err)
	}
	return unlock, nil
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

// SetCursor records c for key and writes the state. A day that is not
// YYYY-MM-DD is refused: the next Open would refuse the file.
func (s *Store) SetCursor(key string, c Cursor) error {
	if err := checkDay(c.Day); err != nil {
		return fmt.Errorf("state: cursor %s: %w", key, err)
	}
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
	if err := checkDay(c.Day); err != nil {
		return fmt.Errorf("state: backfill %s: %w", key, err)
	}
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

// Keys returns the keys of the stored values that start with prefix,
// sorted.
func (s *Store) Keys(prefix string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for k := range s.f.Values {
		if strings.HasPrefix(k, prefix) {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
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

// Update reads the value stored under key into v as the state file holds
// it now (another process, a shard of the same run, may have written it
// since this Store read it), calls fn to change v, and stores v, all under
// the state's write lock: a read-modify-write of one value that never
// loses another process's change to it. fn must change v only in memory.
func (s *Store) Update(key string, v any, fn func() error) error {
	var ferr error
	first := true
	init, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("state: value %s: %w", key, err)
	}
	err = s.update(func(f *file) {
		if !first {
			// A retried read-modify-write (object store) starts again
			// from v as the caller passed it, not from the attempt
			// that lost: json.Unmarshal merges into maps.
			rv := reflect.ValueOf(v)
			if rv.Kind() == reflect.Pointer && !rv.IsNil() {
				rv.Elem().SetZero()
			}
			if err := json.Unmarshal(init, v); err != nil {
				ferr = fmt.Errorf("state: value %s: %w", key, err)
				return
			}
		}
		first = false
		if raw, ok := f.Values[key]; ok {
			if err := json.Unmarshal(raw, v); err != nil {
				ferr = fmt.Errorf("state: value %s: %w", key, err)
				return
			}
		}
		if ferr = fn(); ferr != nil {
			return
		}
		raw, err := json.Marshal(v)
		if err != nil {
			ferr = fmt.Errorf("state: value %s: %w", key, err)
			return
		}
		if f.Values == nil {
			f.Values = map[string]json.RawMessage{}
		}
		f.Values[key] = raw
	}, func() error { return ferr })
	return err
}

// update applies fn to the state as stored now and writes it back, a
// read-modify-write of the backend (see backend.modify): under the short
// flock write.lock for a directory, conditional on the version read for
// an object store, where fn may run again on a fresher state. Processes
// sharing the state (the shards of one run) each change their own keys
// and never lose one another's. On an error (of the storage, or of abort)
// the in-memory state is the stored one as last read, so it never runs
// ahead of the storage.
//
// Updates are group-committed: while one read-modify-write runs, the
// updates that arrive wait, and the next one applies them all, in order,
// in one write. An update whose abort fails is left out of its group (its
// changes undone) and gets that error; the others are written.
func (s *Store) update(fn func(*file), abort ...func() error) error {
	p := &pendingUpdate{fn: fn, abort: abort, done: make(chan struct{})}
	s.wmu.Lock()
	s.queue = append(s.queue, p)
	if s.writing {
		s.wmu.Unlock()
		<-p.done
		return p.err
	}
	s.writing = true
	for len(s.queue) > 0 {
		group := s.queue
		s.queue = nil
		s.wmu.Unlock()
		s.write(group)
		for _, q := range group {
			close(q.done)
		}
		s.wmu.Lock()
	}
	s.writing = false
	s.wmu.Unlock()
	return p.err
}

// errAllAborted ends a write in which every update's abort failed: there
// is nothing to write.
var errAllAborted = errors.New("state: every update of the group was aborted")

// write is one read-modify-write applying group, setting each update's err.
func (s *Store) write(group []*pendingUpdate) {
	fail := func(err error) {
		for _, p := range group {
			if p.err == nil {
				p.err = err
			}
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), objectWriteTimeout)
	defer cancel()
	s.mu.Lock()
	mine, err := json.Marshal(s.f)
	s.mu.Unlock()
	if err != nil {
		fail(fmt.Errorf("state: %w", err))
		return
	}
	var read []byte // the stored state as last read, re-encoded
	var next file
	err = s.b.modify(ctx, func(cur []byte) ([]byte, error) {
		var f file
		read = nil
		if cur == nil {
			// nobody wrote it yet: s.f is the fresh state or this process's
			if err := json.Unmarshal(mine, &f); err != nil {
				return nil, fmt.Errorf("state: %w", err)
			}
		} else {
			var err error
			if f, err = decodeFile(s.b.where(), cur); err != nil {
				return nil, err
			}
			if read, err = json.Marshal(f); err != nil {
				return nil, fmt.Errorf("state: %w", err)
			}
		}
		if f.Cursors == nil {
			f.Cursors = map[string]Cursor{}
		}
		applied := 0
		for _, p := range group {
			p.err = nil // a retried attempt starts again
			if len(p.abort) == 0 {
				p.fn(&f)
				applied++
				continue
			}
			before, err := json.Marshal(f)
			if err != nil {
				return nil, fmt.Errorf("state: %w", err)
			}
			p.fn(&f)
			for _, a := range p.abort {
				if p.err = a(); p.err != nil {
					break
				}
			}
			if p.err == nil {
				applied++
				continue
			}
			f = file{} // undo p: back to the state before it
			if err := json.Unmarshal(before, &f); err != nil {
				return nil, fmt.Errorf("state: %w", err)
			}
			if f.Cursors == nil {
				f.Cursors = map[string]Cursor{}
			}
		}
		if applied == 0 {
			return nil, errAllAborted
		}
		nb, err := json.MarshalIndent(f, "", "  ")
		if err != nil {
			return nil, fmt.Errorf("state: %w", err)
		}
		next = f
		return append(nb, '\n'), nil
	})
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		var prev file
		if read != nil && json.Unmarshal(read, &prev) == nil {
			if prev.Cursors == nil {
				prev.Cursors = map[string]Cursor{}
			}
			s.f = prev
		}
		if !errors.Is(err, errAllAborted) {
			fail(err)
		}
		return
	}
	s.f = next
}
