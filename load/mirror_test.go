package load_test

import (
	"context"
	"path/filepath"
	"slices"
	"testing"

	"github.com/calletl/calletl/load"
	"github.com/calletl/calletl/model"
)

// TestMirror: a mirror of a store lake is a local lake DuckDB reads like
// the store's own files; a second Mirror downloads only what changed,
// and a unit that lost its object loses its local file.
func TestMirror(t *testing.T) {
	for _, b := range backends(t) {
		if b.name == "local" {
			continue // a local lake needs no mirror
		}
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			lake := b.open(t, load.Options{})
			calls := func(n int, date string) []model.Call {
				out := make([]model.Call, n)
				for i := range out {
					out[i] = syntheticCall(i, date)
				}
				return out
			}
			writeCalls(t, lake, "mtt", "u1", calls(30, "2026-11-20"), "2026-11-20")
			writeCalls(t, lake, "mtt", "u2", calls(20, "2026-11-21"), "2026-11-21")
			dir := filepath.Join(t.TempDir(), "mirror")
			mirror := func() load.MirrorStats {
				t.Helper()
				st, err := load.Mirror(ctx, lake.Store(), lake.Prefix(), dir, "calls", "runs")
				if err != nil {
					t.Fatal(err)
				}
				return st
			}
			if st := mirror(); st.Objects != 2 || st.Downloaded != 2 || st.Removed != 0 || st.Bytes == 0 {
				t.Fatalf("first mirror: %+v, want 2 objects downloaded", st)
			}
			db := openDuckDB(t)
			if n := countRows(t, db, dir, "calls", ""); n != 50 {
				t.Fatalf("mirror holds %d calls, want 50", n)
			}
			if st := mirror(); st.Downloaded != 0 || st.Removed != 0 {
				t.Fatalf("second mirror with nothing changed: %+v, want nothing downloaded", st)
			}

			// u1 re-extracted with other rows, u2 emptied: one download,
			// one removal.
			writeCalls(t, lake, "mtt", "u1", calls(7, "2026-11-20"), "2026-11-20")
			writeCalls(t, lake, "mtt", "u2", nil, "2026-11-21")
			if st := mirror(); st.Objects != 1 || st.Downloaded != 1 || st.Removed != 1 {
				t.Fatalf("after a replace and an emptied unit: %+v, want 1 object, 1 download, 1 removal", st)
			}
			if n := countRows(t, db, dir, "calls", ""); n != 7 {
				t.Fatalf("mirror holds %d calls, want 7", n)
			}
			files := lakeFiles(t, filepath.Join(dir, "calls"))
			if !slices.Equal(files, []string{"source=mtt/date=2026-11-20/u1.parquet"}) {
				t.Fatalf("mirror files %v", files)
			}
		})
	}
}
