package load

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/calletl/calletl/storage"
)

// MirrorStats says what a [Mirror] did.
type MirrorStats struct {
	Objects    int   // data files the store holds for the tables
	Downloaded int   // of them, fetched because they were new or changed
	Removed    int   // local files removed because their object is gone
	Bytes      int64 // bytes downloaded
}

// mirrorConcurrency is how many objects a Mirror downloads at once.
const mirrorConcurrency = 8

// mirrorIndex is the file in a mirror directory that remembers the
// version (ETag) of every file downloaded, so that the next Mirror fetches
// only what changed.
const mirrorIndex = ".mirror.json"

// Mirror makes dir a copy of the given tables of the lake in store under
// prefix: <table>/source=…/date=…/<unit>.parquet, the same layout as a
// local lake, so the code that reads a local lake with DuckDB reads it
// unchanged. Only objects that are new or whose version (ETag) changed
// since the last Mirror into dir are downloaded; local files whose object
// is gone are removed. Each file is written to a temporary name and
// renamed, so a reader of dir sees whole files (the copy as a whole is of
// the moment each table was listed: a unit published meanwhile is seen at
// the next Mirror). One process at a time mirrors into dir. It is how the recordings read the calls of a lake on
// S3; analysts query an S3 lake with DuckDB's httpfs, or a copy made with
// `aws s3 sync`.
func Mirror(ctx context.Context, store storage.Store, prefix, dir string, tables ...string) (MirrorStats, error) {
	var st MirrorStats
	prefix = strings.Trim(prefix, "/")
	if prefix != "" {
		prefix += "/"
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return st, fmt.Errorf("load: mirror into %s: %w", dir, err)
	}
	index := map[string]string{} // rel path → ETag of the downloaded object
	if b, err := os.ReadFile(filepath.Join(dir, mirrorIndex)); err == nil {
		// A damaged index only costs downloads.
		_ = json.Unmarshal(b, &index)
	}
	seen := map[string]bool{}
	for _, table := range tables {
		if err := checkTableName(table); err != nil {
			return st, err
		}
		var infos []storage.Info
		err := store.List(ctx, prefix+table+"/", func(info storage.Info) error {
			if isDataName(info.Key[strings.LastIndexByte(info.Key, '/')+1:]) {
				infos = append(infos, info)
			}
			return nil
		})
		if err != nil {
			return st, fmt.Errorf("load: mirror %s: list %s: %w", table, store, err)
		}
		var mu sync.Mutex
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(mirrorConcurrency)
		for _, info := range infos {
			rel := strings.TrimPrefix(info.Key, prefix)
			seen[rel] = true
			st.Objects++
			g.Go(func() error {
				if info.ETag == "" { // List may leave it out; Stat always has it
					s, err := store.Stat(gctx, info.Key)
					if errors.Is(err, storage.ErrNotFound) {
						return nil // deleted since the listing
					}
					if err != nil {
						return fmt.Errorf("load: mirror %s: %w", rel, err)
					}
					info = s
				}
				local := filepath.Join(dir, filepath.FromSlash(rel))
				mu.Lock()
				known := index[rel] == info.ETag
				mu.Unlock()
				if known {
					if fi, err := os.Stat(local); err == nil && fi.Size() == info.Size {
						return nil
					}
				}
				n, err := storage.Download(gctx, store, info.Key, local)
				if errors.Is(err, storage.ErrNotFound) {
					return nil
				}
				if err != nil {
					return fmt.Errorf("load: mirror %s: %w", rel, err)
				}
				if !info.Modified.IsZero() {
					// The object's time, so that readers comparing the times
					// of lake files (recording_days) compare the store's.
					_ = os.Chtimes(local, info.Modified, info.Modified)
				}
				mu.Lock()
				defer mu.Unlock()
				index[rel] = info.ETag
				st.Downloaded++
				st.Bytes += n
				return nil
			})
		}
		if err := g.Wait(); err != nil {
			return st, err
		}
	}
	// What the tables no longer hold goes: a unit that lost its rows.
	for _, table := range tables {
		root := filepath.Join(dir, table)
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			if err != nil || d.IsDir() || strings.HasPrefix(d.Name(), ".mirror-") {
				return err // temporary files are left to the download that owns them
			}
			rel, err := filepath.Rel(dir, path)
			if err != nil {
				return err
			}
			rel = filepath.ToSlash(rel)
			if seen[rel] {
				return nil
			}
			delete(index, rel)
			st.Removed++
			return os.Remove(path)
		})
		if err != nil {
			return st, fmt.Errorf("load: mirror %s: remove files whose object is gone: %w", table, err)
		}
	}
	b, err := json.Marshal(index)
	if err == nil {
		err = storage.WriteFileAtomic(filepath.Join(dir, mirrorIndex), b, 0o640)
	}
	if err != nil {
		return st, fmt.Errorf("load: mirror into %s: index: %w", dir, err)
	}
	return st, nil
}
