package storage

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
)

// ReadVersion returns the object's content and the ETag of that content,
// for a read-modify-write conditional on it (Replace with IfMatch), or an
// error wrapping ErrNotFound. See readVersion for how the ETag is known to
// be the version of the bytes returned.
func ReadVersion(ctx context.Context, st Store, key string) ([]byte, string, error) {
	var buf bytes.Buffer
	etag, err := readVersion(ctx, st, key, func(r io.Reader) error {
		buf.Reset()
		_, err := buf.ReadFrom(r)
		return err
	})
	if err != nil {
		return nil, "", err
	}
	return buf.Bytes(), etag, nil
}

// DownloadVersion copies the object key to a new file at path (mode 0600,
// not fsynced: a spool copy, which a crash loses with nothing that is not
// in the store) and returns the ETag of the bytes copied, as ReadVersion
// does, without holding the object in memory. The file is complete or
// absent.
func DownloadVersion(ctx context.Context, st Store, key, path string) (string, error) {
	etag, err := readVersion(ctx, st, key, func(r io.Reader) error {
		_, err := copyToFile(path, r)
		return err
	})
	if err != nil {
		os.Remove(path)
	}
	return etag, err
}

// Download copies the object key to path, returning the bytes copied. The
// copy is written to a temporary file beside path and renamed over it, so
// path is always the old file or the whole new one (a reader of a mirror
// never sees half an object). The parent directory is created.
func Download(ctx context.Context, st Store, key, path string) (int64, error) {
	rc, err := st.Open(ctx, key)
	if err != nil {
		return 0, err
	}
	defer rc.Close()
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return 0, err
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".download-*.tmp")
	if err != nil {
		return 0, err
	}
	n, err := io.Copy(f, rc)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return 0, fmt.Errorf("storage: download %s: %w", key, err)
	}
	return n, nil
}

// readVersion reads the object key through read (called again, from the
// start, for each attempt) and returns the ETag of the content read. The
// ETag comes from a Stat before the read. When the store knows the
// content's SHA-256, the bytes read must match it; otherwise a Stat after
// the read must show the same ETag. If not, the object changed during the
// read and it is repeated, so the ETag is the version of the bytes read (a
// stale ETag would only make a conditional write fail and retry, but a
// newer one could pair with older bytes and overwrite a version never
// read).
func readVersion(ctx context.Context, st Store, key string, read func(io.Reader) error) (string, error) {
	for range 10 {
		before, err := st.Stat(ctx, key)
		if err != nil {
			return "", err
		}
		rc, err := st.Open(ctx, key)
		if errors.Is(err, ErrNotFound) {
			continue // deleted meanwhile: the next Stat says so
		}
		if err != nil {
			return "", err
		}
		var r io.Reader = rc
		var sum hash.Hash
		if before.SHA256 != "" {
			sum = sha256.New()
			r = io.TeeReader(rc, sum)
		}
		err = read(r)
		rc.Close()
		if err != nil {
			return "", fmt.Errorf("storage: read %s: %w", key, err)
		}
		if sum != nil {
			if hex.EncodeToString(sum.Sum(nil)) == before.SHA256 {
				return before.ETag, nil
			}
			continue // replaced between Stat and Open
		}
		after, err := st.Stat(ctx, key)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return "", err
		}
		if err == nil && after.ETag == before.ETag {
			return before.ETag, nil
		}
	}
	return "", fmt.Errorf("storage: %s changed on every one of 10 reads: other processes keep replacing it; run again", key)
}

// copyToFile writes r to path, created or truncated.
func copyToFile(path string, r io.Reader) (int64, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return 0, err
	}
	n, err := io.Copy(f, r)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return n, err
}
