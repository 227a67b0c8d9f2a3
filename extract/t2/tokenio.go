package t2

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"

	"github.com/calletl/calletl/storage"
)

// tokenIO is where the token pair is kept between runs: a file in a state
// directory, or an object in the store of a state on S3.
type tokenIO interface {
	// read returns the saved pair's bytes, or an error wrapping
	// fs.ErrNotExist when nothing is saved yet.
	read(ctx context.Context) ([]byte, error)
	// write saves b durably and atomically.
	write(ctx context.Context, b []byte) error
	// String names the file or object in messages.
	String() string
}

// tokenPath is a token file, written atomically with mode 0600.
type tokenPath string

func (p tokenPath) read(context.Context) ([]byte, error) { return os.ReadFile(string(p)) }

func (p tokenPath) write(_ context.Context, b []byte) error {
	return storage.WriteFileAtomic(string(p), b, 0o600)
}

func (p tokenPath) String() string { return string(p) }

// tokenObject is a token object in a store. Writes are conditional on the
// version this process last read or wrote (If-Match; If-None-Match when
// there was none), so a pair saved by another process meanwhile is never
// silently overwritten: T2 is pinned to one shard, and two processes
// refreshing one PBX's pair at once is an operator's error to report.
type tokenObject struct {
	st   storage.Store
	key  string
	name string // the object's URL, for messages

	mu   sync.Mutex
	etag string // the version last read or written; "" when none was seen
}

func (o *tokenObject) read(ctx context.Context) ([]byte, error) {
	// The ETag of the bytes read, not of a later version: a write
	// conditional on a newer version than was read would overwrite it.
	b, etag, err := storage.ReadVersion(ctx, o.st, o.key)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, fmt.Errorf("%s: %w", o.name, fs.ErrNotExist)
	}
	if err != nil {
		return nil, err
	}
	o.mu.Lock()
	o.etag = etag
	o.mu.Unlock()
	return b, nil
}

func (o *tokenObject) write(ctx context.Context, b []byte) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	cond := storage.IfNoneMatch()
	if o.etag != "" {
		cond = storage.IfMatch(o.etag)
	}
	info, err := o.st.Replace(ctx, o.key, bytes.NewReader(b), cond)
	if errors.Is(err, storage.ErrPrecondition) {
		return fmt.Errorf("%s was written by another process since this one read it (two runs using the T2 tokens at once?): %w", o.name, err)
	}
	if err != nil {
		return err
	}
	o.etag = info.ETag
	return nil
}

func (o *tokenObject) String() string { return o.name }
