package report

import (
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/calletl/calletl/lakeread"
	"github.com/calletl/calletl/queries"
)

// row is a test row of a lake table: column → SQL literal. Columns it does
// not name are NULL.
type row map[string]string

// writeTable writes rows as LAKE/<table>/source=<source>/date=<date>/<unit>.parquet
// with DuckDB, every column cast to the type the table's schema gives it.
func writeTable(t *testing.T, lake, table, source, date, unit string, rows []row) {
	t.Helper()
	var cols []string
	for _, info := range allTables() {
		if info.Name != table {
			continue
		}
		for _, f := range info.Schema.Fields() {
			typ, err := lakeread.DuckType(f.Type)
			if err != nil {
				t.Fatal(err)
			}
			cols = append(cols, f.Name+" "+typ)
		}
	}
	if cols == nil {
		t.Fatalf("no table %s", table)
	}
	writeColumns(t, lake, table, source, date, unit, cols, rows)
}

// writeColumns is writeTable with the file's columns given ("name TYPE"),
// e.g. those of an older version of the table.
func writeColumns(t *testing.T, lake, table, source, date, unit string, cols []string, rows []row) {
	t.Helper()
	var selects []string
	for _, r := range rows {
		var exprs []string
		for _, col := range cols {
			name, typ, _ := strings.Cut(col, " ")
			v, ok := r[name]
			if !ok {
				v = "NULL"
			}
			exprs = append(exprs, fmt.Sprintf("CAST(%s AS %s) AS %s", v, typ, name))
		}
		selects = append(selects, "SELECT "+strings.Join(exprs, ", "))
	}
	dir := filepath.Join(lake, table, "source="+source, "date="+date)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	q := fmt.Sprintf("COPY (%s) TO %s (FORMAT parquet)",
		strings.Join(selects, " UNION ALL "), lakeread.QuoteString(filepath.Join(dir, unit+".parquet")))
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(q); err != nil {
		t.Fatalf("write %s: %v", dir, err)
	}
}

// financeLake writes the calls, balances and MTT call details the
// cost_reconciliation and top_destinations figures are computed from.
// Every call has account acc1 and callee 74950000002 (see writeCalls).
func financeLake(t *testing.T, lake string) {
	t.Helper()
	writeCalls(t, lake, "mtt", "2026-11-20", "a", []call{
		{"1", "outgoing", "2026-11-20T07:00:00Z", "65", "120", "2.4800", "RUB"}, // clean: 120 <= 65+60
		{"2", "outgoing", "2026-11-20T07:10:00Z", "0", "60", "1.0000", "RUB"},   // cost without talk (60 is not > 0+60)
		{"3", "outgoing", "2026-11-20T08:00:00Z", "10", "180", "0.5000", "RUB"}, // billed over talk: 180 > 70 and > 20
	})
	writeCalls(t, lake, "mtt", "2026-11-20", "b", []call{
		{"4", "incoming", "2026-11-20T09:00:00Z", "30", "0", "NULL", ""},
		{"4", "incoming", "2026-11-20T09:00:00Z", "30", "0", "NULL", ""}, // duplicate id
		{"1", "incoming", "2026-11-20T09:10:00Z", "20", "0", "NULL", ""}, // same id as an outgoing call: not a duplicate
	})
	writeCalls(t, lake, "mtt", "2026-11-21", "a", []call{
		{"7", "outgoing", "2026-11-21T06:00:00Z", "30", "60", "1.0000", "RUB"},
		{"8", "outgoing", "2026-11-21T06:10:00Z", "30", "60", "0.5000", "USD"}, // mixed currency
	})
	writeCalls(t, lake, "t2", "2026-11-20", "a", []call{
		{"t1", "outgoing", "2026-11-20T10:00:00Z", "60", "60", "NULL", ""},
		{"t2", "outgoing", "2026-11-20T10:05:00Z", "0", "0", "NULL", ""},
		{"t3", "incoming", "2026-11-20T10:10:00Z", "30", "30", "NULL", ""},
	})

	balance := func(takenAt, amount string) row {
		return row{"account": "'acc1'", "balance": amount, "currency": "'RUB'", "raw": "'" + amount + "'",
			"run_id": "'run1'", "taken_at": "'" + takenAt + "'"}
	}
	writeTable(t, lake, "balances", "mtt", "2026-11-19", "a", []row{
		balance("2026-11-19T09:00:00Z", "100.0000"),
		balance("2026-11-19T20:00:00Z", "99.0000"), // 23:00 in Moscow: the last of the 19th
	})
	writeTable(t, lake, "balances", "mtt", "2026-11-20", "a", []row{
		balance("2026-11-20T18:00:00Z", "95.0000"),
	})
	writeTable(t, lake, "balances", "mtt", "2026-11-21", "a", []row{
		balance("2026-11-20T21:30:00Z", "94.0000"), // 00:30 on the 21st in Moscow
	})
	writeTable(t, lake, "balances", "mtt", "2026-11-22", "a", []row{
		balance("2026-11-22T08:00:00Z", "90.0000"),
	})

	// MTT details: the key of the call's calls row and its destination.
	detail := func(id, typ, dest string) row {
		return row{"customer_name": "'acc1'", "type": "'" + typ + "'", "call_id": "'" + id + "'",
			"destination": "'" + dest + "'", "h323_conf_id": "'" + id + "'"}
	}
	writeTable(t, lake, "mtt_calls", "mtt", "2026-11-20", "a", []row{
		detail("1", "dialed", "Moscow mobile"),
		detail("3", "dialed", "Moscow mobile"),
		detail("2", "dialed", "Moscow fixed"),
	})
	writeTable(t, lake, "mtt_calls", "mtt", "2026-11-20", "b", []row{
		detail("4", "incoming", "Kazakhstan"),
		detail("4", "incoming", "Kazakhstan"), // sent twice: one call
		detail("1", "incoming", ""),           // no destination: left out
	})
	// A file of the 21st as versions before mtt_calls left the canonical
	// fields to calls wrote it: its own charged and curr are not read.
	writeColumns(t, lake, "mtt_calls", "mtt", "2026-11-21", "a", []string{
		"customer_name VARCHAR", "type VARCHAR", "call_id VARCHAR", "cli VARCHAR", "cld VARCHAR",
		"connect_time TIMESTAMPTZ", "charged_time INTEGER", "charged DECIMAL(18,4)", "curr VARCHAR", "destination VARCHAR",
		"h323_conf_id VARCHAR", "run_id VARCHAR", "extracted_at TIMESTAMPTZ",
	}, []row{
		{"customer_name": "'acc1'", "type": "'dialed'", "call_id": "'7'", "cli": "'74950000001'", "cld": "'79990000002'",
			"connect_time": "'2026-11-21T06:00:00Z'", "charged_time": "60", "charged": "1.0000", "curr": "'RUB'",
			"destination": "'Moscow fixed'", "h323_conf_id": "'7'", "run_id": "'run1'", "extracted_at": "'2026-11-22T03:00:00Z'"},
		{"customer_name": "'acc1'", "type": "'dialed'", "call_id": "'8'", "cli": "'74950000001'", "cld": "'79990000002'",
			"connect_time": "'2026-11-21T06:10:00Z'", "charged_time": "60", "charged": "0.5000", "curr": "'USD'",
			"destination": "'Kazakhstan'", "h323_conf_id": "'8'", "run_id": "'run1'", "extracted_at": "'2026-11-22T03:00:00Z'"},
	})
}

// TestCostReconciliation checks cost_reconciliation against figures computed
// by hand from financeLake (business zone Europe/Moscow):
//
//	last balance per day: 19th 99 (the later of 100, 99); 20th 95 (the NULL
//	read is skipped); 21st 94 (taken 21:30Z on the 20th = 00:30 MSK on the
//	21st); 22nd 90.
//	2026-11-20 mtt   calls 1-3 outgoing, 4, 4, 1 incoming: 6 calls, 3 billed;
//	                 billed 120+60+180 = 360 s = 6.00 min; cost 2.48+1.00+0.50 = 3.98;
//	                 movement 95-99 = -4; difference 4-3.98 = 0.02;
//	                 call 2 cost without talk, call 3 billed over talk,
//	                 incoming 3 rows - 2 ids = 1 duplicate.
//	2026-11-20 t2    3 calls, none priced; billed 60+0+30 = 90 s = 1.50 min;
//	                 no balances: movement and difference NULL.
//	2026-11-21 mtt   calls 7, 8: billed 120 s = 2.00 min, cost 1.00 RUB + 0.50 USD
//	                 = 1.50 (mixed); movement 94-95 = -1; difference 1-1.5 = -0.5.
//	2026-11-22 mtt   no calls; movement 90-94 = -4; difference 4-0 = 4.
//	(2026-11-19 has a balance but no previous day and no calls: no row.)
func TestCostReconciliation(t *testing.T) {
	lake := t.TempDir()
	financeLake(t, lake)
	e := openEngine(t, lake, "Europe/Moscow")
	r, err := Find(queries.FS(), "cost_reconciliation")
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Params) != 2 || r.Params[0].String() != "from DATE = NULL" || r.Params[1].String() != "to DATE = NULL" {
		t.Errorf("params %v", r.Params)
	}

	all := [][]string{
		{"2026-11-20", "mtt", "acc1", "6", "3", "6.00", "3.9800", "NULL", "RUB", "-4.0000", "0.0200", "1", "1", "1", "false",
			"cost_without_talk,billed_over_talk,duplicate_ids"},
		{"2026-11-20", "t2", "acc1", "3", "0", "1.50", "NULL", "NULL", "", "NULL", "NULL", "0", "0", "0", "false", ""},
		{"2026-11-21", "mtt", "acc1", "2", "2", "2.00", "1.5000", "NULL", "RUB,USD", "-1.0000", "-0.5000", "0", "0", "0", "true",
			"mixed_currency"},
		{"2026-11-22", "mtt", "acc1", "0", "0", "0.00", "NULL", "NULL", "", "-4.0000", "4.0000", "0", "0", "0", "false", ""},
	}
	for _, tc := range []struct {
		name string
		args map[string]string
		want [][]string
	}{
		{"all", nil, all},
		{"from", map[string]string{"from": "2026-11-21"}, all[2:]}, // the 21st still moves from the 20th's balance
		{"to", map[string]string{"to": "2026-11-20"}, all[:2]},
		{"day", map[string]string{"from": "2026-11-21", "to": "2026-11-21"}, all[2:3]},
		{"none", map[string]string{"from": "2026-11-23"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := query(t, e, r, tc.args)
			wantCols := []string{"date", "source", "account", "calls", "billed_calls", "billed_min", "cost", "number_fees", "currency",
				"balance_movement", "difference", "cost_without_talk", "billed_over_talk", "duplicate_ids",
				"mixed_currency", "flags"}
			if !reflect.DeepEqual(res.Columns, wantCols) {
				t.Errorf("columns %v, want %v", res.Columns, wantCols)
			}
			if got := cells(res); !reflect.DeepEqual(got, tc.want) && len(got)+len(tc.want) > 0 {
				t.Errorf("rows:\n got %q\nwant %q", got, tc.want)
			}
		})
	}

	res := query(t, e, r, nil)
	wantTypes := []string{"DATE", "VARCHAR", "VARCHAR", "BIGINT", "BIGINT", "DECIMAL(18,2)", "DECIMAL(38,4)", "DECIMAL(38,4)", "VARCHAR",
		"DECIMAL(38,4)", "DECIMAL(38,4)", "BIGINT", "BIGINT", "BIGINT", "BOOLEAN", "VARCHAR"}
	if !reflect.DeepEqual(res.Types, wantTypes) {
		t.Errorf("types %v, want %v", res.Types, wantTypes)
	}
}

// TestTopDestinations checks top_destinations against figures computed by
// hand from financeLake (MTT: the destination from mtt_calls, billed_s,
// cost and currency from the call's calls row):
//
//	mtt Moscow mobile       calls 1, 3: 2.48+0.50 = 2.98, 120+180 = 300 s = 5.00 min.
//	mtt Moscow fixed        calls 2 (20th), 7 (21st, an older file): 1.00+1.00, 120 s = 2.00 min.
//	mtt Kazakhstan USD      call 8 (21st): 0.50 USD, 60 s = 1.00 min.
//	t2 74950000002          outgoing calls t1, t2 (callee): no cost, 60 s = 1.00 min.
//	mtt Kazakhstan ''       incoming call 4, sent twice, counted once: no cost, 0 s.
//	The MTT detail row without a destination (incoming 1), the mtt rows of
//	calls without a detail row, and t2's incoming call are not counted.
func TestTopDestinations(t *testing.T) {
	lake := t.TempDir()
	financeLake(t, lake)
	e := openEngine(t, lake, "Europe/Moscow")
	r, err := Find(queries.FS(), "top_destinations")
	if err != nil {
		t.Fatal(err)
	}
	want := []Param{
		{Name: "from", Type: "DATE", Default: "NULL", Doc: "First day, inclusive (business time zone); default: all"},
		{Name: "to", Type: "DATE", Default: "NULL", Doc: "Last day, inclusive; default: all"},
		{Name: "limit", Type: "INTEGER", Default: "20", Doc: "Rows: at most this many"},
	}
	if !reflect.DeepEqual(r.Params, want) {
		t.Errorf("params %#v", r.Params)
	}

	all := [][]string{
		{"mtt", "Moscow mobile", "RUB", "2", "5.00", "2.9800"},
		{"mtt", "Moscow fixed", "RUB", "2", "2.00", "2.0000"},
		{"mtt", "Kazakhstan", "USD", "1", "1.00", "0.5000"},
		{"t2", "74950000002", "", "2", "1.00", "NULL"},
		{"mtt", "Kazakhstan", "", "1", "0.00", "NULL"},
	}
	for _, tc := range []struct {
		name string
		args map[string]string
		want [][]string
	}{
		{"all", nil, all},
		{"limit", map[string]string{"limit": "2"}, all[:2]},
		{"to", map[string]string{"to": "2026-11-20"}, [][]string{
			all[0], {"mtt", "Moscow fixed", "RUB", "1", "1.00", "1.0000"}, all[3], all[4]}},
		{"from", map[string]string{"from": "2026-11-21"}, [][]string{{"mtt", "Moscow fixed", "RUB", "1", "1.00", "1.0000"}, all[2]}},
		{"none", map[string]string{"from": "2026-11-23"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := query(t, e, r, tc.args)
			wantCols := []string{"source", "destination", "currency", "calls", "billed_min", "cost"}
			if !reflect.DeepEqual(res.Columns, wantCols) {
				t.Errorf("columns %v, want %v", res.Columns, wantCols)
			}
			if got := cells(res); !reflect.DeepEqual(got, tc.want) && len(got)+len(tc.want) > 0 {
				t.Errorf("rows:\n got %q\nwant %q", got, tc.want)
			}
		})
	}

	res := query(t, e, r, nil)
	wantTypes := []string{"VARCHAR", "VARCHAR", "VARCHAR", "BIGINT", "DECIMAL(18,2)", "DECIMAL(38,4)"}
	if !reflect.DeepEqual(res.Types, wantTypes) {
		t.Errorf("types %v, want %v", res.Types, wantTypes)
	}
}

// TestTopDestinationsCurrentFiles: mtt_calls files written now carry the
// charges and the duplicate flag, so their calls are summed from mtt_calls
// alone (there is no calls row for n1 and n2 here), a row flagged
// duplicate counts nothing, and older files in the same lake are still
// joined to calls (financeLake's, see TestTopDestinations):
//
//	mtt Moscow mobile  calls 1, 3 and n1 (sent twice): 2.98+2.00 = 4.98, 300+120 s = 7.00 min.
//	mtt Kazakhstan ''  call 4 and n2: no cost, 0 s.
func TestTopDestinationsCurrentFiles(t *testing.T) {
	lake := t.TempDir()
	financeLake(t, lake)
	cur := func(id, typ, dest, billed, cost, curr, dup string) row {
		return row{"customer_name": "'acc1'", "type": "'" + typ + "'", "call_id": "'" + id + "'", "destination": "'" + dest + "'",
			"h323_conf_id": "'" + id + "'", "charged_time": billed, "charged": cost, "curr": "'" + curr + "'", "duplicate": dup}
	}
	writeColumns(t, lake, "mtt_calls", "mtt", "2026-11-23", "a", []string{
		"customer_name VARCHAR", "type VARCHAR", "call_id VARCHAR", "destination VARCHAR", "h323_conf_id VARCHAR",
		"charged_time INTEGER", "charged DECIMAL(18,4)", "curr VARCHAR", "duplicate BOOLEAN",
	}, []row{
		cur("n1", "dialed", "Moscow mobile", "120", "2.0000", "RUB", "false"),
		cur("n1", "dialed", "Moscow mobile", "120", "2.0000", "RUB", "true"), // sent twice
		cur("n2", "incoming", "Kazakhstan", "0", "NULL", "", "false"),
		cur("n3", "dialed", "", "60", "1.0000", "RUB", "false"), // no destination: left out
	})
	e := openEngine(t, lake, "Europe/Moscow")
	r, err := Find(queries.FS(), "top_destinations")
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"mtt", "Moscow mobile", "RUB", "3", "7.00", "4.9800"},
		{"mtt", "Moscow fixed", "RUB", "2", "2.00", "2.0000"},
		{"mtt", "Kazakhstan", "USD", "1", "1.00", "0.5000"},
		{"t2", "74950000002", "", "2", "1.00", "NULL"},
		{"mtt", "Kazakhstan", "", "2", "0.00", "NULL"},
	}
	if got := cells(query(t, e, r, nil)); !reflect.DeepEqual(got, want) {
		t.Errorf("rows:\n got %q\nwant %q", got, want)
	}
	if got := cells(query(t, e, r, map[string]string{"from": "2026-11-23"})); !reflect.DeepEqual(got, [][]string{
		{"mtt", "Moscow mobile", "RUB", "1", "2.00", "2.0000"}, {"mtt", "Kazakhstan", "", "1", "0.00", "NULL"}}) {
		t.Errorf("from the 23rd: %q", got)
	}
}
