// Package storage is where calletl persists objects: a [Store] is a flat
// namespace of objects under slash-separated keys, implemented by a local
// directory ([Local]) and by S3 or an S3-compatible server ([S3]). The
// recordings, the lake (load.Options.Store) and the state
// (state.OpenStorage) are kept in one.
//
// Writes stream the body (nothing holds a whole object in memory), compute
// its size and SHA-256 on the way, and are atomic: a reader sees the old
// object or the new one, never a part, and a write whose reader fails
// leaves the key as it was. Every write is conditional or explicitly not:
//
//   - [Store.Put] and [Store.Replace] with [IfNoneMatch] create the key only
//     if it does not exist yet: a second create returns [ErrExists] and
//     leaves the first object untouched, and of several concurrent creates
//     of one key exactly one wins. Recordings are written so, which makes
//     re-running a fetch never overwrite or duplicate one.
//   - [Store.Replace] with [IfMatch] replaces the object only if its
//     current [Info.ETag] is the given one (compare-and-swap): of several
//     writers that read the same version, exactly one replaces it and the
//     others get [ErrPrecondition].
//   - [Store.Replace] with [Unconditional] replaces or creates; the last
//     writer wins.
//
// What a write returns, Stat, Open and List see at once (read-after-write
// and list-after-write), also after Delete.
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

// Store is where objects go. Methods are safe for concurrent use, also by
// several processes on one store (see each implementation for how far that
// reaches).
//
// Keys are slash-separated and relative, for example
// "mtt/2026-11-20/abc.wav"; see [CheckKey] for what is accepted. Every method
// rejects an invalid key with an error wrapping [ErrInvalidKey].
type Store interface {
	// Put creates key from r, only if key does not exist yet: it is
	// Replace with IfNoneMatch, storing contentType as well. It streams r
	// without buffering the whole object; the size and SHA-256 are
	// computed on the way and returned. If key already exists, Put
	// returns ErrExists and does not overwrite it (it may do so before
	// reading r to the end). If r fails, Put returns an error wrapping r's
	// error and nothing is stored under key. Put does not close r.
	Put(ctx context.Context, key string, r io.Reader, contentType string) (Info, error)
	// Replace writes r to key under cond (IfNoneMatch, IfMatch or
	// Unconditional) and returns the new object's Info, ETag included.
	// It streams like Put and is atomic: if cond does not hold when the
	// object would be published, or r fails, or ctx ends, key keeps what
	// it had (its old object, or nothing). A failed IfNoneMatch returns
	// ErrExists, a failed IfMatch ErrPrecondition (also when key does not
	// exist: the version the caller read is gone); ErrExists wraps
	// ErrPrecondition, so errors.Is(err, ErrPrecondition) catches both.
	// Replace stores no content type. It does not close r.
	Replace(ctx context.Context, key string, r io.Reader, cond Cond) (Info, error)
	// Stat returns the object's Info, or ErrNotFound. Its ETag is always
	// set. Its SHA256 is the content's SHA-256 or, where the store does
	// not keep it (S3 objects uploaded in parts), empty: never another
	// value. The Info of Put and Replace always has both.
	Stat(ctx context.Context, key string) (Info, error)
	// Open returns the object's content, or ErrNotFound; the caller closes
	// it.
	Open(ctx context.Context, key string) (io.ReadCloser, error)
	// List calls fn for every object whose key starts with prefix (a plain
	// string prefix, not necessarily ending in "/"), in byte-wise key
	// order, in the calling goroutine, and stops at fn's first error, which
	// it returns unchanged. Info from List always has Key, Size and
	// Modified; ETag, SHA256 and ContentType may be empty (Stat has them).
	List(ctx context.Context, prefix string, fn func(Info) error) error
	// Delete removes key. Deleting a key that does not exist is not an
	// error.
	Delete(ctx context.Context, key string) error
}

// Info describes a stored object.
type Info struct {
	Key  string
	Size int64
	// ETag is an opaque version token: it changes whenever the content
	// does, and IfMatch(ETag) makes a Replace conditional on the object
	// still being this version. Stores derive it from the content (S3's
	// ETag, a local file's SHA-256), so writing back identical content
	// keeps it.
	ETag        string
	SHA256      string // lowercase hex; "" if unknown (see Store.Stat)
	ContentType string // "" if unknown
	Modified    time.Time
}

// Cond is the condition of a [Store.Replace]: [IfNoneMatch], [IfMatch] or
// [Unconditional]. The zero Cond is invalid, so that a forgotten condition
// is an error rather than an overwrite.
type Cond struct {
	kind condKind
	etag string
}

type condKind uint8

const (
	condInvalid condKind = iota
	condNoneMatch
	condMatch
	condAlways
)

// IfNoneMatch makes a write create-only: it fails with ErrExists if the key
// holds an object (S3 If-None-Match: *).
func IfNoneMatch() Cond { return Cond{kind: condNoneMatch} }

// IfMatch makes a write replace only the version etag (an [Info.ETag]): it
// fails with ErrPrecondition if the key holds another version or nothing
// (S3 If-Match).
func IfMatch(etag string) Cond { return Cond{kind: condMatch, etag: etag} }

// Unconditional makes a write replace whatever the key holds, or create it.
func Unconditional() Cond { return Cond{kind: condAlways} }

// String describes the condition for messages.
func (c Cond) String() string {
	switch c.kind {
	case condNoneMatch:
		return "if-none-match"
	case condMatch:
		return fmt.Sprintf("if-match %q", c.etag)
	case condAlways:
		return "unconditional"
	}
	return "invalid condition"
}

func (c Cond) check() error {
	switch {
	case c.kind == condInvalid || c.kind > condAlways:
		return errors.New("storage: replace: no condition: use storage.IfNoneMatch, IfMatch or Unconditional")
	case c.kind == condMatch && c.etag == "":
		return errors.New("storage: replace: IfMatch with an empty ETag: pass the ETag of a Stat, List or earlier write")
	}
	return nil
}

var (
	// ErrPrecondition is returned by Replace when its condition does not
	// hold; nothing was written.
	ErrPrecondition = errors.New("storage: precondition failed")
	// ErrExists is returned by Put and by Replace with IfNoneMatch when the
	// key already holds an object. It wraps ErrPrecondition.
	ErrExists error = existsError{}
	// ErrNotFound is returned by Stat and Open when the key holds no
	// object.
	ErrNotFound = errors.New("storage: object not found")
	// ErrInvalidKey is wrapped by every error about an unacceptable key.
	ErrInvalidKey = errors.New("storage: invalid key")
)

type existsError struct{}

func (existsError) Error() string        { return "storage: object already exists" }
func (existsError) Is(target error) bool { return target == ErrPrecondition }

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
