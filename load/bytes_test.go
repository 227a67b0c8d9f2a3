package load_test

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/parquet/file"

	"github.com/calletl/calletl/load"
)

// Rows far larger than usual (20 KB of barely compressible text each) are
// cut into row groups by bytes, so an open file holds about RowGroupBytes
// (plus the page being filled, up to the 1 MiB data page size, and a batch
// of BatchBytes), not RowGroupRows rows of them; without a byte bound the
// same 8 MB make one row group, and no row is lost either way. (The
// transaction bound, TxBufferBytes, is lifted: this is the per-file cut.)
func TestByteBoundedRowGroups(t *testing.T) {
	const rows, fat = 400, 20 << 10
	rng := rand.New(rand.NewPCG(3, 4))
	calls := callsOn(day1, 0, rows)
	for i := range calls {
		b := make([]byte, fat)
		for j := range b {
			b[j] = 'a' + byte(rng.IntN(26))
		}
		calls[i].RecordingRef = string(b)
	}
	for _, c := range []struct {
		opts       load.Options
		minGroups  int
		maxGroups  int
		maxGroupKB int64 // compressed bytes per row group at most
	}{
		{load.Options{RowGroupBytes: 2 << 20, BatchBytes: 256 << 10, TxBufferBytes: 1 << 40}, 2, 3, 2<<10 + 1<<10 + 256},
		{load.Options{RowGroupBytes: 1 << 30, BatchBytes: 1 << 30, TxBufferBytes: 1 << 40}, 1, 1, 16 << 10},
	} {
		t.Run(fmt.Sprintf("%d/%d", c.opts.RowGroupBytes, c.opts.BatchBytes), func(t *testing.T) {
			lake := newLake(t, c.opts)
			writeCalls(t, lake, "mtt", "u", calls)
			rdr, err := file.OpenParquetFile(filepath.Join(lake.Root(), "calls", "source=mtt", "date="+day1, "u.parquet"), false)
			if err != nil {
				t.Fatal(err)
			}
			defer rdr.Close()
			n := rdr.NumRowGroups()
			if n < c.minGroups || n > c.maxGroups {
				t.Errorf("%d row groups, want %d..%d", n, c.minGroups, c.maxGroups)
			}
			var total int64
			for i := range n {
				rg := rdr.MetaData().RowGroup(i)
				total += rg.NumRows()
				if kb := rg.TotalCompressedSize() >> 10; kb > c.maxGroupKB {
					t.Errorf("row group %d: %d KiB compressed, want at most %d", i, kb, c.maxGroupKB)
				}
			}
			if total != rows {
				t.Errorf("%d rows written, want %d", total, rows)
			}
		})
	}
}
