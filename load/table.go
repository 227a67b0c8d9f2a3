package load

import (
	"fmt"
	"hash/maphash"
	"maps"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// Table describes a lake table whose rows are Go values of type T.
// A Table is read-only once defined and may be shared by goroutines.
type Table[T any] struct {
	// Name is the table's directory under the root and its DuckDB name:
	// [a-z][a-z0-9_]*.
	Name string
	// Doc describes the table (for DuckDB COMMENT ON TABLE).
	Doc string
	// Schema lists the columns stored in the files, in order. It must not
	// contain the partition columns "source" and "date".
	Schema *arrow.Schema
	// Append appends one row: exactly one value (or null) to every field,
	// field i of Schema going to b.Field(i).
	Append func(b *array.RecordBuilder, row *T)
	// Dictionary names the low-cardinality columns to dictionary-encode in
	// Parquet; every other column is plain-encoded.
	Dictionary []string
	// Comments describes columns (for DuckDB COMMENT ON COLUMN). Keys are
	// Schema field names or the partition columns "source" and "date".
	Comments map[string]string
	// Key, when set, writes a row's natural key into h (the same bytes for
	// the same key). The writer remembers the keys each partition of the
	// transaction received and, before Append, calls Repeat on a row whose
	// key an earlier row of the same partition had: the table records the
	// repetition (calls.duplicate) rather than drop the row, so nothing is
	// lost and finding repeats costs the readers nothing. Keys are kept as
	// 128-bit hashes (two independently seeded maphash sums): no allocation
	// per row, no reference to the row's memory, and a false repeat would
	// take a 128-bit collision. Repeat must be set with Key.
	Key    func(h *maphash.Hash, row *T)
	Repeat func(row *T)
}

// TableInfo is the type-independent description of a table: what a reader
// needs to create a DuckDB view over it, even before any file exists.
type TableInfo struct {
	Name     string
	Doc      string
	Schema   *arrow.Schema     // file columns, without source and date
	Comments map[string]string // column → description, may include source and date
}

// Info returns the table's description. Comments is a copy.
func (t *Table[T]) Info() TableInfo {
	return TableInfo{Name: t.Name, Doc: t.Doc, Schema: t.Schema, Comments: maps.Clone(t.Comments)}
}

// Validate reports whether the table definition is usable: a valid name, a
// non-empty schema without duplicate or partition column names, an Append
// function, and Dictionary and Comments naming existing columns.
func (t *Table[T]) Validate() error {
	if err := checkTableName(t.Name); err != nil {
		return err
	}
	if t.Schema == nil || t.Schema.NumFields() == 0 {
		return fmt.Errorf("load: table %s: empty schema", t.Name)
	}
	if t.Append == nil {
		return fmt.Errorf("load: table %s: nil Append", t.Name)
	}
	if (t.Key == nil) != (t.Repeat == nil) {
		return fmt.Errorf("load: table %s: Key and Repeat go together", t.Name)
	}
	seen := make(map[string]bool, t.Schema.NumFields())
	for _, f := range t.Schema.Fields() {
		switch {
		case f.Name == "":
			return fmt.Errorf("load: table %s: unnamed column", t.Name)
		case f.Name == SourceColumn || f.Name == DateColumn:
			return fmt.Errorf("load: table %s: column %q is a partition column and cannot be stored in files", t.Name, f.Name)
		case seen[f.Name]:
			return fmt.Errorf("load: table %s: duplicate column %q", t.Name, f.Name)
		}
		seen[f.Name] = true
	}
	for _, c := range t.Dictionary {
		if !seen[c] {
			return fmt.Errorf("load: table %s: dictionary column %q not in schema", t.Name, c)
		}
	}
	for c := range t.Comments {
		if !seen[c] && c != SourceColumn && c != DateColumn {
			return fmt.Errorf("load: table %s: comment for unknown column %q", t.Name, c)
		}
	}
	return nil
}

// TableWriter adds rows of one table to a transaction. It belongs to the
// transaction's goroutine.
type TableWriter[T any] struct {
	tx    *Tx
	table *Table[T]
	state *tableState
	err   error      // set when the writer could not be registered
	last  *partition // partition of the previous Add, to skip the map lookup
	// keys holds, per partition date, the hashed Keys rows had (Table.Key
	// only); h1 and h2 are the two hashes, with different seeds.
	keys     map[string]map[[2]uint64]struct{}
	lastKeys map[[2]uint64]struct{}
	h1, h2   maphash.Hash
}

// Writer registers t in tx and returns its writer. Registration alone makes
// the transaction responsible for t: on Commit, t's file of this unit is
// replaced or removed in every date the transaction wrote or covered, even
// if no row of t was added. Calling Writer again with the same *Table returns
// the same writer. A table that fails Validate, or a different *Table with
// the same name, makes the transaction fail: the error is returned by every
// Add and by Commit.
func Writer[T any](tx *Tx, t *Table[T]) *TableWriter[T] {
	if tx.done {
		return &TableWriter[T]{tx: tx, table: t, err: ErrTxDone}
	}
	if err := t.Validate(); err != nil {
		tx.fail(err)
		return &TableWriter[T]{tx: tx, table: t, err: err}
	}
	if st, ok := tx.byName[t.Name]; ok {
		if w, ok := st.writer.(*TableWriter[T]); ok && w.table == t {
			return w
		}
		err := fmt.Errorf("load: table %s registered twice with different definitions", t.Name)
		tx.fail(err)
		return &TableWriter[T]{tx: tx, table: t, err: err}
	}
	st := &tableState{
		name:   t.Name,
		schema: t.Schema,
		dict:   t.Dictionary,
		parts:  make(map[string]*partition),
	}
	w := &TableWriter[T]{tx: tx, table: t, state: st}
	st.writer = w
	tx.byName[t.Name] = st
	tx.tables = append(tx.tables, st)
	return w
}

// Add appends row to the partition date (YYYY-MM-DD) of the table. Rows are
// buffered and written in batches, so an error from writing may surface at a
// later Add or at Commit; after any error the transaction is failed and
// Commit returns that error.
func (w *TableWriter[T]) Add(date string, row *T) error {
	if w.err != nil {
		return w.err
	}
	if err := w.tx.usable(); err != nil {
		return err
	}
	p := w.last
	if p == nil || p.date != date {
		var err error
		if p, err = w.tx.partition(w.state, date); err != nil {
			return err
		}
		w.last = p
		if w.table.Key != nil {
			if w.keys == nil {
				w.keys = make(map[string]map[[2]uint64]struct{})
			}
			if w.keys[date] == nil {
				w.keys[date] = make(map[[2]uint64]struct{})
			}
			w.lastKeys = w.keys[date]
		}
	}
	if w.table.Key != nil {
		w.h1.Reset()
		w.h2.Reset()
		w.table.Key(&w.h1, row)
		w.table.Key(&w.h2, row)
		// One probe, not a lookup then an insert: the set is as large as
		// the day and its probes miss the cache.
		n := len(w.lastKeys)
		w.lastKeys[[2]uint64{w.h1.Sum64(), w.h2.Sum64()}] = struct{}{}
		if len(w.lastKeys) == n {
			w.table.Repeat(row)
		}
	}
	w.table.Append(p.builder, row)
	p.pending++
	if p.pending >= w.tx.lake.opts.BatchRows || p.pending%16 == 0 && p.dataBytes() >= w.tx.lake.opts.BatchBytes {
		if err := p.flush(true); err != nil {
			w.tx.fail(err)
			return err
		}
		if err := w.tx.recordRepairs(w.state, p); err != nil {
			return err
		}
		if err := w.tx.bound(); err != nil {
			return err
		}
	}
	return nil
}
