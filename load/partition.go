package load

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/calletl/calletl/storage"
)

// writeBufferSize is the buffer between the Parquet writer and the
// temporary file; it only batches the many small footer writes.
const writeBufferSize = 64 << 10

// partition is the file one transaction writes for one (table, date): a
// temporary file in the partition directory, a Parquet writer holding at
// most one buffered row group, and a record builder holding at most one
// batch of rows.
type partition struct {
	lake  *Lake
	date  string
	rel   string // table/source=S/date=D/unit.parquet, for errors
	dir   string
	final string
	tmp   string

	file    *os.File // nil once closed
	buf     *bufio.Writer
	mem     *recycler            // what the builder, the batches and the writer allocate from
	fw      *pqarrow.FileWriter  // nil once closed
	builder *array.RecordBuilder // nil once released

	createdDirs []string // directories this partition created, parents first

	// The encoder goroutine owns fw while it runs: batches go to it over
	// recs, and done closes when it has stopped (encErr is then final).
	// Parsing the next batch thus overlaps encoding and compressing the
	// previous one, which uses a second core.
	recs       chan arrow.RecordBatch
	done       chan struct{}
	encErr     error
	recsClosed bool

	// cutDone tells cut that the encoder has closed the row group, so
	// every batch handed to it before is released.
	cutDone chan struct{}

	dataLens []int // string bytes per column in the last batch
	lastRows int   // rows in the last batch
	pending  int   // rows in builder
	flushed  int64 // rows handed to the encoder: the file row of the next batch
	// repairs are the invalid UTF-8 values flush replaced, until the
	// transaction records them in invalid_utf8 (utf8.go).
	repairs   []repair
	rows      int64 // rows written by the encoder; read after done
	size      int64 // file size after finish
	committed bool
}

// writerProps returns the Parquet writer properties of a partition of st
// whose writer allocates from mem.
func (st *tableState) writerProps(opts Options, mem memory.Allocator) *parquet.WriterProperties {
	opts.Allocator = mem
	props := baseProps(opts)
	for _, c := range st.dict {
		props = append(props, parquet.WithDictionaryFor(c, true))
	}
	return parquet.NewWriterProperties(props...)
}

// openPartition creates the partition directory and the temporary file and
// starts a Parquet writer on it.
func openPartition(l *Lake, st *tableState, source, unit, date string) (*partition, error) {
	dir := l.partitionDir(st.name, source, date)
	p := &partition{
		lake:  l,
		date:  date,
		rel:   strings.Join([]string{st.name, SourceColumn + "=" + source, DateColumn + "=" + date, dataName(unit)}, "/"),
		dir:   dir,
		final: filepath.Join(dir, dataName(unit)),
		mem:   newRecycler(l.opts.Allocator),
	}
	// An aborting transaction may remove a directory it created just
	// after mkdirAllSync saw it exist, or while mkdirAllSync creates the
	// next level below it (another process sharing a store lake's spool
	// directory, whose partition locks this process does not see); retry
	// when it vanishes.
	for attempt := 0; ; attempt++ {
		created, err := mkdirAllSync(l.root, dir, l.opts.DirMode)
		p.createdDirs = append(p.createdDirs, created...)
		if errors.Is(err, fs.ErrNotExist) && attempt < 10 {
			continue
		}
		if err != nil {
			removeEmptyDirs(p.createdDirs)
			return nil, p.errorf("create directory", err)
		}
		// Tracked before it exists, so that Sweep never takes it; under
		// the partition lock, so that a compaction in this process sees it
		// and leaves the partition alone.
		tmp := filepath.Join(dir, tempName(unit))
		unlock := l.lockPartition(dir)
		l.trackTemp(tmp)
		f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		unlock()
		if err == nil {
			p.file, p.tmp = f, tmp
			break
		}
		l.untrackTemp(tmp)
		if !errors.Is(err, fs.ErrNotExist) || attempt >= 10 {
			removeEmptyDirs(p.createdDirs)
			return nil, p.errorf("create temporary file", err)
		}
	}
	p.buf = bufio.NewWriterSize(p.file, writeBufferSize)

	arrowProps := pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema(), pqarrow.WithAllocator(p.mem))
	// p.buf is not an io.Closer, so closing fw leaves the file to us.
	fw, err := pqarrow.NewFileWriter(st.schema, p.buf, st.writerProps(l.opts, p.mem), arrowProps)
	if err != nil {
		p.discard()
		removeEmptyDirs(p.createdDirs)
		return nil, p.errorf("start parquet writer", err)
	}
	p.fw = fw
	p.builder = array.NewRecordBuilder(p.mem, st.schema)
	p.recs = make(chan arrow.RecordBatch, 1)
	p.done = make(chan struct{})
	p.cutDone = make(chan struct{})
	go p.encode()
	return p, nil
}

// encode writes the batches it receives until recs is closed. After the
// first error it only releases them.
func (p *partition) encode() {
	defer close(p.done)
	for rec := range p.recs {
		if rec == nil { // from cut: close the row group now
			if p.encErr == nil {
				p.encErr = p.closeRowGroup()
			}
			p.cutDone <- struct{}{}
			continue
		}
		if p.encErr == nil {
			p.encErr = p.write(rec)
		}
		rec.Release()
	}
}

// write hands one batch to the Parquet writer, starting a new row group
// first when the current one is full.
func (p *partition) write(rec arrow.RecordBatch) error {
	if err := checkDecimals(rec); err != nil {
		return p.errorf("build batch", err)
	}
	n, err := p.fw.RowGroupNumRows()
	if err != nil {
		return p.errorf("count row group rows", err)
	}
	if n >= p.lake.opts.RowGroupRows || n > 0 && p.fw.RowGroupTotalCompressedBytes() >= p.lake.opts.RowGroupBytes {
		if err := p.fw.NewBufferedRowGroupChecked(); err != nil {
			return p.errorf("start row group", err)
		}
	}
	if err := p.fw.WriteBuffered(rec); err != nil {
		return p.errorf("write batch", err)
	}
	p.rows += rec.NumRows()
	return nil
}

// closeRowGroup writes the buffered row group to the file, if it has rows,
// releasing its memory. The row group it starts in its place stays empty
// if no rows follow: the file then ends with an empty row group, which
// readers skip.
func (p *partition) closeRowGroup() error {
	n, err := p.fw.RowGroupNumRows()
	if err != nil {
		return p.errorf("count row group rows", err)
	}
	if n == 0 {
		return nil
	}
	if err := p.fw.NewBufferedRowGroupChecked(); err != nil {
		return p.errorf("start row group", err)
	}
	return nil
}

// cut hands the pending rows to the encoder without sizing the builder for
// more, has the encoder close the row group (written to the file) and waits
// for it, then returns the free buffers: afterwards the partition holds
// little (its writer's state) until rows are added again.
func (p *partition) cut() error {
	if err := p.flush(false); err != nil {
		return err
	}
	select {
	case p.recs <- nil:
	case <-p.done:
		return p.encErr
	}
	select {
	case <-p.cutDone:
	case <-p.done:
		return p.encErr
	}
	p.mem.drain()
	return nil
}

// held is what the partition holds, what the transaction's byte bound
// counts: every buffer of its builder, of the batches not yet encoded and
// of its Parquet writer (the open row group's pages), by capacity, and the
// free buffers kept for reuse.
func (p *partition) held() int64 { return p.mem.held.Load() }

// stopEncoder closes recs and waits for the encoder; it returns the
// encoder's error.
func (p *partition) stopEncoder() error {
	if p.recs == nil {
		return nil
	}
	if !p.recsClosed {
		close(p.recs)
		p.recsClosed = true
	}
	<-p.done
	return p.encErr
}

// errorf wraps err with the table, partition and file it concerns.
func (p *partition) errorf(op string, err error) error {
	return fmt.Errorf("load: %s: %s: %w", p.rel, op, err)
}

// flush hands the pending rows to the Parquet writer as one record, first
// starting a new row group if the current one is full. Starting it here
// rather than right after a write avoids an empty last row group. more says
// whether rows will follow, so that the builder is sized for them.
func (p *partition) flush(more bool) error {
	if p.pending == 0 {
		return nil
	}
	for i, f := range p.builder.Fields() {
		if f.Len() != p.pending {
			return p.errorf("build batch", fmt.Errorf("column %s has %d values for %d rows: Append must add exactly one value to every column",
				p.builder.Schema().Field(i).Name, f.Len(), p.pending))
		}
	}
	if more {
		// Builders start empty after NewRecordBatch; sizing them like
		// this batch saves the copies of growing them row by row.
		if p.dataLens == nil {
			p.dataLens = make([]int, len(p.builder.Fields()))
		}
		for i, f := range p.builder.Fields() {
			if sb, ok := f.(*array.StringBuilder); ok {
				p.dataLens[i] = sb.DataLen()
			}
		}
		p.lastRows = p.pending
		defer p.reserve()
	}
	rec := p.builder.NewRecordBatch()
	rec, p.repairs = repairStrings(p.mem, rec, p.flushed, p.repairs)
	select {
	case p.recs <- rec:
	case <-p.done: // the encoder stopped on an error
		rec.Release()
		return p.encErr
	}
	p.flushed += int64(p.pending)
	p.pending = 0
	return nil
}

// dataBytes is the string data in the builder: with the row count, what
// decides when a batch is handed over.
func (p *partition) dataBytes() int64 {
	var n int64
	for _, f := range p.builder.Fields() {
		if sb, ok := f.(*array.StringBuilder); ok {
			n += int64(sb.DataLen())
		}
	}
	return n
}

// reserve sizes the empty builder for a batch like the previous one.
func (p *partition) reserve() {
	p.builder.Reserve(p.lastRows) // fewer than BatchRows when BatchBytes cut the batch
	for i, f := range p.builder.Fields() {
		if sb, ok := f.(*array.StringBuilder); ok && p.dataLens[i] > 0 {
			sb.ReserveData(p.dataLens[i])
		}
	}
}

// checkDecimals fails when a decimal value has more digits than its
// column's precision. The Parquet writer would fail too, but part-way
// through a row group, and arrow-go v18.8.0 then leaks the row group's
// column buffers (rowGroupWriter.Close returns before closing them); with
// the Go allocator the GC reclaims them, with others it would not.
func checkDecimals(rec arrow.RecordBatch) error {
	for i, col := range rec.Columns() {
		dec, ok := col.(*array.Decimal128)
		if !ok {
			continue
		}
		dt := dec.DataType().(*arrow.Decimal128Type)
		for j := 0; j < dec.Len(); j++ {
			if dec.IsValid(j) && !dec.Value(j).FitsInPrecision(dt.Precision) {
				return fmt.Errorf("column %s: value %s does not fit DECIMAL(%d,%d)",
					rec.ColumnName(i), dec.Value(j).ToString(dt.Scale), dt.Precision, dt.Scale)
			}
		}
	}
	return nil
}

// finish writes the last rows and the footer, then makes the temporary file
// durable: flush, chmod to the lake's file mode, fsync, close.
func (p *partition) finish() error {
	if err := p.flush(false); err != nil {
		return err
	}
	p.builder.Release()
	p.builder = nil
	if err := p.stopEncoder(); err != nil {
		return err
	}
	err := p.fw.Close()
	p.fw = nil
	p.mem.drain()
	if err != nil {
		return p.errorf("close parquet writer", err)
	}
	if err := p.buf.Flush(); err != nil {
		return p.errorf("write", err)
	}
	if err := p.file.Chmod(p.lake.opts.FileMode); err != nil {
		return p.errorf("chmod", err)
	}
	if err := p.file.Sync(); err != nil {
		return p.errorf("fsync", err)
	}
	info, err := p.file.Stat()
	if err != nil {
		return p.errorf("stat", err)
	}
	p.size = info.Size()
	err = p.file.Close()
	p.file = nil
	if err != nil {
		return p.errorf("close", err)
	}
	return nil
}

// commit renames the finished temporary file over the final name and makes
// the rename durable.
func (p *partition) commit() error {
	if err := os.Rename(p.tmp, p.final); err != nil {
		return p.errorf("rename", err)
	}
	p.committed = true
	p.lake.untrackTemp(p.tmp)
	if err := storage.SyncDir(p.dir); err != nil {
		return p.errorf("fsync directory", err)
	}
	return nil
}

// discard releases memory and removes the temporary file, unless the file
// was committed. It may be called in any state and more than once.
func (p *partition) discard() {
	if p.committed {
		return
	}
	if p.builder != nil {
		p.builder.Release()
		p.builder = nil
	}
	_ = p.stopEncoder()
	if p.fw != nil {
		// Closing is the only way to release the buffered row group; what
		// it writes goes to the file removed below.
		_ = p.fw.Close()
		p.fw = nil
	}
	p.mem.drain()
	if p.file != nil {
		_ = p.file.Close()
		p.file = nil
	}
	if p.tmp != "" {
		_ = os.Remove(p.tmp)
		p.lake.untrackTemp(p.tmp)
	}
}

// removeEmptyDirs removes those of dirs that are empty, deepest first, so
// that an aborted transaction leaves no trace. A directory that another unit
// wrote to meanwhile is not empty and stays.
func removeEmptyDirs(dirs []string) {
	slices.SortFunc(dirs, func(a, b string) int { return len(b) - len(a) })
	for _, d := range dirs {
		_ = os.Remove(d) // fails, as wanted, when d is not empty
	}
}

// removeUnitFile removes unit's file from a partition, if there is one, and
// makes the removal durable. It reports whether a file was removed.
func removeUnitFile(l *Lake, table, source, date, unit string) (bool, error) {
	dir := l.partitionDir(table, source, date)
	path := filepath.Join(dir, dataName(unit))
	err := os.Remove(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	rel := strings.Join([]string{table, SourceColumn + "=" + source, DateColumn + "=" + date, dataName(unit)}, "/")
	if err != nil {
		return false, fmt.Errorf("load: %s: remove: %w", rel, err)
	}
	if err := storage.SyncDir(dir); err != nil {
		return true, fmt.Errorf("load: %s: fsync directory after remove: %w", rel, err)
	}
	return true, nil
}

// mkdirAllSync creates dir and its missing parents below root with mode
// (see setDirMode), fsyncing the parent of each directory it creates so that
// the new entries survive a crash. It returns the directories it created,
// parents first.
func mkdirAllSync(root, dir string, mode fs.FileMode) (created []string, err error) {
	rel, err := filepath.Rel(root, dir)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return nil, fmt.Errorf("%s is not under %s", dir, root)
	}
	cur := root
	for _, part := range strings.Split(rel, string(filepath.Separator)) {
		parent := cur
		cur = filepath.Join(cur, part)
		err := os.Mkdir(cur, mode)
		switch {
		case err == nil:
			created = append(created, cur)
			if err := setDirMode(cur, mode); err != nil {
				return created, err
			}
			if err := storage.SyncDir(parent); err != nil {
				return created, err
			}
		case errors.Is(err, fs.ErrExist):
		default:
			return created, err
		}
	}
	return created, nil
}

// setDirMode gives a directory the lake just created exactly mode's
// permission bits, whatever the umask took away. A set-group-ID bit it
// inherited from its parent is kept, so that files keep the lake's group.
func setDirMode(dir string, mode fs.FileMode) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if fi.Mode().Perm() == mode.Perm() {
		return nil
	}
	return os.Chmod(dir, mode.Perm()|fi.Mode()&fs.ModeSetgid)
}

// MkdirRoot creates a lake root directory and its missing parents, giving
// the root itself exactly mode (see [Options.DirMode]); an existing root
// keeps its mode. Parents are created by os.MkdirAll with mode (less the
// umask). Commands that only read the lake use it to create an empty one.
func MkdirRoot(root string, mode fs.FileMode) error {
	switch fi, err := os.Stat(root); {
	case err == nil && !fi.IsDir():
		return &fs.PathError{Op: "mkdir", Path: root, Err: syscall.ENOTDIR}
	case err == nil || !errors.Is(err, fs.ErrNotExist):
		return err
	}
	if err := os.MkdirAll(filepath.Dir(root), mode); err != nil {
		return err
	}
	if err := os.Mkdir(root, mode); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return nil // created meanwhile by someone else: theirs
		}
		return err
	}
	return setDirMode(root, mode)
}
