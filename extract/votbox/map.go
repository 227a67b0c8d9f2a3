package votbox

import (
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/calletl/calletl/model"
	"github.com/calletl/calletl/transform"
)

// Name is the source name in the lake and in state.
const Name = "votbox"

// Kind is the pipeline's item kind: a VotBox task.
const Kind = "task"

// Currency of every VotBox cost.
const Currency = "RUB"

// CallTimeLayout is the layout of calldate (and the notifications' DT).
const CallTimeLayout = "02.01.2006 15:04:05"

// Moscow is the zone of VotBox times. Moscow has kept UTC+3 without DST
// since 26 October 2014; without a tz database the fixed offset is used.
var Moscow = func() *time.Location {
	if loc, err := time.LoadLocation("Europe/Moscow"); err == nil {
		return loc
	}
	return time.FixedZone("MSK", 3*3600)
}()

// Job statuses (item jobstatus).
const (
	JobQueued        = 0
	JobInProgress    = 1
	JobError         = 2
	JobSuccess       = 3
	JobOperator      = 4
	JobBillingError  = 5
	JobExpired       = 7
	JobStoppedByUser = 11
)

var jobLabels = map[int]string{
	JobQueued:        "queued",
	JobInProgress:    "in_progress",
	JobError:         "error",
	JobSuccess:       "success",
	JobOperator:      "operator",
	JobBillingError:  "billing_error",
	JobExpired:       "expired",
	JobStoppedByUser: "stopped_by_user",
}

// JobLabel is the English word for a jobstatus: queued, in_progress, error,
// success, operator, billing_error, expired, stopped_by_user; "status_N"
// for a code the document does not list.
func JobLabel(code int) string {
	if l, ok := jobLabels[code]; ok {
		return l
	}
	return "status_" + strconv.Itoa(code)
}

// JobFinal reports whether an item with this jobstatus will not change any
// more: every status except 0 (queued) and 1 (in progress).
func JobFinal(code int) bool { return code != JobQueued && code != JobInProgress }

// itemFields are the documented item fields (lower case); the others go to
// extras.
var itemFields = map[string]bool{
	"id": true, "phonenumber": true, "jobstatus": true, "jobstatusstr": true, "attempts": true,
	"calldate": true, "callduration": true, "opercallduration": true, "callpay": true,
	"opercallpay": true, "recfilename": true,
}

// Item is one autocall.check <item> as sent: documented fields as text,
// unknown ones as a JSON object. Detail is the autocall.detail answer's
// fields as a JSON object, HasDetail whether it was fetched; documented
// fields missing from the item are taken from the detail.
type Item struct {
	ID, PhoneNumber, JobStatus, JobStatusStr, Attempts string
	CallDate, CallDuration, OperCallDuration           string
	CallPay, OperCallPay, RecFileName                  string
	Extras                                             string
	Detail                                             string
	HasDetail                                          bool
	Raw                                                string // the element re-encoded as UTF-8 XML
}

// DecodeItem reads an <item> element and, when detail is not nil, merges the
// autocall.detail answer into it.
func DecodeItem(e, detail *Element) Item {
	get := func(name string) string {
		v, ok := e.Field(name)
		if (!ok || v == "") && detail != nil {
			v, _ = detail.Field(name)
		}
		return v
	}
	it := Item{
		ID: get("id"), PhoneNumber: get("phonenumber"), JobStatus: get("jobstatus"),
		JobStatusStr: get("jobstatusstr"), Attempts: get("attempts"), CallDate: get("calldate"),
		CallDuration: get("callduration"), OperCallDuration: get("opercallduration"),
		CallPay: get("callpay"), OperCallPay: get("opercallpay"), RecFileName: get("recfilename"),
		Extras: e.fieldsJSON(itemFields),
		Raw:    e.XML(),
	}
	if detail != nil {
		it.HasDetail = true
		it.Detail = detail.fieldsJSON(nil)
		if it.Detail == "" {
			it.Detail = "{}"
		}
	}
	return it
}

// Task is the <task> element of an autocall.check answer, typed.
type Task struct {
	ID         string
	Name       string
	Start      time.Time // taskstarttime (unix); zero when absent
	Status     sql.Null[int32]
	StatusText string
	Extras     string
}

var taskFields = map[string]bool{"id": true, "taskname": true, "taskstarttime": true, "taskstatus": true, "taskstatusstr": true}

// DecodeTask reads a <task> element.
func DecodeTask(e *Element) (Task, error) {
	var t Task
	t.ID, _ = e.Field("id")
	t.Name, _ = e.Field("taskname")
	t.StatusText, _ = e.Field("taskstatusstr")
	t.Extras = e.fieldsJSON(taskFields)
	if s, _ := e.Field("taskstarttime"); s != "" {
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return t, fmt.Errorf("taskstarttime %q is not a unix time", s)
		}
		t.Start = time.Unix(v, 0).UTC()
	}
	if s, _ := e.Field("taskstatus"); s != "" {
		v, err := strconv.ParseInt(s, 10, 32)
		if err != nil {
			return t, fmt.Errorf("taskstatus %q is not an integer", s)
		}
		t.Status = sql.Null[int32]{V: int32(v), Valid: true}
	}
	return t, nil
}

// MapContext is what the mapping functions need besides the row.
type MapContext struct {
	Business    *time.Location // zone of the date partition
	Account     string         // the VotBox username
	RunID       string
	ExtractedAt time.Time
}

// TaskDay is the partition of a task's rows that have no call time, and of
// its votbox_tasks row and rejects: the task's start day in the business
// zone, or the run's day when the task has no start time.
func TaskDay(t *Task, mc *MapContext, run model.Run) string {
	if t.Start.IsZero() {
		return run.Day()
	}
	return model.Day(t.Start, mc.Business)
}

// CallRow is one row of `votbox_calls`.
type CallRow struct {
	Date string // partition: call day in the business zone, else the task's start day

	TaskID           string
	ItemID           string
	PhoneRaw         string
	Phone            string
	JobStatus        int16
	JobStatusLabel   string
	JobStatusStr     string
	Attempts         sql.Null[int32]
	CallTime         time.Time
	CallDuration     sql.Null[int32]
	OperCallDuration sql.Null[int32]
	CallPay          sql.Null[model.Money]
	OperCallPay      sql.Null[model.Money]
	RecFileName      string
	Extras           string
	Detail           sql.Null[string] // NULL when detail is off or not fetched
	RunID            string
	ExtractedAt      time.Time
}

// Final reports whether the row's item will not change any more.
func (r *CallRow) Final() bool { return JobFinal(int(r.JobStatus)) }

// Kopecks converts a cost in kopecks as VotBox sends it ("150", "0",
// "12.5") to roubles: Money is kopecks × 100. A value finer than 1/100
// kopeck is an error rather than rounded.
func Kopecks(s string) (model.Money, error) {
	m, err := transform.Money(s) // the text read as if roubles, ×10⁴
	if err != nil {
		return 0, err
	}
	if m%100 != 0 {
		return 0, fmt.Errorf("%q kopecks is finer than 1/100 kopeck", s)
	}
	return m / 100, nil
}

// Map turns an item of task t into its votbox_calls row and its canonical
// calls row. An item without id, with a missing or non-integer jobstatus,
// or with a malformed number or date is an error (the item goes to
// rejects).
func Map(mc *MapContext, t *Task, taskDay string, it *Item) (CallRow, model.Call, error) {
	r := CallRow{
		Date: taskDay, TaskID: t.ID, ItemID: strings.TrimSpace(it.ID),
		PhoneRaw: it.PhoneNumber, Phone: transform.Phone(it.PhoneNumber),
		JobStatusStr: it.JobStatusStr, RecFileName: it.RecFileName, Extras: it.Extras,
		RunID: mc.RunID, ExtractedAt: mc.ExtractedAt,
	}
	if it.HasDetail {
		r.Detail = sql.Null[string]{V: it.Detail, Valid: true}
	}
	if r.ItemID == "" {
		return r, model.Call{}, fmt.Errorf("item without id")
	}
	if it.JobStatus == "" {
		return r, model.Call{}, fmt.Errorf("item %s: jobstatus is missing", r.ItemID)
	}
	js, err := strconv.ParseInt(it.JobStatus, 10, 16)
	if err != nil || js < 0 {
		return r, model.Call{}, fmt.Errorf("item %s: jobstatus %q is not a status code", r.ItemID, it.JobStatus)
	}
	r.JobStatus, r.JobStatusLabel = int16(js), JobLabel(int(js))
	ints := []struct {
		name, s string
		dst     *sql.Null[int32]
	}{
		{"attempts", it.Attempts, &r.Attempts},
		{"callduration", it.CallDuration, &r.CallDuration},
		{"opercallduration", it.OperCallDuration, &r.OperCallDuration},
	}
	for _, f := range ints {
		if f.s == "" {
			continue
		}
		v, err := strconv.ParseInt(f.s, 10, 32)
		if err != nil || v < 0 {
			return r, model.Call{}, fmt.Errorf("item %s: %s %q is not a non-negative integer", r.ItemID, f.name, f.s)
		}
		*f.dst = sql.Null[int32]{V: int32(v), Valid: true}
	}
	money := []struct {
		name, s string
		dst     *sql.Null[model.Money]
	}{
		{"callpay", it.CallPay, &r.CallPay},
		{"opercallpay", it.OperCallPay, &r.OperCallPay},
	}
	for _, f := range money {
		if f.s == "" {
			continue
		}
		v, err := Kopecks(f.s)
		if err != nil {
			return r, model.Call{}, fmt.Errorf("item %s: %s: %v", r.ItemID, f.name, err)
		}
		*f.dst = sql.Null[model.Money]{V: v, Valid: true}
	}
	if s := strings.TrimSpace(it.CallDate); s != "" {
		ct, err := time.ParseInLocation(CallTimeLayout, s, Moscow)
		if err != nil {
			return r, model.Call{}, fmt.Errorf("item %s: calldate %q: want DD.MM.YYYY HH:MM:SS", r.ItemID, s)
		}
		r.CallTime = ct.UTC()
		r.Date = model.Day(ct, mc.Business)
	}
	c := model.Call{
		Source: Name, Date: r.Date, Account: mc.Account, CallID: r.ItemID,
		Direction: model.Autocall, StartedAt: r.CallTime,
		Callee: r.Phone, CalleeRaw: r.PhoneRaw,
		TalkS: r.CallDuration, Currency: Currency, Status: r.JobStatusLabel,
		HasRecording: r.RecFileName != "", RecordingRef: r.RecFileName,
		RunID: mc.RunID, ExtractedAt: mc.ExtractedAt,
	}
	if r.CallPay.Valid || r.OperCallPay.Valid {
		c.Cost = sql.Null[model.Money]{V: r.CallPay.V + r.OperCallPay.V, Valid: true}
	}
	return r, c, nil
}

// TaskRow is one row of `votbox_tasks`: a task as one extraction saw it.
type TaskRow struct {
	Date string // partition: TaskDay

	TaskID      string
	Name        string
	StartTime   time.Time
	Status      sql.Null[int32]
	StatusText  string
	Items       int64 // items read (rejected ones included)
	Rejected    int64 // items that failed validation
	ByStatus    map[int]int64
	Final       bool
	Extras      string
	RunID       string
	ExtractedAt time.Time
}
