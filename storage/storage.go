// Package storage is where calletl persists objects: a [Store] is a flat
// namespace of immutable objects under slash-separated keys, implemented by a
// local directory ([Local]) and by S3 or an S3-compatible server ([S3]).
//
// Objects are written once. [Store.Put] streams the body (nothing holds a
// whole object in memory), computes its size and SHA-256 on the way, and
// creates the key only if it does not exist yet: a second Put of the same key
// returns [ErrExists] and leaves the first object untouched, so re-running a
// fetch never overwrites or duplicates a recording, and of several concurrent
// Puts of one key exactly one wins. A Put whose reader fails leaves nothing
// behind under the key.
//
// Every implementation passes the conformance suite in package storagetest.
package storage

import (
	"context"
	"errors"
	"fmt"
	"hash"
	"io"
	"strings"
	"time"
)

// Store is where recordings and transcripts go. Methods are safe for
// concurrent use.
//
// Keys are slash-separated and relative, for example
// "mtt/2026-11-20/abc.wav"; see [CheckKey] for what is accepted. Every method
// rejects an invalid key with an error wrapping [ErrInvalidKey].
type Store interface {
	// Put streams r to key without buffering the whole object; the size
	// and SHA-256 are computed on the way and returned. If key already
	// exists, Put returns ErrExists and does not overwrite it (it may do so
	// before reading r to the end). If r fails, Put returns an error
	// wrapping r's error and nothing is stored under key. Put does not
	// close r.
	Put(ctx context.Context, key string, r io.Reader, contentType string) (Info, error)
	// Stat returns the object's Info, or ErrNotFound. Its SHA256 is the
	// content's SHA-256 or, where the store does not keep it (S3 objects
	// uploaded in parts), empty: never another value. Put's Info always has
	// it.
	Stat(ctx context.Context, key string) (Info, error)
	// Open returns the object's content, or ErrNotFound; the caller closes
	// it.
	Open(ctx context.Context, key string) (io.ReadCloser, error)
	// List calls fn for every object whose key starts with prefix (a plain
	// string prefix, not necessarily ending in "/"), in byte-wise key
	// order, in the calling goroutine, and stops at fn's first error, which
	// it returns unchanged. Info from List always has Key, Size and
	// Modified; SHA256 and ContentType may be empty (Stat has them).
	List(ctx context.Context, prefix string, fn func(Info) error) error
	// Delete removes key. Deleting a key that does not exist is not an
	// error.
	Delete(ctx context.Context, key string) error
}

// Info describes a stored object.
type Info struct {
	Key         string
	Size        int64
	SHA256      string // lowercase hex; "" if unknown (see Store.Stat)
	ContentType string // "" if unknown
	Modified    time.Time
}

var (
	// ErrExists is returned by Put when the key already holds an object.
	ErrExists = errors.New("storage: object already exists")
	// ErrNotFound is returned by Stat and Open when the key holds no
	// object.
	ErrNotFound = errors.New("storage: object not found")
	// ErrInvalidKey is wrapped by every error about an unacceptable key.
	ErrInvalidKey = errors.New("storage: invalid key")
)

// MaxKeyLen bounds a key's length in bytes (S3 allows 1024 including the
// store's prefix; local file systems allow 255 bytes per segment).
const MaxKeyLen = 900

const maxSegmentLen = 200

// CheckKey reports whether key is acceptable to every Store: non-empty, at
// most MaxKeyLen bytes, made of [A-Za-z0-9._=/-], no leading or trailing
// "/", no empty segment ("a//b"), and no segment starting with "." (so no
// "." or ".." segments, and no clash with the stores' hidden temporary
// names). A segment is at most 200 bytes.
func CheckKey(key string) error {
	if err := checkKey(key); err != nil {
		return fmt.Errorf("%w %q: %s", ErrInvalidKey, key, err)
	}
	return nil
}

func checkKey(key string) error {
	if key == "" {
		return errors.New("empty")
	}
	if len(key) > MaxKeyLen {
		return fmt.Errorf("longer than %d bytes", MaxKeyLen)
	}
	for i := 0; i < len(key); i++ {
		if !keyByte(key[i]) {
			return fmt.Errorf("byte %#x at offset %d is not one of [A-Za-z0-9._=/-]", key[i], i)
		}
	}
	for seg := range strings.SplitSeq(key, "/") {
		switch {
		case seg == "":
			return errors.New("empty path segment (leading, trailing or double slash)")
		case seg[0] == '.':
			return errors.New("path segment starts with a dot")
		case len(seg) > maxSegmentLen:
			return fmt.Errorf("path segment longer than %d bytes", maxSegmentLen)
		}
	}
	return nil
}

// checkPrefix accepts "" and any prefix of a valid key.
func checkPrefix(prefix string) error {
	if prefix == "" {
		return nil
	}
	// A prefix may end in "/" or in a partial segment; checking it with a
	// final segment appended covers both.
	probe := prefix
	if strings.HasSuffix(probe, "/") {
		probe += "x"
	}
	if err := checkKey(probe); err != nil {
		return fmt.Errorf("%w: list prefix %q: %s", ErrInvalidKey, prefix, err)
	}
	return nil
}

func keyByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '.' || c == '_' || c == '=' || c == '/' || c == '-'
}

// hashingReader counts and hashes what is read through it.
type hashingReader struct {
	r io.Reader
	h hash.Hash
	n int64
}

func (h *hashingReader) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	if n > 0 {
		h.h.Write(p[:n]) // hash.Hash never fails
		h.n += int64(n)
	}
	return n, err
}

// ctxReader fails with the context's error once ctx is done, so a Put of a
// stalled or endless reader can be cancelled between reads.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
