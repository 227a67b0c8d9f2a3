package load_test

import (
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/calletl/calletl/load"
	"github.com/calletl/calletl/storage"
	"github.com/calletl/calletl/storage/storagetest"
)

// backend is where a test lake lives: a local directory (today's lake), a
// storage.Local store, or S3 (versitygw). read returns a local directory
// holding the lake's committed files as a reader sees them (for S3, the
// prefix downloaded with a plain S3 client, not project code), for plain
// DuckDB and arrow-go to read.
type backend struct {
	name string
	open func(t *testing.T, opts load.Options) *load.Lake
	read func(t *testing.T, lake *load.Lake) string
}

var lakeSeq atomic.Int64

// backends returns the three backends; the S3 one starts versitygw (once
// per top-level test) when first used.
func backends(top *testing.T) []backend {
	var (
		once sync.Once
		v    *storagetest.Versity
	)
	versity := func() *storagetest.Versity {
		once.Do(func() { v = storagetest.StartVersity(top) })
		return v
	}
	return []backend{
		{
			name: "local",
			open: func(t *testing.T, opts load.Options) *load.Lake { return newLake(t, opts) },
			read: func(t *testing.T, lake *load.Lake) string { return lake.Root() },
		},
		{
			name: "storage.Local",
			open: func(t *testing.T, opts load.Options) *load.Lake {
				t.Helper()
				st, err := storage.NewLocal(t.TempDir())
				if err != nil {
					t.Fatal(err)
				}
				opts.Store, opts.Prefix = st, "lake"
				lake, err := load.Open(filepath.Join(t.TempDir(), "spool"), opts)
				if err != nil {
					t.Fatal(err)
				}
				return lake
			},
			// A Local store's objects are plain files under its directory.
			read: func(t *testing.T, lake *load.Lake) string {
				return filepath.Join(lake.Store().(*storage.Local).Dir(), "lake")
			},
		},
		{
			name: "s3",
			open: func(t *testing.T, opts load.Options) *load.Lake {
				t.Helper()
				st := s3Store(t, versity(), fmt.Sprintf("t%d", lakeSeq.Add(1)))
				opts.Store, opts.Prefix = st, "lake"
				lake, err := load.Open(filepath.Join(t.TempDir(), "spool"), opts)
				if err != nil {
					t.Fatal(err)
				}
				return lake
			},
			read: func(t *testing.T, lake *load.Lake) string {
				return downloadS3(t, versity(), lake.Store().(*storage.S3), "lake")
			},
		},
	}
}

// s3Store returns an S3 store on v under the bucket prefix prefix.
func s3Store(t testing.TB, v *storagetest.Versity, prefix string) *storage.S3 {
	t.Helper()
	st := v.Store(t, storage.S3Config{Prefix: prefix, PartSize: storage.MinPartSize})
	s3Prefixes.Store(st, prefix+"/")
	return st
}

// s3Prefixes maps a store to its bucket prefix, which downloadS3 needs.
var s3Prefixes sync.Map // *storage.S3 → string

// downloadS3 copies every object under the store's bucket prefix + "/" +
// sub + "/" into a new temporary directory with a plain S3 client and
// returns that directory's lake root.
func downloadS3(t testing.TB, v *storagetest.Versity, st *storage.S3, sub string) string {
	t.Helper()
	dir := t.TempDir()
	v.Download(t, s3Prefix(t, st)+sub+"/", dir)
	return dir
}

// s3Prefix returns the bucket prefix s3Store gave st.
func s3Prefix(t testing.TB, st *storage.S3) string {
	t.Helper()
	if v, ok := s3Prefixes.Load(st); ok {
		return v.(string)
	}
	t.Fatalf("unknown S3 store %v: create it with s3Store", st)
	return ""
}
