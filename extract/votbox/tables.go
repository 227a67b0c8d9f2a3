package votbox

import (
	"fmt"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/calletl/calletl/load"
)

func ts(name string) arrow.Field { return load.Nullable(name, load.TimestampType()) }

// Tables lists the vendor tables this source writes (besides the canonical
// calls and rejects).
func Tables() []load.TableInfo { return []load.TableInfo{TasksTable.Info(), CallsTable.Info()} }

// countedStatuses are the jobstatus codes votbox_tasks counts in their own
// column; others are counted in other_items.
var countedStatuses = []int{JobQueued, JobInProgress, JobError, JobSuccess, JobOperator, JobBillingError, JobExpired, JobStoppedByUser}

// TasksTable is `votbox_tasks`: one row per task per extraction.
var TasksTable = func() *load.Table[TaskRow] {
	fs := []arrow.Field{
		load.String("task_id"), load.String("task_name"), ts("start_time"),
		load.Nullable("status", arrow.PrimitiveTypes.Int32), load.String("status_text"),
		load.Required("items", arrow.PrimitiveTypes.Int64), load.Required("rejected_items", arrow.PrimitiveTypes.Int64),
	}
	comments := map[string]string{
		"date":           "Hive partition: the task's start day in the business time zone (the run's day when unknown).",
		"source":         "Hive partition: votbox.",
		"task_id":        "task.id",
		"task_name":      "task.taskname",
		"start_time":     "task.taskstarttime (unix) as a UTC instant; NULL when absent",
		"status":         "task.taskstatus code",
		"status_text":    "task.taskstatusstr as sent",
		"items":          "items autocall.check listed for the task (rejected ones included)",
		"rejected_items": "items that failed validation (in rejects)",
	}
	for _, s := range countedStatuses {
		col := JobLabel(s) + "_items"
		fs = append(fs, load.Required(col, arrow.PrimitiveTypes.Int64))
		comments[col] = fmt.Sprintf("items with jobstatus %d (%s)", s, JobLabel(s))
	}
	fs = append(fs,
		load.Required("other_items", arrow.PrimitiveTypes.Int64),
		load.Required("final", arrow.FixedWidthTypes.Boolean),
		load.String("extras"), load.String("run_id"), ts("extracted_at"))
	comments["other_items"] = "items with a jobstatus the document does not list"
	comments["final"] = "every item had a final jobstatus (not 0 or 1) and none was rejected: the task will not change"
	comments["extras"] = "task fields this version does not know, as a JSON object ('' when none)"
	comments["run_id"] = "run that extracted the row"
	comments["extracted_at"] = "when the row was extracted, UTC"
	return &load.Table[TaskRow]{
		Name:   "votbox_tasks",
		Doc:    "VotBox autocall tasks (autocall.check): one row per task as its latest extraction saw it",
		Schema: arrow.NewSchema(fs, nil),
		Append: func(b *array.RecordBuilder, r *TaskRow) {
			load.AppendString(b.Field(0), r.TaskID)
			load.AppendString(b.Field(1), r.Name)
			load.AppendTimestamp(b.Field(2), r.StartTime)
			load.AppendNull(b.Field(3), r.Status)
			load.AppendString(b.Field(4), r.StatusText)
			b.Field(5).(*array.Int64Builder).Append(r.Items)
			b.Field(6).(*array.Int64Builder).Append(r.Rejected)
			for i, s := range countedStatuses {
				b.Field(7 + i).(*array.Int64Builder).Append(r.ByStatus[s])
			}
			n := 7 + len(countedStatuses)
			var other int64
			for s, v := range r.ByStatus {
				if !slices.Contains(countedStatuses, s) {
					other += v
				}
			}
			b.Field(n).(*array.Int64Builder).Append(other)
			b.Field(n + 1).(*array.BooleanBuilder).Append(r.Final)
			load.AppendString(b.Field(n+2), r.Extras)
			load.AppendString(b.Field(n+3), r.RunID)
			load.AppendTimestamp(b.Field(n+4), r.ExtractedAt)
		},
		Dictionary: []string{"status_text", "run_id"},
		Comments:   comments,
	}
}()

// CallsTable is `votbox_calls`: one row per task item.
var CallsTable = &load.Table[CallRow]{
	Name: "votbox_calls",
	Doc:  "VotBox autocall items (autocall.check, merged with autocall.detail when enabled): one row per call item",
	Schema: arrow.NewSchema([]arrow.Field{
		load.String("task_id"), load.String("item_id"), load.String("phone_raw"), load.String("phone"),
		load.Required("job_status", arrow.PrimitiveTypes.Int16), load.String("job_status_label"), load.String("job_status_str"),
		load.Nullable("attempts", arrow.PrimitiveTypes.Int32), ts("call_time"),
		load.Nullable("call_duration", arrow.PrimitiveTypes.Int32), load.Nullable("oper_call_duration", arrow.PrimitiveTypes.Int32),
		load.Nullable("call_pay", load.MoneyType()), load.Nullable("oper_call_pay", load.MoneyType()),
		load.String("rec_filename"), load.String("extras"), load.Nullable("detail", arrow.BinaryTypes.String),
		load.String("run_id"), ts("extracted_at"),
	}, nil),
	Append: func(b *array.RecordBuilder, r *CallRow) {
		load.AppendString(b.Field(0), r.TaskID)
		load.AppendString(b.Field(1), r.ItemID)
		load.AppendString(b.Field(2), r.PhoneRaw)
		load.AppendString(b.Field(3), r.Phone)
		b.Field(4).(*array.Int16Builder).Append(r.JobStatus)
		load.AppendString(b.Field(5), r.JobStatusLabel)
		load.AppendString(b.Field(6), r.JobStatusStr)
		load.AppendNull(b.Field(7), r.Attempts)
		load.AppendTimestamp(b.Field(8), r.CallTime)
		load.AppendNull(b.Field(9), r.CallDuration)
		load.AppendNull(b.Field(10), r.OperCallDuration)
		load.AppendMoney(b.Field(11), r.CallPay)
		load.AppendMoney(b.Field(12), r.OperCallPay)
		load.AppendString(b.Field(13), r.RecFileName)
		load.AppendString(b.Field(14), r.Extras)
		load.AppendNull(b.Field(15), r.Detail)
		load.AppendString(b.Field(16), r.RunID)
		load.AppendTimestamp(b.Field(17), r.ExtractedAt)
	},
	Dictionary: []string{"task_id", "job_status_label", "job_status_str", "run_id"},
	Comments: map[string]string{
		"date":               "Hive partition: the call's day in the business time zone, or the task's start day when the item has no call time.",
		"source":             "Hive partition: votbox.",
		"task_id":            "task.id the item belongs to",
		"item_id":            "item.id: the call's id (CALLID of notifications)",
		"phone_raw":          "item.phonenumber as sent (8XXXXXXXXXX)",
		"phone":              "phonenumber as E.164 digits",
		"job_status":         "item.jobstatus: 0 queued, 1 in progress, 2 error, 3 success, 4 connected to operator, 5 billing error, 7 lifetime expired, 11 ended by user",
		"job_status_label":   "jobstatus as an English word (queued, in_progress, error, success, operator, billing_error, expired, stopped_by_user, status_N)",
		"job_status_str":     "item.jobstatusstr as sent (Russian)",
		"attempts":           "item.attempts: dial attempts",
		"call_time":          "item.calldate (DD.MM.YYYY HH:MM:SS, Moscow time) as a UTC instant; NULL when absent",
		"call_duration":      "item.callduration: seconds connected to the subscriber",
		"oper_call_duration": "item.opercallduration: seconds connected to the operator",
		"call_pay":           "item.callpay: cost of the call to the subscriber, roubles (sent in kopecks)",
		"oper_call_pay":      "item.opercallpay: cost of the call to the operator, roubles (sent in kopecks)",
		"rec_filename":       "item.recfilename: the recorded talk for autocall.recordtalk ('' when none)",
		"extras":             "item fields this version does not know, as a JSON object ('' when none)",
		"detail":             "autocall.detail answer's fields as a JSON object; NULL when detail is off or the item was not final",
		"run_id":             "run that extracted the row",
		"extracted_at":       "when the row was extracted, UTC",
	},
}
