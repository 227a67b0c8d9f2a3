package recordings_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/calletl/calletl/load"
	"github.com/calletl/calletl/queries"
	"github.com/calletl/calletl/recordings"
	"github.com/calletl/calletl/recordings/blob"
	"github.com/calletl/calletl/report"
)

// queries/recording_coverage.sql over a lake with a fetched backlog.
func TestRecordingCoverageQuery(t *testing.T) {
	env := newMTTEnv(t, 4<<10, 4)
	ids := mttIDs(8)
	lake := lakeWithCalls(t, "mtt", ids...)
	st, err := blob.NewLocal(filepath.Join(t.TempDir(), "store"))
	if err != nil {
		t.Fatal(err)
	}
	sum, err := recordings.Run(context.Background(), recordings.Config{Store: st, Lake: lake}, testRun("r1", time.Now()), env.fetcher)
	if err != nil {
		t.Fatal(err)
	}
	e, err := report.Open(context.Background(), report.Options{Lake: lake.Root(), TimeZone: "UTC",
		Tables: append(load.CanonicalTables(), recordings.Tables()...)})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	reports, err := report.Catalogue(queries.FS())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range reports {
		if r.Name != "recording_coverage" {
			continue
		}
		res, err := e.Query(context.Background(), r, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Rows) != 1 {
			t.Fatalf("rows %v", res.Rows)
		}
		t.Logf("%v\n%v\nsummary %+v", res.Columns, res.Rows[0], sum)
		return
	}
	t.Fatal("recording_coverage not in the catalogue")
}
