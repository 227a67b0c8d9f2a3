package load

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/calletl/calletl/storage"
)

// Compaction of a lake in a store (S3)
//
// An object store has no atomic exchange of a partition's objects, and
// the engines analysts run over S3 (Trino, Athena, Spark, DuckDB) read a
// partition by listing its prefix. So the swap of N unit objects for one
// compacted object is done in the order that never loses a row:
//
//  1. the inputs are downloaded to the spool and merged there, with the
//     same rule as a local partition (a unit's own file wins over its rows
//     in an existing compacted file);
//  2. a marker object, PREFIX/_calletl/compacting/<table>/source=S/date=D,
//     records that the partition is being compacted;
//  3. compacted.parquet is uploaded whole (If-None-Match, or If-Match on
//     the version read when the partition was compacted before);
//  4. the unit objects are deleted, up to compactDeletes at a time;
//  5. the marker is deleted.
//
// Between 3 and 4 a listing sees the units' rows twice: in their objects
// and in the compacted one. That window is the deletes' round trips (one
// partition at a time); nothing is ever missing. A crash inside it leaves
// the marker, and the next whole (unsharded) run or etl compact finishes
// the partition first ([Lake.FinishCompactions]): compacting it again
// folds the leftover unit objects in, whose rows are the ones the
// compacted object already holds.
//
// Transactions on a compacted partition rewrite the compacted object
// (storeCommitCompacted), conditional on the version they read, so shards
// writing the same old day at once never undo each other. Compaction
// itself must run with no writer (under the whole run's lease: etl
// compact, compact_after_run), as on a local lake.

// compactingPrefix is where the markers of compactions in progress live,
// under the lake's prefix. Its leading "_" keeps it out of every table:
// tables are <prefix>/<table>/ with [a-z] names.
const compactingPrefix = "_calletl/compacting/"

// compactDeletes is how many unit objects are deleted at once: the
// duplicate window of a partition is its unit count over this many round
// trips.
const compactDeletes = 16

// storePartition is one partition of a store lake as a listing shows it.
type storePartition struct {
	table, source, date string
	files               []string // data file names, sorted
}

func (sp storePartition) rel() string {
	return strings.Join([]string{sp.table, SourceColumn + "=" + sp.source, DateColumn + "=" + sp.date}, "/")
}

// parsePartitionKey splits a lake key (without the lake's prefix) into
// its partition and file name; ok is false for any key that is not a data
// file of a partition.
func parsePartitionKey(rel string) (sp storePartition, name string, ok bool) {
	parts := strings.Split(rel, "/")
	if len(parts) != 4 || checkTableName(parts[0]) != nil || !isDataName(parts[3]) {
		return sp, "", false
	}
	source, ok1 := strings.CutPrefix(parts[1], SourceColumn+"=")
	date, ok2 := strings.CutPrefix(parts[2], DateColumn+"=")
	if !ok1 || !ok2 || CheckName("source", source) != nil || checkDate(date) != nil {
		return sp, "", false
	}
	return storePartition{table: parts[0], source: source, date: date}, parts[3], true
}

// storePartitions lists the partitions of the store lake under sub (a key
// prefix below the lake's: "" for all) with their data files, in key order.
func (l *Lake) storePartitions(ctx context.Context, sub string) ([]storePartition, error) {
	var out []storePartition
	err := l.store.List(ctx, l.prefix+sub, func(info storage.Info) error {
		sp, name, ok := parsePartitionKey(strings.TrimPrefix(info.Key, l.prefix))
		if !ok {
			return nil
		}
		if n := len(out); n > 0 && out[n-1].rel() == sp.rel() {
			out[n-1].files = append(out[n-1].files, name)
			return nil
		}
		sp.files = []string{name}
		out = append(out, sp)
		return nil
	})
	return out, err
}

// compactStore is Compact on a store lake: it first finishes compactions a
// crash interrupted, then compacts every partition before `before` that
// holds more than one file.
func (l *Lake) compactStore(ctx context.Context, before string, st *CompactStats) error {
	if _, err := l.FinishCompactions(ctx); err != nil {
		return err
	}
	parts, err := l.storePartitions(ctx, "")
	if err != nil {
		return fmt.Errorf("load: compact: list the lake: %w", err)
	}
	for _, sp := range parts {
		if sp.date >= before || len(sp.files) <= 1 {
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := l.compactStorePartition(ctx, sp, st); err != nil {
			return err
		}
	}
	return nil
}

// FinishCompactions completes the compactions of a store lake that a
// crash or a kill interrupted (their markers are left), so that no listing
// sees a row twice any longer, and returns how many it completed. Run it
// with no other writer of the lake (a whole run does, at its start; etl
// compact does). On a local lake there is nothing to finish: it returns 0.
func (l *Lake) FinishCompactions(ctx context.Context) (int, error) {
	if l.store == nil {
		return 0, nil
	}
	var markers []string
	err := l.store.List(ctx, l.prefix+compactingPrefix, func(info storage.Info) error {
		markers = append(markers, strings.TrimPrefix(info.Key, l.prefix+compactingPrefix))
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("load: list interrupted compactions: %w", err)
	}
	done := 0
	for _, rel := range markers {
		parts, err := l.storePartitions(ctx, rel+"/")
		if err != nil {
			return done, fmt.Errorf("load: finish the compaction of %s: list: %w", rel, err)
		}
		var st CompactStats
		for _, sp := range parts {
			if sp.rel() == rel && len(sp.files) > 1 {
				if err := l.compactStorePartition(ctx, sp, &st); err != nil {
					return done, fmt.Errorf("load: finish the interrupted compaction of %s: %w", rel, err)
				}
			}
		}
		if len(st.Skipped) == 0 {
			if err := l.store.Delete(ctx, l.prefix+compactingPrefix+rel); err != nil {
				return done, fmt.Errorf("load: finish the compaction of %s: delete its marker: %w", rel, err)
			}
		}
		done++
	}
	return done, nil
}

// compactStorePartition compacts one partition of a store lake (see the
// comment at the top of this file).
func (l *Lake) compactStorePartition(ctx context.Context, sp storePartition, st *CompactStats) error {
	rel := sp.rel()
	dirKey := l.prefix + rel + "/"
	staging := filepath.Join(l.root, ".compact."+rand.Text()+".tmp")
	l.trackTemp(staging)
	defer func() {
		_ = os.RemoveAll(staging)
		l.untrackTemp(staging)
	}()
	if err := os.Mkdir(staging, 0o700); err != nil {
		return fmt.Errorf("load: compact %s: create staging directory: %w", rel, err)
	}
	var g errgroup.Group
	g.SetLimit(compactDeletes)
	etags := make([]string, len(sp.files))
	for i, name := range sp.files {
		g.Go(func() (err error) {
			etags[i], err = storage.DownloadVersion(ctx, l.store, dirKey+name, filepath.Join(staging, name))
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return fmt.Errorf("load: compact %s: download: %w", rel, err)
	}
	inputs, files, err := partitionInputs(staging)
	if err != nil {
		return fmt.Errorf("load: compact %s: %w", rel, err)
	}
	merged := filepath.Join(staging, ".merged")
	out, size, err := l.writeMerged(merged, inputs)
	if errors.Is(err, errSchemaMismatch) {
		st.Skipped = append(st.Skipped, rel+": its files have different columns (the table changed); left as they are")
		return nil
	}
	if err != nil {
		return fmt.Errorf("load: compact %s: %w", rel, err)
	}

	marker := l.prefix + compactingPrefix + rel
	started := fmt.Sprintf("{\"started\":%q}\n", time.Now().UTC().Format(time.RFC3339Nano))
	if _, err := l.store.Replace(ctx, marker, strings.NewReader(started), storage.Unconditional()); err != nil {
		return fmt.Errorf("load: compact %s: write the marker (nothing changed): %w", rel, err)
	}
	if err := l.step("compact-marked"); err != nil {
		return err
	}
	cond := storage.IfNoneMatch()
	if i := slices.Index(sp.files, CompactedFile); i >= 0 {
		cond = storage.IfMatch(etags[i])
	}
	if err := uploadFile(ctx, l.store, dirKey+CompactedFile, merged, size, cond); err != nil {
		return fmt.Errorf("load: compact %s: upload the compacted file (the unit files are untouched; run etl compact again): %w", rel, err)
	}
	if err := l.step("compact-uploaded"); err != nil {
		return err
	}
	var del errgroup.Group
	del.SetLimit(compactDeletes)
	for _, name := range sp.files {
		if name == CompactedFile {
			continue
		}
		del.Go(func() error { return l.store.Delete(ctx, dirKey+name) })
	}
	if err := del.Wait(); err != nil {
		return fmt.Errorf("load: compact %s: delete the unit files now in %s (a listing sees their rows twice until etl compact or the next run finishes it): %w", rel, CompactedFile, err)
	}
	if err := l.step("compact-deleted"); err != nil {
		return err
	}
	if err := l.store.Delete(ctx, marker); err != nil {
		return fmt.Errorf("load: compact %s: delete the marker: %w", rel, err)
	}
	st.Partitions++
	st.FilesBefore += files
	st.Bytes += size
	for _, u := range out {
		st.Rows += u.Rows
	}
	return nil
}

// storeCommitCompactedLocked is storeCommitCompacted under the partition
// lock of this process, taken only when the partition has a compacted
// object: the commits of partitions without one (every day the nightly
// run writes) cost one Stat and never wait for each other.
func (l *Lake) storeCommitCompactedLocked(ctx context.Context, dir, table, source, date, unit, newRows string) (handled, has bool, err error) {
	key := l.prefix + strings.Join([]string{table, SourceColumn + "=" + source, DateColumn + "=" + date, CompactedFile}, "/")
	if _, err := l.store.Stat(ctx, key); errors.Is(err, storage.ErrNotFound) {
		return false, false, nil
	} else if err != nil {
		return false, false, fmt.Errorf("look for a compacted file: %w", err)
	}
	unlock := l.lockPartition(dir)
	defer unlock()
	return l.storeCommitCompacted(ctx, table, source, date, unit, newRows)
}

// storeCommitCompacted is a transaction's commit of unit into a partition
// of a store lake, when that partition has a compacted object whose index
// lists the unit: the unit's own object, if any (a leftover of an
// interrupted compaction, holding the rows the compacted object has), is
// deleted first, then the compacted object is rewritten without the unit's
// old rows and with its new ones (the finished file newRows, or none when
// newRows is ""), conditional on the version read; a version changed
// meanwhile (another shard's unit) is read again. Deleting first means a
// crash in between leaves the unit's old rows once (in the compacted
// object) and the window uncommitted, never old and new rows side by side.
// handled is false when the partition has no compacted object listing the
// unit: the caller publishes as usual. has reports whether the unit has
// rows in the partition afterwards. The caller holds the partition lock.
func (l *Lake) storeCommitCompacted(ctx context.Context, table, source, date, unit, newRows string) (handled, has bool, err error) {
	rel := strings.Join([]string{table, SourceColumn + "=" + source, DateColumn + "=" + date}, "/")
	dirKey := l.prefix + rel + "/"
	key := dirKey + CompactedFile
	for attempt := 1; ; attempt++ {
		handled, has, err := l.storeReplaceInCompacted(ctx, key, dirKey+dataName(unit), unit, newRows)
		if errors.Is(err, storage.ErrPrecondition) && attempt < 10 {
			continue // another writer's version: merge into it
		}
		return handled, has, err
	}
}

func (l *Lake) storeReplaceInCompacted(ctx context.Context, key, unitKey, unit, newRows string) (handled, has bool, err error) {
	cur := filepath.Join(l.root, tempName(compactedUnit))
	l.trackTemp(cur)
	defer func() {
		os.Remove(cur)
		l.untrackTemp(cur)
	}()
	etag, err := storage.DownloadVersion(ctx, l.store, key, cur)
	if errors.Is(err, storage.ErrNotFound) {
		return false, false, nil
	}
	if err != nil {
		return false, false, err
	}
	units, err := compactedUnits(cur)
	if err != nil {
		return false, false, err
	}
	if !slices.ContainsFunc(units, func(u UnitRows) bool { return u.Unit == unit }) {
		return false, false, nil
	}
	if err := l.store.Delete(ctx, unitKey); err != nil {
		return false, false, fmt.Errorf("delete the unit's own object first: %w", err)
	}
	inputs := []mergeInput{{path: cur, units: units, drop: func(u string) bool { return u == unit }}}
	if newRows != "" {
		inputs = append(inputs, mergeInput{path: newRows, unit: unit})
	}
	merged := filepath.Join(l.root, tempName(compactedUnit))
	l.trackTemp(merged)
	defer func() {
		os.Remove(merged)
		l.untrackTemp(merged)
	}()
	out, size, err := l.writeMerged(merged, inputs)
	if errors.Is(err, errSchemaMismatch) && newRows != "" {
		// The table's columns changed since the partition was compacted:
		// the unit's rows leave the compacted object, and its new file is
		// published as a unit file of its own by the caller.
		if _, _, err := l.storeReplaceInCompacted(ctx, key, unitKey, unit, ""); err != nil {
			return false, false, err
		}
		return false, false, nil
	}
	if err != nil {
		return false, false, err
	}
	if err := l.step("merge-written"); err != nil {
		return false, false, err
	}
	// A compacted object left with no rows stays, empty: replacing it is
	// conditional, deleting it could not be (storage.Store has no
	// conditional delete), and an empty file adds no row to any query.
	if err := uploadFile(ctx, l.store, key, merged, size, storage.IfMatch(etag)); err != nil {
		return false, false, err
	}
	return true, slices.ContainsFunc(out, func(u UnitRows) bool { return u.Unit == unit }), nil
}

// uploadFile uploads the local file path (size bytes) to key under cond.
func uploadFile(ctx context.Context, st storage.Store, key, path string, size int64, cond storage.Cond) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	info, err := st.Replace(ctx, key, f, cond)
	if err != nil {
		return err
	}
	if info.Size != size {
		return fmt.Errorf("upload %s: stored %d bytes of a %d-byte file", key, info.Size, size)
	}
	return nil
}
