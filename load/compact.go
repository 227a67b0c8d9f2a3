package load

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/metadata"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/calletl/calletl/storage"
)

// Compaction
//
// A partition ROOT/table/source=S/date=D normally holds one file per unit.
// Compaction replaces them by one file, CompactedFile, that holds every
// unit's rows one unit after the other, and records in its Parquet
// key-value metadata (key UnitsKey) which unit each run of rows belongs to:
// a JSON array of {"unit","rows"} in file order. The table's columns are
// unchanged, so readers (DuckDB, Trino, Spark) see the same table; they
// ignore the metadata. The name does not start with "_" or ".", which Hive
// engines skip, and "compacted" is a reserved unit name.
//
// Guarantees, on a local file system:
//
//   - Compacting swaps the partition directory for a new one holding only
//     the compacted file in one atomic step (renameat2 RENAME_EXCHANGE): a
//     reader resolving the partition sees either every unit file or the
//     compacted file, so each row exactly once. A query that listed the old
//     directory just before the swap and opens its files after it fails
//     with "file not found" (as it can today when a unit's file is
//     removed) and succeeds when run again; it never counts a row twice.
//   - A later transaction of a unit U on a compacted partition (a backfill,
//     a re-extracted task) writes a new compacted file holding the other
//     units' rows and U's new rows (or none) and renames it over the old one:
//     one atomic rename, so U's old rows and new rows are never both
//     visible. The partition stays one file.
//   - A crash at any point leaves every partition either as it was or
//     compacted, never both: the staging directory (ROOT/.compact.*.tmp)
//     holds either the new file not yet swapped in or the old files already
//     swapped out, and [Lake.Sweep] (every run, and Compact itself) removes
//     it.
//
// Within a process, partition writes are serialised by a lock per
// partition; across processes Compact relies on the lake's writer lock (the
// ETL's state lock), like Sweep. A lake in an object store (S3) has no
// atomic exchange: compact_store.go says how it is compacted there, and
// what a listing can see meanwhile.

// CompactedFile is the name of a compacted partition's one file.
const CompactedFile = compactedUnit + ".parquet"

// UnitsKey is the Parquet key-value metadata key of a compacted file: the
// JSON array of {"unit": name, "rows": n} in file order.
const UnitsKey = "calletl.units"

const compactedUnit = "compacted"

// UnitRows is one unit's run of rows in a compacted file.
type UnitRows struct {
	Unit string `json:"unit"`
	Rows int64  `json:"rows"`
}

// errSchemaMismatch is returned by writeMerged when its inputs do not share
// one schema (a table whose columns changed between the files).
var errSchemaMismatch = errors.New("load: files of the partition have different columns")

// errSimulatedKill, returned by a test hook, makes the step return at once
// without cleaning up, as if the process had been killed there.
var errSimulatedKill = errors.New("load: simulated kill")

// CompactStats reports what [Lake.Compact] did.
type CompactStats struct {
	Partitions  int      // partitions rewritten as one file
	FilesBefore int      // data files those partitions had
	Rows        int64    // rows in the compacted files
	Bytes       int64    // size of the compacted files
	Skipped     []string // partitions left as they were, each with why
}

// Compact rewrites every partition of every table whose date is before
// `before` (YYYY-MM-DD, exclusive) and that holds more than one file as a
// single compacted file. Partitions dated `before` or later are never
// touched: pass the first day of the lookback window, which runs rewrite.
// Run it under the lake's writer lock; within the process it waits for
// partition commits and skips partitions with an open transaction.
func (l *Lake) Compact(ctx context.Context, before string) (CompactStats, error) {
	var st CompactStats
	if err := checkDate(before); err != nil {
		return st, fmt.Errorf("load: compact: %w", err)
	}
	if l.store != nil {
		return st, l.compactStore(ctx, before, &st)
	}
	if _, err := l.Sweep(); err != nil {
		return st, fmt.Errorf("load: compact: clean up an interrupted run first: %w", err)
	}
	tables, err := os.ReadDir(l.root)
	if err != nil {
		return st, fmt.Errorf("load: compact: list %s: %w", l.root, err)
	}
	for _, t := range tables {
		if !t.IsDir() || checkTableName(t.Name()) != nil {
			continue
		}
		sources, err := os.ReadDir(filepath.Join(l.root, t.Name()))
		if err != nil {
			return st, fmt.Errorf("load: compact: %w", err)
		}
		for _, s := range sources {
			source, ok := strings.CutPrefix(s.Name(), SourceColumn+"=")
			if !ok || !s.IsDir() || CheckName("source", source) != nil {
				continue
			}
			dates, err := os.ReadDir(filepath.Join(l.root, t.Name(), s.Name()))
			if err != nil {
				return st, fmt.Errorf("load: compact: %w", err)
			}
			for _, d := range dates {
				date, ok := strings.CutPrefix(d.Name(), DateColumn+"=")
				if !ok || !d.IsDir() || checkDate(date) != nil || date >= before {
					continue
				}
				if err := ctx.Err(); err != nil {
					return st, err
				}
				if err := l.compactPartition(t.Name(), source, date, &st); err != nil {
					return st, err
				}
			}
		}
	}
	return st, nil
}

// compactPartition compacts one partition if it holds more than one file.
func (l *Lake) compactPartition(table, source, date string, st *CompactStats) (err error) {
	dir := l.partitionDir(table, source, date)
	rel := strings.Join([]string{table, SourceColumn + "=" + source, DateColumn + "=" + date}, "/")
	unlock := l.lockPartition(dir)
	defer unlock()
	if l.hasTempIn(dir) {
		st.Skipped = append(st.Skipped, rel+": a transaction is writing it")
		return nil
	}
	inputs, files, err := partitionInputs(dir)
	if err != nil {
		return fmt.Errorf("load: compact %s: %w", rel, err)
	}
	if files <= 1 {
		return nil
	}

	staging := filepath.Join(l.root, ".compact."+rand.Text()+".tmp")
	l.trackTemp(staging)
	cleanup := true
	defer func() {
		if cleanup {
			_ = os.RemoveAll(staging)
			l.untrackTemp(staging)
		}
	}()
	if err := os.Mkdir(staging, 0o755); err != nil {
		return fmt.Errorf("load: compact %s: create staging directory: %w", rel, err)
	}
	out, size, err := l.writeMerged(filepath.Join(staging, CompactedFile), inputs)
	if errors.Is(err, errSchemaMismatch) {
		st.Skipped = append(st.Skipped, rel+": its files have different columns (the table changed); left as they are")
		return nil
	}
	if err != nil {
		return fmt.Errorf("load: compact %s: %w", rel, err)
	}
	if err := storage.SyncDir(staging); err != nil {
		return fmt.Errorf("load: compact %s: fsync staging directory: %w", rel, err)
	}
	if err := l.step("compact-staged"); err != nil {
		cleanup = !errors.Is(err, errSimulatedKill)
		return err
	}
	// The swap: the partition path now names the directory holding the
	// compacted file, and the staging path the old unit files.
	if err := exchange(staging, dir); err != nil {
		return fmt.Errorf("load: compact %s: swap in the compacted partition (nothing changed): %w", rel, err)
	}
	if err := storage.SyncDir(filepath.Dir(dir)); err != nil {
		return fmt.Errorf("load: compact %s: fsync: %w", rel, err)
	}
	if err := storage.SyncDir(l.root); err != nil {
		return fmt.Errorf("load: compact %s: fsync: %w", rel, err)
	}
	if err := l.step("compact-exchanged"); err != nil {
		cleanup = !errors.Is(err, errSimulatedKill)
		return err
	}
	st.Partitions++
	st.FilesBefore += files
	st.Bytes += size
	for _, u := range out {
		st.Rows += u.Rows
	}
	return nil
}

// partitionInputs lists a partition's committed files as merge inputs: the
// compacted file first (without the units that also have a file of their
// own, which are newer), then the unit files by name.
func partitionInputs(dir string) (inputs []mergeInput, files int, err error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, 0, err
	}
	unitFiles := map[string]bool{}
	var compacted bool
	for _, e := range entries {
		if !isDataName(e.Name()) || !e.Type().IsRegular() {
			continue
		}
		files++
		if e.Name() == CompactedFile {
			compacted = true
			continue
		}
		unit := strings.TrimSuffix(e.Name(), ".parquet")
		unitFiles[unit] = true
		inputs = append(inputs, mergeInput{path: filepath.Join(dir, e.Name()), unit: unit})
	}
	if compacted {
		path := filepath.Join(dir, CompactedFile)
		units, err := compactedUnits(path)
		if err != nil {
			return nil, 0, err
		}
		c := mergeInput{path: path, units: units, drop: func(u string) bool { return unitFiles[u] }}
		inputs = append([]mergeInput{c}, inputs...)
	}
	return inputs, files, nil
}

// compactedUnits reads the unit index of a compacted file.
func compactedUnits(path string) ([]UnitRows, error) {
	pf, err := file.OpenParquetFile(path, false)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", filepath.Base(path), err)
	}
	defer pf.Close()
	return unitsOf(pf.MetaData(), path)
}

func unitsOf(md *metadata.FileMetaData, path string) ([]UnitRows, error) {
	v := md.KeyValueMetadata().FindValue(UnitsKey)
	if v == nil {
		return nil, fmt.Errorf("%s has no %s metadata: not written by calletl's compaction", path, UnitsKey)
	}
	var units []UnitRows
	if err := json.Unmarshal([]byte(*v), &units); err != nil {
		return nil, fmt.Errorf("%s: %s metadata: %w", path, UnitsKey, err)
	}
	var n int64
	for _, u := range units {
		n += u.Rows
	}
	if n != md.NumRows {
		return nil, fmt.Errorf("%s: %s metadata counts %d rows, the file has %d", path, UnitsKey, n, md.NumRows)
	}
	return units, nil
}

// mergeInput is one file to copy into a merged file: a unit file (unit
// set, units nil) or a compacted file (units from its metadata), whose
// units for which drop reports true are left out.
type mergeInput struct {
	path  string
	unit  string
	units []UnitRows
	drop  func(unit string) bool
}

// writeMerged writes the kept rows of inputs, in order, to a new file at
// dst (which must not exist) with the unit index in its metadata, and
// makes it durable. The columns and their encodings are those of the first
// input; an input with other columns gives errSchemaMismatch. When no row
// is kept, dst is still written (with no rows): callers remove it.
func (l *Lake) writeMerged(dst string, inputs []mergeInput) (out []UnitRows, size int64, err error) {
	if len(inputs) == 0 {
		return nil, 0, errors.New("load: merge of no files")
	}
	first, err := file.OpenParquetFile(inputs[0].path, false)
	if err != nil {
		return nil, 0, fmt.Errorf("open %s: %w", inputs[0].path, err)
	}
	schema, err := pqarrow.FromParquet(first.MetaData().Schema, &pqarrow.ArrowReadProperties{}, first.MetaData().KeyValueMetadata())
	props := l.propsLike(first.MetaData())
	first.Close()
	if err != nil {
		return nil, 0, fmt.Errorf("schema of %s: %w", inputs[0].path, err)
	}

	f, err := os.OpenFile(dst, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, 0, err
	}
	defer func() {
		if f != nil {
			f.Close()
		}
		if err != nil {
			os.Remove(dst)
		}
	}()
	buf := bufio.NewWriterSize(f, writeBufferSize)
	fw, err := pqarrow.NewFileWriter(schema, buf, props,
		pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema(), pqarrow.WithAllocator(l.opts.Allocator)))
	if err != nil {
		return nil, 0, fmt.Errorf("start parquet writer: %w", err)
	}
	defer func() {
		if fw != nil {
			fw.Close()
		}
	}()
	for _, in := range inputs {
		if err := l.copyInput(fw, schema, in, &out); err != nil {
			return nil, 0, err
		}
	}
	index, err := json.Marshal(out)
	if err != nil {
		return nil, 0, err
	}
	if out == nil {
		index = []byte("[]")
	}
	if err := fw.AppendKeyValueMetadata(UnitsKey, string(index)); err != nil {
		return nil, 0, fmt.Errorf("write unit index: %w", err)
	}
	err = fw.Close()
	fw = nil
	if err != nil {
		return nil, 0, fmt.Errorf("close parquet writer: %w", err)
	}
	if err := buf.Flush(); err != nil {
		return nil, 0, err
	}
	if err := f.Chmod(0o644); err != nil {
		return nil, 0, err
	}
	if err := f.Sync(); err != nil {
		return nil, 0, err
	}
	info, err := f.Stat()
	if err != nil {
		return nil, 0, err
	}
	err = f.Close()
	f = nil
	if err != nil {
		return nil, 0, err
	}
	return out, info.Size(), nil
}

// copyInput appends the kept rows of one input to fw and their runs to out.
func (l *Lake) copyInput(fw *pqarrow.FileWriter, schema *arrow.Schema, in mergeInput, out *[]UnitRows) error {
	pf, err := file.OpenParquetFile(in.path, false)
	if err != nil {
		return fmt.Errorf("open %s: %w", in.path, err)
	}
	defer pf.Close()
	units := in.units
	if units == nil {
		units = []UnitRows{{Unit: in.unit, Rows: pf.NumRows()}}
	}
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: int64(l.opts.BatchRows)}, l.opts.Allocator)
	if err != nil {
		return fmt.Errorf("read %s: %w", in.path, err)
	}
	fs, err := fr.Schema()
	if err != nil {
		return fmt.Errorf("read %s: %w", in.path, err)
	}
	if !sameColumns(fs, schema) {
		return fmt.Errorf("%s: %w", in.path, errSchemaMismatch)
	}
	if pf.NumRows() == 0 {
		return nil
	}
	rr, err := fr.GetRecordReader(context.Background(), nil, nil)
	if err != nil {
		return fmt.Errorf("read %s: %w", in.path, err)
	}
	defer rr.Release()
	seg, segLeft := 0, int64(-1)
	for rr.Next() {
		rec := rr.RecordBatch()
		// Kept rows that follow each other are written as one slice, so a
		// compacted file of many small units is copied in large batches.
		var pos, run int64
		flush := func() error {
			if run == pos {
				return nil
			}
			part := rec.NewSlice(run, pos)
			defer part.Release()
			if err := writeRows(fw, part, l.opts.RowGroupRows); err != nil {
				return fmt.Errorf("copy %s: %w", in.path, err)
			}
			return nil
		}
		for pos < rec.NumRows() {
			for segLeft <= 0 {
				if segLeft == 0 {
					seg++
				}
				if seg >= len(units) {
					return fmt.Errorf("%s: more rows than its unit index counts", in.path)
				}
				segLeft = units[seg].Rows
			}
			take := min(rec.NumRows()-pos, segLeft)
			unit := units[seg].Unit
			if in.drop != nil && in.drop(unit) {
				if err := flush(); err != nil {
					return err
				}
				run = pos + take
			} else if n := len(*out); n > 0 && (*out)[n-1].Unit == unit {
				(*out)[n-1].Rows += take
			} else {
				*out = append(*out, UnitRows{Unit: unit, Rows: take})
			}
			pos += take
			segLeft -= take
		}
		if err := flush(); err != nil {
			return err
		}
	}
	if err := rr.Err(); err != nil {
		return fmt.Errorf("read %s: %w", in.path, err)
	}
	return nil
}

// writeRows writes rec, starting a new row group first when the current one
// is full (as partition.write does).
func writeRows(fw *pqarrow.FileWriter, rec arrow.RecordBatch, groupRows int) error {
	n, err := fw.RowGroupNumRows()
	if err != nil {
		return err
	}
	if n >= groupRows {
		if err := fw.NewBufferedRowGroupChecked(); err != nil {
			return err
		}
	}
	return fw.WriteBuffered(rec)
}

// sameColumns reports whether two schemas have the same fields, ignoring
// schema-level metadata.
func sameColumns(a, b *arrow.Schema) bool {
	return slices.EqualFunc(a.Fields(), b.Fields(), func(x, y arrow.Field) bool { return x.Equal(y) })
}

// propsLike returns writer properties like the lake's (writerProps) with
// dictionary encoding on the columns that md's file dictionary-encoded.
func (l *Lake) propsLike(md *metadata.FileMetaData) *parquet.WriterProperties {
	props := baseProps(l.opts)
	if md.NumRowGroups() > 0 {
		rg := md.RowGroup(0)
		for i := 0; i < md.Schema.NumColumns(); i++ {
			if cc, err := rg.ColumnChunk(i); err == nil && cc.HasDictionaryPage() {
				props = append(props, parquet.WithDictionaryFor(md.Schema.Column(i).ColumnPath().String(), true))
			}
		}
	}
	return parquet.NewWriterProperties(props...)
}

// baseProps are the writer properties of every lake file but the
// per-column dictionary choice.
func baseProps(opts Options) []parquet.WriterProperty {
	return []parquet.WriterProperty{
		parquet.WithAllocator(opts.Allocator),
		parquet.WithCompression(compress.Codecs.Zstd),
		// zstd level 1: about twice the encode speed of the default
		// level for a few percent more bytes (BENCHMARKS.md).
		parquet.WithCompressionLevel(1),
		parquet.WithDictionaryDefault(false),
		parquet.WithStoreDecimalAsInteger(true),
		// WriteBuffered splits a batch that would overflow the row
		// group; flush cuts the group when it is full.
		parquet.WithMaxRowGroupLength(int64(opts.RowGroupRows)),
	}
}

// replaceInCompacted is a transaction's commit of unit into a compacted
// partition whose index lists it: the compacted file is rewritten without
// the unit's old rows and with its new ones (the finished temporary file
// newRows, or none when newRows is "") and renamed over the old one, so the
// swap is one atomic rename. A compacted file left with no rows is removed.
// It reports whether the unit has rows in the partition afterwards. The
// caller holds the partition lock.
func (l *Lake) replaceInCompacted(dir, unit, newRows string) (bool, error) {
	path := filepath.Join(dir, CompactedFile)
	units, err := compactedUnits(path)
	if err != nil {
		return false, err
	}
	inputs := []mergeInput{{path: path, units: units, drop: func(u string) bool { return u == unit }}}
	if newRows != "" {
		inputs = append(inputs, mergeInput{path: newRows, unit: unit})
	}
	tmp := filepath.Join(dir, tempName(compactedUnit))
	l.trackTemp(tmp)
	defer l.untrackTemp(tmp)
	out, _, err := l.writeMerged(tmp, inputs)
	if errors.Is(err, errSchemaMismatch) && newRows != "" {
		// The table's columns changed since the partition was compacted:
		// the new rows keep a file of their own. The old rows go first, so
		// that a crash between the two renames loses the unit's rows (the
		// window is not committed, the next run redoes it) rather than
		// doubling them.
		if _, err := l.replaceInCompacted(dir, unit, ""); err != nil {
			return false, err
		}
		if err := os.Rename(newRows, filepath.Join(dir, dataName(unit))); err != nil {
			return false, err
		}
		return true, storage.SyncDir(dir)
	}
	if err != nil {
		return false, err
	}
	if err := l.step("merge-written"); err != nil {
		if !errors.Is(err, errSimulatedKill) {
			os.Remove(tmp)
		}
		return false, err
	}
	if len(out) == 0 {
		os.Remove(tmp)
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return false, err
		}
	} else if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return false, err
	}
	if err := storage.SyncDir(dir); err != nil {
		return false, err
	}
	return slices.ContainsFunc(out, func(u UnitRows) bool { return u.Unit == unit }), nil
}

// compactedHas reports whether dir holds a compacted file whose index lists
// unit.
func compactedHas(dir, unit string) (bool, error) {
	path := filepath.Join(dir, CompactedFile)
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	units, err := compactedUnits(path)
	if err != nil {
		return false, err
	}
	return slices.ContainsFunc(units, func(u UnitRows) bool { return u.Unit == unit }), nil
}

// step runs the test hook of a named step, if any.
func (l *Lake) step(name string) error {
	if l.hook == nil {
		return nil
	}
	return l.hook(name)
}
