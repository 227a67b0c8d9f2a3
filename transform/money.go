package transform

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/calletl/calletl/model"
)

// ErrMoney is wrapped by every Money parse error.
var ErrMoney = errors.New("bad money value")

// Money parses a decimal amount as vendors write it: a JSON number's text
// ("2.48", "0", "-12.5", "1e2") or a string with either decimal separator
// ("0,91", "273,50"). It never goes through float64. Digits beyond the
// fourth decimal are rounded half away from zero (DECIMAL(18,4)).
func Money(s string) (model.Money, error) {
	bad := func(why string) (model.Money, error) {
		return 0, fmt.Errorf("%w %q: %s", ErrMoney, s, why)
	}
	i, neg := 0, false
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		neg = s[i] == '-'
		i++
	}
	var mant uint64 // digits read so far, as an integer
	scale := 0      // digits after the separator
	digits, sep := 0, false
	var roundDigit byte // first digit dropped beyond the precision we keep
	for ; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			digits++
			if sep && scale >= 4+18 { // far beyond what we keep
				continue
			}
			if mant > (math.MaxUint64-9)/10 {
				return bad("too large")
			}
			mant = mant*10 + uint64(c-'0')
			if sep {
				scale++
			}
		case (c == '.' || c == ',') && !sep:
			sep = true
		case c == 'e' || c == 'E':
			exp, ok := parseExp(s[i+1:])
			if !ok || digits == 0 {
				return bad("bad exponent")
			}
			scale -= exp
			i = len(s)
		default:
			return bad("unexpected character")
		}
	}
	if digits == 0 {
		return bad("no digits")
	}
	// Bring mant to exactly four decimals.
	for scale < 4 {
		if mant > math.MaxInt64/10 {
			return bad("too large")
		}
		mant *= 10
		scale++
	}
	// Drop digits beyond four decimals; the last one dropped is the most
	// significant and decides the rounding.
	for scale > 4 {
		roundDigit = byte(mant % 10)
		mant /= 10
		scale--
	}
	if roundDigit >= 5 {
		mant++
	}
	if mant > 999_999_999_999_999_999 { // 18 digits: DECIMAL(18,4)
		return bad("exceeds DECIMAL(18,4)")
	}
	v := int64(mant)
	if neg {
		v = -v
	}
	return model.Money(v), nil
}

func parseExp(s string) (int, bool) {
	neg := false
	if len(s) > 0 && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		s = s[1:]
	}
	if len(s) == 0 || len(s) > 3 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

// groupSpaces drops the spaces vendors put between digit groups.
var groupSpaces = strings.NewReplacer(" ", "", "\u00a0", "", "\u202f", "")

// GroupedMoney is Money for amounts written with spaces, also no-break
// ones, between digit groups ("1 234,50"), surrounding space trimmed.
func GroupedMoney(s string) (model.Money, error) {
	s = strings.TrimSpace(s)
	if strings.ContainsAny(s, " \u00a0\u202f") {
		s = groupSpaces.Replace(s)
	}
	return Money(s)
}
