package recordings

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
)

// KeyPrefix is the first segment of every key the fetcher writes.
const KeyPrefix = "recordings"

// maxSegment bounds a sanitised segment (the blob stores allow 200 bytes).
const maxSegment = 160

// Segment returns s as one safe key segment: bytes outside [A-Za-z0-9._-]
// become '_' and a leading '.' becomes '_'. When anything changed (or s was
// empty or too long), "-" and the first 8 hex digits of SHA-256(s) are
// appended so that distinct inputs keep distinct segments.
func Segment(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 9)
	changed := s == "" || len(s) > maxSegment
	for i := 0; i < len(s) && b.Len() < maxSegment; i++ {
		c := s[i]
		ok := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-'
		if !ok || (i == 0 && c == '.') {
			c = '_'
			changed = true
		}
		b.WriteByte(c)
	}
	if changed {
		sum := sha256.Sum256([]byte(s))
		b.WriteByte('-')
		b.WriteString(hex.EncodeToString(sum[:4]))
	}
	return b.String()
}

// CallPrefix returns the key prefix (ending in "/") of a call's parts.
func CallPrefix(source, date, callID string) string {
	return KeyPrefix + "/source=" + Segment(source) + "/date=" + Segment(date) + "/" + Segment(callID) + "/"
}

// PartKey returns the key of part n of a call with extension ext.
func PartKey(source, date, callID string, n int, ext string) string {
	return CallPrefix(source, date, callID) + "part-" + strconv.Itoa(n) + "." + Segment(ext)
}

// partOfKey parses the part number of a key under a call prefix:
// "part-3.wav" → 3.
func partOfKey(rest string) (int, bool) {
	s, ok := strings.CutPrefix(rest, "part-")
	if !ok {
		return 0, false
	}
	num, _, ok := strings.Cut(s, ".")
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(num)
	if err != nil || n < 0 || strconv.Itoa(n) != num {
		return 0, false
	}
	return n, true
}
