package report

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/calletl/calletl/extract/mtt"
	"github.com/calletl/calletl/extract/t2"
	"github.com/calletl/calletl/extract/voicebox"
	"github.com/calletl/calletl/extract/votbox"
	"github.com/calletl/calletl/lakeread"
	"github.com/calletl/calletl/load"
	"github.com/calletl/calletl/receive"
	"github.com/calletl/calletl/recordings"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// call is a test row of the calls table; the columns it does not set get
// fixed values. Nullable numbers are SQL literals ("NULL", "65", "2.48").
type call struct {
	id, direction, startedAt string // startedAt: an RFC 3339 instant
	talk, billed, cost       string
	currency                 string
}

// callColumns is the calls file schema as DuckDB types, in load's order,
// without the last column, duplicate, which writeCalls computes as load's
// writer does: an earlier row of the file had the same account, direction
// and call_id.
const callColumns = `account VARCHAR; call_id VARCHAR; direction VARCHAR; started_at TIMESTAMPTZ;
	caller VARCHAR; caller_raw VARCHAR; callee VARCHAR; callee_raw VARCHAR;
	duration_s INTEGER; talk_s INTEGER; billed_s INTEGER; cost DECIMAL(18,4); currency VARCHAR;
	status VARCHAR; disconnect_cause SMALLINT; disconnect_label VARCHAR;
	has_recording BOOLEAN; recording_ref VARCHAR; run_id VARCHAR; extracted_at TIMESTAMPTZ`

// writeCalls writes calls as LAKE/calls/source=<source>/date=<date>/<unit>.parquet
// with DuckDB, independently of package load.
func writeCalls(t *testing.T, lake, source, date, unit string, calls []call) {
	t.Helper()
	var cols, casts []string
	for _, def := range strings.Split(callColumns, ";") {
		name, typ, _ := strings.Cut(strings.TrimSpace(def), " ")
		cols = append(cols, name)
		casts = append(casts, fmt.Sprintf("CAST(%s AS %s) AS %s", name, typ, name))
	}
	var rows []string
	for _, c := range calls {
		rows = append(rows, fmt.Sprintf(
			"('acc1', '%s', '%s', '%s', '79990000001', '+7 999 000-00-01', '74950000002', '8 495 000 00 02', "+
				"%s, %s, %s, %s, '%s', 'ANSWERED', 16, 'normal', false, '', 'run1', '2026-11-21T03:00:00Z', %d)",
			c.id, c.direction, c.startedAt, c.talk, c.talk, c.billed, c.cost, c.currency, len(rows)))
	}
	dir := filepath.Join(lake, "calls", "source="+source, "date="+date)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	casts = append(casts, "row_number() OVER (PARTITION BY account, direction, call_id ORDER BY ordinal) > 1 AS duplicate")
	q := fmt.Sprintf("COPY (SELECT %s FROM (VALUES %s) t(%s, ordinal) ORDER BY ordinal) TO %s (FORMAT parquet)",
		strings.Join(casts, ", "), strings.Join(rows, ", "), strings.Join(cols, ", "),
		lakeread.QuoteString(filepath.Join(dir, unit+".parquet")))
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(q); err != nil {
		t.Fatalf("write %s: %v", dir, err)
	}
}

// sampleLake writes the calls the daily_summary figures are computed from
// (see TestDailySummary) into lake.
func sampleLake(t *testing.T, lake string) {
	t.Helper()
	writeCalls(t, lake, "mtt", "2026-11-20", "a", []call{
		{"1", "outgoing", "2026-11-20T07:00:00Z", "65", "120", "2.4800", "RUB"},
		{"2", "outgoing", "2026-11-20T07:10:00Z", "0", "0", "0.0000", "RUB"},
		{"3", "outgoing", "2026-11-20T08:00:00Z", "30", "60", "1.2400", "RUB"},
	})
	writeCalls(t, lake, "mtt", "2026-11-20", "b", []call{
		{"4", "incoming", "2026-11-20T09:00:00Z", "125", "0", "NULL", ""},
		{"5", "missed", "2026-11-20T09:05:00Z", "0", "0", "NULL", ""},
		{"6", "incoming", "2026-11-20T09:10:00Z", "NULL", "NULL", "NULL", ""},
	})
	writeCalls(t, lake, "mtt", "2026-11-21", "a", []call{
		{"7", "outgoing", "2026-11-21T06:00:00Z", "10", "60", "1.2400", "RUB"},
	})
	writeCalls(t, lake, "t2", "2026-11-20", "a", []call{
		{"8", "outgoing", "2026-11-20T10:00:00Z", "200", "240", "0.3333", "RUB"},
		{"9", "outgoing", "2026-11-20T10:05:00Z", "0", "0", "0.3334", "RUB"},
		{"10", "forwarded", "2026-11-20T10:10:00Z", "40", "60", "1.0000", "RUB"},
		{"11", "forwarded", "2026-11-20T10:15:00Z", "20", "60", "2.0000", "USD"},
		{"12", "outgoing", "2026-11-20T10:20:00Z", "1", "1", "0.0001", "RUB"},
	})
}

// openEngine opens an engine over lake with the canonical tables.
func openEngine(t *testing.T, lake, zone string) *Engine {
	t.Helper()
	e, err := Open(context.Background(), Options{Lake: lake, TimeZone: zone, Tables: allTables()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := e.Close(); err != nil {
			t.Error(err)
		}
	})
	return e
}

// query runs r and fails the test on error.
func query(t *testing.T, e *Engine, r Report, args map[string]string) *Result {
	t.Helper()
	res, err := e.Query(context.Background(), r, args)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// cells formats every value of res as the table and CSV formats do, "NULL"
// for NULL.
func cells(res *Result) [][]string {
	out := make([][]string, len(res.Rows))
	for i, row := range res.Rows {
		for j, v := range row {
			s, ok := text(v, res.Types[j])
			if !ok {
				s = "NULL"
			}
			out[i] = append(out[i], s)
		}
	}
	return out
}

// adhoc returns a report with the given SQL and params, for tests.
func adhoc(sql string, params ...Param) Report {
	return Report{Name: "adhoc", Title: "test", SQL: sql, Params: params}
}

// golden compares got with testdata/name, rewriting it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(got) != string(want) {
		t.Errorf("%s differs from the golden file:\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

// decimal returns the duckdb.Decimal v × 10^-scale.
func decimal(v int64, scale uint8) duckdb.Decimal {
	return duckdb.Decimal{Width: 18, Scale: scale, Value: big.NewInt(v)}
}

// allTables is every table the CLI registers, so every shipped report
// (some read vendor tables) can run.
func allTables() []load.TableInfo {
	tables := append(load.CanonicalTables(), mtt.Tables()...)
	tables = append(tables, t2.Tables()...)
	tables = append(tables, votbox.Tables()...)
	tables = append(tables, voicebox.Tables()...) // cost_reconciliation reads voicebox_numbers
	tables = append(tables, receive.Tables()...)
	return append(tables, recordings.Tables()...)
}
