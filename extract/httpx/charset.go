package httpx

import (
	"bytes"
	"errors"
	"fmt"
	"mime"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/htmlindex"
)

// errUnknownCharset is returned by decodeCharset for a charset label it
// does not know.
var errUnknownCharset = errors.New("unknown charset")

// decodeCharset returns a JSON body in UTF-8 when contentType declares
// another charset, e.g. "application/json; charset=windows-1251" or a PHP
// service's "text/html; charset=windows-1251". JSON has no charset of its
// own (RFC 8259: it is UTF-8), so the header is the only word on it.
//
// Everything else is returned as it is:
//   - bodies that do not start with '{' or '[': XML and HTML carry their own
//     declaration, which their decoder honours (VotBox), and decoding them
//     here as well would decode them twice;
//   - no charset, or UTF-8 or ASCII;
//   - a body that is valid UTF-8 under a single-byte charset: servers that
//     label every answer ISO-8859-1 (a common default) send UTF-8, and
//     decoding that would turn its text into mojibake, while real
//     windows-1251 text is invalid UTF-8 (two Cyrillic letters in a row are
//     not a UTF-8 sequence).
//
// A charset it does not know gives errUnknownCharset and the body as it is.
// Whatever remains invalid UTF-8 is replaced, with the bytes kept, by the
// lake writer (load/utf8.go).
func decodeCharset(contentType string, body []byte) ([]byte, error) {
	if !strings.Contains(strings.ToLower(contentType), "charset") {
		return body, nil
	}
	if t := bytes.TrimLeft(body, " \t\r\n\ufeff"); len(t) == 0 || t[0] != '{' && t[0] != '[' {
		return body, nil
	}
	_, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return body, nil // no usable charset
	}
	label := strings.ToLower(strings.TrimSpace(params["charset"]))
	switch label {
	case "", "utf-8", "utf8", "us-ascii", "ascii":
		return body, nil
	}
	enc, err := htmlindex.Get(label)
	if err != nil {
		return body, fmt.Errorf("%w %q", errUnknownCharset, label)
	}
	name, _ := htmlindex.Name(enc)
	switch {
	case name == "utf-8":
		return body, nil
	case !strings.HasPrefix(name, "utf-16") && utf8.Valid(body):
		return body, nil
	}
	out, err := enc.NewDecoder().Bytes(body)
	if err != nil {
		return body, fmt.Errorf("decode charset %q: %w", label, err)
	}
	return out, nil
}
