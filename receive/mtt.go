package receive

import (
	"bytes"
	"cmp"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/calletl/calletl/extract/votbox"
	"github.com/calletl/calletl/transform"
)

// MTT call-progress notifications (mtt-telecom-api.txt). Three documented
// shapes, told apart by their fields:
//
//   - followme: the events of a getControlCallFollowMe call sent to the
//     event_URL the client answered with, POSTed as JSON: date_time (unix),
//     data ("event=o_79684881033_2019-05-23-15-15-19", sometimes with
//     "&cause=16"), event {type o|s|h|sp|ep|t, side A|B}, h323_conf_id,
//     numberA, sip_id, client_id, redirect_number.
//   - smartcall: the smart-call (sb-api) events, POSTed as JSON or sent as
//     form fields: date_time ("2019-03-29-11-37-13", Moscow), id (the
//     request's messId), CallID, event "o_<number>", "n_<number>" or
//     "h_<number>_<cause>_<duration>", and with DTMF actions dtmf and type
//     (transfer|notify). The document also prints them wrapped in braces,
//     {"date_time=…&…"}: that shape is accepted as the form it wraps.
//   - callback: callback call progress, a GET with event (start_side_A,
//     pickup_side_A, start_side_B, start_talk, end_side_B, end_side_A), id
//     and phone_A; it carries no time of its own.
//
// No shape has a per-event id (id and CallID are shared by the events of
// one call or task) and no answer or retry policy is documented: the id is
// the hash of the fields ([EventID]) and the receiver answers 200.

// MTT times in text are Moscow time (the document: "по МСК").
const mttTimeLayout = "2006-01-02-15-04-05"

var mttCallbackEvents = map[string]bool{
	"start_side_A": true, "pickup_side_A": true, "start_side_B": true,
	"start_talk": true, "end_side_B": true, "end_side_A": true,
}

// DecodeMTT turns an MTT notification into an Event of source: body is the
// request body (JSON or a form) with its Content-Type, query the raw query
// string (the GET shape). It refuses, wrapping ErrBadEvent, what is none of
// the documented shapes or lacks their identifying fields.
func DecodeMTT(source, contentType string, body []byte, query string, at time.Time) (Event, error) {
	fields, err := mttFields(contentType, body, query)
	if err != nil {
		return Event{}, err
	}
	ev := Event{Vendor: MTT, Source: source, Fields: fields, ReceivedAt: at.UTC()}
	switch {
	case fields["event.type"] != "":
		ev.Kind = KindMTTFollowMe
	case fields["CallID"] != "":
		ev.Kind = KindMTTSmartCall
	case mttCallbackEvents[fields["event"]]:
		ev.Kind = KindMTTCallback
	default:
		return Event{}, badf("not a documented MTT event: want event.type (follow-me events), CallID (smart-call events) or event=start_side_A… (callback progress)")
	}
	if _, err := mttRow(&ev); err != nil {
		return Event{}, err
	}
	ev.ID = EventID(ev.Vendor, ev.Source, ev.Kind, ev.Fields)
	return ev, nil
}

// braced matches the document's {"date_time=…&event=…"} and
// {"data":{"date_time=…"}} shapes (a form in braces and quotes).
var braced = regexp.MustCompile(`^\{\s*(?:"data"\s*:\s*\{\s*)?"([^"{}]*=[^"{}]*)"\s*\}?\s*\}\s*,?$`)

func mttFields(contentType string, body []byte, query string) (map[string]string, error) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		if query == "" {
			return nil, badf("no event: empty body and no query parameters")
		}
		return queryFields(query, func(s string) string { return s })
	}
	mt := ""
	if contentType != "" {
		var err error
		if mt, _, err = mime.ParseMediaType(contentType); err != nil {
			return nil, badf("Content-Type %.60q: %v", contentType, err)
		}
	}
	switch {
	case mt == "application/json" || mt == "text/json" || (mt == "" || mt == "text/plain") && body[0] == '{':
		if m := braced.FindSubmatch(body); m != nil && !json.Valid(body) {
			return queryFields(string(m[1]), func(s string) string { return s })
		}
		return jsonFields(body)
	case mt == "application/x-www-form-urlencoded" || mt == "" || mt == "text/plain":
		return queryFields(string(body), func(s string) string { return s })
	default:
		return nil, fmt.Errorf("%w: %w: Content-Type %.60q: want application/json or application/x-www-form-urlencoded", ErrBadEvent, ErrMediaType, mt)
	}
}

// jsonFields flattens a JSON object: nested objects become dotted keys,
// numbers keep their text, arrays stay JSON text, null is dropped.
func jsonFields(body []byte) (map[string]string, error) {
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	var obj map[string]any
	if err := d.Decode(&obj); err != nil {
		return nil, badf("body is not a JSON object: %v", err)
	}
	if _, err := d.Token(); !errors.Is(err, io.EOF) {
		return nil, badf("body holds more than one JSON value")
	}
	fields := make(map[string]string)
	var walk func(prefix string, m map[string]any) error
	walk = func(prefix string, m map[string]any) error {
		for k, v := range m {
			key, err := text("field name", k)
			if err != nil {
				return err
			}
			key = prefix + key
			var s string
			switch v := v.(type) {
			case nil:
				continue
			case map[string]any:
				if err := walk(key+".", v); err != nil {
					return err
				}
				continue
			case string:
				s = v
			case json.Number:
				s = v.String()
			case bool:
				s = strconv.FormatBool(v)
			default:
				b, _ := json.Marshal(v)
				s = string(b)
			}
			if len(s) > maxValueLen {
				return badf("%s: longer than %d bytes", key, maxValueLen)
			}
			if s, err = text(key, s); err != nil {
				return err
			}
			if s != "" {
				fields[key] = s
			}
			if len(fields) > MaxFields {
				return badf("more than %d fields", MaxFields)
			}
		}
		return nil
	}
	if err := walk("", obj); err != nil {
		return nil, err
	}
	return fields, nil
}

// MTTRow is one row of mtt_events.
type MTTRow struct {
	Date           string // partition: the event's day in the business zone
	EventID        string
	Kind           string
	CallID         string
	Event          string
	Side           string
	EventTime      time.Time
	Number         string // the number the event is about: b_number, redirect_number, phone_A
	NumberA        string
	SIPID          string
	RedirectNumber string
	ClientID       string
	TaskID         string
	DTMF           string
	NotifyType     string
	Cause          sql.Null[int32]
	Duration       sql.Null[int32]
	Data           string
	Fields         string
	ReceivedAt     time.Time
}

// mttRow maps an MTT event to its row (Date is left to the caller).
func mttRow(ev *Event) (MTTRow, error) {
	f := ev.Fields
	r := MTTRow{
		EventID: ev.ID, Kind: ev.Kind, NumberA: transform.Phone(f["numberA"]), SIPID: transform.Phone(f["sip_id"]),
		RedirectNumber: transform.Phone(f["redirect_number"]), ClientID: f["client_id"], Data: f["data"],
		Fields: fieldsJSON(f), ReceivedAt: ev.ReceivedAt,
	}
	switch ev.Kind {
	case KindMTTFollowMe:
		// The document's hang-up example pads h323_conf_id with spaces.
		r.CallID, r.Event, r.Side = strings.TrimSpace(f["h323_conf_id"]), f["event.type"], f["event.side"]
		if r.CallID == "" {
			return r, badf("follow-me event without h323_conf_id")
		}
		if s := f["date_time"]; s != "" {
			u, err := strconv.ParseInt(s, 10, 64)
			if err != nil || u < 0 {
				return r, badf("date_time %.40q: want unix seconds", s)
			}
			r.EventTime = time.Unix(u, 0).UTC()
		}
		// data is "event=<type>_<number>_<time>[&cause=N]".
		data, cause, _ := strings.Cut(r.Data, "&cause=")
		if parts := strings.Split(strings.TrimPrefix(data, "event="), "_"); len(parts) >= 2 {
			r.Number = transform.Phone(parts[1])
		}
		// The hang-up example also sends it in the event object.
		if c := cmp.Or(f["event.cause"], f["cause"]); c != "" {
			cause = c
		}
		if err := setInt(&r.Cause, "cause", strings.TrimSpace(cause)); err != nil {
			return r, err
		}
	case KindMTTSmartCall:
		r.CallID, r.TaskID, r.DTMF, r.NotifyType = f["CallID"], f["id"], f["dtmf"], f["type"]
		if r.DTMF == "null" {
			r.DTMF = ""
		}
		ev := f["event"]
		parts := strings.Split(ev, "_")
		r.Event = parts[0]
		switch {
		case ev == "":
			return r, badf("smart-call event without event")
		case (r.Event == "o" || r.Event == "n") && len(parts) == 2:
			r.Number = transform.Phone(parts[1])
		case r.Event == "h" && len(parts) == 4:
			r.Number = transform.Phone(parts[1])
			if err := setInt(&r.Cause, "event cause", parts[2]); err != nil {
				return r, err
			}
			if err := setInt(&r.Duration, "event duration", parts[3]); err != nil {
				return r, err
			}
		default:
			return r, badf("event %.60q: want o_<number>, n_<number> or h_<number>_<cause>_<duration>", ev)
		}
		if s := f["date_time"]; s != "" {
			t, err := time.ParseInLocation(mttTimeLayout, s, votbox.Moscow) // Moscow time, as for VotBox
			if err != nil {
				return r, badf("date_time %.40q: want YYYY-MM-DD-HH-MM-SS", s)
			}
			r.EventTime = t.UTC()
		}
	case KindMTTCallback:
		r.CallID, r.Event, r.Number = f["id"], f["event"], transform.Phone(f["phone_A"])
		if r.CallID == "" {
			return r, badf("callback event without id")
		}
		if i := strings.LastIndexByte(r.Event, '_'); i > 0 {
			r.Side = r.Event[i+1:]
			if r.Side != "A" && r.Side != "B" {
				r.Side = ""
			}
		}
	}
	return r, nil
}

// fieldsJSON returns the fields as a JSON object with sorted keys.
func fieldsJSON(f map[string]string) string {
	b, _ := json.Marshal(f)
	return string(b)
}
