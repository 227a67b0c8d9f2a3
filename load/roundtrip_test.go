package load_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/calletl/calletl/load"
	"github.com/calletl/calletl/model"
)

const (
	day1 = "2026-11-20"
	day2 = "2026-11-21"
)

// sampleData returns rows of every canonical table over two dates, with the
// edge values the lake must keep exactly.
func sampleData(t *testing.T) ([]model.Call, []model.Reject, []model.RunStream) {
	msk, err := time.LoadLocation("Europe/Moscow")
	if err != nil {
		msk = time.FixedZone("MSK", 3*3600)
	}
	calls := []model.Call{{
		Source: "mtt", Date: day1,
		Account: "110011256", CallID: "a-1", Direction: model.Incoming,
		StartedAt: time.Date(2026, 11, 20, 12, 15, 30, 123456000, msk),
		Caller:    "74951234567", CallerRaw: "8 (495) 123-45-67", Callee: "101", CalleeRaw: "101",
		DurationS: i32(125), TalkS: i32(120), BilledS: i32(180),
		Cost: money(24800), Currency: "RUB", Status: "отвечен",
		DisconnectCause: i16(16), DisconnectLabel: "Нормальное завершение",
		HasRecording: true, RecordingRef: "rec/2026/11/20/a-1.mp3",
		RunID: "run-42", ExtractedAt: time.Date(2026, 11, 21, 3, 0, 0, 1000, time.UTC),
	}, {
		Source: "mtt", Date: day1,
		Account: "110011256", CallID: "a-2", Direction: model.Missed,
		StartedAt: time.Date(2026, 11, 20, 0, 0, 0, 0, msk), // 2026-11-19T21:00Z, still day1 in MSK
		Caller:    "", CallerRaw: "anonymous", Callee: "74950000000", CalleeRaw: "+7 495 000-00-00",
		// every nullable value NULL, every string empty
		RunID: "run-42",
	}, {
		Source: "mtt", Date: day2,
		Account: "110011256", CallID: "b-1", Direction: model.Outgoing,
		StartedAt: time.Date(2026, 11, 21, 23, 59, 59, 999999000, time.UTC),
		Caller:    "101", CallerRaw: "101", Callee: "79161234567", CalleeRaw: "79161234567",
		DurationS: i32(2147483647), TalkS: i32(0), BilledS: i32(-1),
		Cost: money(-1), Currency: "RUB", Status: "busy",
		DisconnectCause: i16(-32768), DisconnectLabel: "x",
		HasRecording: false, RunID: "run-42",
		ExtractedAt: time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC),
	}, {
		Source: "mtt", Date: day2,
		Account: "other", CallID: "b-2", Direction: model.Autocall,
		StartedAt: time.Date(1969, 12, 31, 23, 59, 59, 999999000, time.UTC), // negative epoch
		Cost:      money(999999999999999999), Currency: "USD",
		DisconnectCause: i16(32767), RunID: "run-42",
		ExtractedAt: time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC),
	}, {
		Source: "mtt", Date: day2,
		Account: "other", CallID: "b-3", Direction: model.Internal,
		StartedAt: time.Date(2026, 11, 21, 1, 0, 0, 0, time.UTC),
		Cost:      money(-999999999999999999), Currency: "EUR", RunID: "run-42",
	}}
	rejects := []model.Reject{{
		Source: "mtt", Date: day1, Stream: "dialed", Account: "110011256",
		Endpoint: "getServiceHistoryByCustomer", Window: "2026-11-20 [2026-11-19T21:00:00Z, 2026-11-20T21:00:00Z)",
		Reason: "bad date", Raw: `{"date":"31.02.2026","x":"\u0000 '\"\n"}`, RunID: "run-42",
		RejectedAt: time.Date(2026, 11, 21, 3, 0, 0, 5000, time.UTC),
	}, {
		Source: "mtt", Date: day2, Stream: "dialed", Account: "110011256", Reason: "empty", RunID: "run-42",
	}}
	runs := []model.RunStream{{
		Source: "mtt", Date: day1, RunID: "run-42", Mode: "run", Stream: "dialed", Account: "110011256",
		StartedAt:  time.Date(2026, 11, 20, 3, 0, 0, 0, time.UTC),
		FinishedAt: time.Date(2026, 11, 20, 3, 1, 2, 345000000, time.UTC),
		FirstDay:   day1, LastDay: day2, Windows: 2, Pages: 7, Rows: 5, Rejects: 2, Status: model.RunOK,
	}, {
		Source: "mtt", Date: day2, RunID: "run-43", Mode: "backfill", Stream: "dialed", Account: "other",
		StartedAt: time.Date(2026, 11, 21, 3, 0, 0, 0, time.UTC),
		Status:    model.RunFailed, Error: "mtt: history: 500 Internal Server Error",
	}}
	return calls, rejects, runs
}

// writeSample commits the sample data in one transaction.
func writeSample(t *testing.T, lake *load.Lake) ([]model.Call, []model.Reject, []model.RunStream) {
	t.Helper()
	calls, rejects, runs := sampleData(t)
	tx, err := lake.Begin("mtt", "dialed-110011256")
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Abort()
	cw, rw, uw := load.Writer(tx, load.Calls), load.Writer(tx, load.Rejects), load.Writer(tx, load.Runs)
	for i := range calls {
		if err := cw.Add(calls[i].Date, &calls[i]); err != nil {
			t.Fatal(err)
		}
	}
	for i := range rejects {
		if err := rw.Add(rejects[i].Date, &rejects[i]); err != nil {
			t.Fatal(err)
		}
	}
	for i := range runs {
		if err := uw.Add(runs[i].Date, &runs[i]); err != nil {
			t.Fatal(err)
		}
	}
	bal := model.Balance{Source: "mtt", Date: "2026-11-21", Account: "110011256", Balance: 2735000, Currency: "RUB",
		Raw: "273,50", RunID: "run-1", TakenAt: time.Date(2026, 11, 21, 3, 0, 0, 0, time.UTC)}
	if err := load.Writer(tx, load.Balances).Add(bal.Date, &bal); err != nil {
		t.Fatal(err)
	}
	stats, err := tx.Commit()
	if err != nil {
		t.Fatal(err)
	}
	want := load.TxStats{Rows: map[string]int64{"calls": 5, "rejects": 2, "runs": 2, "balances": 1}, Files: 7, Bytes: stats.Bytes,
		Dates: []string{"2026-11-20", "2026-11-21"}}
	if !reflect.DeepEqual(stats, want) || stats.Bytes <= 0 {
		t.Fatalf("stats = %+v, want %+v", stats, want)
	}
	return calls, rejects, runs
}

// normalize makes expected rows comparable with what the lake returns:
// times as UTC instants, zero times as they are.
func normalizeCall(c model.Call) model.Call {
	c.StartedAt, c.ExtractedAt = utc(c.StartedAt), utc(c.ExtractedAt)
	return c
}

func utc(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC()
}

func fromMicros(v sql.Null[int64]) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return time.UnixMicro(v.V).UTC()
}

// parseMoney parses DuckDB's text of a DECIMAL(18,4), e.g. "-0.0001".
func parseMoney(t *testing.T, s sql.NullString) sql.Null[model.Money] {
	t.Helper()
	if !s.Valid {
		return sql.Null[model.Money]{}
	}
	whole, frac, ok := strings.Cut(s.String, ".")
	if !ok || len(frac) != 4 {
		t.Fatalf("cost %q does not have 4 decimals", s.String)
	}
	v, err := strconv.ParseInt(whole+frac, 10, 64)
	if err != nil {
		t.Fatalf("cost %q: %v", s.String, err)
	}
	return money(v)
}

func TestRoundTripDuckDB(t *testing.T) {
	lake, err := load.Open(t.TempDir(), load.Options{})
	if err != nil {
		t.Fatal(err)
	}
	calls, rejects, runs := writeSample(t, lake)
	db := openDuckDB(t)

	t.Run("calls", func(t *testing.T) {
		rows, err := db.Query(`SELECT source, date::VARCHAR, account, call_id, direction, epoch_us(started_at),
			caller, caller_raw, callee, callee_raw, duration_s, talk_s, billed_s, cost::VARCHAR, currency,
			status, disconnect_cause, disconnect_label, has_recording, recording_ref, run_id, epoch_us(extracted_at)
			FROM ` + scan(lake.Root(), "calls") + ` ORDER BY call_id`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var got []model.Call
		for rows.Next() {
			var c model.Call
			var started, extracted sql.Null[int64]
			var cost sql.NullString
			if err := rows.Scan(&c.Source, &c.Date, &c.Account, &c.CallID, &c.Direction, &started,
				&c.Caller, &c.CallerRaw, &c.Callee, &c.CalleeRaw, &c.DurationS, &c.TalkS, &c.BilledS, &cost, &c.Currency,
				&c.Status, &c.DisconnectCause, &c.DisconnectLabel, &c.HasRecording, &c.RecordingRef, &c.RunID, &extracted); err != nil {
				t.Fatal(err)
			}
			c.StartedAt, c.ExtractedAt, c.Cost = fromMicros(started), fromMicros(extracted), parseMoney(t, cost)
			got = append(got, c)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		compareRows(t, got, calls, normalizeCall)
	})

	t.Run("decimal and timestamp text", func(t *testing.T) {
		// What an analyst sees, independent of this test's conversions.
		q := `SELECT string_agg(cost::VARCHAR || '|' || coalesce(started_at::VARCHAR, 'NULL'), ';' ORDER BY call_id)
			FROM ` + scan(lake.Root(), "calls") + ` WHERE cost IS NOT NULL`
		var s string
		if err := db.QueryRow(q).Scan(&s); err != nil {
			t.Fatal(err)
		}
		want := "2.4800|2026-11-20 09:15:30.123456+00;" +
			"-0.0001|2026-11-21 23:59:59.999999+00;" +
			"99999999999999.9999|1969-12-31 23:59:59.999999+00;" +
			"-99999999999999.9999|2026-11-21 01:00:00+00"
		if s != want {
			t.Errorf("got  %s\nwant %s", s, want)
		}
		var sum string
		if err := db.QueryRow(`SELECT sum(cost)::VARCHAR FROM ` + scan(lake.Root(), "calls") + ` WHERE call_id IN ('a-1', 'b-1')`).Scan(&sum); err != nil {
			t.Fatal(err)
		}
		if sum != "2.4799" {
			t.Errorf("sum(cost) = %s, want 2.4799 (exact decimal arithmetic)", sum)
		}
	})

	t.Run("rejects", func(t *testing.T) {
		rows, err := db.Query(`SELECT source, date::VARCHAR, stream, account, endpoint, "window", reason, raw, run_id, epoch_us(rejected_at)
			FROM ` + scan(lake.Root(), "rejects") + ` ORDER BY date`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var got []model.Reject
		for rows.Next() {
			var r model.Reject
			var at sql.Null[int64]
			if err := rows.Scan(&r.Source, &r.Date, &r.Stream, &r.Account, &r.Endpoint, &r.Window, &r.Reason, &r.Raw, &r.RunID, &at); err != nil {
				t.Fatal(err)
			}
			r.RejectedAt = fromMicros(at)
			got = append(got, r)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		compareRows(t, got, rejects, func(r model.Reject) model.Reject { r.RejectedAt = utc(r.RejectedAt); return r })
	})

	t.Run("runs", func(t *testing.T) {
		rows, err := db.Query(`SELECT source, date::VARCHAR, run_id, mode, stream, account, epoch_us(started_at), epoch_us(finished_at),
			duration_ms, coalesce(first_day::VARCHAR, ''), coalesce(last_day::VARCHAR, ''), windows, pages, rows, rejects, status, error
			FROM ` + scan(lake.Root(), "runs") + ` ORDER BY run_id`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var got []model.RunStream
		var durations []sql.Null[int64]
		for rows.Next() {
			var r model.RunStream
			var started, finished, dur sql.Null[int64]
			if err := rows.Scan(&r.Source, &r.Date, &r.RunID, &r.Mode, &r.Stream, &r.Account, &started, &finished,
				&dur, &r.FirstDay, &r.LastDay, &r.Windows, &r.Pages, &r.Rows, &r.Rejects, &r.Status, &r.Error); err != nil {
				t.Fatal(err)
			}
			r.StartedAt, r.FinishedAt = fromMicros(started), fromMicros(finished)
			got = append(got, r)
			durations = append(durations, dur)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		compareRows(t, got, runs, func(r model.RunStream) model.RunStream {
			r.StartedAt, r.FinishedAt = utc(r.StartedAt), utc(r.FinishedAt)
			return r
		})
		if want := []sql.Null[int64]{{V: 62345, Valid: true}, {}}; !reflect.DeepEqual(durations, want) {
			t.Errorf("duration_ms = %v, want %v", durations, want)
		}
	})
}

func compareRows[T any](t *testing.T, got, want []T, normalize func(T) T) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d rows, want %d", len(got), len(want))
	}
	for i := range want {
		if w := normalize(want[i]); !reflect.DeepEqual(got[i], w) {
			t.Errorf("row %d:\n got  %+v\n want %+v", i, got[i], w)
		}
	}
}

func TestRoundTripArrow(t *testing.T) {
	lake, err := load.Open(t.TempDir(), load.Options{})
	if err != nil {
		t.Fatal(err)
	}
	calls, _, _ := writeSample(t, lake)
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)

	var got []model.Call
	files := lakeFiles(t, filepath.Join(lake.Root(), "calls"))
	if want := []string{"source=mtt/date=" + day1 + "/dialed-110011256.parquet", "source=mtt/date=" + day2 + "/dialed-110011256.parquet"}; !slices.Equal(files, want) {
		t.Fatalf("files = %v, want %v", files, want)
	}
	for _, rel := range files {
		parts := strings.Split(rel, "/")
		source, _ := strings.CutPrefix(parts[0], "source=")
		date, _ := strings.CutPrefix(parts[1], "date=")

		rdr, err := file.OpenParquetFile(filepath.Join(lake.Root(), "calls", rel), false)
		if err != nil {
			t.Fatal(err)
		}
		fr, err := pqarrow.NewFileReader(rdr, pqarrow.ArrowReadProperties{BatchSize: 2}, mem)
		if err != nil {
			t.Fatal(err)
		}
		tbl, err := fr.ReadTable(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		// pqarrow adds PARQUET:field_id metadata to every field; names,
		// types (time zone, decimal precision and scale) and nullability
		// must come back as written.
		if got := withoutFieldMetadata(tbl.Schema()); !got.Equal(load.Calls.Schema) {
			t.Errorf("schema read back:\n%s\nwant\n%s", got, load.Calls.Schema)
		}
		tr := array.NewTableReader(tbl, 2)
		for tr.Next() {
			got = append(got, callsFromRecord(t, tr.RecordBatch(), source, date)...)
		}
		tr.Release()
		tbl.Release()
		rdr.Close()
	}
	slices.SortFunc(got, func(a, b model.Call) int { return strings.Compare(a.CallID, b.CallID) })
	compareRows(t, got, calls, normalizeCall)
}

func withoutFieldMetadata(s *arrow.Schema) *arrow.Schema {
	fields := s.Fields()
	for i := range fields {
		fields[i].Metadata = arrow.Metadata{}
	}
	return arrow.NewSchema(fields, nil)
}

// callsFromRecord converts Arrow rows back to model.Call by column name.
func callsFromRecord(t *testing.T, rec arrow.RecordBatch, source, date string) []model.Call {
	col := func(name string) arrow.Array {
		idx := rec.Schema().FieldIndices(name)
		if len(idx) != 1 {
			t.Fatalf("column %s: %v", name, idx)
		}
		return rec.Column(idx[0])
	}
	str := func(name string, i int) string { return col(name).(*array.String).Value(i) }
	ts := func(name string, i int) time.Time {
		a := col(name).(*array.Timestamp)
		if a.IsNull(i) {
			return time.Time{}
		}
		return a.Value(i).ToTime(arrow.Microsecond).UTC()
	}
	n32 := func(name string, i int) sql.Null[int32] {
		a := col(name).(*array.Int32)
		if a.IsNull(i) {
			return sql.Null[int32]{}
		}
		return i32(a.Value(i))
	}
	var out []model.Call
	for i := 0; i < int(rec.NumRows()); i++ {
		c := model.Call{
			Source: source, Date: date,
			Account: str("account", i), CallID: str("call_id", i), Direction: str("direction", i),
			StartedAt: ts("started_at", i),
			Caller:    str("caller", i), CallerRaw: str("caller_raw", i), Callee: str("callee", i), CalleeRaw: str("callee_raw", i),
			DurationS: n32("duration_s", i), TalkS: n32("talk_s", i), BilledS: n32("billed_s", i),
			Currency: str("currency", i), Status: str("status", i), DisconnectLabel: str("disconnect_label", i),
			HasRecording: col("has_recording").(*array.Boolean).Value(i),
			RecordingRef: str("recording_ref", i), RunID: str("run_id", i), ExtractedAt: ts("extracted_at", i),
		}
		if cost := col("cost").(*array.Decimal128); cost.IsValid(i) {
			v := cost.Value(i)
			if !v.FitsInPrecision(18) || v.HighBits() != 0 && v.HighBits() != -1 {
				t.Fatalf("cost %v out of range", v)
			}
			c.Cost = money(int64(v.LowBits()))
		}
		if dc := col("disconnect_cause").(*array.Int16); dc.IsValid(i) {
			c.DisconnectCause = i16(dc.Value(i))
		}
		out = append(out, c)
	}
	return out
}

func TestDescribe(t *testing.T) {
	lake, err := load.Open(t.TempDir(), load.Options{})
	if err != nil {
		t.Fatal(err)
	}
	writeSample(t, lake)
	db := openDuckDB(t)
	describe := func(table string) []string {
		rows, err := db.Query("DESCRIBE SELECT * FROM " + scan(lake.Root(), table))
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		cols, _ := rows.Columns()
		var out []string
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			out = append(out, vals[0].(string)+" "+vals[1].(string))
		}
		return out
	}
	want := []string{
		"account VARCHAR", "call_id VARCHAR", "direction VARCHAR", "started_at TIMESTAMP WITH TIME ZONE",
		"caller VARCHAR", "caller_raw VARCHAR", "callee VARCHAR", "callee_raw VARCHAR",
		"duration_s INTEGER", "talk_s INTEGER", "billed_s INTEGER", "cost DECIMAL(18,4)", "currency VARCHAR",
		"status VARCHAR", "disconnect_cause SMALLINT", "disconnect_label VARCHAR", "has_recording BOOLEAN",
		"recording_ref VARCHAR", "run_id VARCHAR", "extracted_at TIMESTAMP WITH TIME ZONE", "duplicate BOOLEAN",
		// DuckDB appends the Hive columns after the file columns, sorted
		// by name (not in path order).
		"date DATE", "source VARCHAR",
	}
	if got := describe("calls"); !slices.Equal(got, want) {
		t.Errorf("DESCRIBE calls:\n got  %q\n want %q", got, want)
	}
	// The other tables: every column with the DuckDB type of its Arrow type.
	for _, info := range load.CanonicalTables()[1:] {
		if info.Name == load.InvalidUTF8.Name {
			continue // the sample is valid UTF-8: no files (TestInvalidUTF8 describes it)
		}
		var want []string
		for _, f := range info.Schema.Fields() {
			want = append(want, f.Name+" "+duckType(t, f.Type))
		}
		want = append(want, "date DATE", "source VARCHAR")
		if got := describe(info.Name); !slices.Equal(got, want) {
			t.Errorf("DESCRIBE %s:\n got  %q\n want %q", info.Name, got, want)
		}
	}
	var balance, taken string
	if err := db.QueryRow("SELECT balance::VARCHAR, strftime(taken_at AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S') FROM "+
		scan(lake.Root(), "balances")).Scan(&balance, &taken); err != nil {
		t.Fatal(err)
	}
	if balance != "273.5000" || taken != "2026-11-21T03:00:00" {
		t.Errorf("balances row = %s at %s, want 273.5000 at 2026-11-21T03:00:00", balance, taken)
	}
}

func duckType(t *testing.T, dt arrow.DataType) string {
	switch dt.ID() {
	case arrow.STRING:
		return "VARCHAR"
	case arrow.BINARY:
		return "BLOB"
	case arrow.INT64:
		return "BIGINT"
	case arrow.DATE32:
		return "DATE"
	case arrow.TIMESTAMP:
		return "TIMESTAMP WITH TIME ZONE"
	case arrow.DECIMAL128:
		d := dt.(*arrow.Decimal128Type)
		return fmt.Sprintf("DECIMAL(%d,%d)", d.Precision, d.Scale)
	}
	t.Fatalf("no DuckDB type for %s", dt)
	return ""
}

func TestRowGroupsAndEncodings(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 300,000 rows")
	}
	// The per-file cuts alone: the transaction bound (TxBufferBytes, see
	// txbound_test.go) would cut these 300,000 rows sooner.
	lake, err := load.Open(t.TempDir(), load.Options{TxBufferBytes: 1 << 40})
	if err != nil {
		t.Fatal(err)
	}
	tx, err := lake.Begin("mtt", "big")
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Abort()
	w := load.Writer(tx, load.Calls)
	const n = 300_000
	for i := range n {
		c := syntheticCall(i, day1)
		if err := w.Add(day1, &c); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(lake.Root(), "calls", "source=mtt", "date="+day1, "big.parquet")

	rdr, err := file.OpenParquetFile(path, false)
	if err != nil {
		t.Fatal(err)
	}
	defer rdr.Close()
	md := rdr.MetaData()
	var sizes []int64
	for i := range md.NumRowGroups() {
		sizes = append(sizes, md.RowGroup(i).NumRows())
	}
	if want := []int64{131072, 131072, 37856}; !slices.Equal(sizes, want) {
		t.Errorf("row groups = %v, want %v", sizes, want)
	}
	direction, callID := md.Schema.ColumnIndexByName("direction"), md.Schema.ColumnIndexByName("call_id")
	for i := range md.NumRowGroups() {
		rg := md.RowGroup(i)
		for c := range rg.NumColumns() {
			cc, err := rg.ColumnChunk(c)
			if err != nil {
				t.Fatal(err)
			}
			if cc.Compression() != compress.Codecs.Zstd {
				t.Errorf("row group %d column %s: codec %s, want ZSTD", i, cc.PathInSchema(), cc.Compression())
			}
		}
		dir, _ := rg.ColumnChunk(direction)
		if !dir.HasDictionaryPage() || !slices.Contains(dir.Encodings(), parquet.Encodings.RLEDict) {
			t.Errorf("row group %d: direction not dictionary-encoded: %v", i, dir.Encodings())
		}
		id, _ := rg.ColumnChunk(callID)
		if id.HasDictionaryPage() || slices.Contains(id.Encodings(), parquet.Encodings.RLEDict) {
			t.Errorf("row group %d: call_id dictionary-encoded: %v", i, id.Encodings())
		}
	}

	// DuckDB sees the same layout.
	db := openDuckDB(t)
	lit := "'" + strings.ReplaceAll(path, "'", "''") + "'"
	var groups, codecs string
	if err := db.QueryRow(`SELECT string_agg(DISTINCT row_group_num_rows::VARCHAR, ',' ORDER BY row_group_num_rows::VARCHAR),
		string_agg(DISTINCT compression, ',') FROM parquet_metadata(`+lit+`)`).Scan(&groups, &codecs); err != nil {
		t.Fatal(err)
	}
	if groups != "131072,37856" || codecs != "ZSTD" {
		t.Errorf("DuckDB parquet_metadata: row groups %s, codecs %s", groups, codecs)
	}
	var enc string
	if err := db.QueryRow(`SELECT encodings FROM parquet_metadata(` + lit + `) WHERE path_in_schema = 'direction' AND row_group_id = 0`).Scan(&enc); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(enc, "RLE_DICTIONARY") {
		t.Errorf("DuckDB: direction encodings %s", enc)
	}
	if got := countRows(t, db, lake.Root(), "calls", ""); got != n {
		t.Errorf("DuckDB count = %d, want %d", got, n)
	}
}

// Row groups are cut at RowGroupRows exactly, whatever the batch size, and
// a file whose rows fill its last group has no empty group after it.
func TestRowGroupCuts(t *testing.T) {
	for _, c := range []struct {
		groupRows, batchRows, rows int
		want                       []int64
	}{
		{1000, 300, 2500, []int64{1000, 1000, 500}},
		{1000, 250, 2000, []int64{1000, 1000}},
		{1000, 4096, 2500, []int64{1000, 1000, 500}},
		{1000, 100, 1, []int64{1}},
	} {
		lake := newLake(t, load.Options{RowGroupRows: c.groupRows, BatchRows: c.batchRows})
		writeCalls(t, lake, "mtt", "u", callsOn(day1, 0, c.rows))
		rdr, err := file.OpenParquetFile(filepath.Join(lake.Root(), "calls", "source=mtt", "date="+day1, "u.parquet"), false)
		if err != nil {
			t.Fatal(err)
		}
		var got []int64
		for i := range rdr.NumRowGroups() {
			got = append(got, rdr.MetaData().RowGroup(i).NumRows())
		}
		rdr.Close()
		if !slices.Equal(got, c.want) {
			t.Errorf("RowGroupRows %d, BatchRows %d, %d rows: row groups %v, want %v", c.groupRows, c.batchRows, c.rows, got, c.want)
		}
	}
}

// A call the vendor sent twice in one extraction of one day is kept and
// flagged; the same key on another day, or in another direction, is not a
// repeat.
func TestDuplicateCallsFlagged(t *testing.T) {
	lake, err := load.Open(t.TempDir(), load.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tx, err := lake.Begin("mtt", "dialed-1")
	if err != nil {
		t.Fatal(err)
	}
	w := load.Writer(tx, load.Calls)
	rows := []model.Call{
		{Date: "2026-11-20", Account: "a", Direction: "outgoing", CallID: "1"},
		{Date: "2026-11-20", Account: "a", Direction: "outgoing", CallID: "1"}, // repeat
		{Date: "2026-11-20", Account: "a", Direction: "incoming", CallID: "1"},
		{Date: "2026-11-21", Account: "a", Direction: "outgoing", CallID: "1"},
		{Date: "2026-11-20", Account: "b", Direction: "outgoing", CallID: "1"},
		{Date: "2026-11-20", Account: "a", Direction: "outgoing", CallID: "1"}, // repeat again
	}
	for i := range rows {
		if err := w.Add(rows[i].Date, &rows[i]); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	var n, dups int
	q := "SELECT count(*), count(*) FILTER (WHERE duplicate) FROM " + scan(lake.Root(), "calls")
	if err := openDuckDB(t).QueryRow(q).Scan(&n, &dups); err != nil {
		t.Fatal(err)
	}
	if n != 6 || dups != 2 {
		t.Errorf("%d rows, %d flagged duplicate; want 6 rows (none dropped), 2 flagged", n, dups)
	}
}
