package mtt

import (
	"strings"

	"github.com/calletl/calletl/extract/jsonscan"
)

// Row is one call history row as the API sends it. Its strings share the
// page body's memory, which stays alive as long as any of them does: every documented field
// as text (integers arrive as strings or numbers, any field may be missing),
// unknown fields kept as a JSON object, and the row's exact bytes.
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
	Extras             string // unknown fields as a JSON object, "" when none
	Raw                []byte // the row exactly as sent (aliases the page body)
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
	var extras strings.Builder
	err := s.Object(func(key []byte) error {
		kind, raw, err := s.Value()
		if err != nil {
			return err
		}
		dst := r.field(key)
		if dst == nil || kind == jsonscan.Object || kind == jsonscan.Array {
			// Room for the key, quotes, separator, value and closing
			// brace at once: growing by appends would copy a large
			// value again.
			extras.Grow(len(key) + len(raw) + 8)
			if extras.Len() == 0 {
				extras.WriteByte('{')
			} else {
				extras.WriteByte(',')
			}
			writeJSONString(&extras, key)
			extras.WriteByte(':')
			extras.Write(raw)
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
	if extras.Len() > 0 {
		extras.WriteByte('}')
		r.Extras = extras.String()
	}
	r.Raw = s.Bytes()[start:s.Pos()]
	return nil
}

// writeJSONString writes key (already unescaped) as a JSON string.
func writeJSONString(b *strings.Builder, key []byte) {
	b.WriteByte('"')
	for _, c := range key {
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
