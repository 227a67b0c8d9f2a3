package mobilgroup

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/calletl/calletl/extract/jsonscan"
)

// Field is a member of a JSON object that this version does not know,
// kept with its value's JSON text as sent.
type Field struct {
	Name string
	Raw  string
}

// State is a decoded answer to {"request":"state","id":…}. Every scalar is
// the text as sent (a JSON string unescaped, or a JSON number's text); a
// JSON null or a missing member is "".
type State struct {
	ID, Phones, Budget string
	Subscribers        []Subscriber
	Extras             []Field // unknown top-level members (result is known)
}

// Subscriber is one element of subscribers, in the order sent.
type Subscriber struct {
	Seq                                            int // 1-based position in subscribers: the stable key
	Phone, Date, Status, Attempts, Duration, Price string
	Transfer                                       *Transfer // nil when absent (missing, null, "", [] or every field empty)
	SMS                                            *SMS      // nil when absent
	Extras                                         []Field
	// Raw is the element's JSON text exactly as sent (invalid UTF-8
	// replaced by U+FFFD): what rejects keep.
	Raw string
	// Err is why the element is not a readable subscriber (not an object, a
	// member of the wrong JSON type); the other fields are then partial.
	Err error
}

// Transfer is a subscriber's transfer leg: the script forwarded the
// subscriber to an external number (an operator).
type Transfer struct {
	Number, Duration, Price, Status string
	Extras                          []Field
}

// SMS is a subscriber's SMS leg, sent when the subscriber did not answer.
type SMS struct {
	Date, Message, Partition, Price, Status string
	Extras                                  []Field
}

// Balance is a decoded answer to {"request":"balance"}.
type Balance struct {
	Balance, Currency string
	Extras            []Field
}

// headLen is how much of an unreadable body an error quotes.
const headLen = 120

// head returns the first bytes of body for an error message, as a quoted
// Go string (invalid UTF-8 shown as escapes).
func head(body []byte) string {
	if len(body) <= headLen {
		return fmt.Sprintf("%q", body)
	}
	n := headLen
	for n > 0 && !utf8.RuneStart(body[n]) {
		n--
	}
	return fmt.Sprintf("%q…", body[:n])
}

// member is one member of the answer object.
type member struct {
	name string
	kind jsonscan.Kind
	raw  []byte
}

// object reads the members of the JSON object raw (already validated), in
// order. Names are matched case-insensitively by the callers; the first of
// duplicate names wins.
func object(raw []byte) ([]member, error) {
	s := jsonscan.New(raw)
	var ms []member
	err := s.Object(func(key []byte) error {
		k, v, err := s.Value()
		if err != nil {
			return err
		}
		ms = append(ms, member{name: clean(string(key)), kind: k, raw: v})
		return nil
	})
	return ms, err
}

// clean replaces invalid UTF-8 (the lake stores UTF-8 strings).
func clean(s string) string { return strings.ToValidUTF8(s, "\uFFFD") }

// scalar returns a string, number or null member as text.
func scalar(m member) (string, error) {
	switch m.kind {
	case jsonscan.String, jsonscan.Number, jsonscan.Null:
		t, _, err := jsonscan.Text(m.kind, m.raw)
		if err != nil {
			return "", fmt.Errorf("%s: %v", m.name, err)
		}
		return clean(t), nil
	}
	return "", fmt.Errorf("%s: want a string or a number, got %s %s", m.name, m.kind, clip(m.raw))
}

// clip returns raw for an error message, cut to 60 bytes.
func clip(raw []byte) string {
	if len(raw) <= 60 {
		return string(raw)
	}
	n := 60
	for n > 0 && !utf8.RuneStart(raw[n]) {
		n--
	}
	return string(raw[:n]) + "…"
}

// fields assigns the members named in dst (lower-case names) and returns
// the others as extras. The first member of a name wins; later duplicates
// are dropped.
func fields(ms []member, dst map[string]*string, nested map[string]func(member) error) ([]Field, error) {
	seen := make(map[string]bool, len(ms))
	var extras []Field
	for _, m := range ms {
		key := strings.ToLower(m.name)
		if seen[key] {
			continue
		}
		seen[key] = true
		if p, ok := dst[key]; ok {
			v, err := scalar(m)
			if err != nil {
				return extras, err
			}
			*p = v
			continue
		}
		if fn, ok := nested[key]; ok {
			if err := fn(m); err != nil {
				return extras, err
			}
			continue
		}
		extras = append(extras, Field{Name: m.name, Raw: clean(string(m.raw))})
	}
	return extras, nil
}

// envelope validates body as one JSON object and returns its members. An
// error answer is returned as *APIError; a body that is not a JSON object,
// or that has a result other than ok, as an error wrapping ErrUnreadable
// that quotes the body's first bytes. want names the member a successful
// answer must carry when it has no result member at all.
func envelope(body []byte, want string) ([]member, error) {
	trimmed := bytes.TrimPrefix(bytes.TrimLeft(body, " \t\r\n"), []byte("\xef\xbb\xbf"))
	s := jsonscan.New(trimmed)
	k, _, err := s.Value()
	if err == nil {
		err = s.End()
	}
	if err == nil && k != jsonscan.Object {
		err = fmt.Errorf("a JSON %s, not an object", k)
	}
	if err != nil {
		if len(bytes.TrimSpace(body)) == 0 {
			return nil, fmt.Errorf("%w: empty body", ErrUnreadable)
		}
		return nil, fmt.Errorf("%w: not a JSON answer (%v); body starts %s", ErrUnreadable, err, head(body))
	}
	ms, err := object(trimmed)
	if err != nil { // validated above: cannot happen
		return nil, fmt.Errorf("%w: %v; body starts %s", ErrUnreadable, err, head(body))
	}
	var result, code, desc string
	var hasResult, hasCode, hasWant bool
	for _, m := range ms {
		switch strings.ToLower(m.name) {
		case "result":
			if !hasResult {
				hasResult = true
				result, _ = scalar(m)
			}
		case "error_code":
			if !hasCode {
				hasCode = true
				code, _ = scalar(m)
			}
		case "description", "error":
			if desc == "" {
				desc, _ = scalar(m)
			}
		case want:
			hasWant = true
		}
	}
	result = strings.TrimSpace(result)
	switch {
	case strings.EqualFold(result, "error") || (hasCode && !strings.EqualFold(result, "ok")):
		return nil, &APIError{Code: strings.TrimSpace(code), Description: desc}
	case strings.EqualFold(result, "ok") || (!hasResult && hasWant):
		return ms, nil
	}
	return nil, fmt.Errorf("%w: result %q is neither ok nor error; body starts %s", ErrUnreadable, result, head(body))
}

// DecodeState reads the answer to a state request. An error answer is an
// *APIError; a body that is not a JSON object with result ok (HTML, a cut
// body, the vendor document's malformed example) is an error wrapping
// ErrUnreadable that quotes its first bytes, and so is a top-level member
// of the wrong JSON type. Values may be JSON strings or numbers. A
// subscriber element that cannot be read does not fail the answer: it
// carries its Err (and its Raw text) for the rejects table.
func DecodeState(body []byte) (*State, error) {
	ms, err := envelope(body, "subscribers")
	if err != nil {
		return nil, err
	}
	st := &State{}
	var subs []byte
	st.Extras, err = fields(ms, map[string]*string{"id": &st.ID, "phones": &st.Phones, "budget": &st.Budget},
		map[string]func(member) error{
			"result": func(member) error { return nil },
			"subscribers": func(m member) error {
				switch m.kind {
				case jsonscan.Array:
					subs = m.raw
				case jsonscan.Null:
				default:
					return fmt.Errorf("subscribers: want an array, got %s %s", m.kind, clip(m.raw))
				}
				return nil
			},
		})
	if err != nil {
		return nil, fmt.Errorf("%w: %v; body starts %s", ErrUnreadable, err, head(body))
	}
	if subs != nil {
		s := jsonscan.New(subs)
		err := s.Array(func() error {
			_, raw, err := s.Value()
			if err != nil {
				return err
			}
			st.Subscribers = append(st.Subscribers, decodeSubscriber(len(st.Subscribers)+1, raw))
			return nil
		})
		if err != nil { // validated above: cannot happen
			return nil, fmt.Errorf("%w: %v; body starts %s", ErrUnreadable, err, head(body))
		}
	}
	return st, nil
}

// decodeSubscriber reads one element of subscribers.
func decodeSubscriber(seq int, raw []byte) Subscriber {
	sub := Subscriber{Seq: seq, Raw: clean(string(raw))}
	if k := jsonscan.New(raw).Peek(); k != jsonscan.Object {
		sub.Err = fmt.Errorf("subscriber %d is a JSON %s, not an object", seq, k)
		return sub
	}
	ms, err := object(raw)
	if err != nil {
		sub.Err = err
		return sub
	}
	sub.Extras, sub.Err = fields(ms,
		map[string]*string{"phone": &sub.Phone, "date": &sub.Date, "status": &sub.Status,
			"attempts": &sub.Attempts, "duration": &sub.Duration, "price": &sub.Price},
		map[string]func(member) error{
			"transfer": func(m member) error {
				t := &Transfer{}
				ok, err := leg(m, map[string]*string{"number": &t.Number, "duration": &t.Duration,
					"price": &t.Price, "status": &t.Status}, &t.Extras)
				if ok {
					sub.Transfer = t
				}
				return err
			},
			"sms": func(m member) error {
				t := &SMS{}
				ok, err := leg(m, map[string]*string{"date": &t.Date, "message": &t.Message,
					"partition": &t.Partition, "price": &t.Price, "status": &t.Status}, &t.Extras)
				if ok {
					sub.SMS = t
				}
				return err
			},
		})
	return sub
}

// leg reads a transfer or sms member. null, "", [] and an object whose
// fields are all empty (and has no unknown members) are absent (ok false).
func leg(m member, dst map[string]*string, extras *[]Field) (ok bool, err error) {
	switch m.kind {
	case jsonscan.Null:
		return false, nil
	case jsonscan.String:
		if string(m.raw) == `""` {
			return false, nil
		}
	case jsonscan.Array:
		if len(bytes.TrimSpace(m.raw[1:len(m.raw)-1])) == 0 {
			return false, nil
		}
	case jsonscan.Object:
		ms, err := object(m.raw)
		if err != nil {
			return false, err
		}
		*extras, err = fields(ms, dst, nil)
		if err != nil {
			return false, fmt.Errorf("%s.%w", m.name, err)
		}
		if len(*extras) > 0 {
			return true, nil
		}
		for _, p := range dst {
			if *p != "" {
				return true, nil
			}
		}
		return false, nil
	}
	return false, fmt.Errorf("%s: want an object, got %s %s", m.name, m.kind, clip(m.raw))
}

// DecodeBalance reads the answer to a balance request; errors as for
// DecodeState. An answer without a balance member is an error wrapping
// ErrUnreadable.
func DecodeBalance(body []byte) (*Balance, error) {
	ms, err := envelope(body, "balance")
	if err != nil {
		return nil, err
	}
	b := &Balance{}
	var has bool
	for _, m := range ms {
		if strings.EqualFold(m.name, "balance") {
			has = true
		}
	}
	b.Extras, err = fields(ms, map[string]*string{"balance": &b.Balance, "currency": &b.Currency},
		map[string]func(member) error{"result": func(member) error { return nil }})
	if err == nil && !has {
		err = fmt.Errorf("no balance member")
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v; body starts %s", ErrUnreadable, err, head(body))
	}
	return b, nil
}

// extrasJSON returns the unknown members of a subscriber and of its legs
// (as "transfer.<name>" and "sms.<name>") as one JSON object, "" when there
// are none.
func extrasJSON(sub *Subscriber) string {
	var b strings.Builder
	n := 0
	add := func(prefix string, fs []Field) {
		for _, f := range fs {
			if n == 0 {
				b.WriteByte('{')
			} else {
				b.WriteByte(',')
			}
			n++
			k, _ := json.Marshal(prefix + f.Name)
			b.Write(k)
			b.WriteByte(':')
			b.WriteString(f.Raw)
		}
	}
	add("", sub.Extras)
	if sub.Transfer != nil {
		add("transfer.", sub.Transfer.Extras)
	}
	if sub.SMS != nil {
		add("sms.", sub.SMS.Extras)
	}
	if n == 0 {
		return ""
	}
	b.WriteByte('}')
	return b.String()
}

// fieldsJSON returns fs as a JSON object, "" when empty.
func fieldsJSON(fs []Field) string {
	if len(fs) == 0 {
		return ""
	}
	return extrasJSON(&Subscriber{Extras: fs})
}
