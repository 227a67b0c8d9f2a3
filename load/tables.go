package load

import (
	"database/sql"
	"hash/maphash"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"

	"github.com/calletl/calletl/model"
)

// Column conventions shared by every table of the lake (canonical and
// vendor): timestamps are instants in UTC with microsecond precision, a zero
// time.Time is NULL; money is DECIMAL(18,4) stored as INT64; strings are
// stored as the model holds them ("" stays "").

// TimestampType returns the Arrow type of timestamp columns,
// timestamp[us, tz=UTC]: Parquet TIMESTAMP(isAdjustedToUTC=true, MICROS),
// DuckDB TIMESTAMP WITH TIME ZONE.
func TimestampType() arrow.DataType { return arrow.FixedWidthTypes.Timestamp_us }

// MoneyType returns the Arrow type of money columns, decimal128(18, 4),
// matching [model.Money]. The writer stores it as a Parquet INT64 DECIMAL.
func MoneyType() arrow.DataType { return &arrow.Decimal128Type{Precision: 18, Scale: 4} }

// Decimal returns m as the unscaled Decimal128 value of a [MoneyType]
// column: Money(24800) is 2.4800.
func Decimal(m model.Money) decimal128.Num { return decimal128.FromI64(int64(m)) }

// AppendTimestamp appends t to a [TimestampType] builder, NULL when t is
// the zero time.
func AppendTimestamp(b array.Builder, t time.Time) {
	tb := b.(*array.TimestampBuilder)
	if t.IsZero() {
		tb.AppendNull()
		return
	}
	tb.Append(arrow.Timestamp(t.UnixMicro()))
}

// AppendMoney appends m to a [MoneyType] builder, NULL when m is not valid.
// Values beyond 18 digits make the write fail (at Add or Commit).
func AppendMoney(b array.Builder, m sql.Null[model.Money]) {
	db := b.(*array.Decimal128Builder)
	if !m.Valid {
		db.AppendNull()
		return
	}
	db.Append(Decimal(m.V))
}

// Helpers for table definitions, canonical and vendor alike.

// String is a required string column; Required and Nullable make a column
// of any type.
func String(name string) arrow.Field { return Required(name, arrow.BinaryTypes.String) }

// Required is a column that is never NULL.
func Required(name string, t arrow.DataType) arrow.Field { return arrow.Field{Name: name, Type: t} }

// Nullable is a column that may be NULL.
func Nullable(name string, t arrow.DataType) arrow.Field {
	return arrow.Field{Name: name, Type: t, Nullable: true}
}

// AppendString appends s to a string column's builder.
func AppendString(b array.Builder, s string) { b.(*array.StringBuilder).Append(s) }

// AppendNull appends v to b, NULL when v is not valid. b must be the
// builder of v's Arrow type (int16, int32, int64, float64, bool, string).
func AppendNull[T int16 | int32 | int64 | float64 | bool | string](b array.Builder, v sql.Null[T]) {
	if !v.Valid {
		b.AppendNull()
		return
	}
	switch x := any(v.V).(type) {
	case int16:
		b.(*array.Int16Builder).Append(x)
	case int32:
		b.(*array.Int32Builder).Append(x)
	case int64:
		b.(*array.Int64Builder).Append(x)
	case float64:
		b.(*array.Float64Builder).Append(x)
	case bool:
		b.(*array.BooleanBuilder).Append(x)
	case string:
		b.(*array.StringBuilder).Append(x)
	}
}

func appendInt64(b array.Builder, v int64) { b.(*array.Int64Builder).Append(v) }

func appendBool(b array.Builder, v bool) { b.(*array.BooleanBuilder).Append(v) }

// appendDay appends a model.DayLayout day (YYYY-MM-DD) to a date32 builder,
// NULL for "" (and for text that is not a day, which the pipeline never
// produces: a NULL is truer than a wrong date).
func appendDay(b array.Builder, day string) {
	db := b.(*array.Date32Builder)
	t, err := time.Parse(model.DayLayout, day)
	if err != nil {
		db.AppendNull()
		return
	}
	db.Append(arrow.Date32FromTime(t))
}

// withPartitionComments adds the descriptions of the partition columns.
func withPartitionComments(m map[string]string) map[string]string {
	m[SourceColumn] = "Hive partition: the source system the rows come from (mtt, t2, …)."
	m[DateColumn] = "Hive partition: the day the rows belong to, in the business time zone."
	return m
}

// Calls is the canonical `calls` table: one row per call, every source
// mapped into [model.Call]. Partitioned by the call's start day.
var Calls = &Table[model.Call]{
	Name: "calls",
	Doc:  "Calls from every telephony source in one canonical shape; one row per call and direction.",
	Schema: arrow.NewSchema([]arrow.Field{
		String("account"),
		String("call_id"),
		String("direction"),
		Nullable("started_at", TimestampType()),
		String("caller"),
		String("caller_raw"),
		String("callee"),
		String("callee_raw"),
		Nullable("duration_s", arrow.PrimitiveTypes.Int32),
		Nullable("talk_s", arrow.PrimitiveTypes.Int32),
		Nullable("billed_s", arrow.PrimitiveTypes.Int32),
		Nullable("cost", MoneyType()),
		String("currency"),
		String("status"),
		Nullable("disconnect_cause", arrow.PrimitiveTypes.Int16),
		String("disconnect_label"),
		Required("has_recording", arrow.FixedWidthTypes.Boolean),
		String("recording_ref"),
		String("run_id"),
		Nullable("extracted_at", TimestampType()),
		Required("duplicate", arrow.FixedWidthTypes.Boolean),
	}, nil),
	Append: func(b *array.RecordBuilder, c *model.Call) {
		f := b.Fields()
		AppendString(f[0], c.Account)
		AppendString(f[1], c.CallID)
		AppendString(f[2], c.Direction)
		AppendTimestamp(f[3], c.StartedAt)
		AppendString(f[4], c.Caller)
		AppendString(f[5], c.CallerRaw)
		AppendString(f[6], c.Callee)
		AppendString(f[7], c.CalleeRaw)
		AppendNull(f[8], c.DurationS)
		AppendNull(f[9], c.TalkS)
		AppendNull(f[10], c.BilledS)
		AppendMoney(f[11], c.Cost)
		AppendString(f[12], c.Currency)
		AppendString(f[13], c.Status)
		AppendNull(f[14], c.DisconnectCause)
		AppendString(f[15], c.DisconnectLabel)
		appendBool(f[16], c.HasRecording)
		AppendString(f[17], c.RecordingRef)
		AppendString(f[18], c.RunID)
		AppendTimestamp(f[19], c.ExtractedAt)
		appendBool(f[20], c.Duplicate)
	},
	// The same call sent twice by one extraction of one day: kept, flagged.
	// Every source's extraction units hold whole (account, direction) groups
	// of a day, or keys unique across units (VotBox item ids, Mobilgroup
	// broadcast-seq), so this finds every repeat in the lake.
	Key: func(h *maphash.Hash, c *model.Call) {
		h.WriteString(c.Account)
		h.WriteByte(0)
		h.WriteString(c.Direction)
		h.WriteByte(0)
		h.WriteString(c.CallID)
	},
	Repeat:     func(c *model.Call) { c.Duplicate = true },
	Dictionary: []string{"account", "direction", "currency", "status", "disconnect_label", "run_id"},
	Comments: withPartitionComments(map[string]string{
		"account":          "Vendor account the call belongs to (e.g. the MTT customer name).",
		"call_id":          "The source's natural key of the call, unique within (source, account, direction).",
		"direction":        "incoming, outgoing, missed, forwarded, internal, autocall or callback.",
		"started_at":       "When the call started (UTC instant).",
		"caller":           "Calling number as E.164 digits, or the extension as it is.",
		"caller_raw":       "Calling number exactly as the source sent it.",
		"callee":           "Called number as E.164 digits, or the extension as it is.",
		"callee_raw":       "Called number exactly as the source sent it.",
		"duration_s":       "Whole call duration in seconds; NULL when the source does not say.",
		"talk_s":           "Connected (talk) time in seconds; NULL when the source does not say.",
		"billed_s":         "Billed time in seconds; NULL when the source does not say.",
		"cost":             "Cost of the call in currency units (4 decimals); NULL when the source does not say.",
		"currency":         "ISO 4217 code of cost, e.g. RUB.",
		"status":           "The source's own status word, kept as it is.",
		"disconnect_cause": "Disconnect cause code (e.g. Q.850); NULL when the source does not say.",
		"disconnect_label": "The source's text for the disconnect cause.",
		"has_recording":    "Whether the source holds a recording of the call.",
		"recording_ref":    "What the recordings fetcher needs to find the recording; empty when none.",
		"run_id":           "ETL run that extracted the row.",
		"extracted_at":     "When the ETL extracted the row (UTC instant).",
		"duplicate":        "True when an earlier row of the same extraction and day has the same account, direction and call_id: the vendor sent the call twice. Kept, never dropped; WHERE NOT duplicate counts each call once.",
	}),
}

// Rejects is the canonical `rejects` table: rows that failed validation,
// with their raw payload. Partitioned by the window's day.
var Rejects = &Table[model.Reject]{
	Name: "rejects",
	Doc:  "Rows that failed validation, kept with the vendor's raw payload so nothing is lost.",
	Schema: arrow.NewSchema([]arrow.Field{
		String("stream"),
		String("account"),
		String("endpoint"),
		String("window"),
		String("reason"),
		String("raw"),
		String("run_id"),
		Nullable("rejected_at", TimestampType()),
	}, nil),
	Append: func(b *array.RecordBuilder, r *model.Reject) {
		f := b.Fields()
		AppendString(f[0], r.Stream)
		AppendString(f[1], r.Account)
		AppendString(f[2], r.Endpoint)
		AppendString(f[3], r.Window)
		AppendString(f[4], r.Reason)
		AppendString(f[5], r.Raw)
		AppendString(f[6], r.RunID)
		AppendTimestamp(f[7], r.RejectedAt)
	},
	Dictionary: []string{"stream", "account", "endpoint", "window", "reason", "run_id"},
	Comments: withPartitionComments(map[string]string{
		"stream":      "Extraction stream the row came from, e.g. dialed.",
		"account":     "Vendor account the row belongs to.",
		"endpoint":    "Vendor API endpoint that returned the row.",
		"window":      "Extraction window: its day and [from, to) interval.",
		"reason":      "Why the row was rejected.",
		"raw":         "The row exactly as the vendor sent it; bytes that were not valid UTF-8 are U+FFFD here and exact in invalid_utf8.",
		"run_id":      "ETL run that rejected the row.",
		"rejected_at": "When the row was rejected (UTC instant).",
	}),
}

// Runs is the canonical `runs` table: what each run did for each stream of
// each account. Partitioned by the run's start day.
var Runs = &Table[model.RunStream]{
	Name: "runs",
	Doc:  "One row per ETL run, stream and account: what was extracted and how it ended.",
	Schema: arrow.NewSchema([]arrow.Field{
		String("run_id"),
		String("mode"),
		String("stream"),
		String("account"),
		Nullable("started_at", TimestampType()),
		Nullable("finished_at", TimestampType()),
		Nullable("duration_ms", arrow.PrimitiveTypes.Int64),
		Nullable("first_day", arrow.FixedWidthTypes.Date32),
		Nullable("last_day", arrow.FixedWidthTypes.Date32),
		Required("windows", arrow.PrimitiveTypes.Int64),
		Required("pages", arrow.PrimitiveTypes.Int64),
		Required("rows", arrow.PrimitiveTypes.Int64),
		Required("rejects", arrow.PrimitiveTypes.Int64),
		String("status"),
		String("error"),
	}, nil),
	Append: func(b *array.RecordBuilder, r *model.RunStream) {
		f := b.Fields()
		AppendString(f[0], r.RunID)
		AppendString(f[1], r.Mode)
		AppendString(f[2], r.Stream)
		AppendString(f[3], r.Account)
		AppendTimestamp(f[4], r.StartedAt)
		AppendTimestamp(f[5], r.FinishedAt)
		if r.StartedAt.IsZero() || r.FinishedAt.IsZero() {
			f[6].AppendNull()
		} else {
			appendInt64(f[6], r.Duration().Milliseconds())
		}
		appendDay(f[7], r.FirstDay)
		appendDay(f[8], r.LastDay)
		appendInt64(f[9], r.Windows)
		appendInt64(f[10], r.Pages)
		appendInt64(f[11], r.Rows)
		appendInt64(f[12], r.Rejects)
		AppendString(f[13], r.Status)
		AppendString(f[14], r.Error)
	},
	Dictionary: []string{"run_id", "mode", "stream", "account", "status"},
	Comments: withPartitionComments(map[string]string{
		"run_id":      "ETL run identifier.",
		"mode":        "run (nightly) or backfill.",
		"stream":      "Extraction stream, e.g. dialed.",
		"account":     "Vendor account.",
		"started_at":  "When the stream started (UTC instant).",
		"finished_at": "When the stream finished (UTC instant); NULL if it never finished.",
		"duration_ms": "finished_at - started_at in milliseconds; NULL if either is unknown.",
		"first_day":   "First window's day; NULL when no window ran.",
		"last_day":    "Last window attempted; NULL when no window ran.",
		"windows":     "Windows committed.",
		"pages":       "Pages fetched.",
		"rows":        "Rows loaded.",
		"rejects":     "Rows rejected.",
		"status":      "ok, failed or canceled.",
		"error":       "Error message when the stream failed; empty otherwise.",
	}),
}

// Balances is the canonical `balances` table: one row per source, account
// and run with the balance the vendor reported. Partitioned by the run's day.
var Balances = &Table[model.Balance]{
	Name: "balances",
	Doc:  "Account balances as each vendor reported them, one row per source, account and run.",
	Schema: arrow.NewSchema([]arrow.Field{
		String("account"),
		Required("balance", MoneyType()),
		String("currency"),
		String("raw"),
		String("run_id"),
		Required("taken_at", TimestampType()),
	}, nil),
	Append: func(b *array.RecordBuilder, r *model.Balance) {
		f := b.Fields()
		AppendString(f[0], r.Account)
		f[1].(*array.Decimal128Builder).Append(Decimal(r.Balance))
		AppendString(f[2], r.Currency)
		AppendString(f[3], r.Raw)
		AppendString(f[4], r.RunID)
		AppendTimestamp(f[5], r.TakenAt)
	},
	Dictionary: []string{"account", "currency", "run_id"},
	Comments: withPartitionComments(map[string]string{
		"account":  "Vendor account the balance belongs to (MTT customer, Mobilgroup API user, VoiceBox customer id).",
		"balance":  "The balance, exactly as reported (DECIMAL; a negative value is a debt).",
		"currency": "ISO 4217 currency code, upper case (RUB).",
		"raw":      "The balance as the vendor wrote it, e.g. 273,50.",
		"run_id":   "ETL run that read the balance.",
		"taken_at": "When the balance was read (UTC instant).",
	}),
}

// CanonicalTables returns the tables every source shares, in a stable
// order. Vendor packages describe their own tables with [Table.Info].
func CanonicalTables() []TableInfo {
	return []TableInfo{Calls.Info(), Rejects.Info(), Runs.Info(), Balances.Info(), InvalidUTF8.Info()}
}
