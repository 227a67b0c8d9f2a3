package report

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/calletl/calletl/queries"
)

func TestCatalogueGoodHeader(t *testing.T) {
	fsys := fstest.MapFS{
		"calls_by_account.sql": {Data: []byte(`-- calls_by_account: Calls per account.
-- First description line.
--
-- Second paragraph.
-- param: account VARCHAR   Account name (required)
-- param: from DATE = 2026-01-01  First day
-- param: to DATE = null
-- param:	limit INTEGER =	10	Rows: at most
SELECT * FROM calls WHERE account = $account AND date BETWEEN $from AND coalesce($to, $from) LIMIT $limit
`)},
		"notes.txt": {Data: []byte("not a report")},
	}
	got, err := Catalogue(fsys)
	if err != nil {
		t.Fatal(err)
	}
	want := []Report{{
		Name:        "calls_by_account",
		Title:       "Calls per account.",
		Description: "First description line.\n\nSecond paragraph.",
		Params: []Param{
			{Name: "account", Type: "VARCHAR", Doc: "Account name (required)"},
			{Name: "from", Type: "DATE", Default: "2026-01-01", Doc: "First day"},
			{Name: "to", Type: "DATE", Default: "NULL"},
			{Name: "limit", Type: "INTEGER", Default: "10", Doc: "Rows: at most"},
		},
		SQL: string(fsys["calls_by_account.sql"].Data),
	}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Catalogue:\n got %#v\nwant %#v", got, want)
	}
}

func TestCatalogueBadHeaders(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		line       int
		msg        string
	}{
		{"no_header", "SELECT 1\n", 1, `header must start with "-- name: title"`},
		{"other_name", "-- something: Title\nSELECT 1\n", 1, `differs from the file name`},
		{"no_title", "-- no_title:\nSELECT 1\n", 1, "empty title"},
		{"bad_type", "-- bad_type: T\n-- desc\n-- param: from DAET = NULL  First day\nSELECT 1\n", 3, `unknown type "DAET"`},
		{"dup", "-- dup: T\n-- param: from DATE = NULL\n-- param: to DATE = NULL\n-- param: from DATE\nSELECT 1\n", 4, `duplicate param "from"`},
		{"bad_default", "-- bad_default: T\n-- param: from DATE = 2026-13-01\nSELECT 1\n", 2, `bad default: bad DATE "2026-13-01"`},
		{"no_default", "-- no_default: T\n-- param: n INTEGER =\nSELECT 1\n", 2, "empty default"},
		{"bad_param_name", "-- bad_param_name: T\n-- param: From DATE\nSELECT 1\n", 2, `param name "From"`},
		{"no_type", "-- no_type: T\n-- param: from\nSELECT 1\n", 2, "bad param line"},
		{"late_desc", "-- late_desc: T\n-- param: from DATE\n-- more text\nSELECT 1\n", 3, "description line after the param lines"},
		{"no_sql", "-- no_sql: T\n-- param: from DATE\n\n", 3, "no SQL after the header"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := tc.name + ".sql"
			_, err := Catalogue(fstest.MapFS{file: {Data: []byte(tc.text)}})
			var he *HeaderError
			if !errors.As(err, &he) {
				t.Fatalf("Catalogue error = %v, want a *HeaderError", err)
			}
			if he.File != file || he.Line != tc.line || !strings.Contains(he.Msg, tc.msg) {
				t.Errorf("got %s:%d %q, want %s:%d containing %q", he.File, he.Line, he.Msg, file, tc.line, tc.msg)
			}
			if want := file + ":" + strconv.Itoa(tc.line) + ":"; !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not name %s", err, want)
			}
		})
	}
}

func TestCatalogueReportsEveryBadFile(t *testing.T) {
	_, err := Catalogue(fstest.MapFS{
		"a.sql":  {Data: []byte("SELECT 1\n")},
		"b.sql":  {Data: []byte("-- b: fine\nSELECT 1\n")},
		"c.sql":  {Data: []byte("-- c: T\n-- param: x FLOAT\nSELECT 1\n")},
		"dir/d":  {Data: []byte("ignored")},
		"e.sql~": {Data: []byte("ignored")},
	})
	if err == nil || !strings.Contains(err.Error(), "a.sql:1:") || !strings.Contains(err.Error(), "c.sql:2:") {
		t.Errorf("error = %v, want a.sql:1 and c.sql:2", err)
	}
}

func TestShippedQueries(t *testing.T) {
	reports, err := Catalogue(queries.FS())
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, r := range reports {
		if r.Name != "daily_summary" {
			continue
		}
		found = true
		want := []Param{
			{Name: "from", Type: "DATE", Default: "NULL", Doc: "First day, inclusive (business time zone); default: all"},
			{Name: "to", Type: "DATE", Default: "NULL", Doc: "Last day, inclusive; default: all"},
		}
		if !reflect.DeepEqual(r.Params, want) || r.Title != "Calls per day, source and direction." {
			t.Errorf("daily_summary header: %q %#v", r.Title, r.Params)
		}
	}
	if !found {
		t.Errorf("no daily_summary in %v", reports)
	}
}

func TestFind(t *testing.T) {
	r, err := Find(queries.FS(), "daily_summary")
	if err != nil || r.Name != "daily_summary" || len(r.Params) != 2 {
		t.Fatalf("Find(daily_summary) = %+v, %v", r, err)
	}
	for _, name := range []string{"daily_sumary", "../daily_summary", "daily_summary.sql", ""} {
		_, err := Find(queries.FS(), name)
		if err == nil || !strings.Contains(err.Error(), "available: ") || !strings.Contains(err.Error(), "daily_summary") {
			t.Errorf("Find(%q) error = %v, want one listing daily_summary", name, err)
		}
	}
	_, err = Find(fstest.MapFS{"x.sql": {Data: []byte("-- x: T\n-- param: a BLOB\nSELECT 1")}}, "x")
	if err == nil || !strings.Contains(err.Error(), "x.sql:2:") {
		t.Errorf("Find of a bad header: %v", err)
	}
}

// TestDailySummary checks daily_summary against figures computed by hand
// from sampleLake:
//
//	2026-11-20 mtt incoming   calls 4, 6: call 6 has NULL talk and billed;
//	                          talk 125 s = 2.0833 min; no cost at all.
//	2026-11-20 mtt missed     call 5.
//	2026-11-20 mtt outgoing   calls 1-3 (two files in one partition): talk 95 s,
//	                          billed 180 s, cost 2.48+0+1.24.
//	2026-11-20 t2 forwarded   calls 10, 11: RUB and USD, so no cost.
//	2026-11-20 t2 outgoing    calls 8, 9, 12: 2 of 3 answered, talk 201 s = 3.35 min,
//	                          billed 241 s = 4.0167 min, cost 0.3333+0.3334+0.0001.
//	2026-11-21 mtt outgoing   call 7: talk 10 s = 0.1667 min.
func TestDailySummary(t *testing.T) {
	lake := t.TempDir()
	sampleLake(t, lake)
	e := openEngine(t, lake, "Europe/Moscow")
	r, err := Find(queries.FS(), "daily_summary")
	if err != nil {
		t.Fatal(err)
	}

	all := [][]string{
		{"2026-11-20", "mtt", "incoming", "2", "1", "0.5000", "2.08", "0.00", "NULL", "NULL"},
		{"2026-11-20", "mtt", "missed", "1", "0", "0.0000", "0.00", "0.00", "NULL", "NULL"},
		{"2026-11-20", "mtt", "outgoing", "3", "2", "0.6667", "1.58", "3.00", "3.7200", "RUB"},
		{"2026-11-20", "t2", "forwarded", "2", "2", "1.0000", "1.00", "2.00", "NULL", "RUB,USD"},
		{"2026-11-20", "t2", "outgoing", "3", "2", "0.6667", "3.35", "4.02", "0.6668", "RUB"},
		{"2026-11-21", "mtt", "outgoing", "1", "1", "1.0000", "0.17", "1.00", "1.2400", "RUB"},
	}
	for _, tc := range []struct {
		name string
		args map[string]string
		want [][]string
	}{
		{"all", nil, all},
		{"from", map[string]string{"from": "2026-11-21"}, all[5:]},
		{"to", map[string]string{"to": "2026-11-20"}, all[:5]},
		{"both", map[string]string{"from": "2026-11-20", "to": "2026-11-20"}, all[:5]},
		{"none", map[string]string{"from": "2026-11-22"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := query(t, e, r, tc.args)
			wantCols := []string{"date", "source", "direction", "calls", "answered", "answer_rate", "talk_min", "billed_min", "cost", "currency"}
			if !reflect.DeepEqual(res.Columns, wantCols) {
				t.Errorf("columns %v, want %v", res.Columns, wantCols)
			}
			if got := cells(res); !reflect.DeepEqual(got, tc.want) && len(got)+len(tc.want) > 0 {
				t.Errorf("rows:\n got %q\nwant %q", got, tc.want)
			}
		})
	}

	res := query(t, e, r, nil)
	wantTypes := []string{"DATE", "VARCHAR", "VARCHAR", "BIGINT", "BIGINT", "DECIMAL(5,4)", "DECIMAL(18,2)", "DECIMAL(18,2)", "DECIMAL(38,4)", "VARCHAR"}
	if !reflect.DeepEqual(res.Types, wantTypes) {
		t.Errorf("types %v, want %v", res.Types, wantTypes)
	}
	for _, format := range []string{"table", "csv", "json"} {
		var b bytes.Buffer
		if err := res.Write(&b, format); err != nil {
			t.Fatal(err)
		}
		golden(t, "daily_summary."+format, b.Bytes())
	}

	// JSON decimals are numbers with every digit, not float64 renderings.
	var b bytes.Buffer
	if err := res.Write(&b, "json"); err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(&b)
	dec.UseNumber()
	var objs []map[string]any
	if err := dec.Decode(&objs); err != nil {
		t.Fatalf("json output does not parse: %v", err)
	}
	if got := objs[4]["cost"]; got != json.Number("0.6668") {
		t.Errorf("json cost = %#v, want the number 0.6668", got)
	}
}

func TestEmptyLake(t *testing.T) {
	lake := t.TempDir()
	// Only an unfinished file: it is not *.parquet, so the table is empty.
	dir := filepath.Join(lake, "calls", "source=mtt", "date=2026-11-20")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "a.parquet.tmp"), []byte("junk"), 0o644); err != nil {
		t.Fatal(err)
	}
	e := openEngine(t, lake, "UTC")
	r, err := Find(queries.FS(), "daily_summary")
	if err != nil {
		t.Fatal(err)
	}
	res := query(t, e, r, map[string]string{"from": "2026-11-01"})
	if len(res.Rows) != 0 || len(res.Columns) != 10 {
		t.Errorf("daily_summary over an empty lake: %v %v", res.Columns, res.Rows)
	}
	var b bytes.Buffer
	if err := res.Write(&b, "json"); err != nil || b.String() != "[]\n" {
		t.Errorf("json = %q, %v", b.String(), err)
	}

	// Every shipped report runs on an empty lake with its defaults.
	reports, err := Catalogue(queries.FS())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range reports {
		if slices.ContainsFunc(r.Params, Param.Required) {
			continue
		}
		if res := query(t, e, r, nil); len(res.Rows) != 0 {
			t.Errorf("%s over an empty lake: %v", r.Name, res.Rows)
		}
	}

	for table, want := range map[string]string{"calls": callsViewColumns, "rejects": "", "runs": ""} {
		cols := viewColumns(t, e, table)
		if !strings.HasPrefix(cols, "source VARCHAR, date DATE, ") || want != "" && cols != want {
			t.Errorf("view %s columns:\n got %s\nwant %s", table, cols, want)
		}
		if res := query(t, e, adhoc("SELECT * FROM "+table), nil); len(res.Rows) != 0 {
			t.Errorf("view %s has rows", table)
		}
	}
}

// callsViewColumns are the columns of the calls view, "name TYPE, …".
const callsViewColumns = "source VARCHAR, date DATE, account VARCHAR, call_id VARCHAR, direction VARCHAR, " +
	"started_at TIMESTAMP WITH TIME ZONE, caller VARCHAR, caller_raw VARCHAR, callee VARCHAR, callee_raw VARCHAR, " +
	"duration_s INTEGER, talk_s INTEGER, billed_s INTEGER, cost DECIMAL(18,4), currency VARCHAR, status VARCHAR, " +
	"disconnect_cause SMALLINT, disconnect_label VARCHAR, has_recording BOOLEAN, recording_ref VARCHAR, " +
	"run_id VARCHAR, extracted_at TIMESTAMP WITH TIME ZONE, duplicate BOOLEAN"

// viewColumns returns the columns of a view as "name TYPE, …".
func viewColumns(t *testing.T, e *Engine, view string) string {
	t.Helper()
	res := query(t, e, adhoc(`SELECT string_agg(column_name || ' ' || data_type, ', ' ORDER BY column_index)
		FROM duckdb_columns() WHERE table_name = $t`, Param{Name: "t", Type: "VARCHAR"}), map[string]string{"t": view})
	s, _ := res.Rows[0][0].(string)
	return s
}

func TestViewOverFiles(t *testing.T) {
	lake := t.TempDir()
	sampleLake(t, lake)
	e := openEngine(t, lake, "UTC")
	if got := viewColumns(t, e, "calls"); got != callsViewColumns {
		t.Errorf("calls view over files:\n got %s\nwant %s", got, callsViewColumns)
	}
	res := query(t, e, adhoc("SELECT source, count(*) FROM calls GROUP BY ALL ORDER BY ALL"), nil)
	if got, want := cells(res), [][]string{{"mtt", "7"}, {"t2", "5"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("calls per source: %q, want %q", got, want)
	}
}

func TestViewComments(t *testing.T) {
	for _, withFiles := range []bool{false, true} {
		lake := t.TempDir()
		if withFiles {
			sampleLake(t, lake)
		}
		e := openEngine(t, lake, "UTC")
		res := query(t, e, adhoc(`SELECT
			(SELECT comment FROM duckdb_views() WHERE view_name = 'calls'),
			(SELECT comment FROM duckdb_columns() WHERE table_name = 'calls' AND column_name = 'cost'),
			(SELECT comment FROM duckdb_columns() WHERE table_name = 'calls' AND column_name = 'date')`), nil)
		for i, v := range res.Rows[0] {
			if s, _ := v.(string); s == "" {
				t.Errorf("files %v: comment %d missing", withFiles, i)
			}
		}
	}
}

func TestParameterInjection(t *testing.T) {
	lake := t.TempDir()
	sampleLake(t, lake)
	e := openEngine(t, lake, "UTC")
	r, err := Find(queries.FS(), "daily_summary")
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.Query(context.Background(), r, map[string]string{"from": "2026-01-01'; DROP VIEW calls; --"})
	if err == nil || !strings.Contains(err.Error(), "bad DATE") || !strings.Contains(err.Error(), "daily_summary") {
		t.Errorf("injection attempt: error = %v, want a bad DATE", err)
	}
	// A VARCHAR parameter is bound, so quotes in it are data.
	res := query(t, e, adhoc("SELECT count(*) FROM calls WHERE direction <> $d", Param{Name: "d", Type: "VARCHAR"}),
		map[string]string{"d": "x'; DROP VIEW calls; --"})
	if got := cells(res)[0][0]; got != "12" {
		t.Errorf("count = %s, want 12", got)
	}
	// Several statements are refused as a whole: the first one does not run.
	if _, err := e.Query(context.Background(), adhoc("DROP VIEW calls; SELECT 1"), nil); err == nil {
		t.Error("a multi-statement report ran")
	}
	if _, err := e.Query(context.Background(), adhoc("CREATE TABLE t AS SELECT 1"), nil); !errors.Is(err, ErrNotSelect) {
		t.Errorf("a CREATE report: %v", err)
	}
	if got := cells(query(t, e, adhoc("SELECT count(*) FROM calls"), nil))[0][0]; got != "12" {
		t.Errorf("after the attempts, calls has %s rows, want 12", got)
	}
}

func TestParameters(t *testing.T) {
	e := openEngine(t, t.TempDir(), "UTC")
	ctx := context.Background()
	a := Param{Name: "a", Type: "INTEGER"}
	b := Param{Name: "b", Type: "VARCHAR", Default: "dflt"}
	c := Param{Name: "c", Type: "DATE", Default: "NULL"}
	d := Param{Name: "d", Type: "DOUBLE", Default: "0.5"}
	r := adhoc("SELECT $b AS b, $a + 1 AS a1, $c AS c, $d * 2 AS d2", a, b, c, d)

	res := query(t, e, r, map[string]string{"a": "41"})
	if got, want := cells(res)[0], []string{"dflt", "42", "NULL", "1"}; !reflect.DeepEqual(got, want) {
		t.Errorf("defaults: got %q, want %q", got, want)
	}
	res = query(t, e, r, map[string]string{"a": "-1", "b": "x'y", "c": "2026-02-28", "d": "1.25"})
	if got, want := cells(res)[0], []string{"x'y", "0", "2026-02-28", "2.5"}; !reflect.DeepEqual(got, want) {
		t.Errorf("given: got %q, want %q", got, want)
	}

	// A declared parameter the SQL does not use is not passed; one it uses
	// without declaring is an error, not a silent positional binding.
	res = query(t, e, adhoc("SELECT $b AS b", a, b), map[string]string{"a": "1", "b": "2"})
	if got := cells(res)[0][0]; got != "2" {
		t.Errorf("unused parameter: got %s", got)
	}
	if _, err := e.Query(ctx, adhoc("SELECT $a, $b", b), map[string]string{"b": "2"}); err == nil || !strings.Contains(err.Error(), "$a") {
		t.Errorf("undeclared $a: %v", err)
	}

	for _, tc := range []struct {
		args map[string]string
		msg  string
	}{
		{map[string]string{}, `missing required parameter "a"; parameters: a INTEGER, b VARCHAR = dflt, c DATE = NULL, d DOUBLE = 0.5`},
		{map[string]string{"a": "1", "e": "x"}, `unknown parameter "e"; parameters: a INTEGER`},
		{map[string]string{"a": "3000000000"}, `parameter a: bad INTEGER "3000000000"`},
		{map[string]string{"a": "1", "c": "20.11.2026"}, `parameter c: bad DATE "20.11.2026"`},
		{map[string]string{"a": "1", "d": "x"}, `parameter d: bad DOUBLE`},
	} {
		_, err := e.Query(ctx, r, tc.args)
		if err == nil || !strings.Contains(err.Error(), "report adhoc: ") || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("args %v: error = %v, want %q", tc.args, err, tc.msg)
		}
	}
}

func TestTimeZone(t *testing.T) {
	lake := t.TempDir()
	sampleLake(t, lake)
	r := adhoc("SELECT started_at, CAST(started_at AS VARCHAR) AS s, date FROM calls WHERE call_id = '1'")
	for zone, want := range map[string][]string{
		"UTC":              {"2026-11-20T07:00:00Z", "2026-11-20 07:00:00+00", "2026-11-20"},
		"Europe/Moscow":    {"2026-11-20T10:00:00+03:00", "2026-11-20 10:00:00+03", "2026-11-20"},
		"America/New_York": {"2026-11-20T02:00:00-05:00", "2026-11-20 02:00:00-05", "2026-11-20"},
	} {
		e := openEngine(t, lake, zone)
		res := query(t, e, r, nil)
		if got := cells(res)[0]; !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %q, want %q", zone, got, want)
		}
		var b bytes.Buffer
		if err := res.Write(&b, "csv"); err != nil || !strings.Contains(b.String(), want[0]) {
			t.Errorf("%s: csv %q, %v", zone, b.String(), err)
		}
	}
	for _, zone := range []string{"", "Local", "Mars/Olympus", "europe/moscow", "UTC'; DROP VIEW calls; --", "../../etc/passwd", "posixrules"} {
		if _, err := Open(context.Background(), Options{Lake: lake, TimeZone: zone}); err == nil {
			t.Errorf("time zone %q accepted", zone)
		}
	}
}

func TestLakePaths(t *testing.T) {
	// A quote in the path is escaped, and the data is read.
	lake := filepath.Join(t.TempDir(), "o'lake")
	sampleLake(t, lake)
	e := openEngine(t, lake, "UTC")
	if got := cells(query(t, e, adhoc("SELECT count(*) FROM calls"), nil))[0][0]; got != "12" {
		t.Errorf("lake %s: %s calls, want 12", lake, got)
	}

	for _, bad := range []string{
		filepath.Join(t.TempDir(), "glob[1]"),
		filepath.Join(t.TempDir(), "star*"),
		filepath.Join(t.TempDir(), "new\nline"),
		filepath.Join(t.TempDir(), "missing"),
		"",
	} {
		if bad != "" && !strings.HasSuffix(bad, "missing") {
			if err := os.MkdirAll(bad, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		_, err := Open(context.Background(), Options{Lake: bad, TimeZone: "UTC"})
		if err == nil || !strings.HasPrefix(err.Error(), "report: ") {
			t.Errorf("lake %q: error = %v", bad, err)
		}
	}
}

func TestWriteFormats(t *testing.T) {
	res := &Result{
		Columns: []string{"name", "n", "amount"},
		Types:   []string{"VARCHAR", "BIGINT", "DECIMAL(18,4)"},
		Rows: [][]any{
			{"Иван, \"ok\"", int64(1234567), decimal(-5, 4)},
			{nil, nil, nil},
			{"a\nb", int64(-1), decimal(123456789012345678, 4)},
		},
	}
	for _, format := range []string{"table", "csv", "json"} {
		var b bytes.Buffer
		if err := res.Write(&b, format); err != nil {
			t.Fatal(err)
		}
		golden(t, "formats."+format, b.Bytes())
	}
	if err := res.Write(&bytes.Buffer{}, "xml"); err == nil || !strings.Contains(err.Error(), "table, csv, json") {
		t.Errorf("unknown format: %v", err)
	}
}

func TestDecimalString(t *testing.T) {
	for _, tc := range []struct {
		v     int64
		scale uint8
		want  string
	}{
		{0, 4, "0.0000"}, {1, 4, "0.0001"}, {-1, 4, "-0.0001"}, {123400, 4, "12.3400"},
		{-123456, 2, "-1234.56"}, {42, 0, "42"}, {10000, 4, "1.0000"},
	} {
		if got := decimalString(decimal(tc.v, tc.scale)); got != tc.want {
			t.Errorf("decimalString(%d, %d) = %s, want %s", tc.v, tc.scale, got, tc.want)
		}
	}
}
