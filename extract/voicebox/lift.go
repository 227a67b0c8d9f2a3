package voicebox

import (
	"bytes"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/calletl/calletl/model"
	"github.com/calletl/calletl/transform"
)

// The response schemas of VoiceBox are not documented, so rows are read by
// LIFTING: every row keeps its raw JSON, and each field calletl needs is
// looked up under a list of candidate names. Names match after
// normalisation (lower case, without '_', '-', ' ' and '.'), so "callId",
// "call_id" and "CALLID" are one name. The first candidate present (and not
// null or "") wins.
var (
	idNames           = []string{"id", "callId", "uuid", "callUuid", "sessionId", "callHistoryId"}
	startNames        = []string{"startTime", "callStart", "startedAt", "startDate", "start", "dateTime", "date", "callDate", "created", "createdAt", "timestamp", "time"}
	endNames          = []string{"endTime", "callEnd", "finishedAt", "endedAt", "endDate", "end"}
	callerNames       = []string{"from", "caller", "callerNumber", "callerPhone", "ani", "src", "aNumber", "cli"}
	calleeNames       = []string{"to", "callee", "calledNumber", "calleeNumber", "dnis", "dst", "bNumber", "cld", "phone", "phoneNumber", "number"}
	directionNames    = []string{"direction", "callDirection", "type", "callType", "campaignType"}
	durationNames     = []string{"duration", "durationSec", "durationSeconds", "durationMs", "callDuration", "totalDuration"}
	talkNames         = []string{"talkDuration", "talkTime", "billsec", "conversationDuration", "answeredDuration", "talkDurationMs"}
	statusNames       = []string{"status", "result", "disposition", "state", "callStatus", "callResult"}
	costNames         = []string{"cost", "price", "amount", "charge", "callCost", "sum"}
	currencyNames     = []string{"currency", "curr", "currencyCode"}
	campaignIDNames   = []string{"campaignId", "campaign.id"}
	campaignNameNames = []string{"campaignName", "campaignTitle", "campaign.name", "campaign.title"}
	// Inside an object where a phone number is expected.
	numberNames = []string{"number", "phone", "value"}
)

// listKeys are the keys under which an object answer may wrap its list.
var listKeys = []string{"data", "items", "content", "calls", "results", "result", "rows", "records", "list", "campaigns", "callHistory", "history"}

// Errors of lifting.
var (
	ErrNotObject = errors.New("row is not a JSON object")
	ErrNoStart   = errors.New("no recognisable start time (tried " + strings.Join(startNames, ", ") + ")")
)

// normName is a field name as candidates are matched.
func normName(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '_', '-', ' ', '.':
			continue
		}
		b.WriteString(strings.ToLower(string(r)))
	}
	return b.String()
}

// field is one member of a row object: its name as sent and raw value.
type field struct {
	name string
	raw  json.RawMessage
}

// object is a decoded JSON object indexed by normalised name.
type object map[string]field

// decodeObject decodes raw into an object. Two names that normalise alike
// keep the first in sorted order, so the choice is deterministic.
func decodeObject(raw []byte) (object, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return nil, ErrNotObject
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, ErrNotObject
	}
	o := make(object, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		n := normName(k)
		if _, dup := o[n]; !dup {
			o[n] = field{name: k, raw: m[k]}
		}
	}
	return o, nil
}

// absent reports whether v is missing, null or "".
func absent(v json.RawMessage) bool {
	v = bytes.TrimSpace(v)
	return len(v) == 0 || string(v) == "null" || string(v) == `""`
}

// find returns the first candidate present. A candidate "a.b" looks for b
// inside the object a.
func (o object) find(names []string) (field, bool) {
	for _, n := range names {
		if parent, child, nested := strings.Cut(n, "."); nested {
			p, ok := o[normName(parent)]
			if !ok || absent(p.raw) {
				continue
			}
			inner, err := decodeObject(p.raw)
			if err != nil {
				continue
			}
			if f, ok := inner[normName(child)]; ok && !absent(f.raw) {
				return field{name: p.name + "." + f.name, raw: f.raw}, true
			}
			continue
		}
		if f, ok := o[normName(n)]; ok && !absent(f.raw) {
			return f, true
		}
	}
	return field{}, false
}

// scalar returns a JSON scalar as text: strings unquoted, numbers as their
// JSON text, booleans as true/false. An object or array is an error.
func scalar(f field) (string, error) {
	v := bytes.TrimSpace(f.raw)
	switch {
	case len(v) == 0 || string(v) == "null":
		return "", nil
	case v[0] == '"':
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return "", fmt.Errorf("%s: %w", f.name, err)
		}
		return s, nil
	case v[0] == '{' || v[0] == '[':
		return "", fmt.Errorf("%s: is a JSON %s, want a scalar", f.name, map[byte]string{'{': "object", '[': "array"}[v[0]])
	}
	return string(v), nil
}

// text looks names up and returns the value as text ("" when absent). An
// object value is searched for inner (e.g. {"number": "7495…"}).
func (o object) text(names []string, inner ...string) (string, string, error) {
	f, ok := o.find(names)
	if !ok {
		return "", "", nil
	}
	if v := bytes.TrimSpace(f.raw); len(v) > 0 && v[0] == '{' && len(inner) > 0 {
		in, err := decodeObject(v)
		if err == nil {
			if g, ok := in.find(inner); ok {
				s, err := scalar(field{name: f.name + "." + g.name, raw: g.raw})
				return s, f.name + "." + g.name, err
			}
		}
		return "", f.name, fmt.Errorf("%s: is a JSON object without %s", f.name, strings.Join(inner, "/"))
	}
	s, err := scalar(f)
	return strings.TrimSpace(s), f.name, err
}

// Row is one call history row, lifted. Raw is the element exactly as sent.
type Row struct {
	Raw          []byte
	ID           string // the lifted id, or HashID(Raw)
	IDField      string // the name the id came from, "" when hashed
	Start        time.Time
	End          time.Time // zero when absent
	CallerRaw    string
	CalleeRaw    string
	DirectionRaw string
	Direction    string // model.Incoming or model.Autocall (see Direction)
	DurationS    sql.Null[int32]
	TalkS        sql.Null[int32]
	Status       string
	Cost         sql.Null[model.Money]
	CostRaw      string
	Currency     string // upper case; DefaultCurrency when absent
	CampaignID   string
	CampaignName string
}

// DefaultCurrency is the currency of a cost without one.
const DefaultCurrency = "RUB"

// LiftRow lifts one call history element. The error says what could not be
// read; Row.Start is set whenever the start time was read, even when
// another field failed, so that the reject can be filed under its day.
func LiftRow(raw []byte, vendor *time.Location) (Row, error) {
	r := Row{Raw: raw}
	o, err := decodeObject(raw)
	if err != nil {
		return r, err
	}
	f, ok := o.find(startNames)
	if !ok {
		return r, ErrNoStart
	}
	if r.Start, err = parseTimeField(f, vendor); err != nil {
		return r, err
	}
	var errs []error
	keep := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	if f, ok := o.find(endNames); ok {
		t, err := parseTimeField(f, vendor)
		keep(err)
		r.End = t
	}
	if id, name, err := o.text(idNames); err != nil {
		keep(err)
	} else if id != "" {
		r.ID, r.IDField = id, name
	} else {
		r.ID = HashID(raw)
	}
	var err2 error
	r.CallerRaw, _, err2 = o.text(callerNames, numberNames...)
	keep(err2)
	r.CalleeRaw, _, err2 = o.text(calleeNames, numberNames...)
	keep(err2)
	r.Direction, r.DirectionRaw, err2 = liftDirection(o)
	keep(err2)
	r.DurationS, err2 = liftSeconds(o, durationNames)
	keep(err2)
	r.TalkS, err2 = liftSeconds(o, talkNames)
	keep(err2)
	switch {
	case !r.DurationS.Valid && r.TalkS.Valid:
		r.DurationS = r.TalkS
	case r.DurationS.Valid && !r.TalkS.Valid:
		r.TalkS = r.DurationS
	case !r.DurationS.Valid && !r.End.IsZero() && !r.End.Before(r.Start):
		if d := r.End.Sub(r.Start) / time.Second; d <= maxSeconds {
			r.DurationS = sql.Null[int32]{V: int32(d), Valid: true}
		}
	}
	r.Status, _, err2 = o.text(statusNames)
	keep(err2)
	if f, ok := o.find(costNames); ok {
		s, err := scalar(f)
		if err == nil {
			r.CostRaw = s
			var m model.Money
			m, err = parseMoney(s)
			if err == nil {
				r.Cost = sql.Null[model.Money]{V: m, Valid: true}
			}
		}
		if err != nil {
			keep(fmt.Errorf("%s: %w", f.name, err))
		}
	}
	cur, _, err2 := o.text(currencyNames)
	keep(err2)
	r.Currency = strings.ToUpper(cur)
	if r.Currency == "" {
		r.Currency = DefaultCurrency
	}
	r.CampaignID, _, err2 = o.text(campaignIDNames)
	keep(err2)
	r.CampaignName, _, err2 = o.text(campaignNameNames)
	keep(err2)
	if len(errs) > 0 {
		return r, errors.Join(errs...)
	}
	return r, nil
}

// HashID is the id of a row without one: "h" and the first 16 hex digits
// of the SHA-256 of the row's canonical JSON (keys sorted, no insignificant
// space, numbers as sent), so the same row always gets the same id however
// its keys are ordered or spaced.
func HashID(raw []byte) string {
	sum := sha256.Sum256(canonicalJSON(raw))
	return "h" + hex.EncodeToString(sum[:8])
}

// canonicalJSON re-encodes raw with sorted keys; invalid JSON is hashed as
// it is.
func canonicalJSON(raw []byte) []byte {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v any
	if d.Decode(&v) != nil {
		return raw
	}
	var b bytes.Buffer
	e := json.NewEncoder(&b)
	e.SetEscapeHTML(false)
	if e.Encode(v) != nil {
		return raw
	}
	return bytes.TrimRight(b.Bytes(), "\n")
}

// Direction maps a VoiceBox direction or campaign type to the canonical
// direction: "Входящая" (and other spellings of incoming: inbound, in) is
// model.Incoming; "Исходящая" (outbound, out, outgoing) is model.Autocall,
// because VoiceBox outgoing calls are placed by a voice robot of an outgoing
// campaign, the same kind of call VotBox's autocalls are. ok is false for
// a word it does not know.
func Direction(word string) (dir string, ok bool) {
	w := strings.ToLower(strings.TrimSpace(word))
	switch {
	case w == "":
		return "", false
	case strings.HasPrefix(w, "вход"), w == "in", w == "inbound", w == "incoming", w == "inc", w == "input":
		return model.Incoming, true
	case strings.HasPrefix(w, "исход"), w == "out", w == "outbound", w == "outgoing", w == "autocall", w == "output":
		return model.Autocall, true
	}
	return "", false
}

// DefaultDirection is the direction of a row with no recognisable one.
const DefaultDirection = model.Autocall

// liftDirection returns the first candidate whose value is a known
// direction; when none is, the default and the first candidate's text.
func liftDirection(o object) (dir, raw string, err error) {
	first := ""
	for _, n := range directionNames {
		f, ok := o.find([]string{n})
		if !ok {
			continue
		}
		s, err := scalar(f)
		if err != nil {
			continue
		}
		if d, ok := Direction(s); ok {
			return d, s, nil
		}
		if first == "" {
			first = s
		}
	}
	return DefaultDirection, first, nil
}

// maxSeconds bounds a duration (about 115 days): beyond it the value is
// not a call's.
const maxSeconds = 10_000_000

// liftSeconds reads the first present duration candidate. Values are
// seconds unless the name ends in "ms" (milliseconds); a number may have a
// fraction (rounded), a string may also be [H:]MM:SS.
func liftSeconds(o object, names []string) (sql.Null[int32], error) {
	f, ok := o.find(names)
	if !ok {
		return sql.Null[int32]{}, nil
	}
	s, err := scalar(f)
	if err != nil {
		return sql.Null[int32]{}, err
	}
	ms := strings.HasSuffix(normName(f.name), "ms")
	secs, err := parseSeconds(strings.TrimSpace(s), ms)
	if err != nil {
		return sql.Null[int32]{}, fmt.Errorf("%s: %w", f.name, err)
	}
	return sql.Null[int32]{V: secs, Valid: true}, nil
}

// parseSeconds parses a duration: a decimal number (seconds, or
// milliseconds when ms) or [H:]MM:SS.
func parseSeconds(s string, ms bool) (int32, error) {
	if strings.Contains(s, ":") {
		parts := strings.Split(s, ":")
		if len(parts) > 3 {
			return 0, fmt.Errorf("duration %q: want seconds or [H:]MM:SS", s)
		}
		total := 0
		for i, p := range parts {
			n, err := strconv.Atoi(p)
			if err != nil || n < 0 || (i > 0 && n > 59) || len(p) == 0 || n > maxSeconds {
				return 0, fmt.Errorf("duration %q: want seconds or [H:]MM:SS", s)
			}
			total = total*60 + n
		}
		if total > maxSeconds {
			return 0, fmt.Errorf("duration %q: implausibly long", s)
		}
		return int32(total), nil
	}
	f, err := strconv.ParseFloat(strings.Replace(s, ",", ".", 1), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("duration %q: not a number", s)
	}
	if ms {
		f /= 1000
	}
	if f < 0 {
		return 0, fmt.Errorf("duration %q: negative", s)
	}
	if f > maxSeconds {
		return 0, fmt.Errorf("duration %q: implausibly long", s)
	}
	return int32(math.Round(f)), nil
}

// parseMoney parses a cost exactly: a JSON number's text or a string with
// either decimal separator; spaces (also no-break spaces) between digit
// groups are dropped.
func parseMoney(s string) (model.Money, error) {
	return transform.GroupedMoney(s)
}

// Time layouts of string times: with a zone, or local to the vendor zone.
var (
	zonedLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05Z0700", "2006-01-02 15:04:05Z07:00", "2006-01-02 15:04:05Z0700", "2006-01-02 15:04:05 -0700"}
	localLayouts = []string{"2006-01-02T15:04:05", "2006-01-02 15:04:05", "02.01.2006 15:04:05", "2006-01-02 15:04", "02.01.2006 15:04", "2006-01-02T15:04"}
)

// Plausible years of a call: a time outside them is an error, not a call
// (a 0 that meant "unknown" would otherwise land in 1970).
const minYear, maxYear = 2000, 2100

// parseTimeField parses a time candidate; errors name the field.
func parseTimeField(f field, vendor *time.Location) (time.Time, error) {
	s, err := scalar(f)
	if err != nil {
		return time.Time{}, err
	}
	t, err := ParseTime(s, vendor)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s: %w", f.name, err)
	}
	return t, nil
}

// ParseTime parses a VoiceBox time: RFC 3339 (or ISO with a numeric zone),
// "YYYY-MM-DD HH:MM:SS" or "DD.MM.YYYY HH:MM:SS" (optionally with a
// fraction, or without seconds) in the vendor zone, or unix time as a
// number or digit string: seconds, or milliseconds when above 10^11.
// Years outside [2000, 2100) are errors.
func ParseTime(s string, vendor *time.Location) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, errors.New("empty time")
	}
	var t time.Time
	if c := s[0]; c >= '0' && c <= '9' || c == '-' {
		if f, err := strconv.ParseFloat(s, 64); err == nil && !strings.ContainsAny(s, "eE") {
			if f > 1e14 || f < 0 {
				return time.Time{}, fmt.Errorf("time %q: not a plausible unix time", s)
			}
			if f >= 1e11 {
				f /= 1000
			}
			sec, frac := math.Modf(f)
			t = time.Unix(int64(sec), int64(math.Round(frac*1e3))*1e6).UTC()
			return checkYear(s, t)
		}
	}
	for _, l := range zonedLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return checkYear(s, t.UTC())
		}
	}
	for _, l := range localLayouts {
		if t, err := time.ParseInLocation(l, s, vendor); err == nil {
			return checkYear(s, t.UTC())
		}
	}
	return time.Time{}, fmt.Errorf("time %q: want RFC 3339, YYYY-MM-DD HH:MM:SS, DD.MM.YYYY HH:MM:SS or unix time", quoteHead(s))
}

func checkYear(s string, t time.Time) (time.Time, error) {
	if y := t.Year(); y < minYear || y >= maxYear {
		return time.Time{}, fmt.Errorf("time %q: year %d is not plausible", s, y)
	}
	return t, nil
}

// quoteHead cuts s for an error message without splitting a character.
func quoteHead(s string) string {
	const n = 64
	if len(s) <= n {
		return s
	}
	i := n
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "…"
}
