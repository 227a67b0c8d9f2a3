package storagetest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/calletl/calletl/storage"
)

// Sizes every write test runs with: one request, and (on S3 with 5 MiB
// parts) a multipart upload.
var writeSizes = []int64{1 << 10, 6 << 20}

func mustReplace(t *testing.T, s storage.Store, key string, r io.Reader, cond storage.Cond) storage.Info {
	t.Helper()
	info, err := s.Replace(ctxFor(t), key, r, cond)
	if err != nil {
		t.Fatalf("Replace(%q, %s): %v", key, cond, err)
	}
	if info.Key != key || info.ETag == "" || info.SHA256 == "" || info.Modified.IsZero() {
		t.Errorf("Replace(%q, %s) = %+v; want Key, ETag, SHA256 and Modified set", key, cond, info)
	}
	return info
}

// checkContent asserts that key holds Generator(size, seed) and that Stat
// reports etag (when not empty).
func checkContent(t *testing.T, s storage.Store, what, key string, size int64, seed uint64, etag string) {
	t.Helper()
	want := GeneratorSHA256(size, seed)
	st, err := s.Stat(ctxFor(t), key)
	if err != nil {
		t.Fatalf("%s: Stat(%q): %v", what, key, err)
	}
	if st.Size != size || !statSHA(st, want) || st.ETag == "" || etag != "" && st.ETag != etag {
		t.Errorf("%s: Stat(%q) = %+v; want size %d, sha %s, ETag %q", what, key, st, size, want, etag)
	}
	if n, h := readAll(t, s, key); n != size || h != want {
		t.Errorf("%s: %q holds %d bytes, sha %s; want %d bytes of seed %d", what, key, n, h, size, seed)
	}
}

// testCreateOnly: Replace with IfNoneMatch creates a missing key once;
// every later create, by Replace or Put, fails with ErrExists (which is an
// ErrPrecondition) and leaves the object as it is.
func testCreateOnly(t *testing.T, s storage.Store) {
	for _, size := range writeSizes {
		key := fmt.Sprintf("create/%d", size)
		info := mustReplace(t, s, key, Generator(size, 1), storage.IfNoneMatch())
		if want := GeneratorSHA256(size, 1); info.Size != size || info.SHA256 != want {
			t.Errorf("Replace(IfNoneMatch) = %+v; want size %d sha %s", info, size, want)
		}
		for _, other := range writeSizes {
			_, err := s.Replace(ctxFor(t), key, Generator(other, 2), storage.IfNoneMatch())
			if !errors.Is(err, storage.ErrExists) || !errors.Is(err, storage.ErrPrecondition) {
				t.Errorf("second Replace(IfNoneMatch) of %d bytes = %v; want ErrExists, an ErrPrecondition", other, err)
			}
			if _, err := s.Put(ctxFor(t), key, Generator(other, 2), ""); !errors.Is(err, storage.ErrExists) {
				t.Errorf("Put after Replace(IfNoneMatch) = %v; want ErrExists", err)
			}
		}
		checkContent(t, s, "after refused creates", key, size, 1, info.ETag)
	}
	// A Put's object is as existing for a create-only Replace.
	mustPut(t, s, "create/put", strings.NewReader("put"), "text/plain")
	if _, err := s.Replace(ctxFor(t), "create/put", strings.NewReader("again"), storage.IfNoneMatch()); !errors.Is(err, storage.ErrExists) {
		t.Errorf("Replace(IfNoneMatch) of a Put's key = %v; want ErrExists", err)
	}
}

// testConcurrentCreate: of concurrent creates of one key (Put and
// Replace with IfNoneMatch mixed), exactly one wins.
func testConcurrentCreate(t *testing.T, s storage.Store) {
	for _, size := range writeSizes {
		key := fmt.Sprintf("create-race/%d", size)
		winners, failures := race(6, func(i int) error {
			var err error
			if i%2 == 0 {
				_, err = s.Put(ctxFor(t), key, Generator(size, uint64(100+i)), "")
			} else {
				_, err = s.Replace(ctxFor(t), key, Generator(size, uint64(100+i)), storage.IfNoneMatch())
			}
			if errors.Is(err, storage.ErrExists) {
				return errLost
			}
			return err
		})
		if len(failures) > 0 {
			t.Errorf("size %d: creates failed with other errors than ErrExists: %v", size, failures)
		}
		if len(winners) != 1 {
			t.Fatalf("size %d: %d creates succeeded (%v); want exactly 1", size, len(winners), winners)
		}
		checkContent(t, s, "after concurrent creates", key, size, uint64(100+winners[0]), "")
	}
}

var errLost = errors.New("lost the race")

// race runs fn(0..n-1) at once and returns who returned nil and the errors
// other than errLost.
func race(n int, fn func(i int) error) (winners []int, failures []error) {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		start = make(chan struct{})
	)
	for i := range n {
		wg.Go(func() {
			<-start
			err := fn(i)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				winners = append(winners, i)
			case !errors.Is(err, errLost):
				failures = append(failures, err)
			}
		})
	}
	close(start)
	wg.Wait()
	return winners, failures
}

// testReplaceIfMatch: IfMatch with the current ETag replaces, with a stale
// one (or on a missing key) fails with ErrPrecondition and writes nothing.
func testReplaceIfMatch(t *testing.T, s storage.Store) {
	for _, size := range writeSizes {
		key := fmt.Sprintf("cas/%d", size)
		v1 := mustReplace(t, s, key, Generator(size, 1), storage.IfNoneMatch())
		v2 := mustReplace(t, s, key, Generator(size, 2), storage.IfMatch(v1.ETag))
		if v2.ETag == v1.ETag {
			t.Errorf("size %d: ETag %q unchanged by a replace with other content", size, v2.ETag)
		}
		checkContent(t, s, "after IfMatch(current)", key, size, 2, v2.ETag)

		for _, other := range writeSizes {
			_, err := s.Replace(ctxFor(t), key, Generator(other, 3), storage.IfMatch(v1.ETag))
			if !errors.Is(err, storage.ErrPrecondition) || errors.Is(err, storage.ErrExists) {
				t.Errorf("size %d: Replace(IfMatch(stale)) of %d bytes = %v; want ErrPrecondition", size, other, err)
			}
		}
		checkContent(t, s, "after IfMatch(stale)", key, size, 2, v2.ETag)

		v3 := mustReplace(t, s, key, Generator(size, 3), storage.IfMatch(v2.ETag))
		checkContent(t, s, "after a second IfMatch(current)", key, size, 3, v3.ETag)

		// The version read is gone: deleted keys fail too, and stay deleted.
		if err := s.Delete(ctxFor(t), key); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Replace(ctxFor(t), key, Generator(size, 4), storage.IfMatch(v3.ETag)); !errors.Is(err, storage.ErrPrecondition) {
			t.Errorf("size %d: Replace(IfMatch) of a deleted key = %v; want ErrPrecondition", size, err)
		}
		checkNotFound(t, s, key)
	}
	if keys := listKeys(t, s, ""); len(keys) != 0 {
		t.Errorf("List = %q; want nothing (refused writes left objects)", keys)
	}
}

// testConcurrentReplace: of writers replacing the same version at once,
// exactly one wins; the others get ErrPrecondition, and the object is the
// winner's, with the ETag the winner got.
func testConcurrentReplace(t *testing.T, s storage.Store) {
	for _, size := range writeSizes {
		key := fmt.Sprintf("cas-race/%d", size)
		v0 := mustReplace(t, s, key, Generator(size, 1), storage.Unconditional())
		var (
			mu    sync.Mutex
			etags = map[int]string{}
		)
		winners, failures := race(6, func(i int) error {
			info, err := s.Replace(ctxFor(t), key, Generator(size, uint64(200+i)), storage.IfMatch(v0.ETag))
			if errors.Is(err, storage.ErrPrecondition) {
				return errLost
			}
			mu.Lock()
			etags[i] = info.ETag
			mu.Unlock()
			return err
		})
		if len(failures) > 0 {
			t.Errorf("size %d: replacers failed with other errors than ErrPrecondition: %v", size, failures)
		}
		if len(winners) != 1 {
			t.Fatalf("size %d: %d replacers of one version succeeded (%v); want exactly 1", size, len(winners), winners)
		}
		checkContent(t, s, "after concurrent replaces", key, size, uint64(200+winners[0]), etags[winners[0]])
	}
}

// testReplaceUnconditional: creates a missing key, replaces an existing
// one whatever its version, at every size.
func testReplaceUnconditional(t *testing.T, s storage.Store) {
	const key = "overwrite/x"
	var prev string
	for i, size := range []int64{1 << 10, 6 << 20, 0, 100 << 10, 6 << 20} {
		seed := uint64(10 + i)
		info := mustReplace(t, s, key, Generator(size, seed), storage.Unconditional())
		if info.Size != size || info.SHA256 != GeneratorSHA256(size, seed) {
			t.Errorf("write %d: Replace = %+v; want %d bytes", i, info, size)
		}
		if info.ETag == prev {
			t.Errorf("write %d: ETag %q unchanged by a replace with other content", i, info.ETag)
		}
		prev = info.ETag
		checkContent(t, s, fmt.Sprintf("after unconditional write %d", i), key, size, seed, info.ETag)
	}
	// It replaces a Put's object too.
	mustPut(t, s, "overwrite/put", strings.NewReader("put"), "text/plain")
	mustReplace(t, s, "overwrite/put", Generator(5, 1), storage.Unconditional())
	checkContent(t, s, "unconditional over a Put", "overwrite/put", 5, 1, "")
	if keys := listKeys(t, s, ""); !slices.Equal(keys, []string{"overwrite/put", "overwrite/x"}) {
		t.Errorf("List = %q; want the two objects only", keys)
	}
}

// testFailedReplace: a replace whose reader fails or whose context ends
// leaves the old object whole, whatever the condition and size.
func testFailedReplace(t *testing.T, s storage.Store) {
	const key = "keep/x"
	old := mustReplace(t, s, key, Generator(100, 1), storage.IfNoneMatch())
	for _, cond := range []storage.Cond{storage.Unconditional(), storage.IfMatch(old.ETag)} {
		for _, n := range []int64{0, 100 << 10, 5 << 20, 12 << 20} {
			info, err := s.Replace(ctxFor(t), key, FailingReader(n, 9), cond)
			if !errors.Is(err, ErrReader) {
				t.Errorf("Replace(%s) of a reader failing after %d bytes = %+v, %v; want an error wrapping ErrReader", cond, n, info, err)
			}
			checkContent(t, s, fmt.Sprintf("after a failed Replace(%s) at %d bytes", cond, n), key, 100, 1, old.ETag)
		}
	}
	if keys := listKeys(t, s, ""); !slices.Equal(keys, []string{key}) {
		t.Errorf("List after failed replaces = %q; want only %q", keys, key)
	}
	// The condition still holds for the next writer.
	mustReplace(t, s, key, Generator(7, 2), storage.IfMatch(old.ETag))
}

// testReadAfterWrite: what a write or a delete did, Stat, Open and List see
// at once, one write after another on the same keys.
func testReadAfterWrite(t *testing.T, s storage.Store) {
	keys := []string{"raw/a", "raw/b/c", "raw/b/d"}
	etags := map[string]string{}
	for round := range 5 {
		for j, key := range keys {
			data := []byte(fmt.Sprintf("round %d key %d %s", round, j, strings.Repeat("x", round*j)))
			var info storage.Info
			if etag, ok := etags[key]; ok {
				info = mustReplace(t, s, key, bytes.NewReader(data), storage.IfMatch(etag))
			} else {
				info = mustReplace(t, s, key, bytes.NewReader(data), storage.IfNoneMatch())
			}
			etags[key] = info.ETag
			rc, err := s.Open(ctxFor(t), key)
			if err != nil {
				t.Fatalf("round %d: Open(%q) right after writing: %v", round, key, err)
			}
			got, err := io.ReadAll(rc)
			rc.Close()
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("round %d: Open(%q) right after writing = %q, %v; want %q", round, key, got, err, data)
			}
			if st, err := s.Stat(ctxFor(t), key); err != nil || st.ETag != info.ETag || st.Size != int64(len(data)) {
				t.Errorf("round %d: Stat(%q) right after writing = %+v, %v; want ETag %q size %d", round, key, st, err, info.ETag, len(data))
			}
			listed := map[string]storage.Info{}
			if err := s.List(ctxFor(t), "raw/", func(i storage.Info) error { listed[i.Key] = i; return nil }); err != nil {
				t.Fatal(err)
			}
			if i, ok := listed[key]; !ok || i.Size != int64(len(data)) || i.ETag != "" && i.ETag != info.ETag {
				t.Errorf("round %d: List right after writing %q = %+v (found %v); want size %d, ETag %q or empty", round, key, i, ok, len(data), info.ETag)
			}
		}
		// Delete one, then see it gone everywhere at once; the next round
		// creates it again.
		gone := keys[round%len(keys)]
		if err := s.Delete(ctxFor(t), gone); err != nil {
			t.Fatal(err)
		}
		delete(etags, gone)
		checkNotFound(t, s, gone)
		want := slices.DeleteFunc(slices.Clone(keys), func(k string) bool { return k == gone })
		if got := listKeys(t, s, "raw/"); !slices.Equal(got, want) {
			t.Errorf("round %d: List right after deleting %q = %q; want %q", round, gone, got, want)
		}
		if err := s.Delete(ctxFor(t), gone); err != nil {
			t.Errorf("round %d: second Delete(%q) = %v; want nil", round, gone, err)
		}
	}
}

// testInvalidCond: a Replace without a condition, or IfMatch without an
// ETag, is refused before anything is written.
func testInvalidCond(t *testing.T, s storage.Store) {
	for _, cond := range []storage.Cond{{}, storage.IfMatch("")} {
		info, err := s.Replace(ctxFor(t), "cond/x", strings.NewReader("x"), cond)
		if err == nil || errors.Is(err, storage.ErrPrecondition) {
			t.Errorf("Replace(%s) = %+v, %v; want an error about the condition", cond, info, err)
		}
	}
	for _, key := range []string{"../x", "a//b", ".hidden"} {
		if _, err := s.Replace(ctxFor(t), key, strings.NewReader("x"), storage.Unconditional()); !errors.Is(err, storage.ErrInvalidKey) {
			t.Errorf("Replace(%q) = %v; want ErrInvalidKey", key, err)
		}
	}
	if keys := listKeys(t, s, ""); len(keys) != 0 {
		t.Errorf("List = %q; want nothing", keys)
	}
}
