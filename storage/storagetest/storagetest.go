// Package storagetest is the conformance suite every storage.Store passes:
// conditional create (a second create fails, of concurrent creates exactly
// one wins), conditional replace (a stale ETag fails, the current one
// succeeds, of concurrent replacers of one version exactly one wins),
// unconditional replace, failed writes that leave the key as it was, list
// (prefix, order, after write and after delete), idempotent delete,
// read-after-write, and large objects (multipart on S3).
//
//	func TestConformance(t *testing.T) {
//		storagetest.Run(t, func(t *testing.T) storage.Store { return newEmptyStore(t) })
//	}
//
// newStore must return an empty store, isolated from the stores it returned
// before (a fresh directory, a fresh S3 prefix). For S3 it should use a part
// size of 5 MiB so that the 20 MiB case goes through multipart upload.
//
// Put must always return the SHA-256 of what it stored. Stat must return it
// for objects of up to SmallSize bytes; for larger ones it may return an
// empty SHA256 (S3 keeps no SHA-256 for objects uploaded in parts), but
// never a wrong one.
package storagetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/calletl/calletl/storage"
)

// LargeSize is the size of the suite's large object: four 5 MiB parts.
const LargeSize = 20 << 20

// SmallSize is the size up to which Stat must know an object's SHA-256.
const SmallSize = 1 << 20

// Run runs the suite, one subtest per property, each on a fresh store.
func Run(t *testing.T, newStore func(t *testing.T) storage.Store) {
	t.Run("RoundTrip", func(t *testing.T) { testRoundTrip(t, newStore(t)) })
	t.Run("Empty", func(t *testing.T) { testEmpty(t, newStore(t)) })
	t.Run("Large", func(t *testing.T) { testLarge(t, newStore(t)) })
	t.Run("ExactlyOnePart", func(t *testing.T) { testSizes(t, newStore(t)) })
	t.Run("NotFound", func(t *testing.T) { testNotFound(t, newStore(t)) })
	t.Run("Exists", func(t *testing.T) { testExists(t, newStore(t)) })
	t.Run("ConcurrentPut", func(t *testing.T) { testConcurrentPut(t, newStore(t)) })
	t.Run("CreatedDuringPut", func(t *testing.T) { testCreatedDuringPut(t, newStore(t)) })
	t.Run("FailingReader", func(t *testing.T) { testFailingReader(t, newStore(t)) })
	t.Run("CancelledPut", func(t *testing.T) { testCancelledPut(t, newStore(t)) })
	t.Run("List", func(t *testing.T) { testList(t, newStore(t)) })
	t.Run("Delete", func(t *testing.T) { testDelete(t, newStore(t)) })
	t.Run("InvalidKeys", func(t *testing.T) { testInvalidKeys(t, newStore(t)) })
	t.Run("CreateOnly", func(t *testing.T) { testCreateOnly(t, newStore(t)) })
	t.Run("ConcurrentCreate", func(t *testing.T) { testConcurrentCreate(t, newStore(t)) })
	t.Run("ReplaceIfMatch", func(t *testing.T) { testReplaceIfMatch(t, newStore(t)) })
	t.Run("ConcurrentReplace", func(t *testing.T) { testConcurrentReplace(t, newStore(t)) })
	t.Run("ReplaceUnconditional", func(t *testing.T) { testReplaceUnconditional(t, newStore(t)) })
	t.Run("FailedReplaceKeepsObject", func(t *testing.T) { testFailedReplace(t, newStore(t)) })
	t.Run("ReadAndListAfterWrite", func(t *testing.T) { testReadAfterWrite(t, newStore(t)) })
	t.Run("InvalidCond", func(t *testing.T) { testInvalidCond(t, newStore(t)) })
}

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// Generator returns a reader of size deterministic pseudo-random bytes
// derived from seed, produced as they are read (never held in memory).
func Generator(size int64, seed uint64) io.Reader {
	return &genReader{left: size, x: seed*0x9E3779B97F4A7C15 | 1}
}

// GeneratorSHA256 is the hex SHA-256 of Generator(size, seed)'s output.
func GeneratorSHA256(size int64, seed uint64) string {
	h := sha256.New()
	if _, err := io.Copy(h, Generator(size, seed)); err != nil {
		panic(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

type genReader struct {
	left int64
	x    uint64
}

func (g *genReader) Read(p []byte) (int, error) {
	if g.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > g.left {
		p = p[:g.left]
	}
	x := g.x
	for i := range p {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		p[i] = byte(x >> 32)
	}
	g.x = x
	g.left -= int64(len(p))
	return len(p), nil
}

// ErrReader is the error of a FailingReader.
var ErrReader = errors.New("storagetest: reader failed on purpose")

// FailingReader returns the first n bytes of Generator(…, seed) and then
// fails with ErrReader, like a vendor download cut midway.
func FailingReader(n int64, seed uint64) io.Reader {
	return io.MultiReader(Generator(n, seed), errReader{})
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, ErrReader }

func sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func mustPut(t *testing.T, s storage.Store, key string, r io.Reader, contentType string) storage.Info {
	t.Helper()
	info, err := s.Put(ctxFor(t), key, r, contentType)
	if err != nil {
		t.Fatalf("Put(%q): %v", key, err)
	}
	return info
}

// readAll opens key and returns its content's size and SHA-256.
func readAll(t *testing.T, s storage.Store, key string) (int64, string) {
	t.Helper()
	rc, err := s.Open(ctxFor(t), key)
	if err != nil {
		t.Fatalf("Open(%q): %v", key, err)
	}
	defer rc.Close()
	h := sha256.New()
	n, err := io.Copy(h, rc)
	if err != nil {
		t.Fatalf("Open(%q): read: %v", key, err)
	}
	return n, hex.EncodeToString(h.Sum(nil))
}

func checkInfo(t *testing.T, what string, got storage.Info, key string, size int64, sha, contentType string) {
	t.Helper()
	if strings.HasPrefix(what, "Stat") && size > SmallSize && got.SHA256 == "" {
		sha = "" // unknown is allowed, wrong is not
	}
	if got.Key != key || got.Size != size || got.SHA256 != sha || got.ContentType != contentType {
		t.Errorf("%s = {Key:%q Size:%d SHA256:%s ContentType:%q}, want {Key:%q Size:%d SHA256:%s ContentType:%q}",
			what, got.Key, got.Size, got.SHA256, got.ContentType, key, size, sha, contentType)
	}
	if got.ETag == "" {
		t.Errorf("%s: ETag is empty", what)
	}
	if got.Modified.IsZero() {
		t.Errorf("%s: Modified is zero", what)
	} else if d := time.Since(got.Modified); d > time.Hour || d < -time.Hour {
		t.Errorf("%s: Modified %v is far from now", what, got.Modified)
	}
}

// statSHA reports whether Stat's SHA256 obeys the contract for content
// with SHA-256 want: equal, or empty for an object above SmallSize.
func statSHA(st storage.Info, want string) bool {
	return st.SHA256 == want || st.SHA256 == "" && st.Size > SmallSize
}

func checkNotFound(t *testing.T, s storage.Store, key string) {
	t.Helper()
	if info, err := s.Stat(ctxFor(t), key); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Stat(%q) = %+v, %v; want ErrNotFound", key, info, err)
	}
	if rc, err := s.Open(ctxFor(t), key); !errors.Is(err, storage.ErrNotFound) {
		if rc != nil {
			rc.Close()
		}
		t.Errorf("Open(%q) error = %v; want ErrNotFound", key, err)
	}
}

func listKeys(t *testing.T, s storage.Store, prefix string) []string {
	t.Helper()
	var keys []string
	err := s.List(ctxFor(t), prefix, func(i storage.Info) error {
		keys = append(keys, i.Key)
		return nil
	})
	if err != nil {
		t.Fatalf("List(%q): %v", prefix, err)
	}
	return keys
}

func testRoundTrip(t *testing.T, s storage.Store) {
	data := []byte("RIFF fake wav: the caller said hello\n")
	const key, ct = "mtt/2026-11-20/call=42.wav", "audio/wav"
	info := mustPut(t, s, key, bytes.NewReader(data), ct)
	checkInfo(t, "Put", info, key, int64(len(data)), sum(data), ct)
	st, err := s.Stat(ctxFor(t), key)
	if err != nil {
		t.Fatalf("Stat: %v", err)
	}
	checkInfo(t, "Stat", st, key, int64(len(data)), sum(data), ct)
	if st.ETag != info.ETag {
		t.Errorf("Stat ETag %q; want Put's %q", st.ETag, info.ETag)
	}

	rc, err := s.Open(ctxFor(t), key)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	got, err := io.ReadAll(rc)
	if cerr := rc.Close(); err == nil {
		err = cerr
	}
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("Open: read %q, %v; want %q", got, err, data)
	}

	// No content type: stored as unknown, not invented.
	info = mustPut(t, s, "t/plain", strings.NewReader("x"), "")
	if info.Size != 1 || info.SHA256 != sum([]byte("x")) {
		t.Errorf("Put without content type = %+v", info)
	}
}

func testEmpty(t *testing.T, s storage.Store) {
	const key = "empty/zero.bin"
	info := mustPut(t, s, key, bytes.NewReader(nil), "application/octet-stream")
	checkInfo(t, "Put", info, key, 0, sum(nil), "application/octet-stream")
	st, err := s.Stat(ctxFor(t), key)
	if err != nil {
		t.Fatalf("Stat: %v", err)
	}
	checkInfo(t, "Stat", st, key, 0, sum(nil), "application/octet-stream")
	if n, h := readAll(t, s, key); n != 0 || h != sum(nil) {
		t.Errorf("Open: %d bytes, sha %s; want empty", n, h)
	}
}

func testLarge(t *testing.T, s storage.Store) {
	const key, seed = "big/rec.wav", 7
	want := GeneratorSHA256(LargeSize, seed)
	info := mustPut(t, s, key, Generator(LargeSize, seed), "audio/wav")
	checkInfo(t, "Put", info, key, LargeSize, want, "audio/wav")
	st, err := s.Stat(ctxFor(t), key)
	if err != nil {
		t.Fatalf("Stat: %v", err)
	}
	checkInfo(t, "Stat", st, key, LargeSize, want, "audio/wav")
	if n, h := readAll(t, s, key); n != LargeSize || h != want {
		t.Errorf("Open: %d bytes, sha %s; want %d, %s", n, h, int64(LargeSize), want)
	}
	if keys := listKeys(t, s, ""); !slices.Equal(keys, []string{key}) {
		t.Errorf("List after a large Put = %q; want only %q (no temporary objects)", keys, key)
	}
}

// testSizes covers the edges around a 5 MiB part size.
func testSizes(t *testing.T, s storage.Store) {
	for _, size := range []int64{5<<20 - 1, 5 << 20, 5<<20 + 1, 10 << 20} {
		key := fmt.Sprintf("sizes/%d", size)
		want := GeneratorSHA256(size, uint64(size))
		info := mustPut(t, s, key, Generator(size, uint64(size)), "")
		if info.Size != size || info.SHA256 != want {
			t.Errorf("Put(%d bytes) = size %d sha %s; want %s", size, info.Size, info.SHA256, want)
		}
		st, err := s.Stat(ctxFor(t), key)
		if err != nil || st.Size != size || !statSHA(st, want) {
			t.Errorf("Stat(%d bytes) = %+v, %v; want sha %s or empty", size, st, err, want)
		}
		if n, h := readAll(t, s, key); n != size || h != want {
			t.Errorf("Open(%d bytes): %d bytes, sha %s", size, n, h)
		}
	}
}

func testNotFound(t *testing.T, s storage.Store) {
	checkNotFound(t, s, "nope/missing.wav")
	mustPut(t, s, "dir/file", strings.NewReader("x"), "")
	checkNotFound(t, s, "dir")           // a "directory" is not an object
	checkNotFound(t, s, "dir/file/more") // nor is a path through an object
	if keys := listKeys(t, s, "nope/"); len(keys) != 0 {
		t.Errorf("List(nope/) = %q", keys)
	}
}

func testExists(t *testing.T, s storage.Store) {
	const key = "dup/a.wav"
	first := []byte("first version")
	mustPut(t, s, key, bytes.NewReader(first), "audio/wav")
	for _, r := range []io.Reader{
		strings.NewReader("second version, longer than the first"),
		bytes.NewReader(nil),
		Generator(6<<20, 3), // multipart-sized on S3
	} {
		info, err := s.Put(ctxFor(t), key, r, "text/plain")
		if !errors.Is(err, storage.ErrExists) {
			t.Fatalf("second Put = %+v, %v; want ErrExists", info, err)
		}
	}
	st, err := s.Stat(ctxFor(t), key)
	if err != nil {
		t.Fatalf("Stat: %v", err)
	}
	checkInfo(t, "Stat after refused overwrite", st, key, int64(len(first)), sum(first), "audio/wav")
	if n, h := readAll(t, s, key); n != int64(len(first)) || h != sum(first) {
		t.Errorf("content changed by a refused Put: %d bytes, sha %s", n, h)
	}
	if keys := listKeys(t, s, ""); !slices.Equal(keys, []string{key}) {
		t.Errorf("List = %q; want only %q", keys, key)
	}
}

func testConcurrentPut(t *testing.T, s storage.Store) {
	for _, size := range []int64{1 << 10, 6 << 20} { // single-request and multipart on S3
		key := fmt.Sprintf("race/%d", size)
		const n = 6
		var (
			wg       sync.WaitGroup
			mu       sync.Mutex
			winners  []int
			failures []error
		)
		for i := range n {
			wg.Go(func() {
				_, err := s.Put(ctxFor(t), key, Generator(size, uint64(100+i)), "")
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					winners = append(winners, i)
				case !errors.Is(err, storage.ErrExists):
					failures = append(failures, err)
				}
			})
		}
		wg.Wait()
		if len(failures) > 0 {
			t.Errorf("size %d: Puts failed with other errors than ErrExists: %v", size, failures)
		}
		if len(winners) != 1 {
			t.Fatalf("size %d: %d Puts succeeded (%v); want exactly 1", size, len(winners), winners)
		}
		want := GeneratorSHA256(size, uint64(100+winners[0]))
		st, err := s.Stat(ctxFor(t), key)
		if err != nil || st.Size != size || !statSHA(st, want) {
			t.Errorf("size %d: Stat = %+v, %v; want the winner's sha %s", size, st, err, want)
		}
		if m, h := readAll(t, s, key); m != size || h != want {
			t.Errorf("size %d: content is not the winner's: %d bytes, sha %s", size, m, h)
		}
	}
}

// testCreatedDuringPut: the key is created by another Put while a Put of it
// is reading its body. The first Put must fail with ErrExists and leave the
// other object as it is, whatever the sizes (on S3: single request or
// parts, for the one and the other).
func testCreatedDuringPut(t *testing.T, s storage.Store) {
	for _, tc := range []struct {
		name              string
		size, at, another int64
	}{
		{"small during small", 100 << 10, 50 << 10, 10},
		{"small during large", 12 << 20, 7 << 20, 10},
		{"large during large", 12 << 20, 7 << 20, 6 << 20},
		{"large at the end of large", 12 << 20, 12<<20 - 1, 6 << 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			key := "created/" + strings.ReplaceAll(tc.name, " ", "-")
			var otherErr error
			r := &hookAt{r: Generator(tc.size, 1), at: tc.at, fn: func() {
				_, otherErr = s.Put(ctxFor(t), key, Generator(tc.another, 2), "text/plain")
			}}
			info, err := s.Put(ctxFor(t), key, r, "audio/wav")
			if otherErr != nil {
				t.Fatalf("the other Put: %v", otherErr)
			}
			if !r.done {
				t.Fatalf("Put read only %d of %d bytes before returning %+v, %v", r.n, tc.size, info, err)
			}
			if !errors.Is(err, storage.ErrExists) {
				t.Fatalf("Put of a key created meanwhile = %+v, %v; want ErrExists", info, err)
			}
			want := GeneratorSHA256(tc.another, 2)
			st, err := s.Stat(ctxFor(t), key)
			if err != nil || st.Size != tc.another || !statSHA(st, want) || st.ContentType != "text/plain" {
				t.Errorf("Stat = %+v, %v; want the other object (%d bytes, sha %s)", st, err, tc.another, want)
			}
			if n, h := readAll(t, s, key); n != tc.another || h != want {
				t.Errorf("content: %d bytes, sha %s; want the other object's", n, h)
			}
		})
	}
	if keys := listKeys(t, s, ""); len(keys) != 4 {
		t.Errorf("List = %q; want the 4 other objects", keys)
	}
}

// hookAt calls fn once, when at bytes have been read.
type hookAt struct {
	r     io.Reader
	at, n int64
	fn    func()
	done  bool
}

func (h *hookAt) Read(p []byte) (int, error) {
	if !h.done && int64(len(p)) > h.at-h.n {
		p = p[:max(h.at-h.n, 0)]
	}
	n, err := h.r.Read(p)
	h.n += int64(n)
	if !h.done && h.n >= h.at {
		h.done = true
		h.fn()
	}
	return n, err
}

func testFailingReader(t *testing.T, s storage.Store) {
	for _, n := range []int64{0, 100 << 10, 5 << 20, 12 << 20} {
		key := fmt.Sprintf("fail/%d.wav", n)
		info, err := s.Put(ctxFor(t), key, FailingReader(n, 9), "audio/wav")
		if !errors.Is(err, ErrReader) {
			t.Errorf("Put of a reader failing after %d bytes = %+v, %v; want an error wrapping ErrReader", n, info, err)
		}
		checkNotFound(t, s, key)
	}
	if keys := listKeys(t, s, ""); len(keys) != 0 {
		t.Errorf("List after failed Puts = %q; want nothing", keys)
	}
	// The key stays usable.
	mustPut(t, s, "fail/0.wav", strings.NewReader("ok"), "")
}

func testCancelledPut(t *testing.T, s storage.Store) {
	ctx, cancel := context.WithCancel(ctxFor(t))
	// Cancel once 7 MiB have been read: mid-multipart on S3.
	r := &cancelAfter{r: Generator(20<<20, 1), n: 7 << 20, cancel: cancel}
	if _, err := s.Put(ctx, "cancel/x", r, ""); err == nil {
		t.Fatal("Put with a context cancelled midway succeeded")
	}
	checkNotFound(t, s, "cancel/x")
	if keys := listKeys(t, s, ""); len(keys) != 0 {
		t.Errorf("List after a cancelled Put = %q; want nothing", keys)
	}
}

type cancelAfter struct {
	r      io.Reader
	n      int64
	cancel func()
}

func (c *cancelAfter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n -= int64(n)
	if c.n <= 0 {
		c.cancel()
	}
	return n, err
}

func testList(t *testing.T, s storage.Store) {
	keys := []string{"l/b/c", "l/a", "l/b.x", "l/b-y", "l2/z", "other/q", "l/b/d/e"}
	sizes := map[string]int64{}
	for i, k := range keys {
		data := strings.Repeat("x", i+1)
		sizes[k] = int64(len(data))
		mustPut(t, s, k, strings.NewReader(data), "")
	}
	for _, tc := range []struct {
		prefix string
		want   []string
	}{
		{"l/", []string{"l/a", "l/b-y", "l/b.x", "l/b/c", "l/b/d/e"}},
		{"l", []string{"l/a", "l/b-y", "l/b.x", "l/b/c", "l/b/d/e", "l2/z"}},
		{"l/b", []string{"l/b-y", "l/b.x", "l/b/c", "l/b/d/e"}},
		{"l/b/", []string{"l/b/c", "l/b/d/e"}},
		{"l/b/d/e", []string{"l/b/d/e"}},
		{"", []string{"l/a", "l/b-y", "l/b.x", "l/b/c", "l/b/d/e", "l2/z", "other/q"}},
		{"missing/", nil},
		{"l/a/", nil},
	} {
		var got []string
		err := s.List(ctxFor(t), tc.prefix, func(i storage.Info) error {
			got = append(got, i.Key)
			if i.Size != sizes[i.Key] {
				t.Errorf("List(%q): %s size %d, want %d", tc.prefix, i.Key, i.Size, sizes[i.Key])
			}
			if i.Modified.IsZero() {
				t.Errorf("List(%q): %s has no Modified", tc.prefix, i.Key)
			}
			return nil
		})
		if err != nil {
			t.Fatalf("List(%q): %v", tc.prefix, err)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("List(%q) = %q; want %q", tc.prefix, got, tc.want)
		}
	}
	// fn's error stops the listing and comes back unchanged.
	stop := errors.New("stop")
	calls := 0
	err := s.List(ctxFor(t), "l/", func(storage.Info) error { calls++; return stop })
	if err != stop || calls != 1 {
		t.Errorf("List with failing fn = %v after %d calls; want the fn's error after 1", err, calls)
	}
	for _, bad := range []string{"/l", "../", "l//", "a/./"} {
		if err := s.List(ctxFor(t), bad, func(storage.Info) error { return nil }); !errors.Is(err, storage.ErrInvalidKey) {
			t.Errorf("List(%q) = %v; want ErrInvalidKey", bad, err)
		}
	}
}

func testDelete(t *testing.T, s storage.Store) {
	const key = "del/a.wav"
	mustPut(t, s, key, strings.NewReader("one"), "")
	mustPut(t, s, "del/b.wav", strings.NewReader("two"), "")
	if err := s.Delete(ctxFor(t), key); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	checkNotFound(t, s, key)
	if err := s.Delete(ctxFor(t), key); err != nil {
		t.Errorf("Delete of a missing key = %v; want nil", err)
	}
	if keys := listKeys(t, s, "del/"); !slices.Equal(keys, []string{"del/b.wav"}) {
		t.Errorf("List after Delete = %q", keys)
	}
	info := mustPut(t, s, key, strings.NewReader("three"), "")
	if info.SHA256 != sum([]byte("three")) {
		t.Errorf("Put after Delete = %+v", info)
	}
	if n, h := readAll(t, s, key); n != 5 || h != sum([]byte("three")) {
		t.Errorf("content after re-Put: %d bytes, sha %s", n, h)
	}
}

func testInvalidKeys(t *testing.T, s storage.Store) {
	for _, key := range []string{
		"../x", "/abs", "a//b", "a/../b", "", "a/", "./a", "a/.", ".hidden", "a/.tmp",
		"a b", "a\\b", "a\x00b", "ä", "a?b", "a%2e", strings.Repeat("a", storage.MaxKeyLen+1),
	} {
		if err := storage.CheckKey(key); !errors.Is(err, storage.ErrInvalidKey) {
			t.Errorf("CheckKey(%q) = %v; want ErrInvalidKey", key, err)
		}
		if _, err := s.Put(ctxFor(t), key, strings.NewReader("x"), ""); !errors.Is(err, storage.ErrInvalidKey) {
			t.Errorf("Put(%q) = %v; want ErrInvalidKey", key, err)
		}
		if _, err := s.Stat(ctxFor(t), key); !errors.Is(err, storage.ErrInvalidKey) {
			t.Errorf("Stat(%q) = %v; want ErrInvalidKey", key, err)
		}
		if rc, err := s.Open(ctxFor(t), key); !errors.Is(err, storage.ErrInvalidKey) {
			if rc != nil {
				rc.Close()
			}
			t.Errorf("Open(%q) = %v; want ErrInvalidKey", key, err)
		}
		if err := s.Delete(ctxFor(t), key); !errors.Is(err, storage.ErrInvalidKey) {
			t.Errorf("Delete(%q) = %v; want ErrInvalidKey", key, err)
		}
	}
	for _, key := range []string{"a", "a/b", "A-Z_0.9=x/y.wav", "x..y", "a/b..c"} {
		if err := storage.CheckKey(key); err != nil {
			t.Errorf("CheckKey(%q) = %v; want nil", key, err)
		}
	}
	if keys := listKeys(t, s, ""); len(keys) != 0 {
		t.Errorf("invalid keys stored something: %q", keys)
	}
}
