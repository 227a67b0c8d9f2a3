package storage_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/calletl/calletl/storage"
)

// ReadVersion returns the bytes with the ETag of those bytes (a replace
// conditional on it succeeds), and ErrNotFound for a missing key.
func TestReadVersion(t *testing.T) {
	st, err := storage.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if _, _, err := storage.ReadVersion(ctx, st, "state.json"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("missing key: %v, want ErrNotFound", err)
	}
	if _, err := st.Replace(ctx, "state.json", strings.NewReader("v1"), storage.IfNoneMatch()); err != nil {
		t.Fatal(err)
	}
	b, etag, err := storage.ReadVersion(ctx, st, "state.json")
	if err != nil || string(b) != "v1" {
		t.Fatalf("read %q, %v", b, err)
	}
	if _, err := st.Replace(ctx, "state.json", strings.NewReader("v2"), storage.IfMatch(etag)); err != nil {
		t.Fatalf("replace conditional on the version read: %v", err)
	}
	if _, err := st.Replace(ctx, "state.json", strings.NewReader("v3"), storage.IfMatch(etag)); !errors.Is(err, storage.ErrPrecondition) {
		t.Fatalf("replace conditional on a replaced version: %v, want ErrPrecondition", err)
	}
}

// DownloadVersion writes the bytes to a file and returns their ETag;
// Download replaces a file whole; a missing key is ErrNotFound and leaves
// no file behind.
func TestDownloadVersion(t *testing.T) {
	st, err := storage.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	dir := t.TempDir()
	path := filepath.Join(dir, "copy")
	if _, err := storage.DownloadVersion(ctx, st, "k", path); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("missing key: %v, want ErrNotFound", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("a failed download left %s: %v", path, err)
	}
	if _, err := st.Replace(ctx, "k", strings.NewReader("version one"), storage.IfNoneMatch()); err != nil {
		t.Fatal(err)
	}
	etag, err := storage.DownloadVersion(ctx, st, "k", path)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != "version one" {
		t.Fatalf("downloaded %q", b)
	}
	if _, err := st.Replace(ctx, "k", strings.NewReader("v2"), storage.IfMatch(etag)); err != nil {
		t.Fatalf("replace conditional on the version downloaded: %v", err)
	}
	mirror := filepath.Join(dir, "sub", "dir", "copy")
	n, err := storage.Download(ctx, st, "k", mirror)
	if err != nil || n != 2 {
		t.Fatalf("Download: %d bytes, %v", n, err)
	}
	if b, _ := os.ReadFile(mirror); string(b) != "v2" {
		t.Fatalf("downloaded %q", b)
	}
	left, _ := filepath.Glob(filepath.Join(dir, "sub", "dir", ".download-*"))
	if len(left) != 0 {
		t.Fatalf("temporary files left: %v", left)
	}
}

// LockFile excludes a second holder (flock locks are per open file, so
// this holds within one process too); WaitLockFile waits for the release
// and gives up when its context ends.
func TestLockFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lock")
	unlock, err := storage.LockFile(path, syscall.LOCK_EX|syscall.LOCK_NB)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := storage.LockFile(path, syscall.LOCK_EX|syscall.LOCK_NB); !errors.Is(err, syscall.EWOULDBLOCK) {
		t.Fatalf("second lock: %v, want EWOULDBLOCK", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := storage.WaitLockFile(ctx, path, time.Millisecond); !errors.Is(err, context.Canceled) {
		t.Fatalf("wait with a cancelled context: %v", err)
	}
	got := make(chan error, 1)
	go func() {
		u, err := storage.WaitLockFile(t.Context(), path, time.Millisecond)
		if err == nil {
			u()
		}
		got <- err
	}()
	unlock()
	if err := <-got; err != nil {
		t.Fatalf("wait after the release: %v", err)
	}
}
