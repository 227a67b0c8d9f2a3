package t2

import (
	"database/sql"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/calletl/calletl/load"
)

func ts(name string) arrow.Field { return arrow.Field{Name: name, Type: load.TimestampType()} }

// Tables lists the vendor tables this source writes (besides the canonical
// calls and rejects).
func Tables() []load.TableInfo {
	return []load.TableInfo{CallsTable.Info(), MissedTable.Info(), EmployeesTable.Info(), DailyStatsTable.Info(),
		ManagersTable.Info(), JournalTable.Info(), EmployeeStatsTable.Info()}
}

// CallsTable is `t2_calls`: every documented field of call-records/info,
// one row per call record.
var CallsTable = &load.Table[Detail]{
	Name: "t2_calls",
	Doc:  "T2 call records (call-records/info), every documented field; one row per call record",
	Schema: arrow.NewSchema([]arrow.Field{
		load.String("call_id"), ts("call_timestamp"), load.String("call_type"), load.String("destination_number"),
		load.String("caller_number"), load.String("caller_name"), load.String("callee_number"), load.String("callee_name"),
		load.Nullable("call_duration", arrow.PrimitiveTypes.Int32), load.Nullable("conversation_duration", arrow.PrimitiveTypes.Int32),
		load.String("call_status"), load.String("record_file_name"), load.String("extras"), load.String("run_id"), ts("extracted_at"),
	}, nil),
	Append: func(b *array.RecordBuilder, d *Detail) {
		load.AppendString(b.Field(0), d.CallID)
		load.AppendTimestamp(b.Field(1), d.CallTimestamp)
		load.AppendString(b.Field(2), d.CallType)
		load.AppendString(b.Field(3), d.DestinationNumber)
		load.AppendString(b.Field(4), d.CallerNumber)
		load.AppendString(b.Field(5), d.CallerName)
		load.AppendString(b.Field(6), d.CalleeNumber)
		load.AppendString(b.Field(7), d.CalleeName)
		load.AppendNull(b.Field(8), d.CallDuration)
		load.AppendNull(b.Field(9), d.ConversationDuration)
		load.AppendString(b.Field(10), d.CallStatus)
		load.AppendString(b.Field(11), d.RecordFileName)
		load.AppendString(b.Field(12), d.Extras)
		load.AppendString(b.Field(13), d.RunID)
		load.AppendTimestamp(b.Field(14), d.ExtractedAt)
	},
	Dictionary: []string{"call_type", "call_status", "run_id"},
	Comments: map[string]string{
		"source":                "Hive partition: t2.",
		"date":                  "Hive partition: the call's start day (callTimestamp) in the business time zone.",
		"call_id":               "natural key: recordFileName, or sha256: of (callTimestamp, callType, callerNumber, destinationNumber, calleeNumber) when it is empty",
		"call_timestamp":        "callTimestamp: call start, UTC",
		"call_type":             "callType as sent (SINGLE_CHANNEL, MULTI_CHANNEL, INTERNAL, OUTGOING, …; unknown values kept)",
		"destination_number":    "destinationNumber: the number dialled",
		"caller_number":         "callerNumber as sent",
		"caller_name":           "callerName",
		"callee_number":         "calleeNumber: who answered, or where the call ended",
		"callee_name":           "calleeName",
		"call_duration":         "callDuration, seconds",
		"conversation_duration": "conversationDuration, seconds; NULL when not answered (absent)",
		"call_status":           "callStatus as sent (ANSWERED_COMMON, NOT_ANSWERED_COMMON, DENIED_…; unknown values kept)",
		"record_file_name":      "recordFileName: the recording's name for call-records/file ('' when none)",
		"extras":                "fields the API sent that this version does not know, as a JSON object ('' when none)",
		"run_id":                "run that extracted the row",
		"extracted_at":          "when the row was extracted, UTC",
	},
}

// MissedTable is `t2_missed_calls`: statistics/missing, keyed by id.
var MissedTable = &load.Table[MissedRow]{
	Name: "t2_missed_calls",
	Doc:  "T2 missed calls on multichannel numbers (statistics/missing); one row per id. Those without a matching call record are also in calls (call_id missed:<id>)",
	Schema: arrow.NewSchema([]arrow.Field{
		load.String("id"), ts("start_date"), load.Nullable("wait_duration", arrow.PrimitiveTypes.Int32),
		load.String("caller_number"), load.String("caller"), load.String("destination_number"),
		load.Nullable("callee_company_id", arrow.PrimitiveTypes.Int64), load.String("callee_number"), load.String("callee_name"),
		load.String("extras"), load.String("run_id"), ts("extracted_at"),
	}, nil),
	Append: func(b *array.RecordBuilder, r *MissedRow) {
		load.AppendString(b.Field(0), r.ID)
		load.AppendTimestamp(b.Field(1), r.StartDate)
		load.AppendNull(b.Field(2), r.WaitDuration)
		load.AppendString(b.Field(3), r.CallerNumber)
		load.AppendString(b.Field(4), r.Caller)
		load.AppendString(b.Field(5), r.DestinationNumber)
		load.AppendNull(b.Field(6), r.CalleeCompanyID)
		load.AppendString(b.Field(7), r.CalleeNumber)
		load.AppendString(b.Field(8), r.CalleeName)
		load.AppendString(b.Field(9), r.Extras)
		load.AppendString(b.Field(10), r.RunID)
		load.AppendTimestamp(b.Field(11), r.ExtractedAt)
	},
	Dictionary: []string{"destination_number", "run_id"},
	Comments: map[string]string{
		"source":             "Hive partition: t2.",
		"date":               "Hive partition: the missed call's start day in the business time zone.",
		"id":                 "id of the missed call (natural key)",
		"start_date":         "startDate: call start, UTC",
		"wait_duration":      "waitDuration: seconds the caller waited",
		"caller_number":      "callerNumber as sent",
		"caller":             "callerNumber normalised to E.164 digits",
		"destination_number": "destinationNumber: the multichannel number (MCN) called",
		"callee_company_id":  "calleeCompanyId (callerCompanyId in the parameter table)",
		"callee_number":      "calleeNumber: the PBX subscriber the call was offered to; '' when it ended on the MCN",
		"callee_name":        "calleeName, may be empty",
		"extras":             "fields the API sent that this version does not know, as a JSON object ('' when none)",
		"run_id":             "run that extracted the row",
		"extracted_at":       "when the row was extracted, UTC",
	},
}

// EmployeeRow is one row of `t2_employees`.
type EmployeeRow struct {
	EmployeeID  sql.Null[int64]
	Name        string
	Surname     string
	FullNumber  string
	ShortNumber string
	Email       string
	Raw         string
	RunID       string
	SnapshotAt  time.Time
}

// EmployeesTable is `t2_employees`, a snapshot of GET /employees per run day.
var EmployeesTable = &load.Table[EmployeeRow]{
	Name: "t2_employees",
	Doc:  "T2 PBX employees (GET /employees), snapshot per run day",
	Schema: arrow.NewSchema([]arrow.Field{
		load.Nullable("employee_id", arrow.PrimitiveTypes.Int64), load.String("name"), load.String("surname"),
		load.String("full_number"), load.String("short_number"), load.String("email"), load.String("raw"), load.String("run_id"), ts("snapshot_at"),
	}, nil),
	Append: func(b *array.RecordBuilder, r *EmployeeRow) {
		load.AppendNull(b.Field(0), r.EmployeeID)
		load.AppendString(b.Field(1), r.Name)
		load.AppendString(b.Field(2), r.Surname)
		load.AppendString(b.Field(3), r.FullNumber)
		load.AppendString(b.Field(4), r.ShortNumber)
		load.AppendString(b.Field(5), r.Email)
		load.AppendString(b.Field(6), r.Raw)
		load.AppendString(b.Field(7), r.RunID)
		load.AppendTimestamp(b.Field(8), r.SnapshotAt)
	},
	Dictionary: []string{"run_id"},
	Comments: map[string]string{
		"source":       "Hive partition: t2.",
		"date":         "Hive partition: the run's day in the business time zone (one snapshot per run day).",
		"employee_id":  "employeeId",
		"name":         "first name",
		"surname":      "surname",
		"full_number":  "full number (7XXXXXXXXXX)",
		"short_number": "extension",
		"email":        "e-mail",
		"raw":          "the element as sent",
		"run_id":       "run that took the snapshot",
		"snapshot_at":  "when the snapshot was taken, UTC",
	},
}

// statField is one field of statistics/common: JSON name, column, and
// whether it is fractional (DOUBLE) rather than a count or seconds (BIGINT).
type statField struct {
	json, col string
	frac      bool
}

var statFields = []statField{
	{"allCallCount", "all_call_count", false},
	{"successCallCount", "success_call_count", false},
	{"outgoingCallCount", "outgoing_call_count", false},
	{"lostCallCount", "lost_call_count", false},
	{"commonCallDuration", "common_call_duration", false},
	{"averageCallDuration", "average_call_duration", false},
	{"maxCallDuration", "max_call_duration", false},
	{"callCountPerDay", "call_count_per_day", true},
	{"callCountPerHour", "call_count_per_hour", true},
	{"mnAvgCallDuration", "mn_avg_call_duration", false},
	{"mnMaxCallDuration", "mn_max_call_duration", false},
	{"averageCallCountPerHour", "average_call_count_per_hour", true},
	{"transferCallCount", "transfer_call_count", false},
	{"transferCallDuration", "transfer_call_duration", false},
	{"averageTransferCallDuration", "average_transfer_call_duration", false},
	{"hangupACallCount", "hangup_a_call_count", false},
	{"hangupBCallCount", "hangup_b_call_count", false},
	{"uniqueCallCount", "unique_call_count", false},
	{"redialCount", "redial_count", false},
	{"internalCallCount", "internal_call_count", false},
	{"internalCallDuration", "internal_call_duration", false},
	{"averageInternalCallDuration", "average_internal_call_duration", false},
}

// DailyStatsRow is one row of `t2_daily_stats`: statistics/common for one
// business day. Values holds each statFields entry's JSON text ("" = null).
type DailyStatsRow struct {
	Date        string // partition: the day
	Start, End  time.Time
	Values      map[string]string
	Raw         string
	RunID       string
	ExtractedAt time.Time
}

// parseStats reads the statistics/common object; a value that is not a
// number is an error.
func parseStats(raw []byte) (map[string]string, error) {
	vals := map[string]string{}
	known := map[string]*string{}
	holders := make([]string, len(statFields))
	for i, f := range statFields {
		known[f.json] = &holders[i]
	}
	if _, err := fields(raw, known, nil); err != nil {
		return nil, err
	}
	for i, f := range statFields {
		if holders[i] == "" {
			continue
		}
		if _, err := strconv.ParseFloat(holders[i], 64); err != nil {
			return nil, fmt.Errorf("%s %q is not a number", f.json, holders[i])
		}
		vals[f.json] = holders[i]
	}
	return vals, nil
}

// statsColumns returns the columns of a statistics table: lead, the
// period asked for, one per statFields entry, raw, run_id and
// extracted_at; and their comments.
func statsColumns(lead []arrow.Field) ([]arrow.Field, map[string]string) {
	fs := append(slices.Clone(lead), ts("period_start"), ts("period_end"))
	comments := map[string]string{
		"source":       "Hive partition: t2.",
		"date":         "Hive partition: the business day the statistics cover.",
		"period_start": "start of the period asked for (the day's start), UTC",
		"period_end":   "end of the period asked for (exclusive), UTC",
		"raw":          "the answer as sent",
		"run_id":       "run that extracted the row",
		"extracted_at": "when the row was extracted, UTC",
	}
	for _, f := range statFields {
		t := arrow.DataType(arrow.PrimitiveTypes.Int64)
		if f.frac {
			t = arrow.PrimitiveTypes.Float64
		}
		fs = append(fs, load.Nullable(f.col, t))
		comments[f.col] = "statistics/common " + f.json
	}
	fs = append(fs, load.String("raw"), load.String("run_id"), ts("extracted_at"))
	return fs, comments
}

// appendStats appends r's columns of statsColumns from field off on.
func appendStats(b *array.RecordBuilder, off int, r *DailyStatsRow) {
	load.AppendTimestamp(b.Field(off), r.Start)
	load.AppendTimestamp(b.Field(off+1), r.End)
	for i, f := range statFields {
		v, ok := r.Values[f.json]
		fb := b.Field(off + 2 + i)
		if f.frac {
			x, err := strconv.ParseFloat(v, 64)
			if !ok || err != nil || math.IsInf(x, 0) {
				fb.AppendNull()
				continue
			}
			fb.(*array.Float64Builder).Append(x)
			continue
		}
		x, err := strconv.ParseFloat(v, 64)
		if !ok || err != nil || math.Abs(x) > 1<<62 {
			fb.AppendNull()
			continue
		}
		fb.(*array.Int64Builder).Append(int64(math.Round(x)))
	}
	n := off + 2 + len(statFields)
	load.AppendString(b.Field(n), r.Raw)
	load.AppendString(b.Field(n+1), r.RunID)
	load.AppendTimestamp(b.Field(n+2), r.ExtractedAt)
}

// DailyStatsTable is `t2_daily_stats`.
var DailyStatsTable = func() *load.Table[DailyStatsRow] {
	fs, comments := statsColumns(nil)
	return &load.Table[DailyStatsRow]{
		Name:       "t2_daily_stats",
		Doc:        "T2 company statistics (statistics/common) per business day",
		Schema:     arrow.NewSchema(fs, nil),
		Append:     func(b *array.RecordBuilder, r *DailyStatsRow) { appendStats(b, 0, r) },
		Dictionary: []string{"run_id"},
		Comments:   comments,
	}
}()
