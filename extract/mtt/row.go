package mtt

import (
	"strings"

	"github.com/calletl/calletl/extract/jsonscan"
)

// Row is one call history row as the API sends it. Its strings share the
// page body's memory, which stays alive as long as any of them does: every documented field
// as text (integers arrive as strings or numbers, any field may be missing),
// unknown fields (Extras builds them into a JSON object), and the row's
// exact bytes.
type Row struct {
	CLI                string
	CLD                string // "cld", or "clid" as some answers spell it
	CustomerLocalTime  string
	ConnectTime        string
	ChargedTime        string
	Charged            string // the JSON number's text: money never passes through float64
	Curr               string
	Destination        string
	DisconnectCause    string
	SetupTimeMs        string
	AccountID          string
	UsedQuantity       string
	H323ConfID         string
	H323IncomingConfID string
	VoiceRecordExist   string // "true", "false", "" when missing
	Raw                []byte // the row exactly as sent (aliases the page body)

	extras []extraField // unknown fields, in order
}

// extraField is a field this version does not know: its key, unescaped,
// and its value exactly as sent (aliasing the page body).
type extraField struct {
	key string
	raw []byte
}

// Extras returns the unknown fields as a JSON object, "" when none. It is
// built on each call, not when the page is scanned, so that a page's rows
// do not hold a second copy of large unknown fields while they wait to be
// mapped: the copy lives from Map to the row's append to the lake.
func (r *Row) Extras() string {
	if len(r.extras) == 0 {
		return ""
	}
	n := 1
	for _, f := range r.extras {
		n += len(f.key) + len(f.raw) + 8 // quotes, colon, comma or brace; escapes may grow it
	}
	var b strings.Builder
	b.Grow(n)
	for i, f := range r.extras {
		if i == 0 {
			b.WriteByte('{')
		} else {
			b.WriteByte(',')
		}
		writeJSONString(&b, f.key)
		b.WriteByte(':')
		b.Write(f.raw)
	}
	b.WriteByte('}')
	return b.String()
}

// field returns the destination of a documented key, nil for unknown keys.
func (r *Row) field(key []byte) *string {
	switch string(key) {
	case "cli":
		return &r.CLI
	case "cld", "clid":
		return &r.CLD
	case "customer_local_time":
		return &r.CustomerLocalTime
	case "connect_time":
		return &r.ConnectTime
	case "charged_time":
		return &r.ChargedTime
	case "charged":
		return &r.Charged
	case "curr":
		return &r.Curr
	case "destination":
		return &r.Destination
	case "disconnect_cause":
		return &r.DisconnectCause
	case "setup_time_ms":
		return &r.SetupTimeMs
	case "account_id":
		return &r.AccountID
	case "used_quantity":
		return &r.UsedQuantity
	case "h323_conf_id":
		return &r.H323ConfID
	case "h323_incoming_conf_id":
		return &r.H323IncomingConfID
	case "voice_record_exist":
		return &r.VoiceRecordExist
	}
	return nil
}

// scanRow reads one row object. Documented fields must be scalars; unknown
// fields of any shape are kept in Extras.
func scanRow(s *jsonscan.Scanner, r *Row) error {
	isObject := s.Peek() == jsonscan.Object // skips leading whitespace
	start := s.Pos()
	if !isObject {
		_, raw, err := s.Value()
		if err != nil {
			return err
		}
		r.Raw = raw
		return errNotObject
	}
	r.extras = r.extras[:0]
	err := s.Object(func(key []byte) error {
		kind, raw, err := s.Value()
		if err != nil {
			return err
		}
		dst := r.field(key)
		if dst == nil || kind == jsonscan.Object || kind == jsonscan.Array {
			// The key may be unescaped into a buffer reused for the next
			// one: copy it (keys are short). The value stays in the body.
			r.extras = append(r.extras, extraField{key: string(key), raw: raw})
			return nil
		}
		// Fields share the page body's memory: a page's rows are consumed
		// (copied into Arrow builders) before the body is dropped, and the
		// body is never modified.
		text, _, err := jsonscan.TextView(kind, raw)
		if err != nil {
			return err
		}
		*dst = text
		return nil
	})
	if err != nil {
		return err
	}
	r.Raw = s.Bytes()[start:s.Pos()]
	return nil
}

// writeJSONString writes key (already unescaped) as a JSON string.
func writeJSONString(b *strings.Builder, key string) {
	b.WriteByte('"')
	for _, c := range []byte(key) {
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20:
			const hex = "0123456789abcdef"
			b.WriteString(`\u00`)
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
}
