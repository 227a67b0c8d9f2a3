package storage

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"
)

// LockFile takes the flock(2) lock how (syscall.LOCK_EX or LOCK_SH, with
// LOCK_NB not to wait) on path, created with mode 0600 if missing, and
// returns the function that releases it. flock locks belong to the open
// file, so the lock also ends when the process does, killed or not. With
// LOCK_NB, a lock held elsewhere is an error wrapping syscall.EWOULDBLOCK.
func LockFile(path string, how int) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), how); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return func() { f.Close() }, nil
}

// WaitLockFile takes the exclusive lock on path, trying every poll until
// it gets it or ctx ends (a blocking flock could not be cancelled).
func WaitLockFile(ctx context.Context, path string, poll time.Duration) (unlock func(), err error) {
	for {
		unlock, err := LockFile(path, syscall.LOCK_EX|syscall.LOCK_NB)
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			return unlock, err
		}
		t := time.NewTimer(poll)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("waiting for the lock %s: %w", path, context.Cause(ctx))
		case <-t.C:
		}
	}
}
