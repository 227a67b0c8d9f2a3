// Package load writes calletl's data lake: Hive-partitioned Parquet files
// that plain DuckDB and arrow-go read without any project code.
//
// The layout is
//
//	ROOT/<table>/source=<source>/date=<YYYY-MM-DD>/<unit>.parquet
//
// where source and date are Hive partition columns that are not stored
// inside the files. A unit names what one extraction produced for a source
// (for example "dialed-110011256"); a [Tx] replaces a unit's files
// atomically, file by file, so re-running a window never doubles rows and a
// reader globbing `*.parquet` never sees half a file.
//
// The same layout can live in a storage.Store (S3) under a key prefix
// ([Options.Store]): files are finished locally in a spool directory and
// uploaded complete, one object per unit file (see publish.go).
//
// Typical use:
//
//	lake, err := load.Open(root, load.Options{})
//	…
//	tx, err := lake.Begin("mtt", "dialed-110011256")
//	…
//	defer tx.Abort() // does nothing after Commit
//	if err := tx.Cover("2026-11-20"); err != nil { … } // the day is re-extracted
//	w := load.Writer(tx, load.Calls)
//	for i := range calls {
//		if err := w.Add(calls[i].Date, &calls[i]); err != nil { … }
//	}
//	stats, err := tx.Commit()
package load

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/calletl/calletl/model"
	"github.com/calletl/calletl/storage"
)

// Defaults for [Options].
const (
	DefaultRowGroupRows = 128 * 1024
	DefaultBatchRows    = 8 * 1024
	// The lake holds personal data (numbers, transcripts, rejected rows
	// with their raw payload): like recordings, no access for others.
	DefaultFileMode fs.FileMode = 0o640
	DefaultDirMode  fs.FileMode = 0o750

	// Byte bounds, for rows far larger than usual (a vendor's unknown
	// fields kept in extras): memory per open partition file is about one
	// row group's compressed bytes plus a few batches, whatever the row size.
	// With usual rows a row group reaches RowGroupBytes only past ~87,000
	// calls rows (48 B a row compressed, MTT emulator pages): one stream's
	// busiest days. (Measured before mtt_calls was slimmed to the key and
	// what calls lacks; its rows are now the smaller ones.)
	DefaultRowGroupBytes = 4 << 20
	DefaultBatchBytes    = 1 << 20
	// DefaultTxBufferBytes bounds what a lake's open transactions buffer
	// together across their open partition files (see
	// Options.TxBufferBytes), counted exactly: builders by capacity,
	// batches not yet encoded, the open row groups' pages and the buffers
	// kept for reuse. One transaction over 30 days (1M calls) peaks at
	// 211–213 MB of RSS with the default 160 MiB memory limit, 233–253 MB
	// without (BENCHMARKS.md, TxManyDays). With MTT's calls and mtt_calls,
	// row groups of a busy day written alone hold ~40,000–60,000 rows per
	// table.
	DefaultTxBufferBytes = 16 << 20
	// MinTxShare is the least a transaction's share of TxBufferBytes
	// falls to however many are open (Lake.txShare): below it row groups
	// would hold a batch or two.
	MinTxShare = 1 << 20
)

// Hive partition column names. They are part of every table's path and of
// what DuckDB returns, but never a column inside a file.
const (
	SourceColumn = "source"
	DateColumn   = "date"
)

// maxNameLen bounds source, unit and table names so that the temporary file
// name (".<unit>.parquet.<random>.tmp") stays well under the usual 255-byte
// file name limit.
const maxNameLen = 128

// ErrInvalidName is wrapped by every error about a table, source, unit or
// date that is not acceptable as a path element.
var ErrInvalidName = errors.New("invalid name")

// ErrTxDone is returned by operations on a transaction that was already
// committed or aborted.
var ErrTxDone = errors.New("load: transaction already committed or aborted")

// ErrBusy is returned by [Lake.Begin] when a transaction for the same
// (source, unit) is already open on the same Lake.
var ErrBusy = errors.New("load: unit already has an open transaction")

// Options tune how files are written. The zero value is valid.
type Options struct {
	// RowGroupRows cuts a Parquet row group at this many rows
	// (default DefaultRowGroupRows). Memory per open partition file is
	// about one encoded row group.
	RowGroupRows int
	// BatchRows is the number of rows per Arrow record handed to the
	// Parquet writer (default DefaultBatchRows).
	BatchRows int
	// RowGroupBytes also cuts a row group once its compressed pages reach
	// this many bytes (default DefaultRowGroupBytes); BatchBytes also hands
	// a batch to the writer once its string data reaches this many bytes
	// (default DefaultBatchBytes).
	RowGroupBytes, BatchBytes int64
	// TxBufferBytes bounds the memory the lake's open transactions hold
	// across all the partition files they have open (default
	// DefaultTxBufferBytes), shared evenly: with n transactions open, each
	// may hold TxBufferBytes/n (but at least MinTxShare, or TxBufferBytes
	// when that is smaller). Each partition allocates its record builder,
	// its batches and its Parquet writer's buffers from an allocator of its
	// own that keeps freed buffers for reuse, and counts what it holds of
	// Allocator, in use or kept. When a transaction's total passes its
	// share, its partition holding the most hands over its pending rows,
	// closes its row group (written to its file) and returns the buffers it
	// kept. So a transaction spanning many days holds about its share
	// whatever its window, and a run's concurrent windows together hold
	// about the bound, not the bound times the windows (4 windows of a
	// quarter-million rows each under the default 160 MiB memory limit ran
	// 2.3× slower, collecting garbage, when each had the whole bound).
	TxBufferBytes int64
	// Allocator allocates Arrow and Parquet buffers
	// (default memory.DefaultAllocator).
	Allocator memory.Allocator
	// FileMode and DirMode are the permissions of the files and directories
	// the lake creates (default DefaultFileMode, DefaultDirMode). They are
	// set explicitly, so the umask does not change them; a set-group-ID bit
	// a new directory inherits from its parent is kept. Only permission
	// bits are allowed, and the owner must keep read and write (files) and
	// read, write and search (directories). Directories that already exist
	// keep their modes.
	FileMode fs.FileMode
	DirMode  fs.FileMode

	// Store, when set, is where the lake lives (for example an S3
	// bucket): every file is written to a temporary file in the spool
	// directory (the root passed to Open), finished, then uploaded
	// complete to the key Prefix/<table>/source=S/date=D/<unit>.parquet
	// with an unconditional replace; a unit that no longer has rows loses
	// its object. Nil means the local lake in the root directory.
	// Compaction of a store lake is not atomic (see compact_store.go).
	Store storage.Store
	// Prefix is the key prefix of the lake in Store ("" for the store's
	// top level; a trailing "/" is added). Only with Store.
	Prefix string
}

func (o Options) withDefaults() Options {
	if o.RowGroupRows <= 0 {
		o.RowGroupRows = DefaultRowGroupRows
	}
	if o.BatchRows <= 0 {
		o.BatchRows = DefaultBatchRows
	}
	if o.RowGroupBytes <= 0 {
		o.RowGroupBytes = DefaultRowGroupBytes
	}
	if o.TxBufferBytes <= 0 {
		o.TxBufferBytes = DefaultTxBufferBytes
	}
	if o.BatchBytes <= 0 {
		o.BatchBytes = DefaultBatchBytes
	}
	if o.Allocator == nil {
		o.Allocator = memory.DefaultAllocator
	}
	if o.FileMode == 0 {
		o.FileMode = DefaultFileMode
	}
	if o.DirMode == 0 {
		o.DirMode = DefaultDirMode
	}
	return o
}

// CheckModes reports whether file and dir are acceptable as
// [Options.FileMode] and [Options.DirMode] (0 stands for the default).
func CheckModes(file, dir fs.FileMode) error {
	switch {
	case file&^fs.ModePerm != 0 || file != 0 && file&0o600 != 0o600:
		return fmt.Errorf("load: file mode %#o: want permission bits (at most 0777) that give the owner read and write (0600)", uint32(file))
	case dir&^fs.ModePerm != 0 || dir != 0 && dir&0o700 != 0o700:
		return fmt.Errorf("load: directory mode %#o: want permission bits (at most 0777) that give the owner read, write and search (0700)", uint32(dir))
	}
	return nil
}

// Lake is a lake root directory, or a lake in a storage.Store with a local
// spool directory (see [Options.Store]). It is safe for concurrent use: several
// transactions for different units may be open at once, each used by one
// goroutine.
type Lake struct {
	root string // the lake, or the spool directory of a store lake
	opts Options
	pub  publisher
	// store and prefix are set for a store lake.
	store  storage.Store
	prefix string

	mu    sync.Mutex
	units map[string]struct{}    // "source/unit" of open transactions
	temps map[string]struct{}    // temporary files of open transactions
	parts map[string]*sync.Mutex // partition directory → its lock

	hook func(step string) error // tests: called between compaction steps
}

// DefaultSpoolDir is the spool directory of a store lake opened with an
// empty root: os.TempDir()/calletl-lake-spool-<hash>, where the hash is of
// the store's description (its String: bucket, prefix, endpoint) and the
// lake's prefix. So the runs of one lake share one spool, and Sweep there
// removes what their crashed transactions left, while another lake's runs
// on the same machine use another spool, whose live files it never sees.
func DefaultSpoolDir(store storage.Store, prefix string) string {
	sum := sha256.Sum256([]byte(fmt.Sprint(store) + "\x00" + strings.Trim(prefix, "/")))
	return filepath.Join(os.TempDir(), "calletl-lake-spool-"+hex.EncodeToString(sum[:8]))
}

// Open returns the lake rooted at root, creating the directory (mode
// opts.DirMode) if needed. With opts.Store set, the lake is in the store
// under opts.Prefix and root is the local spool directory where
// transactions write their temporary files ("" for [DefaultSpoolDir]);
// several processes may share a spool directory (their temporary file
// names are random), but then use SweepStale rather than Sweep.
func Open(root string, opts Options) (*Lake, error) {
	if opts.Store == nil && opts.Prefix != "" {
		return nil, fmt.Errorf("load: open lake: a key prefix (%q) needs a store", opts.Prefix)
	}
	if opts.Store != nil && root == "" {
		root = DefaultSpoolDir(opts.Store, opts.Prefix)
	}
	if root == "" {
		return nil, fmt.Errorf("load: open lake: empty root")
	}
	if err := CheckModes(opts.FileMode, opts.DirMode); err != nil {
		return nil, err
	}
	opts = opts.withDefaults()
	root = filepath.Clean(root)
	l := &Lake{
		root:  root,
		opts:  opts,
		units: make(map[string]struct{}),
		temps: make(map[string]struct{}),
		parts: make(map[string]*sync.Mutex),
	}
	l.pub = localPublisher{l: l}
	if opts.Store != nil {
		prefix := strings.Trim(opts.Prefix, "/")
		if prefix != "" {
			if err := storage.CheckKey(prefix); err != nil {
				return nil, fmt.Errorf("load: open lake: key prefix: %w", err)
			}
			prefix += "/"
		}
		l.store, l.prefix = opts.Store, prefix
		l.pub = storePublisher{l: l, store: opts.Store, prefix: prefix}
	}
	if err := MkdirRoot(root, opts.DirMode); err != nil {
		if l.store != nil {
			return nil, fmt.Errorf("load: open lake: spool directory %s: %w", root, err)
		}
		return nil, fmt.Errorf("load: open lake %s: %w", root, err)
	}
	return l, nil
}

// Root returns the lake's root directory; for a store lake, its spool
// directory, which holds no committed file (see Store and Prefix).
func (l *Lake) Root() string { return l.root }

// Store returns the store of a store lake, nil for a local lake.
func (l *Lake) Store() storage.Store { return l.store }

// Prefix returns the key prefix of a store lake ("" or ending in "/").
func (l *Lake) Prefix() string { return l.prefix }

// txShare is what one open transaction may hold of Options.TxBufferBytes:
// the bound divided by the transactions open now, at least MinTxShare (or
// the bound, when smaller). Transactions begun later lower the share
// others see at their next check; one that ends raises it.
func (l *Lake) txShare() int64 {
	l.mu.Lock()
	n := int64(max(1, len(l.units)))
	l.mu.Unlock()
	return max(l.opts.TxBufferBytes/n, min(l.opts.TxBufferBytes, MinTxShare))
}

// Begin starts a transaction that replaces the files of unit for source.
// Names must match [A-Za-z0-9._-]+ and not start with a dot. Only one
// transaction per (source, unit) may be open on a Lake at a time (ErrBusy);
// the caller must end it with Commit or Abort (`defer tx.Abort()` is safe).
func (l *Lake) Begin(source, unit string) (*Tx, error) {
	if err := CheckName("source", source); err != nil {
		return nil, err
	}
	if err := CheckName("unit", unit); err != nil {
		return nil, err
	}
	if unit == compactedUnit {
		return nil, fmt.Errorf("load: unit %q is reserved for compacted partitions: %w", unit, ErrInvalidName)
	}
	key := source + "/" + unit
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, busy := l.units[key]; busy {
		return nil, fmt.Errorf("load: begin source=%s unit=%s: %w", source, unit, ErrBusy)
	}
	l.units[key] = struct{}{}
	tx := &Tx{
		lake:    l,
		source:  source,
		unit:    unit,
		covered: make(map[string]struct{}),
		byName:  make(map[string]*tableState),
	}
	tx.invalid = Writer(tx, InvalidUTF8)
	return tx, nil
}

// Sweep removes the temporary files that crashed transactions left anywhere
// under the root (a store lake's spool directory: the store itself holds
// no temporary objects) and returns how many it removed. Temporary files of
// transactions open on this Lake are kept; transactions of other processes
// writing the same root are not known, so run Sweep when no other process
// writes the lake (for example at start-up, under the ETL's lock).
func (l *Lake) Sweep() (removed int, err error) { return l.SweepStale(0) }

// SweepStale is Sweep for a lake other processes write at the same time
// (the shards of a run): it removes only temporary files not modified for
// minAge, which no live transaction leaves that long (a transaction writes
// its temporary files as its rows come).
func (l *Lake) SweepStale(minAge time.Duration) (removed int, err error) {
	cutoff := time.Now().Add(-minAge)
	var errs []error
	walkErr := filepath.WalkDir(l.root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			errs = append(errs, err)
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() && isStagingName(d.Name()) && filepath.Dir(path) == l.root {
			// A compaction's staging directory: its new partition not
			// swapped in yet, or the old one swapped out. Either way the
			// partition path holds the authoritative files.
			l.mu.Lock()
			_, active := l.temps[path]
			l.mu.Unlock()
			if !active {
				if err := os.RemoveAll(path); err != nil {
					errs = append(errs, fmt.Errorf("remove %s: %w", path, err))
				} else {
					removed++
				}
			}
			return fs.SkipDir
		}
		if d.IsDir() || !isTempName(d.Name()) {
			return nil
		}
		l.mu.Lock()
		_, active := l.temps[path]
		l.mu.Unlock()
		if active {
			return nil
		}
		if minAge > 0 {
			if fi, err := d.Info(); err != nil || fi.ModTime().After(cutoff) {
				return nil // gone already, or possibly a live transaction's
			}
		}
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("remove %s: %w", path, err))
			return nil
		}
		removed++
		return nil
	})
	if walkErr != nil {
		errs = append(errs, walkErr)
	}
	if err := errors.Join(errs...); err != nil {
		return removed, fmt.Errorf("load: sweep %s: %w", l.root, err)
	}
	return removed, nil
}

// Partitions returns the dates for which table has at least one Parquet file
// of source, sorted ascending. A table or source with no files gives an empty
// result and no error.
func (l *Lake) Partitions(table, source string) ([]string, error) {
	if err := checkTableName(table); err != nil {
		return nil, err
	}
	if err := CheckName("source", source); err != nil {
		return nil, err
	}
	dates, err := l.pub.dates(context.Background(), table, source)
	if err != nil {
		return nil, err
	}
	slices.Sort(dates)
	return slices.Compact(dates), nil
}

// partitionDir returns ROOT/table/source=S/date=D.
func (l *Lake) partitionDir(table, source, date string) string {
	return filepath.Join(l.root, table, SourceColumn+"="+source, DateColumn+"="+date)
}

func (l *Lake) trackTemp(path string) {
	l.mu.Lock()
	l.temps[path] = struct{}{}
	l.mu.Unlock()
}

func (l *Lake) untrackTemp(path string) {
	l.mu.Lock()
	delete(l.temps, path)
	l.mu.Unlock()
}

// lockPartition locks a partition directory against other writers in this
// process (commits, compaction) and returns the unlock function.
func (l *Lake) lockPartition(dir string) func() {
	l.mu.Lock()
	m, ok := l.parts[dir]
	if !ok {
		m = new(sync.Mutex)
		l.parts[dir] = m
	}
	l.mu.Unlock()
	m.Lock()
	return m.Unlock
}

// hasTempIn reports whether an open transaction has a temporary file in
// dir.
func (l *Lake) hasTempIn(dir string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for p := range l.temps {
		if filepath.Dir(p) == dir {
			return true
		}
	}
	return false
}

func (l *Lake) release(source, unit string) {
	l.mu.Lock()
	delete(l.units, source+"/"+unit)
	l.mu.Unlock()
}

// CheckName validates a source or unit name: [A-Za-z0-9._-]+, at most
// maxNameLen bytes, not starting with a dot (which also rules out "." and
// ".." and hidden files).
func CheckName(kind, s string) error {
	switch {
	case s == "":
		return fmt.Errorf("load: empty %s: %w", kind, ErrInvalidName)
	case len(s) > maxNameLen:
		return fmt.Errorf("load: %s %.20q… longer than %d bytes: %w", kind, s, maxNameLen, ErrInvalidName)
	case s[0] == '.':
		return fmt.Errorf("load: %s %q starts with a dot: %w", kind, s, ErrInvalidName)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return fmt.Errorf("load: %s %q: character %q not in [A-Za-z0-9._-]: %w", kind, s, c, ErrInvalidName)
		}
	}
	return nil
}

// checkTableName validates a table name: [a-z][a-z0-9_]*, so that it is a
// plain directory name and a DuckDB identifier that needs no quoting.
func checkTableName(s string) error {
	if s == "" {
		return fmt.Errorf("load: empty table name: %w", ErrInvalidName)
	}
	if len(s) > maxNameLen {
		return fmt.Errorf("load: table name %.20q… longer than %d bytes: %w", s, maxNameLen, ErrInvalidName)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || i > 0 && ('0' <= c && c <= '9' || c == '_')) {
			return fmt.Errorf("load: table name %q is not [a-z][a-z0-9_]*: %w", s, ErrInvalidName)
		}
	}
	return nil
}

// checkDate validates a partition date in model.DayLayout (YYYY-MM-DD).
func checkDate(s string) error {
	t, err := time.Parse(model.DayLayout, s)
	if err != nil || t.Format(model.DayLayout) != s {
		return fmt.Errorf("load: date %q is not YYYY-MM-DD: %w", s, ErrInvalidName)
	}
	return nil
}

// dataName returns the final file name of unit in a partition.
func dataName(unit string) string { return unit + ".parquet" }

// tempName returns a fresh name for unit's temporary file:
// ".<unit>.parquet.<random>.tmp". It starts with a dot and does not end in
// ".parquet", so no reader glob matches it.
func tempName(unit string) string { return "." + unit + ".parquet." + rand.Text() + ".tmp" }

// isTempName reports whether name is a temporary file made by tempName.
func isTempName(name string) bool {
	return strings.HasPrefix(name, ".") && strings.HasSuffix(name, ".tmp") && strings.Contains(name, ".parquet.")
}

// isStagingName reports whether name is a compaction's staging directory
// (".compact.<random>.tmp" under the root).
func isStagingName(name string) bool {
	return strings.HasPrefix(name, ".compact.") && strings.HasSuffix(name, ".tmp")
}

// isDataName reports whether name is a committed data file.
func isDataName(name string) bool {
	return !strings.HasPrefix(name, ".") && strings.HasSuffix(name, ".parquet")
}
