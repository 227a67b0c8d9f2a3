package httpx

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"strings"
	"testing"
)

// TestDoDecodesDeclaredCharset: a JSON body declared in a charset other
// than UTF-8 reaches check and the caller in UTF-8; everything else
// (XML with its own declaration, UTF-8 under a wrong label, no charset)
// arrives as sent.
func TestDoDecodesDeclaredCharset(t *testing.T) {
	const (
		cp1251  = "\xcf\xf0\xe8\xe2\xe5\xf2"            // Привет in windows-1251
		koi8r   = "\xf0\xd2\xc9\xd7\xc5\xd4"            // Привет in KOI8-R
		utf16le = "[\x00\"\x00\x1f\x04@\x04\"\x00]\x00" // ["Пр"] in UTF-16LE
	)
	for _, tc := range []struct {
		name, contentType, body, want string
		warn                          bool
	}{
		{"json windows-1251", "application/json; charset=windows-1251", `{"name":"` + cp1251 + `"}`, `{"name":"Привет"}`, false},
		{"cp1251 label, quoted, upper case", `application/json; Charset="CP1251"`, `["` + cp1251 + `"]`, `["Привет"]`, false},
		{"php text/html", "text/html; charset=windows-1251", "\n " + `{"a":"` + cp1251 + `"}`, "\n " + `{"a":"Привет"}`, false},
		{"koi8-r problem+json", "application/problem+json; charset=koi8-r", `{"t":"` + koi8r + `"}`, `{"t":"Привет"}`, false},
		{"utf-16le", "application/json; charset=utf-16le", utf16le, `["Пр"]`, false},
		{"utf-8 declared", "application/json; charset=utf-8", `{"a":"Привет"}`, `{"a":"Привет"}`, false},
		{"no charset: kept, even if it is windows-1251", "application/json", `{"a":"` + cp1251 + `"}`, `{"a":"` + cp1251 + `"}`, false},
		{"utf-8 under a latin-1 label", "application/json; charset=ISO-8859-1", `{"a":"Привет"}`, `{"a":"Привет"}`, false},
		{"xml decides by its declaration", "text/xml; charset=windows-1251", `<?xml version="1.0" encoding="windows-1251"?><r>` + cp1251 + `</r>`,
			`<?xml version="1.0" encoding="windows-1251"?><r>` + cp1251 + `</r>`, false},
		{"unknown charset: kept, warned", "application/json; charset=x-martian", `{"a":"` + cp1251 + `"}`, `{"a":"` + cp1251 + `"}`, true},
		{"broken header", "application/json; charset", `{"a":"` + cp1251 + `"}`, `{"a":"` + cp1251 + `"}`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newServer(t, reply(http.StatusOK, tc.body, "Content-Type", tc.contentType))
			var logs bytes.Buffer
			c, _ := newClient(Config{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
			var seen string
			body, err := c.Do(context.Background(), "op", get(srv.URL), func(resp *http.Response, b []byte) error {
				seen = string(b)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if string(body) != tc.want || seen != tc.want {
				t.Errorf("body %q, check saw %q, want %q", body, seen, tc.want)
			}
			if warned := strings.Contains(logs.String(), "body kept as sent"); warned != tc.warn {
				t.Errorf("warned %v, want %v: %s", warned, tc.warn, logs.String())
			}
		})
	}
}
