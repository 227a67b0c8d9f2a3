package jsonscan

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestScannerAgreesWithEncodingJSON(t *testing.T) {
	docs := []string{
		`{}`, `[]`, `{"a":1}`, `{"a":[1,2,{"b":null}],"c":"x\"y\\u00e9\ud83d\ude00"}`,
		` { "a" : -0.5e+3 , "b" : true , "c" : false } `,
		`[1,]`, `{"a":1,}`, `{"a" 1}`, `{"a":01}`, `{"a":1.}`, `{"a":"\x"}`, `{"a":"unterminated`,
		`{"a":1}{`, `[1 2]`, `{"a":tru}`, "{\"a\":\"tab\there\"}", `-`, `"\u12"`, `{"a":[[[[]]]]}`,
	}
	for _, d := range docs {
		s := New([]byte(d))
		_, _, err := s.Value()
		if err == nil {
			err = s.End()
		}
		if got, want := err == nil, json.Valid([]byte(d)); got != want {
			t.Errorf("%q: scanner ok=%v (%v), encoding/json ok=%v", d, got, err, want)
		}
		if err != nil && !errors.Is(err, ErrSyntax) {
			t.Errorf("%q: error %v does not wrap ErrSyntax", d, err)
		}
	}
}

func TestText(t *testing.T) {
	tests := []struct{ doc, want string }{
		{`"plain"`, "plain"},
		{`"esc\"aped\n"`, "esc\"aped\n"},
		{`"\u041c\u0422\u0422"`, "МТТ"},
		{`"\ud83d\ude00"`, "😀"},
		{`119`, "119"},
		{`-2.48`, "-2.48"},
		{`null`, ""},
		{`true`, "true"},
	}
	for _, tt := range tests {
		k, raw, err := New([]byte(tt.doc)).Value()
		if err != nil {
			t.Fatalf("%s: %v", tt.doc, err)
		}
		got, ok, err := Text(k, raw)
		if err != nil || !ok || got != tt.want {
			t.Errorf("Text(%s) = %q, %v, %v; want %q", tt.doc, got, ok, err, tt.want)
		}
	}
}

func TestObjectKeysAndDepth(t *testing.T) {
	var keys []string
	s := New([]byte(`{"a":1,"b\u0041":{"x":[]},"c":"z"}`))
	err := s.Object(func(k []byte) error { keys = append(keys, string(k)); return s.Skip() })
	if err != nil || len(keys) != 3 || keys[1] != "bA" {
		t.Fatalf("keys %q err %v", keys, err)
	}
	deep := make([]byte, 0, 300)
	for range 100 {
		deep = append(deep, '[')
	}
	if _, _, err := New(deep).Value(); !errors.Is(err, ErrSyntax) {
		t.Fatalf("deep nesting: %v", err)
	}
}

func FuzzScanner(f *testing.F) {
	for _, d := range []string{`{"a":[1,{"b":"c"}]}`, `[1,2]`, `"\u00e9"`, `{"a":-1.5e3}`} {
		f.Add([]byte(d))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		s := New(b)
		k, raw, err := s.Value()
		if err == nil {
			err = s.End()
		}
		if (err == nil) != json.Valid(b) {
			// encoding/json also rejects invalid UTF-8 inside strings; we don't check it.
			if err == nil && !validUTF8Strings(b) {
				return
			}
			t.Fatalf("%q: scanner err=%v, encoding/json valid=%v", b, err, json.Valid(b))
		}
		if err == nil {
			if _, _, terr := Text(k, raw); terr != nil {
				t.Fatalf("Text(%q): %v", raw, terr)
			}
		}
	})
}

func validUTF8Strings(b []byte) bool {
	var v any
	return json.Unmarshal(b, &v) == nil
}

// Strings are skipped eight bytes at a time: a quote, a backslash, a
// control character or a byte of a multi-byte character is found at every
// offset from the string's start and before its end, where the word-wise
// skip hands over to the byte loop, and the scanner agrees with
// encoding/json on validity and on the value's end.
func TestStringAtEveryOffset(t *testing.T) {
	specials := []struct {
		name, text string
	}{
		{"escaped quote", `\"`},
		{"escaped backslash", `\\`},
		{"unicode escape", `\u00e9`},
		{"bad escape", `\x`},
		{"short unicode escape", `\u12`},
		{"tab", "\t"},
		{"NUL", "\x00"},
		{"unit separator", "\x1f"},
		{"space (ordinary)", " "},
		{"DEL (ordinary)", "\x7f"},
		{"two-byte character", "é"},
		{"four-byte character", "😀"},
		{"invalid UTF-8 (not checked)", "\xff\xfe"},
		{"closing quote", `"`},
	}
	for _, sp := range specials {
		t.Run(sp.name, func(t *testing.T) {
			for before := range 20 {
				for after := range 20 {
					text := `"` + strings.Repeat("a", before) + sp.text + strings.Repeat("b", after) + `"`
					for _, doc := range []string{text, text + `,1]`, `[` + text + `,1]`} {
						s := New([]byte(doc))
						_, raw, err := s.Value()
						if err == nil {
							err = s.End()
						}
						if got, want := err == nil, json.Valid([]byte(doc)); got != want {
							t.Fatalf("%q: scanner ok=%v (%v), encoding/json ok=%v", doc, got, err, want)
						}
						if err == nil && doc == text && string(raw) != text {
							t.Fatalf("%q: value %q", doc, raw)
						}
					}
				}
			}
		})
	}
}
