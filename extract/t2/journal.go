package t2

import (
	"database/sql"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/calletl/calletl/load"
	"github.com/calletl/calletl/transform"
)

// Per-number statistics: GET /statistics/journal and GET
// /statistics/common?subscriberNumber for each employee number and
// business day.

// JournalRow is one row of `t2_journal`: statistics/journal for one
// employee number and business day.
type JournalRow struct {
	Date                 string // partition: the day
	Number               string // the number asked for (7XXXXXXXXXX)
	EmployeeID           sql.Null[int64]
	Start, End           time.Time // the period asked for
	NumberSent           string    // number as answered
	StartTimestamp       time.Time // startTimestamp (Unix seconds) as a time; zero when absent
	EndTimestamp         time.Time
	NumberOfCalls        int64
	NumberOfSuccessCalls int64
	Extras               string
	Raw                  string
	RunID                string
	ExtractedAt          time.Time
}

// maxUnix is the last second of year 9999: a larger startTimestamp is not
// Unix seconds.
const maxUnix = 253402300799

// DecodeJournal validates a statistics/journal answer for number (the
// 7XXXXXXXXXX asked for). An error rejects it: not an object, a
// non-scalar field, numberOfCalls or numberOfSuccessCalls missing or not a
// non-negative integer, more successful calls than calls, a timestamp that
// is not Unix seconds, or an answer for another number. Only the decoded
// fields, Number, Extras and Raw are set.
func DecodeJournal(raw []byte, number string) (JournalRow, error) {
	r := JournalRow{Number: number, Raw: string(raw)}
	var calls, success, start, end string
	var err error
	r.Extras, err = fields(raw, map[string]*string{"number": &r.NumberSent, "startTimestamp": &start,
		"endTimestamp": &end, "numberOfCalls": &calls, "numberOfSuccessCalls": &success}, nil)
	if err != nil {
		return r, err
	}
	if r.NumberSent != "" && transform.Phone(r.NumberSent) != transform.Phone(number) {
		return r, fmt.Errorf("number %q is not the number asked for, %s", r.NumberSent, number)
	}
	if r.NumberOfCalls, err = countField("numberOfCalls", calls); err != nil {
		return r, err
	}
	if r.NumberOfSuccessCalls, err = countField("numberOfSuccessCalls", success); err != nil {
		return r, err
	}
	if r.NumberOfSuccessCalls > r.NumberOfCalls {
		return r, fmt.Errorf("numberOfSuccessCalls %d is more than numberOfCalls %d", r.NumberOfSuccessCalls, r.NumberOfCalls)
	}
	if r.StartTimestamp, err = unixField("startTimestamp", start); err != nil {
		return r, err
	}
	if r.EndTimestamp, err = unixField("endTimestamp", end); err != nil {
		return r, err
	}
	return r, nil
}

// countField parses a required non-negative integer (an integral JSON
// number such as 6.0 too).
func countField(name, s string) (int64, error) {
	if s == "" {
		return 0, fmt.Errorf("%s is missing", name)
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		f, ferr := strconv.ParseFloat(s, 64)
		if ferr != nil || f != math.Trunc(f) || f > 1<<53 {
			return 0, fmt.Errorf("%s %q is not a non-negative integer", name, s)
		}
		v = int64(f)
	}
	if v < 0 {
		return 0, fmt.Errorf("%s %q is not a non-negative integer", name, s)
	}
	return v, nil
}

// unixField parses optional Unix seconds ("" is the zero time).
func unixField(name, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < 0 || v > maxUnix {
		return time.Time{}, fmt.Errorf("%s %q is not Unix seconds", name, s)
	}
	return time.Unix(v, 0).UTC(), nil
}

// fullNumber reports whether n (digits, as transform.Phone returns them) is
// an employee's full number, 7XXXXXXXXXX: the numbers the per-number
// statistics take.
func fullNumber(n string) bool { return len(n) == 11 && n[0] == '7' }

// JournalTable is `t2_journal`.
var JournalTable = &load.Table[JournalRow]{
	Name: "t2_journal",
	Doc:  "T2 per-number call counts (statistics/journal) per employee number and business day",
	Schema: arrow.NewSchema([]arrow.Field{
		load.String("number"), load.Nullable("employee_id", arrow.PrimitiveTypes.Int64),
		ts("period_start"), ts("period_end"), load.String("number_sent"),
		load.Nullable("start_timestamp", load.TimestampType()), load.Nullable("end_timestamp", load.TimestampType()),
		load.Required("number_of_calls", arrow.PrimitiveTypes.Int64), load.Required("number_of_success_calls", arrow.PrimitiveTypes.Int64),
		load.String("extras"), load.String("raw"), load.String("run_id"), ts("extracted_at"),
	}, nil),
	Append: func(b *array.RecordBuilder, r *JournalRow) {
		load.AppendString(b.Field(0), r.Number)
		load.AppendNull(b.Field(1), r.EmployeeID)
		load.AppendTimestamp(b.Field(2), r.Start)
		load.AppendTimestamp(b.Field(3), r.End)
		load.AppendString(b.Field(4), r.NumberSent)
		load.AppendTimestamp(b.Field(5), r.StartTimestamp)
		load.AppendTimestamp(b.Field(6), r.EndTimestamp)
		b.Field(7).(*array.Int64Builder).Append(r.NumberOfCalls)
		b.Field(8).(*array.Int64Builder).Append(r.NumberOfSuccessCalls)
		load.AppendString(b.Field(9), r.Extras)
		load.AppendString(b.Field(10), r.Raw)
		load.AppendString(b.Field(11), r.RunID)
		load.AppendTimestamp(b.Field(12), r.ExtractedAt)
	},
	Dictionary: []string{"run_id"},
	Comments: map[string]string{
		"source":                  "Hive partition: t2.",
		"date":                    "Hive partition: the business day the counts cover.",
		"number":                  "the employee's full number asked for (7XXXXXXXXXX, from GET /employees)",
		"employee_id":             "the employee with that number (t2_employees.employee_id)",
		"period_start":            "start of the period asked for (the day's start), UTC",
		"period_end":              "end of the period asked for (exclusive), UTC",
		"number_sent":             "number as answered",
		"start_timestamp":         "startTimestamp (Unix seconds) as answered, UTC",
		"end_timestamp":           "endTimestamp (Unix seconds) as answered, UTC",
		"number_of_calls":         "numberOfCalls: calls of the number in the period",
		"number_of_success_calls": "numberOfSuccessCalls: answered calls of the number in the period",
		"extras":                  "fields the API sent that this version does not know, as a JSON object ('' when none)",
		"raw":                     "the answer as sent",
		"run_id":                  "run that extracted the row",
		"extracted_at":            "when the row was extracted, UTC",
	},
}

// EmployeeStatsRow is one row of `t2_employee_stats`: statistics/common
// with subscriberNumber for one employee number and business day. Values
// holds each statFields entry's JSON text.
type EmployeeStatsRow struct {
	Number     string
	EmployeeID sql.Null[int64]
	DailyStatsRow
}

// EmployeeStatsTable is `t2_employee_stats`.
var EmployeeStatsTable = func() *load.Table[EmployeeStatsRow] {
	lead := []arrow.Field{load.String("number"), load.Nullable("employee_id", arrow.PrimitiveTypes.Int64)}
	fs, comments := statsColumns(lead)
	comments["number"] = "the employee's full number sent as subscriberNumber (7XXXXXXXXXX, from GET /employees)"
	comments["employee_id"] = "the employee with that number (t2_employees.employee_id)"
	comments["date"] = "Hive partition: the business day the statistics cover."
	for _, f := range statFields {
		comments[f.col] = "statistics/common?subscriberNumber " + f.json
	}
	return &load.Table[EmployeeStatsRow]{
		Name:   "t2_employee_stats",
		Doc:    "T2 per-number statistics (statistics/common with subscriberNumber) per employee number and business day",
		Schema: arrow.NewSchema(fs, nil),
		Append: func(b *array.RecordBuilder, r *EmployeeStatsRow) {
			load.AppendString(b.Field(0), r.Number)
			load.AppendNull(b.Field(1), r.EmployeeID)
			appendStats(b, len(lead), &r.DailyStatsRow)
		},
		Dictionary: []string{"run_id"},
		Comments:   comments,
	}
}()
