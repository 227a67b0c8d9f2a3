package sandbox

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// HTTP side of the T2 emulator: routing, parameters and answers.

// t2TimeLayout writes ISO offset date-times the way the vendor's Java does:
// milliseconds without trailing zeros ("…19.68+03:00"), none when zero, "Z"
// in UTC.
const t2TimeLayout = "2006-01-02T15:04:05.999Z07:00"

// t2Base is the API's base path, accepted in front of every path.
const t2Base = "/crm/openapi"

// serve routes one request that passed the fault injector.
func (t *T2) serve(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimPrefix(r.URL.Path, t2Base)
	if path == "/authorization/refresh/token" {
		if r.Method != http.MethodPut {
			t2MethodNotAllowed(w, http.MethodPut)
			return
		}
		t.refresh(w, r)
		return
	}
	var h func(http.ResponseWriter, url.Values)
	switch path {
	case "/call-records/info":
		h = t.callRecords
	case "/statistics/missing":
		h = t.missing
	case "/statistics/common":
		h = t.common
	case "/statistics/journal":
		h = t.journal
	case "/employees":
		h = t.employeesAnswer
	case "/managers":
		h = t.managersAnswer
	case "/call-records/file":
		h = t.file
	case "/call-records/file/stt":
		h = t.stt
	default:
		t2JSON(w, http.StatusNotFound, t2Error{"No handler found for " + r.Method + " " + r.URL.Path, "Not found"})
		return
	}
	if r.Method != http.MethodGet {
		t2MethodNotAllowed(w, http.MethodGet)
		return
	}
	if _, details := t.authorize(r, t2AccessType); details != "" {
		t2Forbidden(w, details)
		return
	}
	h(w, r.URL.Query())
}

func t2MethodNotAllowed(w http.ResponseWriter, allow string) {
	w.Header().Set("Allow", allow)
	t2JSON(w, http.StatusMethodNotAllowed, t2Error{"Request method not supported", "Method not allowed"})
}

// t2BadRequest is a 400 answer; badParam builds the three documented kinds.
type t2BadRequest struct{ body t2Error }

func missingParam(name, typ string) *t2BadRequest {
	return &t2BadRequest{t2Error{"Required request parameter '" + name + "' for method parameter type " + typ + " is not present", "Some of fields empty"}}
}

func nullParam(name, typ string) *t2BadRequest {
	return &t2BadRequest{t2Error{"Required request parameter '" + name + "' for method parameter type " + typ + " is present but converted to null", "Some of fields empty"}}
}

func wrongParam(name string) *t2BadRequest {
	return &t2BadRequest{t2Error{"Bad request", "Wrong parameter " + name}}
}

func (e *t2BadRequest) write(w http.ResponseWriter) { t2JSON(w, http.StatusBadRequest, e.body) }

// timeParam parses a required ISO offset date-time. A '+' that was not
// encoded arrives as a space and fails, as at the vendor.
func timeParam(q url.Values, name string) (time.Time, *t2BadRequest) {
	vs, ok := q[name]
	switch {
	case !ok:
		return time.Time{}, missingParam(name, "OffsetDateTime")
	case vs[0] == "":
		return time.Time{}, nullParam(name, "OffsetDateTime")
	}
	v, err := time.Parse(time.RFC3339, vs[0])
	if err != nil {
		return time.Time{}, wrongParam(name)
	}
	return v, nil
}

// intParam parses an optional integer within [lo, hi].
func intParam(q url.Values, name string, def, lo, hi int) (int, *t2BadRequest) {
	v := q.Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, wrongParam(name)
	}
	return n, nil
}

// sortParam parses "field[,ASC|DESC]" where field is one of fields; it
// reports whether the order is descending.
func sortParam(q url.Values, def string, fields ...string) (desc bool, bad *t2BadRequest) {
	v := q.Get("sort")
	if v == "" {
		v = def
	}
	field, dir, _ := strings.Cut(v, ",")
	if !slices.Contains(fields, field) {
		return false, wrongParam("sort")
	}
	switch strings.ToUpper(dir) {
	case "", "ASC":
		return false, nil
	case "DESC":
		return true, nil
	}
	return false, wrongParam("sort")
}

// t2Norm normalises a number for comparisons: +7… and 8… (11 digits) become
// 7…; extensions stay as they are.
func t2Norm(s string) string {
	s = strings.TrimPrefix(strings.TrimSpace(s), "+")
	if len(s) == 11 && s[0] == '8' {
		return "7" + s[1:]
	}
	return s
}

// t2Page returns the page-th slice of size elements of n, as [lo, hi).
// page <= 1<<30 and size <= t2MaxPageSize, so page*size does not overflow.
func t2Page(n, page, size int) (lo, hi int) {
	lo = min(page*size, n)
	return lo, min(lo+size, n)
}

// t2CallRow is the wire form of T2Call, in the document's key order.
type t2CallRow struct {
	CallTimestamp        string `json:"callTimestamp"`
	CallType             string `json:"callType"`
	DestinationNumber    string `json:"destinationNumber"`
	CallerNumber         string `json:"callerNumber"`
	CallerName           string `json:"callerName"`
	CalleeNumber         string `json:"calleeNumber"`
	CalleeName           string `json:"calleeName"`
	CallDuration         int    `json:"callDuration"`
	ConversationDuration *int   `json:"conversationDuration,omitempty"`
	CallStatus           string `json:"callStatus"`
	RecordFileName       string `json:"recordFileName"`
}

// callsBetween returns the calls with start <= Timestamp < end.
func (t *T2) callsBetween(start, end time.Time) []T2Call {
	lo := sort.Search(len(t.calls), func(i int) bool { return !t.calls[i].Timestamp.Before(start) })
	hi := sort.Search(len(t.calls), func(i int) bool { return !t.calls[i].Timestamp.Before(end) })
	if hi < lo {
		return nil
	}
	return t.calls[lo:hi]
}

// callRecords answers GET /call-records/info.
func (t *T2) callRecords(w http.ResponseWriter, q url.Values) {
	start, bad := timeParam(q, "start")
	if bad == nil {
		var end time.Time
		end, bad = timeParam(q, "end")
		if bad == nil {
			t.callRecordsIn(w, q, start, end)
			return
		}
	}
	bad.write(w)
}

func (t *T2) callRecordsIn(w http.ResponseWriter, q url.Values, start, end time.Time) {
	page, bad := intParam(q, "page", 0, 0, 1<<30)
	if bad != nil {
		bad.write(w)
		return
	}
	size, bad := intParam(q, "size", t2DefaultCallRecordsPageSize, 1, t2MaxPageSize)
	if bad != nil {
		bad.write(w)
		return
	}
	desc, bad := sortParam(q, "date,ASC", "date", "callTimestamp")
	if bad != nil {
		bad.write(w)
		return
	}
	recorded := false
	if v := q.Get("is_recorded"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			wrongParam("is_recorded").write(w)
			return
		}
		recorded = b
	}
	caller, callee := t2Norm(q.Get("caller")), t2Norm(q.Get("callee"))
	var sel []*T2Call
	calls := t.callsBetween(start, end)
	for i := range calls {
		c := &calls[i]
		if (caller != "" && t2Norm(c.CallerNumber) != caller) ||
			(callee != "" && t2Norm(c.CalleeNumber) != callee) ||
			(recorded && c.RecordFileName == "") {
			continue
		}
		sel = append(sel, c)
	}
	if desc {
		slices.Reverse(sel)
	}
	lo, hi := t2Page(len(sel), page, size)
	rows := make([]t2CallRow, 0, hi-lo)
	for _, c := range sel[lo:hi] {
		row := t2CallRow{
			CallTimestamp:     c.Timestamp.In(t.cfg.Zone).Format(t2TimeLayout),
			CallType:          c.CallType,
			DestinationNumber: c.DestinationNumber,
			CallerNumber:      c.CallerNumber,
			CallerName:        c.CallerName,
			CalleeNumber:      c.CalleeNumber,
			CalleeName:        c.CalleeName,
			CallDuration:      c.CallDuration,
			CallStatus:        c.CallStatus,
			RecordFileName:    c.RecordFileName,
		}
		if c.Answered() {
			row.ConversationDuration = &c.ConversationDuration
		}
		if c.Bad {
			row.CallTimestamp = c.Timestamp.In(t.cfg.Zone).Format(time.DateTime)
		}
		rows = append(rows, row)
	}
	t2JSON(w, http.StatusOK, rows)
}

// t2MissedRow is the wire form of T2Missed.
type t2MissedRow struct {
	ID                int64       `json:"id"`
	StartDate         string      `json:"startDate"`
	WaitDuration      int         `json:"waitDuration"`
	CallerNumber      string      `json:"callerNumber"`
	DestinationNumber string      `json:"destinationNumber"`
	CalleeCompanyID   json.Number `json:"calleeCompanyId"`
	CalleeNumber      string      `json:"calleeNumber"`
	CalleeName        string      `json:"calleeName"`
}

// missing answers GET /statistics/missing. mcn_numbers may repeat, be
// spelled mcn_numbers[] and hold comma-separated numbers.
func (t *T2) missing(w http.ResponseWriter, q url.Values) {
	start, bad := timeParam(q, "start")
	var end time.Time
	if bad == nil {
		end, bad = timeParam(q, "end")
	}
	var page, size int
	if bad == nil {
		page, bad = intParam(q, "page", 0, 0, 1<<30)
	}
	if bad == nil {
		size, bad = intParam(q, "size", t2DefaultMissingPageSize, 1, t2MaxPageSize)
	}
	var desc bool
	if bad == nil {
		desc, bad = sortParam(q, "startDate", "startDate", "id")
	}
	if bad != nil {
		bad.write(w)
		return
	}
	mcns := make(map[string]bool)
	for _, v := range append(q["mcn_numbers"], q["mcn_numbers[]"]...) {
		for n := range strings.SplitSeq(v, ",") {
			if n = t2Norm(n); n != "" {
				mcns[n] = true
			}
		}
	}
	lo := sort.Search(len(t.missed), func(i int) bool { return !t.missed[i].StartDate.Before(start) })
	var sel []*T2Missed
	for i := lo; i < len(t.missed) && t.missed[i].StartDate.Before(end); i++ {
		if m := &t.missed[i]; len(mcns) == 0 || mcns[t2Norm(m.DestinationNumber)] {
			sel = append(sel, m)
		}
	}
	if desc {
		slices.Reverse(sel)
	}
	from, to := t2Page(len(sel), page, size)
	rows := make([]t2MissedRow, 0, to-from)
	for _, m := range sel[from:to] {
		rows = append(rows, t2MissedRow{
			ID:                m.ID,
			StartDate:         m.StartDate.In(t.cfg.Zone).Format(t2TimeLayout),
			WaitDuration:      m.WaitDuration,
			CallerNumber:      m.CallerNumber,
			DestinationNumber: m.DestinationNumber,
			CalleeCompanyID:   json.Number(m.CalleeCompanyID),
			CalleeNumber:      m.CalleeNumber,
			CalleeName:        m.CalleeName,
		})
	}
	t2JSON(w, http.StatusOK, rows)
}

// t2Common is the answer of /statistics/common, in the document's key
// order. The emulator's definitions, over the call records with start <=
// callTimestamp < end (and, with subscriberNumber, a caller, callee or
// destination number equal to it after normalisation):
//
//   - allCallCount: records; successCallCount: answered (conversation
//     present); lostCallCount: the others; outgoingCallCount: OUTGOING and
//     CRM_OUTGOING.
//   - commonCallDuration, averageCallDuration (integer division),
//     maxCallDuration: over callDuration; mn*: the same over MULTI_CHANNEL.
//   - callCountPerDay, callCountPerHour: allCallCount per day/hour of the
//     interval; averageCallCountPerHour: the latter truncated.
//   - transfer*: records with a *_FORWARD_CLIENT status or type
//     CALL_TRANSFER, over conversationDuration.
//   - hangupACallCount: CANCELLED_BY_CALLER; hangupBCallCount:
//     DESTINATION_BUSY.
//   - uniqueCallCount: distinct normalised callerNumbers; redialCount:
//     allCallCount − uniqueCallCount.
//   - internal*: INTERNAL records, over callDuration.
type t2Common struct {
	AllCallCount                int     `json:"allCallCount"`
	SuccessCallCount            int     `json:"successCallCount"`
	OutgoingCallCount           int     `json:"outgoingCallCount"`
	LostCallCount               int     `json:"lostCallCount"`
	CommonCallDuration          int     `json:"commonCallDuration"`
	AverageCallDuration         int     `json:"averageCallDuration"`
	MaxCallDuration             int     `json:"maxCallDuration"`
	CallCountPerDay             float64 `json:"callCountPerDay"`
	CallCountPerHour            float64 `json:"callCountPerHour"`
	MNAvgCallDuration           int     `json:"mnAvgCallDuration"`
	MNMaxCallDuration           int     `json:"mnMaxCallDuration"`
	AverageCallCountPerHour     int     `json:"averageCallCountPerHour"`
	TransferCallCount           int     `json:"transferCallCount"`
	TransferCallDuration        int     `json:"transferCallDuration"`
	AverageTransferCallDuration int     `json:"averageTransferCallDuration"`
	HangupACallCount            int     `json:"hangupACallCount"`
	HangupBCallCount            int     `json:"hangupBCallCount"`
	UniqueCallCount             int     `json:"uniqueCallCount"`
	RedialCount                 int     `json:"redialCount"`
	InternalCallCount           int     `json:"internalCallCount"`
	InternalCallDuration        int     `json:"internalCallDuration"`
	AverageInternalCallDuration int     `json:"averageInternalCallDuration"`
}

func t2Avg(sum, n int) int {
	if n == 0 {
		return 0
	}
	return sum / n
}

// common answers GET /statistics/common: for the company, or with
// subscriberNumber (7XXXXXXXXXX, else 400) for the calls involving that
// number (T2Involves).
func (t *T2) common(w http.ResponseWriter, q url.Values) {
	start, bad := timeParam(q, "start")
	var end time.Time
	if bad == nil {
		end, bad = timeParam(q, "end")
	}
	var subscriber string
	if bad == nil {
		subscriber, bad = numberParam(q, "subscriberNumber")
	}
	if bad != nil {
		bad.write(w)
		return
	}
	t2JSON(w, http.StatusOK, t2CommonOf(t.callsBetween(start, end), start, end, subscriber))
}

// t2CommonOf computes the statistics of calls (see t2Common).
func t2CommonOf(calls []T2Call, start, end time.Time, subscriber string) t2Common {
	var s t2Common
	var mnCount, mnSum int
	callers := make(map[string]bool)
	for i := range calls {
		c := &calls[i]
		if subscriber != "" && t2Norm(c.CallerNumber) != subscriber &&
			t2Norm(c.CalleeNumber) != subscriber && t2Norm(c.DestinationNumber) != subscriber {
			continue
		}
		s.AllCallCount++
		if c.Answered() {
			s.SuccessCallCount++
		}
		if c.CallType == T2Outgoing || c.CallType == T2CRMOutgoing {
			s.OutgoingCallCount++
		}
		s.CommonCallDuration += c.CallDuration
		s.MaxCallDuration = max(s.MaxCallDuration, c.CallDuration)
		if c.CallType == T2MultiChannel {
			mnCount++
			mnSum += c.CallDuration
			s.MNMaxCallDuration = max(s.MNMaxCallDuration, c.CallDuration)
		}
		if c.CallStatus == T2AnsweredByBusyForward || c.CallStatus == T2AnsweredByNoAnswerForward || c.CallType == T2CallTransfer {
			s.TransferCallCount++
			s.TransferCallDuration += max(c.ConversationDuration, 0)
		}
		switch c.CallStatus {
		case T2CancelledByCaller:
			s.HangupACallCount++
		case T2DestinationBusy:
			s.HangupBCallCount++
		}
		callers[t2Norm(c.CallerNumber)] = true
		if c.CallType == T2Internal {
			s.InternalCallCount++
			s.InternalCallDuration += c.CallDuration
		}
	}
	s.LostCallCount = s.AllCallCount - s.SuccessCallCount
	s.AverageCallDuration = t2Avg(s.CommonCallDuration, s.AllCallCount)
	s.MNAvgCallDuration = t2Avg(mnSum, mnCount)
	s.AverageTransferCallDuration = t2Avg(s.TransferCallDuration, s.TransferCallCount)
	s.AverageInternalCallDuration = t2Avg(s.InternalCallDuration, s.InternalCallCount)
	s.UniqueCallCount = len(callers)
	s.RedialCount = s.AllCallCount - s.UniqueCallCount
	if hours := end.Sub(start).Hours(); hours > 0 {
		s.CallCountPerHour = float64(s.AllCallCount) / hours
		s.CallCountPerDay = float64(s.AllCallCount) / (hours / 24)
		s.AverageCallCountPerHour = int(s.CallCountPerHour)
	}
	return s
}

// t2EmployeeRow is the wire form of T2Employee: empty fields left out.
type t2EmployeeRow struct {
	EmployeeID  json.Number `json:"employeeId"`
	Name        string      `json:"name,omitempty"`
	Surname     string      `json:"surname,omitempty"`
	FullNumber  string      `json:"fullNumber,omitempty"`
	ShortNumber string      `json:"shortNumber,omitempty"`
	Email       string      `json:"email,omitempty"`
}

// employeesAnswer answers GET /employees.
func (t *T2) employeesAnswer(w http.ResponseWriter, _ url.Values) {
	rows := make([]t2EmployeeRow, len(t.employees))
	for i, e := range t.employees {
		rows[i] = t2EmployeeRow{json.Number(e.EmployeeID), e.Name, e.Surname, e.FullNumber, e.ShortNumber, e.Email}
	}
	t2JSON(w, http.StatusOK, rows)
}

// fileCall returns the call recorded under the filename parameter, or
// writes the 400 answer.
func (t *T2) fileCall(w http.ResponseWriter, q url.Values) (*T2Call, bool) {
	vs, ok := q["filename"]
	switch {
	case !ok:
		missingParam("filename", "String").write(w)
		return nil, false
	case vs[0] == "":
		nullParam("filename", "String").write(w)
		return nil, false
	}
	i, ok := t.files[vs[0]]
	if !ok {
		return nil, true
	}
	return &t.calls[i], true
}

// file answers GET /call-records/file with the recording's MP3 bytes.
func (t *T2) file(w http.ResponseWriter, q url.Values) {
	c, ok := t.fileCall(w, q)
	switch {
	case !ok:
	case c == nil:
		t2JSON(w, http.StatusNotFound, t2Error{t2DetailsRecordNotFound, "Object not found"})
	default:
		b := t2MP3(t.cfg.Seed, c.RecordFileName)
		w.Header().Set("Content-Type", "audio/mpeg")
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(b)
	}
}

// stt answers GET /call-records/file/stt: about three recordings in four
// have a transcript.
func (t *T2) stt(w http.ResponseWriter, q url.Values) {
	c, ok := t.fileCall(w, q)
	if !ok {
		return
	}
	var words []t2Word
	if c != nil {
		words = t2Transcript(t.cfg.Seed, c.RecordFileName, c.ConversationDuration)
	}
	if words == nil {
		t2JSON(w, http.StatusNotFound, t2Error{t2DetailsTranscriptionMissing, "Object not found"})
		return
	}
	t2JSON(w, http.StatusOK, words)
}
