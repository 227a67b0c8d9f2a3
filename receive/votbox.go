package receive

import (
	"database/sql"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/calletl/calletl/extract/votbox"
	"github.com/calletl/calletl/model"
	"github.com/calletl/calletl/transform"
)

// VotBox notifications (votbox-api.txt, "HTTP GET NOTIFICATION" and §16):
// an HTTP GET to the NotifyUrl with the event in the query string,
// CALLID, STATE and DT always, and per STATE: ANI, DNIS (CALLOUT,
// STARTCALL, GETDTMF), PHONE and addinfo (REDIRECT), REL (CALLNOANSWER),
// DTMF (GETDTMF), FILENAME (VOICEMAIL, RECORDTALK), DURATION and
// LINKDURATION (the inbound ENDCALL), CALLDURATION, OPERCALLDURATION,
// JOBSTATUS, CALLPAY and OPERCALLPAY (the autocall ENDCALL; costs in
// kopecks). The document says nothing of the answer it expects nor of
// retries: the receiver answers 200 with a short text body.
//
// Read with the harshest eyes: the examples write "& STATE= VOICEMAIL &",
// "PHONE =9110000001" and "Rel=19", so keys are trimmed and folded to upper
// case and values trimmed; a key sent twice with different values is
// refused; a value that is not UTF-8 is read as windows-1251. POST with a
// form body is accepted too (a proxy may turn the GET into one).

// votboxInts are the integer fields; votboxMoney the costs in kopecks.
var (
	votboxInts  = []string{"REL", "CALLDURATION", "OPERCALLDURATION", "JOBSTATUS", "DURATION", "LINKDURATION"}
	votboxMoney = []string{"CALLPAY", "OPERCALLPAY"}
)

// DecodeVotBox turns a notification's parameters (the raw query string or
// form body) into an Event of source received at at. It refuses, wrapping
// ErrBadEvent, an event without CALLID or STATE, with a DT that is not
// DD.MM.YYYY HH:MM:SS, or with a count, status or cost that is not a
// non-negative number.
func DecodeVotBox(source, raw string, at time.Time) (Event, error) {
	fields, err := queryFields(raw, strings.ToUpper)
	if err != nil {
		return Event{}, err
	}
	ev := Event{Vendor: VotBox, Source: source, Kind: KindVotBoxNotify, Fields: fields, ReceivedAt: at.UTC()}
	if _, err := votboxRow(&ev); err != nil {
		return Event{}, err
	}
	ev.ID = EventID(ev.Vendor, ev.Source, ev.Kind, ev.Fields)
	return ev, nil
}

// queryFields parses a query string or form body into canonical fields:
// keys trimmed and folded by fold, values trimmed and made UTF-8, empty
// values dropped, a key repeated with a different value refused.
func queryFields(raw string, fold func(string) string) (map[string]string, error) {
	if len(raw) > MaxBodyBytes {
		return nil, badf("parameters longer than %d bytes", MaxBodyBytes)
	}
	vals, err := url.ParseQuery(raw)
	if err != nil {
		return nil, badf("parameters are not a URL-encoded query: %v", err)
	}
	if len(vals) > MaxFields {
		return nil, badf("%d parameters, at most %d", len(vals), MaxFields)
	}
	fields := make(map[string]string, len(vals))
	for k, vs := range vals {
		key, err := text("parameter name", k)
		if err != nil {
			return nil, err
		}
		key = fold(key)
		if key == "" {
			continue
		}
		for _, v := range vs {
			if len(v) > maxValueLen {
				return nil, badf("%s: longer than %d bytes", key, maxValueLen)
			}
			v, err := text(key, v)
			if err != nil {
				return nil, err
			}
			if v == "" {
				continue
			}
			if old, ok := fields[key]; ok && old != v {
				return nil, badf("%s sent twice with different values", key)
			}
			fields[key] = v
		}
	}
	return fields, nil
}

// VotBoxRow is one row of votbox_events.
type VotBoxRow struct {
	Date             string // partition: the event's day in the business zone
	EventID          string
	CallID           string
	State            string
	EventTime        time.Time
	ANI, DNIS, Phone string
	Rel              sql.Null[int32]
	DTMF, AddInfo    string
	FileName         string
	CallDuration     sql.Null[int32]
	OperCallDuration sql.Null[int32]
	JobStatus        sql.Null[int32]
	CallPay          sql.Null[model.Money]
	OperCallPay      sql.Null[model.Money]
	Duration         sql.Null[int32]
	LinkDuration     sql.Null[int32]
	Fields           string // every field as received, JSON
	ReceivedAt       time.Time
}

// votboxRow maps a VotBox event to its row (Date is left to the caller).
func votboxRow(ev *Event) (VotBoxRow, error) {
	f := ev.Fields
	r := VotBoxRow{
		EventID: ev.ID, CallID: f["CALLID"], State: strings.ToUpper(f["STATE"]),
		ANI: transform.Phone(f["ANI"]), DNIS: transform.Phone(f["DNIS"]), Phone: transform.Phone(f["PHONE"]),
		DTMF: f["DTMF"], AddInfo: f["ADDINFO"], FileName: f["FILENAME"],
		Fields: fieldsJSON(f), ReceivedAt: ev.ReceivedAt,
	}
	if r.CallID == "" {
		return r, badf("CALLID is missing")
	}
	if r.State == "" {
		return r, badf("STATE is missing")
	}
	if dt := f["DT"]; dt != "" {
		t, err := time.ParseInLocation(votbox.CallTimeLayout, dt, votbox.Moscow)
		if err != nil {
			return r, badf("DT %.40q: want DD.MM.YYYY HH:MM:SS", dt)
		}
		r.EventTime = t.UTC()
	}
	ints := map[string]*sql.Null[int32]{
		"REL": &r.Rel, "CALLDURATION": &r.CallDuration, "OPERCALLDURATION": &r.OperCallDuration,
		"JOBSTATUS": &r.JobStatus, "DURATION": &r.Duration, "LINKDURATION": &r.LinkDuration,
	}
	for _, k := range votboxInts {
		if err := setInt(ints[k], k, f[k]); err != nil {
			return r, err
		}
	}
	money := map[string]*sql.Null[model.Money]{"CALLPAY": &r.CallPay, "OPERCALLPAY": &r.OperCallPay}
	for _, k := range votboxMoney {
		s := f[k]
		if s == "" {
			continue
		}
		m, err := votbox.Kopecks(s)
		if err != nil || m < 0 {
			return r, badf("%s %.40q: want a non-negative cost in kopecks", k, s)
		}
		*money[k] = sql.Null[model.Money]{V: m, Valid: true}
	}
	return r, nil
}

// setInt parses a non-negative integer field into dst; "" leaves it NULL.
func setInt(dst *sql.Null[int32], name, s string) error {
	if s == "" {
		return nil
	}
	v, err := strconv.ParseInt(s, 10, 32)
	if err != nil || v < 0 {
		return badf("%s %.40q: want a non-negative integer", name, s)
	}
	*dst = sql.Null[int32]{V: int32(v), Valid: true}
	return nil
}
