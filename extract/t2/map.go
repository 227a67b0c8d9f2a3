package t2

import (
	"bytes"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/calletl/calletl/model"
	"github.com/calletl/calletl/transform"
)

// Account is the account of every T2 stream: the API is per company.
const Account = "company"

// errNotObject marks an array element that is not a JSON object.
var errNotObject = errors.New("row is not a JSON object")

// fields decodes a JSON object into its documented fields as text (strings
// as they are, numbers as their JSON text, null and missing as "") and the
// unknown ones as a JSON object ("" when none). A field holding an object
// or array is an error naming it.
func fields(raw []byte, known map[string]*string, alias map[string]string) (extras string, err error) {
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) != nil || obj == nil {
		return "", errNotObject
	}
	var unknown map[string]json.RawMessage
	for _, k := range slices.Sorted(maps.Keys(obj)) {
		v := obj[k]
		name := k
		if a, ok := alias[k]; ok {
			name = a
		}
		dst, ok := known[name]
		if !ok {
			if unknown == nil {
				unknown = map[string]json.RawMessage{}
			}
			unknown[k] = v
			continue
		}
		s, err := text(v)
		if err != nil {
			return "", fmt.Errorf("%s: %w", k, err)
		}
		if *dst == "" {
			*dst = s
		}
	}
	if unknown != nil {
		b, _ := json.Marshal(unknown)
		extras = string(b)
	}
	return extras, nil
}

// text returns a JSON scalar as text.
func text(v json.RawMessage) (string, error) {
	v = bytes.TrimSpace(v)
	switch {
	case len(v) == 0 || string(v) == "null":
		return "", nil
	case v[0] == '"':
		var s string
		err := json.Unmarshal(v, &s)
		return s, err
	case v[0] == '{' || v[0] == '[':
		return "", fmt.Errorf("is a JSON %s, want a scalar", map[byte]string{'{': "object", '[': "array"}[v[0]])
	default:
		return string(v), nil
	}
}

// Record is one element of GET /call-records/info as sent: every documented
// field as text, unknown fields as a JSON object, and the element's bytes.
type Record struct {
	CallTimestamp        string
	CallType             string
	DestinationNumber    string
	CallerNumber         string
	CallerName           string
	CalleeNumber         string
	CalleeName           string
	CallDuration         string
	ConversationDuration string
	CallStatus           string
	RecordFileName       string
	Extras               string
	Raw                  []byte
}

// DecodeRecord decodes one call-records element. An element that is not an
// object, or has a non-scalar documented field, is an error (the row goes
// to rejects with Raw).
func DecodeRecord(raw []byte) (Record, error) {
	r := Record{Raw: raw}
	var err error
	r.Extras, err = fields(raw, map[string]*string{
		"callTimestamp": &r.CallTimestamp, "callType": &r.CallType,
		"destinationNumber": &r.DestinationNumber, "callerNumber": &r.CallerNumber,
		"callerName": &r.CallerName, "calleeNumber": &r.CalleeNumber, "calleeName": &r.CalleeName,
		"callDuration": &r.CallDuration, "conversationDuration": &r.ConversationDuration,
		"callStatus": &r.CallStatus, "recordFileName": &r.RecordFileName,
	}, nil)
	return r, err
}

// Key is the natural key of a call record: recordFileName when present,
// else "sha256:" and the hex of the first 16 bytes of the SHA-256 of
// (callTimestamp, callType, callerNumber, destinationNumber, calleeNumber).
func Key(r *Record) string {
	if f := strings.TrimSpace(r.RecordFileName); f != "" {
		return f
	}
	h := sha256.New()
	for _, s := range []string{r.CallTimestamp, r.CallType, r.CallerNumber, r.DestinationNumber, r.CalleeNumber} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)[:16])
}

// Direction derives the canonical direction from callType and whether the
// call was answered: INTERNAL, HIMSELF and INTERNAL_QUEUE are internal;
// OUTGOING, CRM_OUTGOING, CALLBACK and CRM_CALLBACK outgoing; every other
// type (SINGLE_CHANNEL, MULTI_CHANNEL, UNKNOWN_CALL, VOICEMAIL, CONFERENCE,
// PICKUP_CALL, FAX and unknown values) incoming, and missed when not
// answered.
func Direction(callType string, answered bool) string {
	switch callType {
	case "INTERNAL", "HIMSELF", "INTERNAL_QUEUE":
		return model.Internal
	case "OUTGOING", "CRM_OUTGOING", "CALLBACK", "CRM_CALLBACK":
		return model.Outgoing
	}
	if !answered {
		return model.Missed
	}
	return model.Incoming
}

// Answered reports whether a call was answered: a callStatus starting with
// ANSWERED_, CANCELLED_BY_PICKUP (another employee picked it up), or, for
// status values the document does not list, a conversation longer than 0 s.
func Answered(status string, talk sql.Null[int32]) bool {
	switch {
	case strings.HasPrefix(status, "ANSWERED_"), status == "CANCELLED_BY_PICKUP":
		return true
	case knownStatus(status):
		return false
	default:
		return talk.Valid && talk.V > 0
	}
}

func knownStatus(s string) bool {
	return s == "NOT_ANSWERED_COMMON" || s == "CANCELLED_BY_CALLER" || s == "DESTINATION_BUSY" ||
		strings.HasPrefix(s, "DENIED_")
}

// Detail is one row of `t2_calls`: every documented field, typed.
type Detail struct {
	Date string // partition: business day of CallTimestamp

	CallID               string
	CallTimestamp        time.Time
	CallType             string
	DestinationNumber    string
	CallerNumber         string
	CallerName           string
	CalleeNumber         string
	CalleeName           string
	CallDuration         sql.Null[int32]
	ConversationDuration sql.Null[int32]
	CallStatus           string
	RecordFileName       string
	Extras               string
	RunID                string
	ExtractedAt          time.Time
}

// MapContext is what the mapping functions need besides the row.
type MapContext struct {
	Business    *time.Location // zone of the date partition
	RunID       string
	ExtractedAt time.Time
}

// parseTime parses an ISO date-time with offset (fractional seconds optional).
func parseTime(name, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, fmt.Errorf("%s is missing", name)
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s %q is not an ISO date-time with offset", name, s)
	}
	return t.UTC(), nil
}

// Map validates a call record and turns it into a canonical call and a
// t2_calls row. An error means the row belongs in rejects; its text is the
// reason. Unknown callType and callStatus values are kept, never rejected.
func Map(mc *MapContext, r *Record) (model.Call, Detail, error) {
	var (
		c   model.Call
		d   Detail
		err error
	)
	if d.CallTimestamp, err = parseTime("callTimestamp", r.CallTimestamp); err != nil {
		return c, d, err
	}
	if d.CallDuration, err = int32Field("callDuration", r.CallDuration); err != nil {
		return c, d, err
	}
	if d.ConversationDuration, err = int32Field("conversationDuration", r.ConversationDuration); err != nil {
		return c, d, err
	}
	d.Date = model.Day(d.CallTimestamp, mc.Business)
	d.CallID = Key(r)
	d.CallType, d.CallStatus = r.CallType, r.CallStatus
	d.DestinationNumber, d.CallerNumber, d.CallerName = r.DestinationNumber, r.CallerNumber, r.CallerName
	d.CalleeNumber, d.CalleeName, d.RecordFileName = r.CalleeNumber, r.CalleeName, r.RecordFileName
	d.Extras, d.RunID, d.ExtractedAt = r.Extras, mc.RunID, mc.ExtractedAt

	answered := Answered(r.CallStatus, d.ConversationDuration)
	talk := d.ConversationDuration
	if !talk.Valid && !answered {
		talk = sql.Null[int32]{V: 0, Valid: true}
	}
	callee := r.CalleeNumber
	if callee == "" {
		callee = r.DestinationNumber
	}
	c = model.Call{
		Source:       Name,
		Date:         d.Date,
		Account:      Account,
		CallID:       d.CallID,
		Direction:    Direction(r.CallType, answered),
		StartedAt:    d.CallTimestamp,
		Caller:       transform.Phone(r.CallerNumber),
		CallerRaw:    r.CallerNumber,
		Callee:       transform.Phone(callee),
		CalleeRaw:    callee,
		DurationS:    d.CallDuration,
		TalkS:        talk,
		Status:       r.CallStatus,
		HasRecording: answered && strings.TrimSpace(r.RecordFileName) != "",
		RunID:        mc.RunID,
		ExtractedAt:  mc.ExtractedAt,
	}
	if c.HasRecording {
		c.RecordingRef = r.RecordFileName
	}
	return c, d, nil
}

// Missed is one element of GET /statistics/missing as sent.
type Missed struct {
	ID, StartDate, WaitDuration                    string
	CallerNumber, DestinationNumber, CalleeCompany string
	CalleeNumber, CalleeName                       string
	Extras                                         string
	Raw                                            []byte
}

// DecodeMissed decodes one statistics/missing element; calleeCompanyId and
// callerCompanyId (the parameter table's spelling) are the same field.
func DecodeMissed(raw []byte) (Missed, error) {
	m := Missed{Raw: raw}
	var err error
	m.Extras, err = fields(raw, map[string]*string{
		"id": &m.ID, "startDate": &m.StartDate, "waitDuration": &m.WaitDuration,
		"callerNumber": &m.CallerNumber, "destinationNumber": &m.DestinationNumber,
		"calleeCompanyId": &m.CalleeCompany, "calleeNumber": &m.CalleeNumber, "calleeName": &m.CalleeName,
	}, map[string]string{"callerCompanyId": "calleeCompanyId"})
	return m, err
}

// MissedRow is one row of `t2_missed_calls`.
type MissedRow struct {
	Date string // partition: business day of StartDate

	ID                string
	StartDate         time.Time
	WaitDuration      sql.Null[int32]
	CallerNumber      string
	Caller            string // E.164 digits of CallerNumber
	DestinationNumber string
	CalleeCompanyID   sql.Null[int64]
	CalleeNumber      string
	CalleeName        string
	Extras            string
	RunID             string
	ExtractedAt       time.Time
}

// MapMissed validates a missed call.
func MapMissed(mc *MapContext, m *Missed) (MissedRow, error) {
	var (
		r   MissedRow
		err error
	)
	if m.ID == "" {
		return r, errors.New("id is missing")
	}
	if r.StartDate, err = parseTime("startDate", m.StartDate); err != nil {
		return r, err
	}
	if r.WaitDuration, err = int32Field("waitDuration", m.WaitDuration); err != nil {
		return r, err
	}
	if m.CalleeCompany != "" {
		v, err := strconv.ParseInt(m.CalleeCompany, 10, 64)
		if err != nil {
			return r, fmt.Errorf("calleeCompanyId %q is not an integer", m.CalleeCompany)
		}
		r.CalleeCompanyID = sql.Null[int64]{V: v, Valid: true}
	}
	r.Date = model.Day(r.StartDate, mc.Business)
	r.ID = m.ID
	r.CallerNumber, r.Caller = m.CallerNumber, transform.Phone(m.CallerNumber)
	r.DestinationNumber, r.CalleeNumber, r.CalleeName = m.DestinationNumber, m.CalleeNumber, m.CalleeName
	r.Extras, r.RunID, r.ExtractedAt = m.Extras, mc.RunID, mc.ExtractedAt
	return r, nil
}

func int32Field(name, s string) (sql.Null[int32], error) {
	if s == "" {
		return sql.Null[int32]{}, nil
	}
	v, err := strconv.ParseInt(s, 10, 32)
	if err != nil || v < 0 {
		// Durations sometimes come as 12.0: accept an integral JSON number.
		f, ferr := strconv.ParseFloat(s, 64)
		if ferr != nil || f < 0 || f > 1<<31-1 || f != float64(int64(f)) {
			return sql.Null[int32]{}, fmt.Errorf("%s %q is not a non-negative integer", name, s)
		}
		v = int64(f)
	}
	return sql.Null[int32]{V: int32(v), Valid: true}, nil
}

// MissedStatus is the calls.status of a missed MCN call that came from
// statistics/missing alone (no call record matched it).
const MissedStatus = "MCN_MISSED"

// MissedCall is the canonical call of a missed MCN call that no call record
// matched: call_id "missed:<id>", direction missed, status MCN_MISSED,
// duration_s the wait, talk_s 0, callee the employee offered the call or
// else the MCN.
func MissedCall(mc *MapContext, r *MissedRow) model.Call {
	callee := r.CalleeNumber
	if callee == "" {
		callee = r.DestinationNumber
	}
	return model.Call{
		Source:      Name,
		Date:        r.Date,
		Account:     Account,
		CallID:      "missed:" + r.ID,
		Direction:   model.Missed,
		StartedAt:   r.StartDate,
		Caller:      r.Caller,
		CallerRaw:   r.CallerNumber,
		Callee:      transform.Phone(callee),
		CalleeRaw:   callee,
		DurationS:   r.WaitDuration,
		TalkS:       sql.Null[int32]{V: 0, Valid: true},
		Status:      MissedStatus,
		RunID:       mc.RunID,
		ExtractedAt: mc.ExtractedAt,
	}
}
