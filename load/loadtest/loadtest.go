// Package loadtest holds what tests of lake writers share: a lake in a
// temporary directory, an item extracted into it, its files read back with
// arrow-go, and an offline DuckDB. Only tests import it.
package loadtest

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/duckdb/duckdb-go/v2"

	"github.com/calletl/calletl/load"
	"github.com/calletl/calletl/model"
	"github.com/calletl/calletl/pipeline"
)

// OpenLake returns a lake in a temporary directory.
func OpenLake(t testing.TB) *load.Lake {
	t.Helper()
	lake, err := load.Open(t.TempDir(), load.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return lake
}

// ExtractItem extracts item key of src into lake as the pipeline does
// (pipeline.ExtractItem: one transaction, unit "<kind>-<key>", the item's
// sink) and commits it. The error, the source's or the lake's, is returned;
// nothing is committed then.
func ExtractItem(t testing.TB, src pipeline.ItemSource, lake *load.Lake, key string, run model.Run) (model.Counts, bool, error) {
	t.Helper()
	c, final, _, err := pipeline.ExtractItem(context.Background(), lake, src, key, run)
	return c, final, err
}

// ReadRows reads every file of table and source under the lake into rows of
// column → value (as arrow's GetOneForMarshal gives it), with "date" from
// the path, in file order.
func ReadRows(t testing.TB, lake *load.Lake, table, source string) []map[string]any {
	t.Helper()
	paths, _ := filepath.Glob(filepath.Join(lake.Root(), table, "source="+source, "date=*", "*.parquet"))
	sort.Strings(paths)
	var rows []map[string]any
	for _, p := range paths {
		date := filepath.Base(filepath.Dir(p))[len("date="):]
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		pf, err := file.NewParquetReader(f)
		if err != nil {
			t.Fatal(err)
		}
		fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
		if err != nil {
			t.Fatal(err)
		}
		tbl, err := fr.ReadTable(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		start := len(rows)
		for range tbl.NumRows() {
			rows = append(rows, map[string]any{"date": date})
		}
		for c := range int(tbl.NumCols()) {
			col := tbl.Column(c)
			i := start
			for _, chunk := range col.Data().Chunks() {
				for j := range chunk.Len() {
					rows[i][col.Name()] = chunk.GetOneForMarshal(j)
					i++
				}
			}
		}
		tbl.Release()
		pf.Close()
	}
	return rows
}

// OpenDuckDB returns an in-memory DuckDB that never tries the network and
// prints times in UTC.
func OpenDuckDB(t testing.TB) *sql.DB {
	t.Helper()
	conn, err := duckdb.NewConnector("", func(ex driver.ExecerContext) error {
		for _, q := range []string{
			"SET autoinstall_known_extensions=false",
			"SET autoload_known_extensions=false",
			"SET TimeZone='UTC'",
		} {
			if _, err := ex.ExecContext(context.Background(), q, nil); err != nil {
				return fmt.Errorf("%s: %w", q, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(conn)
	t.Cleanup(func() { db.Close() })
	return db
}
