package storage_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/calletl/calletl/storage"
	"github.com/calletl/calletl/storage/storagetest"
)

func TestLocalConformance(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.Store {
		s, err := storage.NewLocal(filepath.Join(t.TempDir(), "store"))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// dirFiles lists every file under dir, relative, hidden ones included.
func dirFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// A Put in progress is invisible: its temporary file is hidden from List,
// Stat and Open, and is removed when the reader fails.
func TestLocalPutInProgressInvisible(t *testing.T) {
	dir := t.TempDir()
	s, err := storage.NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		_, err := s.Put(t.Context(), "a/b.wav", pr, "audio/wav")
		done <- err
	}()
	if _, err := pw.Write([]byte("partial data")); err != nil {
		t.Fatal(err)
	}
	files := dirFiles(t, dir)
	if len(files) != 1 || !strings.HasPrefix(files[0], "a/.b.wav.") || !strings.HasSuffix(files[0], ".tmp") {
		t.Fatalf("files during Put = %q; want one hidden temporary file", files)
	}
	var listed []string
	if err := s.List(t.Context(), "", func(i storage.Info) error { listed = append(listed, i.Key); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(listed) != 0 {
		t.Errorf("List during Put = %q", listed)
	}
	if _, err := s.Stat(t.Context(), "a/b.wav"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Stat during Put = %v", err)
	}
	boom := errors.New("connection reset")
	pw.CloseWithError(boom)
	if err := <-done; !errors.Is(err, boom) {
		t.Fatalf("Put = %v; want %v", err, boom)
	}
	if files := dirFiles(t, dir); len(files) != 0 {
		t.Errorf("files after failed Put = %q; want none", files)
	}
}

func TestLocalFileModeAndLayout(t *testing.T) {
	dir := t.TempDir()
	s, err := storage.NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(t.Context(), "x/y/z.txt", strings.NewReader("hi"), "text/plain"); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, "x", "y", "z.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if m := fi.Mode().Perm(); m != 0o640 {
		t.Errorf("file mode %v; want 0640", m)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "x", "y", "z.txt"))
	if string(b) != "hi" {
		t.Errorf("content %q", b)
	}
}

// A file placed by other means (or on a file system without user xattrs)
// still gets its SHA-256 from Stat, and an unrelated file name is not listed.
func TestLocalStatWithoutXattr(t *testing.T) {
	dir := t.TempDir()
	s, err := storage.NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "plain.txt"), []byte("abc"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "not a key"), []byte("abc"), 0o644); err != nil {
		t.Fatal(err)
	}
	info, err := s.Stat(t.Context(), "plain.txt")
	if err != nil {
		t.Fatal(err)
	}
	if info.SHA256 != "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" || info.Size != 3 || info.ContentType != "" {
		t.Errorf("Stat = %+v", info)
	}
	var keys []string
	if err := s.List(t.Context(), "", func(i storage.Info) error { keys = append(keys, i.Key); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1 || keys[0] != "plain.txt" {
		t.Errorf("List = %q", keys)
	}
}

func TestLocalListCancelled(t *testing.T) {
	s, err := storage.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(t.Context(), "a/b", strings.NewReader("x"), ""); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := s.List(ctx, "", func(storage.Info) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("List with a cancelled context = %v", err)
	}
}

func TestLocalMemoryBounded(t *testing.T) {
	s, err := storage.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	peak := measurePeakHeap(t, func() {
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		if _, err := s.Put(ctx, "big", storagetest.Generator(64<<20, 1), ""); err != nil {
			t.Fatal(err)
		}
	})
	if peak > 8<<20 {
		t.Errorf("peak heap growth %d MiB during a 64 MiB local Put; want < 8 MiB", peak>>20)
	}
}

// SweepTemp removes the temporary files a killed Put left behind, and only
// those: not a recent one, not one a live Put holds however old, not an
// object (even one whose key ends in .tmp).
func TestLocalSweepTemp(t *testing.T) {
	dir := t.TempDir()
	s, err := storage.NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	for _, key := range []string{"a/b.wav", "a/x.tmp"} {
		if _, err := s.Put(ctx, key, strings.NewReader("RIFF"), "audio/wav"); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-2 * storage.StaleTempAge)
	write := func(rel string, mtime time.Time) {
		p := filepath.Join(dir, rel)
		if err := os.WriteFile(p, []byte("partial"), 0o640); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	write("a/.c.wav.1234.tmp", old)        // left by a killed run: removed
	write(".top.wav.99.tmp", old)          // at the root too
	write("a/.d.wav.5678.tmp", time.Now()) // recent: perhaps a live Put of another process
	os.Chtimes(filepath.Join(dir, "a", "x.tmp"), old, old)

	// A live Put, its temporary file made to look old: its flock spares it.
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		_, err := s.Put(ctx, "a/live.wav", pr, "audio/wav")
		done <- err
	}()
	if _, err := pw.Write([]byte("RIFF partial")); err != nil {
		t.Fatal(err)
	}
	var live string
	for _, f := range dirFiles(t, dir) {
		if strings.HasPrefix(f, "a/.live.wav.") {
			live = f
		}
	}
	if live == "" {
		t.Fatal("no temporary file for the live Put")
	}
	os.Chtimes(filepath.Join(dir, live), old, old)

	n, err := s.SweepTemp(ctx, storage.StaleTempAge)
	if err != nil || n != 2 {
		t.Errorf("SweepTemp = %d, %v; want 2 removed", n, err)
	}
	// The sweep leaves the stores' lock files (.locks/) alone too.
	got := strings.Join(slices.DeleteFunc(dirFiles(t, dir), func(f string) bool { return strings.HasPrefix(f, ".locks/") }), " ")
	want := "a/.d.wav.5678.tmp " + live + " a/b.wav a/x.tmp"
	if got != want {
		t.Errorf("files after the sweep:\n %s\nwant\n %s", got, want)
	}
	pw.Close()
	if err := <-done; err != nil {
		t.Fatalf("the live Put failed after the sweep: %v", err)
	}
	if _, err := s.Stat(ctx, "a/live.wav"); err != nil {
		t.Errorf("the live Put's object: %v", err)
	}
}

// Two stores on one directory (as two processes would open it) exclude
// each other: of replacers of one version spread over both, exactly one
// wins. flock(2) locks belong to each open of the lock file, so this is
// the cross-process case on one machine.
func TestLocalTwoStoresOneDirectory(t *testing.T) {
	dir := t.TempDir()
	var stores [2]*storage.Local
	for i := range stores {
		s, err := storage.NewLocal(dir)
		if err != nil {
			t.Fatal(err)
		}
		stores[i] = s
	}
	v0, err := stores[0].Replace(t.Context(), "state/cursor.json", strings.NewReader("v0"), storage.Unconditional())
	if err != nil {
		t.Fatal(err)
	}
	for round := range 5 {
		var wg sync.WaitGroup
		var wins, lost atomic.Int32
		start := make(chan struct{})
		for i := range 8 {
			wg.Go(func() {
				<-start
				_, err := stores[i%2].Replace(t.Context(), "state/cursor.json", strings.NewReader(fmt.Sprintf("r%d w%d", round, i)), storage.IfMatch(v0.ETag))
				switch {
				case err == nil:
					wins.Add(1)
				case errors.Is(err, storage.ErrPrecondition):
					lost.Add(1)
				default:
					t.Errorf("Replace: %v", err)
				}
			})
		}
		close(start)
		wg.Wait()
		if wins.Load() != 1 || lost.Load() != 7 {
			t.Fatalf("round %d: %d won, %d refused; want 1 and 7", round, wins.Load(), lost.Load())
		}
		if v0, err = stores[1].Stat(t.Context(), "state/cursor.json"); err != nil {
			t.Fatal(err)
		}
	}
}

// A file without the SHA-256 attribute (put there by other means, or on a
// file system without user xattrs) has its content hash as ETag: Stat
// reports it, and IfMatch compares against it (stale fails, current wins).
func TestLocalReplaceIfMatchWithoutXattr(t *testing.T) {
	dir := t.TempDir()
	s, err := storage.NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "state"), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "state", "c.json"), []byte("abc"), 0o644); err != nil {
		t.Fatal(err)
	}
	const sha = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" // of "abc"
	st, err := s.Stat(t.Context(), "state/c.json")
	if err != nil || st.ETag != sha {
		t.Fatalf("Stat = %+v, %v; want ETag %s", st, err, sha)
	}
	if _, err := s.Replace(t.Context(), "state/c.json", strings.NewReader("x"), storage.IfMatch("0123")); !errors.Is(err, storage.ErrPrecondition) {
		t.Errorf("Replace(IfMatch(stale)) = %v; want ErrPrecondition", err)
	}
	info, err := s.Replace(t.Context(), "state/c.json", strings.NewReader("def"), storage.IfMatch(sha))
	if err != nil {
		t.Fatalf("Replace(IfMatch(current)): %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "state", "c.json")); string(b) != "def" || info.ETag == sha {
		t.Errorf("after Replace: content %q, ETag %s", b, info.ETag)
	}
}
