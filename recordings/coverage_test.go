package recordings_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/calletl/calletl/load"
	"github.com/calletl/calletl/queries"
	"github.com/calletl/calletl/recordings"
	"github.com/calletl/calletl/report"
)

// coverageRow runs queries/recording_coverage.sql over lakeDir, which must
// hold one (source, day), and returns its row by column name.
func coverageRow(t *testing.T, lakeDir string) map[string]string {
	t.Helper()
	e, err := report.Open(context.Background(), report.Options{Lake: lakeDir, TimeZone: "UTC",
		Tables: append(load.CanonicalTables(), recordings.Tables()...)})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	r, err := report.Find(queries.FS(), "recording_coverage")
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.Query(context.Background(), r, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) != 1 {
		t.Fatalf("recording_coverage rows %v, want one", res.Rows)
	}
	row := map[string]string{}
	for i, c := range res.Columns {
		row[c] = fmt.Sprint(res.Rows[0][i])
	}
	return row
}

// queries/recording_coverage.sql over a lake with a fetched backlog agrees
// with what the run did.
func TestRecordingCoverageQuery(t *testing.T) {
	env := newMTTEnv(t, 4<<10, 4)
	ids := mttIDs(8)
	lake := lakeWithCalls(t, "mtt", ids...)
	st := localStore(t)
	sum, err := recordings.Run(context.Background(), recordings.Config{Store: st, Lake: lake}, testRun("r1", time.Now()), env.fetcher)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Missing == 0 || sum.Calls-sum.Missing-sum.Failed == 0 {
		t.Fatalf("the backlog should hold stored and missing calls: %+v", sum)
	}
	// The figures come from the emulator's truth, not from the run.
	missing, stored := 0, 0
	var bytes int64
	for _, id := range ids {
		if env.emu.Missing(id) {
			missing++
			continue
		}
		stored++
		for part := 1; part <= env.emu.Parts(id); part++ {
			size, _ := env.emu.Digest(id, part)
			bytes += size
		}
	}
	row := coverageRow(t, lake.Root())
	want := map[string]string{
		"recorded":      strconv.Itoa(len(ids)),
		"stored":        strconv.Itoa(stored),
		"missing":       strconv.Itoa(missing),
		"failed":        "0",
		"not_attempted": "0",
		"stored_bytes":  strconv.FormatInt(bytes, 10),
	}
	for col, v := range want {
		if row[col] != v {
			t.Errorf("%s = %s, want %s (row %v, summary %+v)", col, row[col], v, row, sum)
		}
	}
}
