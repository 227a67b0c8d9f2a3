package pipeline

import (
	"github.com/calletl/calletl/load"
	"github.com/calletl/calletl/model"
)

// WriteSnapshot writes rows as the whole of table's day partition for one
// unit of a snapshot (begin's source): it opens the transaction, covers
// day, so that a unit's earlier snapshot of that day is replaced even by
// no rows, adds every row and commits. An error leaves the lake as it was.
func WriteSnapshot[T any](begin BeginFunc, unit, day string, table *load.Table[T], rows []T) error {
	tx, err := begin(unit)
	if err != nil {
		return err
	}
	defer tx.Abort()
	if err := tx.Cover(day); err != nil {
		return err
	}
	w := load.Writer(tx, table)
	for i := range rows {
		if err := w.Add(day, &rows[i]); err != nil {
			return err
		}
	}
	_, err = tx.Commit()
	return err
}

// WriteBalance adds one row to the canonical balances table in a unit of
// its own. It does not cover the day: every run's balance is kept (a unit
// per run), so finance sees the movements within a day.
func WriteBalance(begin BeginFunc, unit string, b model.Balance) error {
	tx, err := begin(unit)
	if err != nil {
		return err
	}
	defer tx.Abort()
	if err := load.Writer(tx, load.Balances).Add(b.Date, &b); err != nil {
		return err
	}
	_, err = tx.Commit()
	return err
}
