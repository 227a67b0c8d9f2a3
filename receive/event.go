package receive

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
)

// Vendors whose notifications the receiver accepts.
const (
	VotBox = "votbox"
	MTT    = "mtt"
)

// Kinds of events (Event.Kind).
const (
	KindVotBoxNotify = "notify"    // VotBox NotifyUrl (votbox-api.txt §16)
	KindMTTFollowMe  = "followme"  // MTT getControlCallFollowMe event_URL events
	KindMTTSmartCall = "smartcall" // MTT smart-call (sb-api) call-progress events
	KindMTTCallback  = "callback"  // MTT callback call-progress (start_side_A …)
)

// ErrBadEvent is wrapped by every decoding error: the request is refused
// with 400 and the message says what is wrong (never a secret: the secret
// travels in the path or a header, which decoders do not see).
var ErrBadEvent = errors.New("bad event")

// ErrMediaType is wrapped (with ErrBadEvent) by a decoding error about the
// body's Content-Type: the request is refused with 415.
var ErrMediaType = errors.New("unsupported media type")

func badf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrBadEvent}, args...)...)
}

// Event is one notification as spooled: the vendor's fields, canonical
// (keys as the decoder names them, values trimmed, valid UTF-8), and what
// the receiver knows about its arrival. Events are immutable once built.
type Event struct {
	// ID identifies the event for dedupe: see [EventID].
	ID     string `json:"id"`
	Vendor string `json:"vendor"`
	Source string `json:"source"`
	Kind   string `json:"kind"`
	// Fields are the event's fields; nested JSON objects are flattened
	// with dots ("event.type").
	Fields     map[string]string `json:"fields"`
	ReceivedAt time.Time         `json:"received_at"`
}

// key is the event's key in the dedupe index.
func (e *Event) key() string { return e.Source + "/" + e.ID }

// EventID returns the id of an event: neither VotBox nor MTT documents a
// per-event id (VotBox's CALLID and MTT's CallID, h323_conf_id and id are
// shared by every event of a call or a task), so the id is the first 128
// bits, in hex, of the SHA-256 of the canonical form: vendor, source, kind
// and every field sorted by key, each NUL-terminated. A retry sends the
// same fields and gets the same id; two events that differ in any field
// (state, time, number, cost) get different ids.
func EventID(vendor, source, kind string, fields map[string]string) string {
	h := sha256.New()
	for _, s := range []string{vendor, source, kind} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		h.Write([]byte(k))
		h.Write([]byte{0})
		h.Write([]byte(fields[k]))
		h.Write([]byte{0})
	}
	sum := h.Sum(nil)
	return hex.EncodeToString(sum[:16])
}

// text returns s as valid UTF-8, trimmed: bytes that are not UTF-8 are
// read as windows-1251 (what a PHP service of VotBox's age sends for
// Russian text such as addinfo), and NUL and other C0 controls except tab
// are refused.
func text(field, s string) (string, error) {
	if !utf8.ValidString(s) {
		d, err := charmap.Windows1251.NewDecoder().String(s)
		if err != nil {
			return "", badf("%s: neither UTF-8 nor windows-1251", field)
		}
		s = d
	}
	for _, r := range s {
		if r < 0x20 && r != '\t' || r == 0x7f {
			return "", badf("%s: control character %U", field, r)
		}
	}
	return strings.TrimSpace(s), nil
}

// Limits of one notification.
const (
	// MaxBodyBytes bounds a request body (and MaxFields its fields): the
	// documented events are well under 1 KiB.
	MaxBodyBytes = 64 << 10
	MaxFields    = 64
	maxValueLen  = 4096
)
