package mtt

import (
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/calletl/calletl/model"
	"github.com/calletl/calletl/transform"
)

// History types (the "type" parameter) and the canonical direction each maps to.
var directions = map[string]string{
	"incoming":  model.Incoming,
	"missed":    model.Missed,
	"dialed":    model.Outgoing,
	"forwarded": model.Forwarded,
}

// Types lists the call history types in the order they are extracted.
var Types = []string{"incoming", "missed", "dialed", "forwarded"}

// timeLayout is the API's date-time format.
const timeLayout = "2006-01-02 15:04:05"

// Detail is one row of the `mtt_calls` table: the key of the call's
// canonical row and the documented fields the canonical row does not hold,
// typed, plus the fields the vendor added that we do not know (Extras,
// JSON).
type Detail struct {
	Date string // partition: business day of the call's start

	Customer           string // customer_name the history was asked for
	Type               string // incoming | missed | dialed | forwarded
	CallID             string // natural key: h323_conf_id, or "sha256:…" of the row when empty
	CustomerLocalTime  sql.Null[time.Time]
	Destination        string
	SetupTimeMs        sql.Null[int32]
	AccountID          string
	H323ConfID         string
	H323IncomingConfID string
	VoiceRecordExist   sql.Null[bool]
	Extras             string
	// What top_destinations groups by destination, kept here so that it
	// reads mtt_calls alone instead of joining calls: calls.billed_s,
	// calls.cost and calls.currency again.
	ChargedTime sql.Null[int32]
	Charged     sql.Null[model.Money]
	Curr        string
	Duplicate   bool // the lake writer's repeat flag, as calls.duplicate
}

// MapContext is what Map needs besides the row.
type MapContext struct {
	Customer    string
	Type        string
	Vendor      *time.Location // zone of the API's times (UTC unless configured)
	Business    *time.Location // zone of the date partition
	RunID       string
	ExtractedAt time.Time

	// The business day of the last row Map saw, [dayFrom, dayTo): rows of
	// a window share it, so most rows need no formatting.
	dayFrom, dayTo time.Time
	day            string
}

// businessDay returns model.Day(t, mc.Business), reusing the last answer
// while t stays in that day.
func (mc *MapContext) businessDay(t time.Time) string {
	if mc.day != "" && !t.Before(mc.dayFrom) && t.Before(mc.dayTo) {
		return mc.day
	}
	mc.day = model.Day(t, mc.Business)
	y, m, d := t.In(mc.Business).Date()
	mc.dayFrom = time.Date(y, m, d, 0, 0, 0, 0, mc.Business)
	mc.dayTo = time.Date(y, m, d+1, 0, 0, 0, 0, mc.Business)
	return mc.day
}

// parseTime is time.ParseInLocation(timeLayout, s, loc), faster for the
// usual text: exactly "YYYY-MM-DD HH:MM:SS" in digits is built with
// time.Date; anything else, and a value time.Date would normalise (month
// 13, 30 February, hour 24), goes to time.ParseInLocation, which accepts
// or rejects it as before.
func parseTime(s string, loc *time.Location) (time.Time, error) {
	if len(s) == len(timeLayout) && s[4] == '-' && s[7] == '-' && s[10] == ' ' && s[13] == ':' && s[16] == ':' {
		num := func(i, n int) int {
			v := 0
			for _, c := range []byte(s[i : i+n]) {
				if c < '0' || c > '9' {
					return -1
				}
				v = v*10 + int(c-'0')
			}
			return v
		}
		y, mo, d, h, mi, sec := num(0, 4), num(5, 2), num(8, 2), num(11, 2), num(14, 2), num(17, 2)
		if y >= 0 && mo >= 1 && mo <= 12 && d >= 1 && h >= 0 && h < 24 && mi >= 0 && mi < 60 && sec >= 0 && sec < 60 {
			t := time.Date(y, time.Month(mo), d, h, mi, sec, 0, loc)
			if ty, tm, td := t.Date(); ty == y && int(tm) == mo && td == d {
				return t, nil
			}
		}
	}
	return time.ParseInLocation(timeLayout, s, loc)
}

// errNotObject marks a row element that is not a JSON object.
var errNotObject = errors.New("row is not a JSON object")

// Key returns the natural key of a row within (customer, type): its
// h323_conf_id, or a hash of the whole row when that is empty.
func Key(r *Row) string {
	if id := strings.TrimSpace(r.H323ConfID); id != "" {
		return id
	}
	sum := sha256.Sum256(r.Raw)
	return "sha256:" + hex.EncodeToString(sum[:16])
}

// Map validates a wire row and turns it into a canonical call and a detail
// row. An error means the row belongs in rejects; its text is the reason.
func Map(mc *MapContext, r *Row) (model.Call, Detail, error) {
	var (
		c   model.Call
		d   Detail
		err error
	)
	direction, ok := directions[mc.Type]
	if !ok {
		return c, d, fmt.Errorf("unknown history type %q", mc.Type)
	}
	if r.ConnectTime == "" {
		return c, d, errors.New("connect_time is missing")
	}
	c.StartedAt, err = parseTime(r.ConnectTime, mc.Vendor)
	if err != nil {
		return c, d, fmt.Errorf("connect_time %q is not YYYY-MM-DD HH:MM:SS", r.ConnectTime)
	}
	c.StartedAt = c.StartedAt.UTC()
	if r.CustomerLocalTime != "" {
		t, err := parseTime(r.CustomerLocalTime, mc.Vendor)
		if err != nil {
			return c, d, fmt.Errorf("customer_local_time %q is not YYYY-MM-DD HH:MM:SS", r.CustomerLocalTime)
		}
		d.CustomerLocalTime = sql.Null[time.Time]{V: t.UTC(), Valid: true}
	}
	if c.BilledS, err = int32Field("charged_time", r.ChargedTime); err != nil {
		return c, d, err
	}
	if d.SetupTimeMs, err = int32Field("setup_time_ms", r.SetupTimeMs); err != nil {
		return c, d, err
	}
	if c.DurationS, err = int32Field("used_quantity", r.UsedQuantity); err != nil {
		return c, d, err
	}
	cause, err := int32Field("disconnect_cause", r.DisconnectCause)
	if err != nil {
		return c, d, err
	}
	if cause.Valid {
		if cause.V > 999 {
			return c, d, fmt.Errorf("disconnect_cause %d is not a Q.850 code", cause.V)
		}
		c.DisconnectCause = sql.Null[int16]{V: int16(cause.V), Valid: true}
		c.DisconnectLabel = transform.CauseLabel(int(cause.V))
	}
	if r.Charged != "" {
		m, err := transform.Money(r.Charged)
		if err != nil {
			return c, d, fmt.Errorf("charged: %w", err)
		}
		c.Cost = sql.Null[model.Money]{V: m, Valid: true}
	}
	switch r.VoiceRecordExist {
	case "":
	case "true", "1":
		d.VoiceRecordExist = sql.Null[bool]{V: true, Valid: true}
	case "false", "0":
		d.VoiceRecordExist = sql.Null[bool]{V: false, Valid: true}
	default:
		return c, d, fmt.Errorf("voice_record_exist %q is not a boolean", r.VoiceRecordExist)
	}

	// The canonical row, and the detail row: its key and what the
	// canonical row does not hold (see CallsTable).
	c.Source, c.Date, c.Account, c.CallID, c.Direction = Name, mc.businessDay(c.StartedAt), mc.Customer, Key(r), direction
	c.Caller, c.CallerRaw = transform.Phone(r.CLI), r.CLI
	c.Callee, c.CalleeRaw = transform.Phone(r.CLD), r.CLD
	c.TalkS = c.DurationS
	if mc.Type == "missed" {
		c.TalkS = sql.Null[int32]{V: 0, Valid: true}
	}
	c.Currency, c.Status = r.Curr, status(mc.Type, c.DurationS)
	c.HasRecording = d.VoiceRecordExist.V
	if c.HasRecording && r.H323ConfID != "" {
		c.RecordingRef = RecordID(r.H323ConfID)
	}
	c.RunID, c.ExtractedAt = mc.RunID, mc.ExtractedAt

	d.Date, d.Customer, d.Type, d.CallID = c.Date, mc.Customer, mc.Type, c.CallID
	d.Destination, d.AccountID = r.Destination, r.AccountID
	d.H323ConfID, d.H323IncomingConfID = r.H323ConfID, r.H323IncomingConfID
	d.Extras = r.Extras()
	d.ChargedTime, d.Charged, d.Curr = c.BilledS, c.Cost, c.Currency
	return c, d, nil
}

// RecordID is the id the recordings API takes: h323_conf_id with its spaces
// replaced by underscores.
func RecordID(confID string) string {
	return strings.ReplaceAll(strings.TrimSpace(confID), " ", "_")
}

// status is MTT's call outcome in words: the API has no status field, so it
// is derived from the history type and the connected seconds.
func status(typ string, used sql.Null[int32]) string {
	switch {
	case typ == "missed":
		return "missed"
	case used.Valid && used.V > 0:
		return "answered"
	default:
		return "not_answered"
	}
}

func int32Field(name, s string) (sql.Null[int32], error) {
	if s == "" {
		return sql.Null[int32]{}, nil
	}
	v, err := strconv.ParseInt(s, 10, 32)
	if err != nil || v < 0 {
		return sql.Null[int32]{}, fmt.Errorf("%s %q is not a non-negative integer", name, s)
	}
	return sql.Null[int32]{V: int32(v), Valid: true}, nil
}
