// Package jsonscan is a small single-pass JSON scanner for vendor payloads.
// It walks a document in place, hands callers the raw bytes of each value
// and validates as it goes, so a 1000-row page is read once, with no
// intermediate maps, and each row's exact text is kept for the rejects table.
//
// It is strict JSON (RFC 8259) except that it does not check UTF-8 validity
// of string contents.
package jsonscan

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// Kind is the type of a JSON value.
type Kind uint8

// Kinds of JSON values.
const (
	Invalid Kind = iota
	String
	Number
	True
	False
	Null
	Object
	Array
)

func (k Kind) String() string {
	return [...]string{"invalid", "string", "number", "true", "false", "null", "object", "array"}[k]
}

// ErrSyntax is wrapped by every error the scanner returns.
var ErrSyntax = errors.New("json syntax error")

// maxDepth bounds nesting so hostile input cannot exhaust the stack.
const maxDepth = 64

// Scanner reads one JSON document from a byte slice.
type Scanner struct {
	b     []byte
	i     int
	depth int
}

// New returns a scanner positioned at the start of b.
func New(b []byte) *Scanner { return &Scanner{b: b} }

// Pos returns the current byte offset.
func (s *Scanner) Pos() int { return s.i }

// Bytes returns the document.
func (s *Scanner) Bytes() []byte { return s.b }

func (s *Scanner) errorf(format string, args ...any) error {
	return fmt.Errorf("%w at offset %d: %s", ErrSyntax, s.i, fmt.Sprintf(format, args...))
}

func (s *Scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// Peek returns the kind of the next value without consuming it.
func (s *Scanner) Peek() Kind {
	s.ws()
	if s.i >= len(s.b) {
		return Invalid
	}
	switch c := s.b[s.i]; {
	case c == '"':
		return String
	case c == '-' || (c >= '0' && c <= '9'):
		return Number
	case c == 't':
		return True
	case c == 'f':
		return False
	case c == 'n':
		return Null
	case c == '{':
		return Object
	case c == '[':
		return Array
	}
	return Invalid
}

// Value consumes the next value and returns its kind and raw bytes (strings
// keep their quotes; objects and arrays are validated whole).
func (s *Scanner) Value() (Kind, []byte, error) {
	k := s.Peek()
	start := s.i
	var err error
	switch k {
	case String:
		err = s.skipString()
	case Number:
		err = s.skipNumber()
	case True:
		err = s.literal("true")
	case False:
		err = s.literal("false")
	case Null:
		err = s.literal("null")
	case Object:
		err = s.Object(func([]byte) error { _, _, err := s.Value(); return err })
	case Array:
		err = s.Array(func() error { _, _, err := s.Value(); return err })
	default:
		if s.i >= len(s.b) {
			return Invalid, nil, s.errorf("unexpected end of input")
		}
		return Invalid, nil, s.errorf("unexpected character %q", s.b[s.i])
	}
	if err != nil {
		return Invalid, nil, err
	}
	return k, s.b[start:s.i], nil
}

// Skip consumes the next value.
func (s *Scanner) Skip() error { _, _, err := s.Value(); return err }

// Object consumes an object, calling fn for each member with the key's
// unescaped bytes (valid only during the call); fn must consume the value.
func (s *Scanner) Object(fn func(key []byte) error) error {
	s.ws()
	if s.i >= len(s.b) || s.b[s.i] != '{' {
		return s.errorf("expected object")
	}
	if s.depth++; s.depth > maxDepth {
		return s.errorf("nesting deeper than %d", maxDepth)
	}
	defer func() { s.depth-- }()
	s.i++
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == '}' {
		s.i++
		return nil
	}
	var keyBuf []byte
	for {
		s.ws()
		if s.i >= len(s.b) || s.b[s.i] != '"' {
			return s.errorf("expected object key")
		}
		start := s.i
		if err := s.skipString(); err != nil {
			return err
		}
		key := s.b[start+1 : s.i-1]
		if hasEscape(key) {
			u, err := unquote(s.b[start:s.i])
			if err != nil {
				return s.errorf("%v", err)
			}
			keyBuf = append(keyBuf[:0], u...)
			key = keyBuf
		}
		s.ws()
		if s.i >= len(s.b) || s.b[s.i] != ':' {
			return s.errorf("expected ':' after object key")
		}
		s.i++
		if err := fn(key); err != nil {
			return err
		}
		s.ws()
		if s.i >= len(s.b) {
			return s.errorf("unexpected end of input in object")
		}
		switch s.b[s.i] {
		case ',':
			s.i++
		case '}':
			s.i++
			return nil
		default:
			return s.errorf("expected ',' or '}' in object")
		}
	}
}

// Array consumes an array, calling fn once per element; fn must consume it.
func (s *Scanner) Array(fn func() error) error {
	s.ws()
	if s.i >= len(s.b) || s.b[s.i] != '[' {
		return s.errorf("expected array")
	}
	if s.depth++; s.depth > maxDepth {
		return s.errorf("nesting deeper than %d", maxDepth)
	}
	defer func() { s.depth-- }()
	s.i++
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == ']' {
		s.i++
		return nil
	}
	for {
		if err := fn(); err != nil {
			return err
		}
		s.ws()
		if s.i >= len(s.b) {
			return s.errorf("unexpected end of input in array")
		}
		switch s.b[s.i] {
		case ',':
			s.i++
		case ']':
			s.i++
			return nil
		default:
			return s.errorf("expected ',' or ']' in array")
		}
	}
}

// End checks that only whitespace remains.
func (s *Scanner) End() error {
	s.ws()
	if s.i != len(s.b) {
		return s.errorf("trailing data after the document")
	}
	return nil
}

func (s *Scanner) literal(lit string) error {
	if len(s.b)-s.i < len(lit) || string(s.b[s.i:s.i+len(lit)]) != lit {
		return s.errorf("invalid literal")
	}
	s.i += len(lit)
	return nil
}

func (s *Scanner) skipString() error {
	s.i++ // opening quote
	for s.i < len(s.b) {
		// Skip eight ordinary bytes at a time; stop on the first byte that
		// needs a look.
		for s.i+8 <= len(s.b) {
			m := special(binary.LittleEndian.Uint64(s.b[s.i:]))
			if m != 0 {
				s.i += bits.TrailingZeros64(m) / 8
				break
			}
			s.i += 8
		}
		if s.i >= len(s.b) {
			break
		}
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			return nil
		case c == '\\':
			if s.i+1 >= len(s.b) {
				return s.errorf("unterminated string")
			}
			switch s.b[s.i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				s.i += 2
			case 'u':
				if s.i+6 > len(s.b) || !isHex4(s.b[s.i+2:s.i+6]) {
					return s.errorf("bad \\u escape")
				}
				s.i += 6
			default:
				return s.errorf("bad escape")
			}
		case c < 0x20:
			return s.errorf("control character in string")
		default:
			s.i++
		}
	}
	return s.errorf("unterminated string")
}

// special flags (with its top bit) the first byte of w, read little-endian,
// that ends a string's run of ordinary bytes: a quote, a backslash or a
// control character. Bytes after the first flagged one may be flagged
// wrongly (a borrow carries), so only the lowest flag counts.
func special(w uint64) uint64 {
	const (
		ones = 0x0101010101010101
		high = 0x8080808080808080
	)
	quote := w ^ (ones * '"')
	backslash := w ^ (ones * '\\')
	return ((quote-ones)&^quote | (backslash-ones)&^backslash | (w-ones*0x20)&^w) & high
}

func (s *Scanner) skipNumber() error {
	start := s.i
	if s.b[s.i] == '-' {
		s.i++
	}
	digits := func() int {
		n := 0
		for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
			s.i++
			n++
		}
		return n
	}
	if s.i < len(s.b) && s.b[s.i] == '0' {
		s.i++
	} else if digits() == 0 {
		return s.errorf("bad number")
	}
	if s.i < len(s.b) && s.b[s.i] == '.' {
		s.i++
		if digits() == 0 {
			return s.errorf("bad number %q", s.b[start:s.i])
		}
	}
	if s.i < len(s.b) && (s.b[s.i] == 'e' || s.b[s.i] == 'E') {
		s.i++
		if s.i < len(s.b) && (s.b[s.i] == '+' || s.b[s.i] == '-') {
			s.i++
		}
		if digits() == 0 {
			return s.errorf("bad number %q", s.b[start:s.i])
		}
	}
	return nil
}

func isHex4(b []byte) bool {
	for _, c := range b[:4] {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

func hasEscape(b []byte) bool { return bytes.IndexByte(b, '\\') >= 0 }

// Text returns a scalar value as text: a string unescaped, a number's or a
// literal's raw text ("null" becomes ""). ok is false for objects and arrays.
func Text(k Kind, raw []byte) (text string, ok bool, err error) {
	switch k {
	case String:
		inner := raw[1 : len(raw)-1]
		if !hasEscape(inner) {
			return string(inner), true, nil
		}
		u, err := unquote(raw)
		return string(u), err == nil, err
	case Null:
		return "", true, nil
	case Number, True, False:
		return string(raw), true, nil
	}
	return "", false, nil
}

// TextView is Text without copying: an unescaped string shares the
// document's memory (unsafe.String), so the result is valid only while the
// document's bytes are alive and unmodified. Use it for values that are
// consumed before the document is dropped; it saves an allocation per field.
func TextView(k Kind, raw []byte) (text string, ok bool, err error) {
	if k == String {
		inner := raw[1 : len(raw)-1]
		if len(inner) == 0 {
			return "", true, nil
		}
		if !hasEscape(inner) {
			return unsafe.String(&inner[0], len(inner)), true, nil
		}
	}
	if k == Number {
		return unsafe.String(&raw[0], len(raw)), true, nil
	}
	return Text(k, raw)
}

// unquote decodes a quoted JSON string token (already validated).
func unquote(raw []byte) ([]byte, error) {
	in := raw[1 : len(raw)-1]
	out := make([]byte, 0, len(in))
	for i := 0; i < len(in); i++ {
		c := in[i]
		if c != '\\' {
			out = append(out, c)
			continue
		}
		i++
		switch in[i] {
		case '"', '\\', '/':
			out = append(out, in[i])
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r := hex4(in[i+1 : i+5])
			i += 4
			if utf16.IsSurrogate(r) {
				if i+6 < len(in) && in[i+1] == '\\' && in[i+2] == 'u' && isHex4(in[i+3:i+7]) {
					if r2 := utf16.DecodeRune(r, hex4(in[i+3:i+7])); r2 != utf8.RuneError {
						r = r2
						i += 6
					} else {
						r = utf8.RuneError
					}
				} else {
					r = utf8.RuneError
				}
			}
			out = utf8.AppendRune(out, r)
		default:
			return nil, fmt.Errorf("bad escape \\%c", in[i])
		}
	}
	return out, nil
}

func hex4(b []byte) rune {
	v, _ := strconv.ParseUint(string(b[:4]), 16, 32)
	return rune(v)
}
