package sourcetest

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// row is one row of a lake file.
type row struct {
	table, source, date, unit string
	cols                      map[string]any // column → value as arrow's GetOneForMarshal gives it
}

// readLake reads every data file under root (table/source=S/date=D/unit.parquet)
// with arrow-go.
func readLake(t testing.TB, root string) []row {
	t.Helper()
	var rows []row
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || strings.HasPrefix(d.Name(), ".") || !strings.HasSuffix(d.Name(), ".parquet") {
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		parts := strings.Split(filepath.ToSlash(rel), "/")
		if len(parts) != 4 || !strings.HasPrefix(parts[1], "source=") || !strings.HasPrefix(parts[2], "date=") {
			return nil
		}
		rows = append(rows, readFile(t, path, parts[0], parts[1][len("source="):], parts[2][len("date="):],
			strings.TrimSuffix(parts[3], ".parquet"))...)
		return nil
	})
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return rows
}

func readFile(t testing.TB, path, table, source, date, unit string) []row {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	pf, err := file.NewParquetReader(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	defer pf.Close()
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := fr.ReadTable(context.Background())
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	defer tbl.Release()
	out := make([]row, tbl.NumRows())
	for i := range out {
		out[i] = row{table: table, source: source, date: date, unit: unit, cols: map[string]any{}}
	}
	for c := range int(tbl.NumCols()) {
		col := tbl.Column(c)
		i := 0
		for _, chunk := range col.Data().Chunks() {
			for j := range chunk.Len() {
				out[i].cols[col.Name()] = chunk.GetOneForMarshal(j)
				i++
			}
		}
	}
	return out
}

// of returns the rows of table in source.
func of(rows []row, table, source string) []row {
	var out []row
	for _, r := range rows {
		if r.table == table && r.source == source {
			out = append(out, r)
		}
	}
	return out
}

func str(v any) string {
	if v == nil {
		return ""
	}
	if s, ok := v.(string); ok {
		return s
	}
	return fmt.Sprint(v)
}

// volatile columns change from run to run by design.
var volatile = map[string]bool{"run_id": true, "extracted_at": true, "rejected_at": true, "snapshot_at": true, "taken_at": true}

// fingerprint lists the rows of the truth's tables as sorted text, without
// the columns that name the run.
func fingerprint(rows []row, source string, tr Truth) []string {
	tables := []string{"calls", "rejects"}
	for t := range tr.Tables {
		tables = append(tables, t)
	}
	var out []string
	for _, r := range rows {
		if r.source != source || !slices.Contains(tables, r.table) {
			continue
		}
		var kv []string
		for k, v := range r.cols {
			if !volatile[k] {
				kv = append(kv, k+"="+str(v))
			}
		}
		sort.Strings(kv)
		out = append(out, r.table+" "+r.date+" "+r.unit+" "+strings.Join(kv, " "))
	}
	sort.Strings(out)
	return out
}

// copyDir copies src to dst as it is now, skipping files that vanish
// while it copies (a transaction's temp file renamed or removed).
func copyDir(t testing.TB, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if os.IsNotExist(err) {
				return nil
			}
			return err
		}
		rel, _ := filepath.Rel(src, path)
		to := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(to, 0o755)
		}
		b, err := os.ReadFile(path)
		if os.IsNotExist(err) {
			return nil
		}
		if err != nil {
			return err
		}
		return os.WriteFile(to, b, 0o644)
	})
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
}
