package load

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/calletl/calletl/storage"
)

// Publishing
//
// A transaction writes every file to a local temporary file and finishes
// it (footer, fsync) before anything is published. What publishing means
// depends on where the lake lives:
//
//   - a local lake (the default) renames the temporary file, which sits in
//     the partition directory, over <unit>.parquet and fsyncs the
//     directory (partition.commit);
//   - a store lake ([Options.Store], for example S3) uploads the complete
//     temporary file, which sits in the spool directory (the root passed to
//     [Open]), to the key PREFIX/<table>/source=S/date=D/<unit>.parquet
//     with an unconditional Replace, then removes the temporary file. An
//     S3 PutObject or CompleteMultipartUpload publishes the object whole
//     or not at all, so a reader listing the prefix never sees a partial
//     file; there are no temporary objects.
//
// A unit that no longer has rows in a covered partition loses its file
// (local remove, or store Delete).
//
// Either way, each file is replaced atomically and the files of one
// transaction one after the other: a crash or a kill in the middle of a
// Commit leaves some partitions of the window with the unit's new file and
// some with its old one (each complete), and Commit has not returned, so
// the caller has not moved its cursor; re-extracting the window replaces
// every file of the unit again, so nothing is doubled and nothing lost.
type publisher interface {
	// publish makes p's finished temporary file the unit's file of its
	// partition. A local lake's caller holds the partition lock.
	publish(ctx context.Context, p *partition) error
	// unpublish removes the unit's file of a partition and reports
	// whether there was one. A local lake's caller holds the partition
	// lock.
	unpublish(ctx context.Context, table, source, date, unit string) (bool, error)
	// dates lists, unsorted, the dates in which table has at least one
	// data file of source.
	dates(ctx context.Context, table, source string) ([]string, error)
}

// localPublisher publishes into the lake root on the local file system.
type localPublisher struct{ l *Lake }

func (lp localPublisher) publish(_ context.Context, p *partition) error { return p.commit() }

func (lp localPublisher) unpublish(_ context.Context, table, source, date, unit string) (bool, error) {
	return removeUnitFile(lp.l, table, source, date, unit)
}

func (lp localPublisher) dates(_ context.Context, table, source string) ([]string, error) {
	dir := filepath.Join(lp.l.root, table, SourceColumn+"="+source)
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load: partitions of %s source=%s: %w", table, source, err)
	}
	var dates []string
	for _, e := range entries {
		date, ok := strings.CutPrefix(e.Name(), DateColumn+"=")
		if !ok || !e.IsDir() || checkDate(date) != nil {
			continue
		}
		files, err := os.ReadDir(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("load: partitions of %s source=%s date=%s: %w", table, source, date, err)
		}
		if slices.ContainsFunc(files, func(f fs.DirEntry) bool { return isDataName(f.Name()) && f.Type().IsRegular() }) {
			dates = append(dates, date)
		}
	}
	return dates, nil
}

// storePublisher publishes into a storage.Store under a key prefix.
type storePublisher struct {
	l      *Lake
	store  storage.Store
	prefix string // "" or ending in "/"
}

// relKey returns table/source=S/date=D/<unit>.parquet.
func relKey(table, source, date, unit string) string {
	return strings.Join([]string{table, SourceColumn + "=" + source, DateColumn + "=" + date, dataName(unit)}, "/")
}

func (sp storePublisher) publish(ctx context.Context, p *partition) error {
	key := sp.prefix + p.rel
	f, err := os.Open(p.tmp)
	if err != nil {
		return p.errorf("open the finished file to upload", err)
	}
	info, err := sp.store.Replace(ctx, key, f, storage.Unconditional())
	f.Close()
	if err != nil {
		return p.errorf("upload to the lake's store (the unit keeps its old object; run the window again)", err)
	}
	if info.Size != p.size {
		return p.errorf("upload", fmt.Errorf("stored %d bytes of a %d-byte file", info.Size, p.size))
	}
	p.committed = true
	_ = os.Remove(p.tmp)
	p.lake.untrackTemp(p.tmp)
	return sp.l.step("published")
}

func (sp storePublisher) unpublish(ctx context.Context, table, source, date, unit string) (bool, error) {
	key := sp.prefix + relKey(table, source, date, unit)
	if _, err := sp.store.Stat(ctx, key); errors.Is(err, storage.ErrNotFound) {
		return false, nil
	} else if err != nil {
		return false, fmt.Errorf("load: %s: stat before delete: %w", relKey(table, source, date, unit), err)
	}
	if err := sp.store.Delete(ctx, key); err != nil {
		return false, fmt.Errorf("load: %s: delete (run the window again): %w", relKey(table, source, date, unit), err)
	}
	return true, sp.l.step("published")
}

func (sp storePublisher) dates(ctx context.Context, table, source string) ([]string, error) {
	dir := sp.prefix + table + "/" + SourceColumn + "=" + source + "/"
	var dates []string
	err := sp.store.List(ctx, dir+DateColumn+"=", func(info storage.Info) error {
		rest := strings.TrimPrefix(info.Key, dir+DateColumn+"=")
		date, name, ok := strings.Cut(rest, "/")
		if !ok || strings.Contains(name, "/") || !isDataName(name) || checkDate(date) != nil {
			return nil
		}
		if n := len(dates); n == 0 || dates[n-1] != date {
			dates = append(dates, date)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load: partitions of %s source=%s: list %s: %w", table, source, dir, err)
	}
	return dates, nil
}
