// Package transform holds the normalisation rules every source shares:
// phone numbers to E.164 digits, exact money parsing, disconnect cause
// labels. Vendor packages call these from their own mapping functions, so a
// rule is written once and tested once.
package transform

// Phone normalises a phone number as vendors send it (7XXXXXXXXXX,
// 8XXXXXXXXXX, +7…, ten national digits, 810… international, short
// extensions) to E.164 digits without the plus, e.g. "79161234567".
// Extensions (up to six digits) are kept as they are. A value with no digits
// normalises to "". The caller keeps the raw value beside it.
func Phone(raw string) string {
	var buf [32]byte
	d := buf[:0]
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch {
		case c >= '0' && c <= '9':
			if len(d) == cap(d) {
				return "" // longer than any phone number: not one
			}
			d = append(d, c)
		case c == '+' || c == ' ' || c == '-' || c == '(' || c == ')' || c == '.':
		default:
			return "" // letters: "anonymous", "unknown", …
		}
	}
	switch {
	case len(d) == 0:
		return ""
	case len(d) <= 6:
		return string(d) // an extension
	case len(d) == 11 && d[0] == '8':
		d[0] = '7' // domestic trunk prefix
	case len(d) == 10 && (d[0] == '9' || d[0] == '3' || d[0] == '4' || d[0] == '8'):
		return "7" + string(d) // national number without the country code
	case len(d) > 11 && d[0] == '8' && d[1] == '1' && d[2] == '0':
		return string(d[3:]) // 810 international prefix
	}
	return string(d)
}
