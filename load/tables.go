package load

import (
	"database/sql"
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

func appendString(b array.Builder, s string) { b.(*array.StringBuilder).Append(s) }

func appendInt32(b array.Builder, v sql.Null[int32]) {
	ib := b.(*array.Int32Builder)
	if !v.Valid {
		ib.AppendNull()
		return
	}
	ib.Append(v.V)
}

func appendInt16(b array.Builder, v sql.Null[int16]) {
	ib := b.(*array.Int16Builder)
	if !v.Valid {
		ib.AppendNull()
		return
	}
	ib.Append(v.V)
}

func appendInt64(b array.Builder, v int64) { b.(*array.Int64Builder).Append(v) }

func appendBool(b array.Builder, v bool) { b.(*array.BooleanBuilder).Append(v) }

// required and nullable are shorthands for the schemas below; text is a
// required string column.
func required(name string, t arrow.DataType) arrow.Field { return arrow.Field{Name: name, Type: t} }
func nullable(name string, t arrow.DataType) arrow.Field {
	return arrow.Field{Name: name, Type: t, Nullable: true}
}
func text(name string) arrow.Field { return required(name, arrow.BinaryTypes.String) }

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
		text("account"),
		text("call_id"),
		text("direction"),
		nullable("started_at", TimestampType()),
		text("caller"),
		text("caller_raw"),
		text("callee"),
		text("callee_raw"),
		nullable("duration_s", arrow.PrimitiveTypes.Int32),
		nullable("talk_s", arrow.PrimitiveTypes.Int32),
		nullable("billed_s", arrow.PrimitiveTypes.Int32),
		nullable("cost", MoneyType()),
		text("currency"),
		text("status"),
		nullable("disconnect_cause", arrow.PrimitiveTypes.Int16),
		text("disconnect_label"),
		required("has_recording", arrow.FixedWidthTypes.Boolean),
		text("recording_ref"),
		text("run_id"),
		nullable("extracted_at", TimestampType()),
	}, nil),
	Append: func(b *array.RecordBuilder, c *model.Call) {
		f := b.Fields()
		appendString(f[0], c.Account)
		appendString(f[1], c.CallID)
		appendString(f[2], c.Direction)
		AppendTimestamp(f[3], c.StartedAt)
		appendString(f[4], c.Caller)
		appendString(f[5], c.CallerRaw)
		appendString(f[6], c.Callee)
		appendString(f[7], c.CalleeRaw)
		appendInt32(f[8], c.DurationS)
		appendInt32(f[9], c.TalkS)
		appendInt32(f[10], c.BilledS)
		AppendMoney(f[11], c.Cost)
		appendString(f[12], c.Currency)
		appendString(f[13], c.Status)
		appendInt16(f[14], c.DisconnectCause)
		appendString(f[15], c.DisconnectLabel)
		appendBool(f[16], c.HasRecording)
		appendString(f[17], c.RecordingRef)
		appendString(f[18], c.RunID)
		AppendTimestamp(f[19], c.ExtractedAt)
	},
	Dictionary: []string{"account", "direction", "currency", "status", "disconnect_label", "run_id"},
	Comments: withPartitionComments(map[string]string{
		"account":          "Vendor account the call belongs to (e.g. the MTT customer name).",
		"call_id":          "The source's natural key of the call, unique within (source, account, direction).",
		"direction":        "incoming, outgoing, missed, forwarded, internal or autocall.",
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
	}),
}

// Rejects is the canonical `rejects` table: rows that failed validation,
// with their raw payload. Partitioned by the window's day.
var Rejects = &Table[model.Reject]{
	Name: "rejects",
	Doc:  "Rows that failed validation, kept with the vendor's raw payload so nothing is lost.",
	Schema: arrow.NewSchema([]arrow.Field{
		text("stream"),
		text("account"),
		text("endpoint"),
		text("window"),
		text("reason"),
		text("raw"),
		text("run_id"),
		nullable("rejected_at", TimestampType()),
	}, nil),
	Append: func(b *array.RecordBuilder, r *model.Reject) {
		f := b.Fields()
		appendString(f[0], r.Stream)
		appendString(f[1], r.Account)
		appendString(f[2], r.Endpoint)
		appendString(f[3], r.Window)
		appendString(f[4], r.Reason)
		appendString(f[5], r.Raw)
		appendString(f[6], r.RunID)
		AppendTimestamp(f[7], r.RejectedAt)
	},
	Dictionary: []string{"stream", "account", "endpoint", "window", "reason", "run_id"},
	Comments: withPartitionComments(map[string]string{
		"stream":      "Extraction stream the row came from, e.g. dialed.",
		"account":     "Vendor account the row belongs to.",
		"endpoint":    "Vendor API endpoint that returned the row.",
		"window":      "Extraction window: its day and [from, to) interval.",
		"reason":      "Why the row was rejected.",
		"raw":         "The row exactly as the vendor sent it.",
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
		text("run_id"),
		text("mode"),
		text("stream"),
		text("account"),
		nullable("started_at", TimestampType()),
		nullable("finished_at", TimestampType()),
		nullable("duration_ms", arrow.PrimitiveTypes.Int64),
		text("first_day"),
		text("last_day"),
		required("windows", arrow.PrimitiveTypes.Int64),
		required("pages", arrow.PrimitiveTypes.Int64),
		required("rows", arrow.PrimitiveTypes.Int64),
		required("rejects", arrow.PrimitiveTypes.Int64),
		text("status"),
		text("error"),
	}, nil),
	Append: func(b *array.RecordBuilder, r *model.RunStream) {
		f := b.Fields()
		appendString(f[0], r.RunID)
		appendString(f[1], r.Mode)
		appendString(f[2], r.Stream)
		appendString(f[3], r.Account)
		AppendTimestamp(f[4], r.StartedAt)
		AppendTimestamp(f[5], r.FinishedAt)
		if r.StartedAt.IsZero() || r.FinishedAt.IsZero() {
			f[6].AppendNull()
		} else {
			appendInt64(f[6], r.Duration().Milliseconds())
		}
		appendString(f[7], r.FirstDay)
		appendString(f[8], r.LastDay)
		appendInt64(f[9], r.Windows)
		appendInt64(f[10], r.Pages)
		appendInt64(f[11], r.Rows)
		appendInt64(f[12], r.Rejects)
		appendString(f[13], r.Status)
		appendString(f[14], r.Error)
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
		"first_day":   "First window (YYYY-MM-DD); empty when no window ran.",
		"last_day":    "Last window attempted (YYYY-MM-DD); empty when no window ran.",
		"windows":     "Windows committed.",
		"pages":       "Pages fetched.",
		"rows":        "Rows loaded.",
		"rejects":     "Rows rejected.",
		"status":      "ok, failed or canceled.",
		"error":       "Error message when the stream failed; empty otherwise.",
	}),
}

// CanonicalTables returns the tables every source shares, in a stable
// order. Vendor packages describe their own tables with [Table.Info].
func CanonicalTables() []TableInfo {
	return []TableInfo{Calls.Info(), Rejects.Info(), Runs.Info()}
}
