package state

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/calletl/calletl/storage"
)

// backend is where the state document lives: a file in a local directory
// (fileBackend, under flock) or one object of a storage.Store
// (objectBackend, under conditional writes).
type backend interface {
	// read returns the document as stored now, nil when there is none.
	read(ctx context.Context) ([]byte, error)
	// modify calls fn with the document as stored now (nil when there is
	// none) and stores what fn returns, so that of concurrent modifies,
	// also from other processes, none is lost. fn may be called more
	// than once (each time with a fresher document), so it must change
	// nothing but its result; its error aborts modify and is returned
	// unchanged.
	modify(ctx context.Context, fn func(cur []byte) ([]byte, error)) error
	// where names the document in errors (a path, or the store's URL and
	// key).
	where() string
}

// fileBackend is the state file in a local directory: read-modify-write
// under the short flock write.lock, the file replaced atomically.
type fileBackend struct{ dir string }

func (b fileBackend) where() string { return filepath.Join(b.dir, fileName) }

func (b fileBackend) read(context.Context) ([]byte, error) {
	data, err := os.ReadFile(b.where())
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("state: %w", err)
	}
	return data, nil
}

func (b fileBackend) modify(ctx context.Context, fn func([]byte) ([]byte, error)) error {
	unlock, err := flock(filepath.Join(b.dir, "write.lock"), syscall.LOCK_EX)
	if err != nil {
		return err
	}
	defer unlock()
	cur, err := b.read(ctx)
	if err != nil {
		return err
	}
	next, err := fn(cur)
	if err != nil {
		return err
	}
	if err := storage.WriteFileAtomic(b.where(), next, 0o600); err != nil {
		return fmt.Errorf("state: %w", err)
	}
	return nil
}

// objectBackend is the state document as the object state.json of a
// storage.Store (for S3, PREFIX/state.json). Every write is a
// read-modify-write conditional on the version read: If-Match on its ETag,
// or If-None-Match when there was none. A writer that lost the race
// (ErrPrecondition) reads again and retries, up to attempts times, with
// jittered exponential backoff.
type objectBackend struct {
	st       storage.Store
	name     string // e.g. s3://bucket/prefix
	attempts int
	backoff  time.Duration // the first retry's ceiling; doubles up to maxBackoff
}

const (
	objectKey           = fileName
	defaultAttempts     = 40
	defaultBackoff      = 5 * time.Millisecond
	maxBackoff          = time.Second
	objectWriteTimeout  = 2 * time.Minute
	errContentionAdvice = "other processes won every attempt; run again"
)

func (b *objectBackend) where() string { return b.name + "/" + objectKey }

func (b *objectBackend) read(ctx context.Context) ([]byte, error) {
	data, _, err := b.readVersion(ctx)
	return data, err
}

// readVersion returns the document and its ETag ("" and nil when absent).
func (b *objectBackend) readVersion(ctx context.Context) ([]byte, string, error) {
	data, etag, err := storage.ReadVersion(ctx, b.st, objectKey)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return nil, "", nil
	case err != nil:
		return nil, "", fmt.Errorf("state: read %s: %w", b.where(), err)
	}
	return data, etag, nil
}

func (b *objectBackend) modify(ctx context.Context, fn func([]byte) ([]byte, error)) error {
	ceiling := b.backoff
	for attempt := 0; ; attempt++ {
		cur, etag, err := b.readVersion(ctx)
		if err != nil {
			return err
		}
		next, err := fn(cur)
		if err != nil {
			return err
		}
		cond := storage.IfNoneMatch()
		if etag != "" {
			cond = storage.IfMatch(etag)
		}
		_, err = b.st.Replace(ctx, objectKey, bytes.NewReader(next), cond)
		if err == nil {
			return nil
		}
		if !errors.Is(err, storage.ErrPrecondition) {
			return fmt.Errorf("state: write %s: %w", b.where(), err)
		}
		if attempt+1 >= b.attempts {
			return fmt.Errorf("state: write %s: %d attempts, each refused because another process wrote the state meanwhile (%s): %w", b.where(), b.attempts, errContentionAdvice, err)
		}
		// Full jitter: shards that collided spread out instead of
		// colliding again in step.
		wait := ceiling/2 + rand.N(ceiling/2+1)
		ceiling = min(2*ceiling, maxBackoff)
		select {
		case <-ctx.Done():
			return fmt.Errorf("state: write %s: %w", b.where(), context.Cause(ctx))
		case <-time.After(wait):
		}
	}
}
