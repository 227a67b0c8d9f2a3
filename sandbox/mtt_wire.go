package sandbox

import (
	"slices"
	"strconv"
	"time"
)

// Wire encoding of MTT rows. Rows are written by hand rather than through
// encoding/json so that the vendor's quirks can be reproduced exactly: the
// key order of the document, integers as strings or numbers, `clid` for
// `cld`, missing optional fields, and `charged` written from integer
// ten-thousandths without going through float64.

// Time layouts of the MTT API.
const (
	mttTimeLayout = "2006-01-02 15:04:05" // getServiceHistoryByCustomer, rows
	mttDotLayout  = "02.01.2006 15:04:05" // getCallHistory params, activation_date
)

// rowQuirks are the presentation choices of one row. They are derived from
// a hash of the row, so a row is written with the same bytes every time.
type rowQuirks struct {
	intsAsNumbers   bool   // charged_time etc. as 119 instead of "119"
	clid            bool   // the B-number key is "clid"
	omitVoiceFalse  bool   // voice_record_exist: false is left out
	omitEmptyConfID bool   // an empty h323_conf_id is left out instead of ""
	badTime         string // for a bad row: the broken connect_time, or "" for charged "abc"
}

func (m *MTT) quirks(c *MTTCall) rowQuirks {
	h := newHasher(m.cfg.Seed).str("wire").str(c.Customer).str(c.Type).str(c.ConfID).
		int(c.ConnectTime.Unix()).str(c.CLI).str(c.CLD).str(c.AccountID).sum()
	r := rng{h}
	q := rowQuirks{
		intsAsNumbers:   r.chance(200),
		clid:            r.chance(150),
		omitVoiceFalse:  r.chance(200),
		omitEmptyConfID: r.chance(500),
	}
	if c.Bad && r.chance(500) {
		q.badTime = []string{"2024-13-45 99:00:00", "0000-00-00 00:00:00", "2023-02-30 25:61:61"}[r.intn(3)]
	}
	return q
}

// appendRow appends the JSON object of one row.
func (m *MTT) appendRow(b []byte, c *MTTCall) []byte {
	q := m.quirks(c)
	b = append(b, `{"cli":`...)
	b = appendJSONString(b, c.CLI)
	if q.clid {
		b = append(b, `,"clid":`...)
	} else {
		b = append(b, `,"cld":`...)
	}
	b = appendJSONString(b, c.CLD)
	b = append(b, `,"customer_local_time":"`...)
	b = c.ConnectTime.UTC().AppendFormat(b, mttTimeLayout)
	b = append(b, `","connect_time":`...)
	if c.Bad && q.badTime != "" {
		b = appendJSONString(b, q.badTime)
	} else {
		b = append(b, '"')
		b = c.ConnectTime.UTC().AppendFormat(b, mttTimeLayout)
		b = append(b, '"')
	}
	b = appendIntField(b, "charged_time", c.ChargedTime, q.intsAsNumbers)
	b = append(b, `,"charged":`...)
	if c.Bad && q.badTime == "" {
		b = append(b, `"abc"`...)
	} else {
		b = appendDecimalE4(b, c.CostE4, 0)
	}
	b = append(b, `,"destination":`...)
	b = appendJSONString(b, c.Destination)
	if c.ConfID != "" || !q.omitEmptyConfID {
		b = append(b, `,"h323_conf_id":`...)
		b = appendJSONString(b, c.ConfID)
	}
	if c.IncomingConfID != "" {
		b = append(b, `,"h323_incoming_conf_id":`...)
		b = appendJSONString(b, c.IncomingConfID)
	}
	b = append(b, `,"curr":`...)
	b = appendJSONString(b, c.Currency)
	if c.SetupTimeMs != 0 {
		b = appendIntField(b, "setup_time_ms", c.SetupTimeMs, q.intsAsNumbers)
	}
	if c.DisconnectCause != 0 {
		b = appendIntField(b, "disconnect_cause", c.DisconnectCause, q.intsAsNumbers)
	}
	if c.AccountID != "" {
		b = append(b, `,"account_id":`...)
		b = appendJSONString(b, c.AccountID)
	}
	b = appendIntField(b, "used_quantity", c.UsedQuantity, q.intsAsNumbers)
	if c.VoiceRecord || !q.omitVoiceFalse {
		b = append(b, `,"voice_record_exist":`...)
		b = strconv.AppendBool(b, c.VoiceRecord)
	}
	if len(c.Extra) > 0 {
		keys := make([]string, 0, len(c.Extra))
		for k := range c.Extra {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			b = append(b, ',')
			b = appendJSONString(b, k)
			b = append(b, ':')
			b = appendJSONString(b, c.Extra[k])
		}
	}
	return append(b, '}')
}

// appendIntField appends `,"key":v` with v as a number or a string.
func appendIntField(b []byte, key string, v int, asNumber bool) []byte {
	b = append(b, `,"`...)
	b = append(b, key...)
	b = append(b, `":`...)
	if asNumber {
		return strconv.AppendInt(b, int64(v), 10)
	}
	b = append(b, '"')
	b = strconv.AppendInt(b, int64(v), 10)
	return append(b, '"')
}

// appendDecimalE4 appends v/10^4 as a JSON number with at least minDecimals
// decimals and no trailing zeros beyond them: 24800 → 2.48, 0 → 0,
// 125000 → 12.5; with minDecimals 2, 0 → 0.00. Never exponent form.
func appendDecimalE4(b []byte, v int64, minDecimals int) []byte {
	u := uint64(v)
	if v < 0 {
		b = append(b, '-')
		u = uint64(-v)
	}
	b = strconv.AppendUint(b, u/10_000, 10)
	frac := [4]byte{byte('0' + u/1000%10), byte('0' + u/100%10), byte('0' + u/10%10), byte('0' + u%10)}
	n := 4
	for n > minDecimals && frac[n-1] == '0' {
		n--
	}
	if n > 0 {
		b = append(b, '.')
		b = append(b, frac[:n]...)
	}
	return b
}

// roundE4ToKopecks rounds v to whole kopecks (multiples of 100), half away
// from zero.
func roundE4ToKopecks(v int64) int64 {
	if v < 0 {
		return -roundE4ToKopecks(-v)
	}
	return (v + 50) / 100 * 100
}

// appendJSONString appends s as a JSON string. Non-ASCII text is written as
// UTF-8, as the vendor does.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&15])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

// parseMTTTime parses a "YYYY-MM-DD HH:MM:SS" or "DD.MM.YYYY HH:MM:SS" time
// (layout) as UTC.
func parseMTTTime(layout, s string) (time.Time, bool) {
	t, err := time.ParseInLocation(layout, s, time.UTC)
	return t, err == nil
}
