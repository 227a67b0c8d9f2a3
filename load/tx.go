package load

import (
	"context"
	"fmt"
	"maps"
	"runtime"
	"slices"

	"golang.org/x/sync/errgroup"

	"github.com/apache/arrow-go/v18/arrow"
)

// Tx replaces the files of one (source, unit) in the lake. It is used by one
// goroutine. Rows are written to temporary files as they are added; Commit
// moves them into place, Abort deletes them.
//
// The transaction's scope is every table registered with [Writer] crossed
// with every date it covered ([Tx.Cover]) or wrote rows to (for any table).
// On Commit each file <unit>.parquet in that scope is replaced by the new
// rows, or removed when the table got no rows for that date. Files of other
// units, and of dates or tables outside the scope, are untouched. In a
// compacted partition (see [Lake.Compact]) whose compacted file holds rows
// of the unit, those rows are replaced inside the compacted file instead,
// by one atomic rename of it.
//
// Each file is replaced atomically (rename over the old one, or in a store
// lake an upload that publishes the complete object), but the transaction
// as a whole is not: if Commit fails or the process dies part-way, some
// partitions hold the new file and some the old one, each complete, and
// Commit has not returned success. Re-running the unit repairs that: its
// files are replaced, never appended to, so nothing is doubled.
type Tx struct {
	lake   *Lake
	source string
	unit   string

	covered map[string]struct{}
	byName  map[string]*tableState
	tables  []*tableState // in registration order

	// invalid writes the invalid_utf8 rows of the values the other tables'
	// partitions repaired; registered by Begin, so always in scope.
	invalid *TableWriter[InvalidString]

	err      error // first failure; Commit returns it
	done     bool
	bounding bool // in bound: the invalid_utf8 rows a cut records do not cut again
}

// tableState is what a transaction holds for one registered table.
type tableState struct {
	name   string
	schema *arrow.Schema
	dict   []string
	parts  map[string]*partition // by date
	writer any                   // the *TableWriter[T] that registered it
}

// TxStats reports what a commit did.
type TxStats struct {
	// Rows written per registered table, 0 included, except that
	// invalid_utf8 (registered by every transaction) appears only when the
	// transaction repaired a value.
	Rows    map[string]int64
	Files   int   // files written (created or replaced)
	Removed int   // old files removed from dates that got no rows
	Bytes   int64 // size of the files written
	// Dates lists, sorted, the dates in which the unit holds at least one
	// file after the commit: what a later transaction of the same unit
	// must Cover to replace everything this one wrote.
	Dates []string
}

// Source returns the transaction's source.
func (tx *Tx) Source() string { return tx.source }

// Unit returns the transaction's unit.
func (tx *Tx) Unit() string { return tx.unit }

// Cover declares that the transaction is authoritative for date
// (YYYY-MM-DD): on Commit, every registered table's file of this unit in that
// date is replaced, or removed if the table got no rows for it. Rows added to
// a date cover it implicitly. An invalid date is returned and also fails the
// transaction, so that an unchecked error cannot lead to a commit that
// silently leaves old rows behind.
func (tx *Tx) Cover(date string) error {
	if err := tx.usable(); err != nil {
		return err
	}
	if err := checkDate(date); err != nil {
		err = fmt.Errorf("load: cover source=%s unit=%s: %w", tx.source, tx.unit, err)
		tx.fail(err)
		return err
	}
	tx.covered[date] = struct{}{}
	return nil
}

// Commit finishes every file the transaction wrote and moves it into place,
// then removes this unit's old files from the covered dates of registered
// tables that got no rows there. It returns the first error met while
// adding rows, if any, without changing the lake. After Commit the
// transaction is done, whatever the outcome. It returns only once every
// file of the transaction is published, so a caller that moves a cursor
// after it moves it over committed data only.
func (tx *Tx) Commit() (TxStats, error) { return tx.CommitContext(context.Background()) }

// CommitContext is Commit whose uploads to a store lake stop when ctx ends
// (the transaction then fails part-way, as described on [Tx]). A local
// lake's commit does not use ctx.
func (tx *Tx) CommitContext(ctx context.Context) (TxStats, error) {
	if tx.done {
		return TxStats{}, ErrTxDone
	}
	defer tx.end()
	if tx.err != nil {
		return TxStats{}, tx.err
	}

	// Phase 0: hand the last rows of every table to its encoder, here in
	// the transaction's goroutine, so that the values they repair are
	// recorded in invalid_utf8 before its own files are finished.
	for _, st := range tx.tables {
		if st == tx.invalid.state {
			continue
		}
		for _, date := range slices.Sorted(maps.Keys(st.parts)) {
			p := st.parts[date]
			if err := p.flush(false); err != nil {
				return TxStats{}, err
			}
			if err := tx.recordRepairs(st, p); err != nil {
				return TxStats{}, err
			}
		}
	}

	// Phase 1: finish every temporary file (footer, fsync, close), so that
	// nothing is replaced unless every file of the transaction is complete.
	// Files are independent, so they are finished side by side: closing a
	// Parquet writer compresses its buffered row group, the costliest step.
	stats := TxStats{Rows: make(map[string]int64, len(tx.tables))}
	dates := maps.Clone(tx.covered)
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0))
	for _, st := range tx.tables {
		if st != tx.invalid.state || len(st.parts) > 0 {
			stats.Rows[st.name] = 0
		}
		for _, date := range slices.Sorted(maps.Keys(st.parts)) {
			g.Go(st.parts[date].finish)
			dates[date] = struct{}{}
		}
	}
	if err := g.Wait(); err != nil {
		return TxStats{}, err
	}

	// Phase 2: rename the new files over the old ones, remove what the
	// covered dates no longer hold. In a compacted partition that holds
	// rows of this unit, the compacted file is rewritten instead (see
	// compact.go). Each partition is changed under its lock.
	for _, st := range tx.tables {
		for _, date := range slices.Sorted(maps.Keys(dates)) {
			if err := tx.commitPartition(ctx, st, date, &stats); err != nil {
				return stats, err
			}
		}
	}
	slices.Sort(stats.Dates)
	return stats, nil
}

// commitPartition puts the unit's new file of st for date in place, or
// removes its old rows when it has none, under the partition's lock (a
// local lake's).
func (tx *Tx) commitPartition(ctx context.Context, st *tableState, date string, stats *TxStats) error {
	p, hasRows := st.parts[date]
	dir := tx.lake.partitionDir(st.name, tx.source, date)
	// The lock orders a local partition's renames against compaction. A
	// store lake's units are distinct keys, so the uploads of different
	// units into one partition (hundreds of accounts on one day) need not
	// wait for each other; only a rewrite of its compacted object does.
	if tx.lake.store == nil {
		unlock := tx.lake.lockPartition(dir)
		defer unlock()
	}
	addDate := func() {
		if !slices.Contains(stats.Dates, date) {
			stats.Dates = append(stats.Dates, date)
		}
	}
	newRows := ""
	if hasRows {
		newRows = p.tmp
	}
	inCompacted, err := false, error(nil)
	if tx.lake.store == nil {
		inCompacted, err = compactedHas(dir, tx.unit)
		if err == nil && inCompacted {
			var has bool
			if has, err = tx.lake.replaceInCompacted(dir, tx.unit, newRows); err == nil && has {
				addDate()
			}
		}
	} else {
		var has bool
		inCompacted, has, err = tx.lake.storeCommitCompactedLocked(ctx, dir, st.name, tx.source, date, tx.unit, newRows)
		if err == nil && has {
			addDate()
		}
	}
	if err != nil {
		return fmt.Errorf("load: %s/%s=%s/%s=%s: replace unit %s in the compacted file: %w",
			st.name, SourceColumn, tx.source, DateColumn, date, tx.unit, err)
	}
	switch {
	case inCompacted && hasRows:
	case inCompacted:
		stats.Removed++
		return nil
	case hasRows:
		if err := tx.lake.pub.publish(ctx, p); err != nil {
			return err
		}
		addDate()
	default:
		removed, err := tx.lake.pub.unpublish(ctx, st.name, tx.source, date, tx.unit)
		if err != nil {
			return err
		}
		if removed {
			stats.Removed++
		}
		return nil
	}
	stats.Rows[st.name] += p.rows
	stats.Files++
	stats.Bytes += p.size
	return nil
}

// Abort discards everything the transaction wrote: temporary files are
// removed and the lake is left as it was. It is safe to call after Commit
// (it does nothing) and more than once, so `defer tx.Abort()` is the usual
// pattern.
func (tx *Tx) Abort() {
	if tx.done {
		return
	}
	tx.end()
}

// end discards what was not committed and releases the unit.
func (tx *Tx) end() {
	var created []string
	for _, st := range tx.tables {
		for _, p := range st.parts {
			p.discard()
			// A store lake's spool directories hold only temporary files:
			// published or not, they are removed when empty.
			if !p.committed || tx.lake.store != nil {
				created = append(created, p.createdDirs...)
			}
		}
	}
	removeEmptyDirs(created)
	tx.done = true
	tx.tables, tx.byName, tx.covered = nil, nil, nil
	tx.lake.release(tx.source, tx.unit)
}

// recordRepairs writes the invalid_utf8 rows of the values p's last batches
// repaired. The repairs of invalid_utf8's own strings (which hold only names
// and already repaired text) are not recorded.
func (tx *Tx) recordRepairs(st *tableState, p *partition) error {
	if len(p.repairs) == 0 {
		return nil
	}
	if st == tx.invalid.state {
		p.repairs = nil
		return nil
	}
	for _, r := range p.repairs {
		row := InvalidString{Source: tx.source, Date: p.date, Table: st.name, Column: r.column, Unit: tx.unit,
			FileRowNumber: r.row, Original: r.original, Stored: r.stored}
		if err := tx.invalid.Add(p.date, &row); err != nil {
			return err
		}
	}
	p.repairs = nil
	return nil
}

// fail records the transaction's first error.
func (tx *Tx) fail(err error) {
	if tx.err == nil {
		tx.err = err
	}
}

// usable returns why the transaction cannot take more work, if it cannot.
func (tx *Tx) usable() error {
	if tx.done {
		return ErrTxDone
	}
	return tx.err
}

// partition returns the open partition file of st for date, creating it on
// first use. Errors fail the transaction.
func (tx *Tx) partition(st *tableState, date string) (*partition, error) {
	if p, ok := st.parts[date]; ok {
		return p, nil
	}
	if err := checkDate(date); err != nil {
		err = fmt.Errorf("load: table %s source=%s unit=%s: %w", st.name, tx.source, tx.unit, err)
		tx.fail(err)
		return nil, err
	}
	p, err := openPartition(tx.lake, st, tx.source, tx.unit, date)
	if err != nil {
		tx.fail(err)
		return nil, err
	}
	st.parts[date] = p
	return p, nil
}

// bound keeps the memory the transaction's open partitions hold under its
// share of Options.TxBufferBytes (Lake.txShare): while their total
// (partition.held, exact: what they allocated and have not returned)
// passes it, the partition holding the most closes its row group and
// returns its free buffers (partition.cut). Each partition is cut at most
// once per call: what a partition holds after a cut is its writer's own
// state, which another cut would not shrink.
func (tx *Tx) bound() error {
	if tx.bounding {
		return nil
	}
	tx.bounding = true
	defer func() { tx.bounding = false }()
	var cut map[*partition]bool
	share := tx.lake.txShare()
	for {
		var (
			total   int64
			big     *partition
			bigSt   *tableState
			bigHeld int64
		)
		for _, st := range tx.tables {
			for _, p := range st.parts {
				h := p.held()
				total += h
				if h > bigHeld && !cut[p] {
					big, bigSt, bigHeld = p, st, h
				}
			}
		}
		if total <= share || big == nil {
			return nil
		}
		if err := big.cut(); err != nil {
			tx.fail(err)
			return err
		}
		if cut == nil {
			cut = make(map[*partition]bool)
		}
		cut[big] = true
		if err := tx.recordRepairs(bigSt, big); err != nil {
			return err
		}
	}
}
