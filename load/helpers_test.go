package load_test

import (
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/calletl/calletl/load"
	"github.com/calletl/calletl/load/loadtest"
	"github.com/calletl/calletl/model"
)

func openDuckDB(t testing.TB) *sql.DB { return loadtest.OpenDuckDB(t) }

// scan is the plain-DuckDB read of a table, as the brief fixes it. Extra
// named parameters (e.g. "filename=true") are appended.
func scan(root, table string, extra ...string) string {
	glob := filepath.ToSlash(filepath.Join(root, table)) + "/**/*.parquet"
	args := append([]string{
		"'" + strings.ReplaceAll(glob, "'", "''") + "'",
		"hive_partitioning=true", "union_by_name=true",
		"hive_types={'source':VARCHAR,'date':DATE}",
	}, extra...)
	return "read_parquet(" + strings.Join(args, ", ") + ")"
}

// queryInt runs a query returning one integer.
func queryInt(t testing.TB, db *sql.DB, q string) int64 {
	t.Helper()
	var n int64
	if err := db.QueryRow(q).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// countRows counts table rows through DuckDB; a table with no files at all
// counts 0 (DuckDB fails on an empty glob).
func countRows(t testing.TB, db *sql.DB, root, table, where string) int64 {
	t.Helper()
	if files := lakeFiles(t, filepath.Join(root, table)); len(files) == 0 {
		return 0
	}
	q := "SELECT count(*) FROM " + scan(root, table)
	if where != "" {
		q += " WHERE " + where
	}
	return queryInt(t, db, q)
}

// lakeFiles lists every regular file under dir (relative, slash-separated),
// temporary ones included.
func lakeFiles(t testing.TB, dir string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if path == dir && errors.Is(err, fs.ErrNotExist) {
				return fs.SkipAll
			}
			return err
		}
		if d.Type().IsRegular() {
			rel, _ := filepath.Rel(dir, path)
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func money(v int64) sql.Null[model.Money] {
	return sql.Null[model.Money]{V: model.Money(v), Valid: true}
}
func i32(v int32) sql.Null[int32] { return sql.Null[int32]{V: v, Valid: true} }
func i16(v int16) sql.Null[int16] { return sql.Null[int16]{V: v, Valid: true} }

// syntheticCall returns a plausible call number i on date.
func syntheticCall(i int, date string) model.Call {
	day, _ := time.Parse(model.DayLayout, date)
	start := day.Add(time.Duration(i%86400) * time.Second)
	dirs := []string{model.Incoming, model.Outgoing, model.Missed}
	return model.Call{
		Source: "mtt", Date: date,
		Account:   "110011256",
		CallID:    fmt.Sprintf("c-%s-%07d", date, i),
		Direction: dirs[i%len(dirs)],
		StartedAt: start,
		Caller:    fmt.Sprintf("7495%07d", i%10000000), CallerRaw: fmt.Sprintf("8495%07d", i%10000000),
		Callee: "74950000000", CalleeRaw: "74950000000",
		DurationS: i32(int32(i % 600)), TalkS: i32(int32(i % 500)), BilledS: i32(int32(i % 500 / 60 * 60)),
		Cost:     money(int64(i%1000) * 100),
		Currency: "RUB", Status: "answered",
		DisconnectCause: i16(16), DisconnectLabel: "normal clearing",
		HasRecording: i%4 == 0, RecordingRef: fmt.Sprintf("rec/%d", i),
		RunID: "run-1", ExtractedAt: start.Add(24 * time.Hour),
	}
}

// writeCalls commits calls for (source, unit) with the given covered dates.
func writeCalls(t testing.TB, lake *load.Lake, source, unit string, calls []model.Call, cover ...string) load.TxStats {
	t.Helper()
	tx, err := lake.Begin(source, unit)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Abort()
	for _, d := range cover {
		if err := tx.Cover(d); err != nil {
			t.Fatal(err)
		}
	}
	w := load.Writer(tx, load.Calls)
	for i := range calls {
		if err := w.Add(calls[i].Date, &calls[i]); err != nil {
			t.Fatal(err)
		}
	}
	stats, err := tx.Commit()
	if err != nil {
		t.Fatal(err)
	}
	return stats
}
