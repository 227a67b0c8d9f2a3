package secret

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
)

// A password with characters that URL escaping and base64 change.
const (
	tricky = "p@ss w/rd+&=?"
	token  = "tok_9f8e7d6c5b"
)

func TestRedact(t *testing.T) {
	r := NewRedactor()
	r.Add(tricky, token, "abc", "")
	r.AddBasic("alice", "xyz") // too short alone, but the Basic pair is long

	for _, tc := range []struct {
		name, in, secret string
	}{
		{"plain", "password is " + tricky + ".", tricky},
		{"query escaped", "GET /x?pw=" + url.QueryEscape(tricky), url.QueryEscape(tricky)},
		{"path escaped", "GET /" + url.PathEscape(tricky) + "/y", url.PathEscape(tricky)},
		{"base64", "hdr " + base64.StdEncoding.EncodeToString([]byte(tricky)), base64.StdEncoding.EncodeToString([]byte(tricky))},
		{"base64url raw", "hdr " + base64.RawURLEncoding.EncodeToString([]byte(tricky)), base64.RawURLEncoding.EncodeToString([]byte(tricky))},
		{"token in query", "https://h/api?token=" + token + "&a=1", token},
		{"basic pair", "Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte("alice:xyz")), base64.StdEncoding.EncodeToString([]byte("alice:xyz"))},
		{"twice", token + " and " + token, token},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := r.Redact(tc.in)
			if strings.Contains(got, tc.secret) {
				t.Errorf("Redact(%q) = %q still holds %q", tc.in, got, tc.secret)
			}
			if !strings.Contains(got, Redacted) {
				t.Errorf("Redact(%q) = %q has no %s", tc.in, got, Redacted)
			}
		})
	}
	// Short secrets are ignored: "abc" and "xyz" alone would match everywhere.
	if got := r.Redact("abc xyz"); got != "abc xyz" {
		t.Errorf("short secrets redacted: %q", got)
	}
}

func TestRedactLongestFirst(t *testing.T) {
	r := NewRedactor()
	r.Add("secret", "secret-and-more")
	if got := r.Redact("x secret-and-more y"); got != "x "+Redacted+" y" {
		t.Errorf("got %q", got)
	}
}

func TestRedactNilAndEmpty(t *testing.T) {
	var nilR *Redactor
	if nilR.Redact("a") != "a" || nilR.Error(nil) != nil {
		t.Error("nil Redactor must pass input through")
	}
	e := errors.New("x")
	if nilR.Error(e) != e || NewRedactor().Error(e) != e {
		t.Error("Error without secrets must return the original error")
	}
	if NewRedactor().Error(nil) != nil {
		t.Error("Error(nil) != nil")
	}
}

type codeError struct{ Code int }

func (e *codeError) Error() string { return fmt.Sprintf("code %d", e.Code) }

func TestRedactErrorChain(t *testing.T) {
	sentinel := errors.New("vendor refused")
	r := NewRedactor()
	r.AddBasic("bob", tricky)
	r.Add(token)

	basic := base64.StdEncoding.EncodeToString([]byte("bob:" + tricky))
	inner := fmt.Errorf("%w: auth %s token %s qs %s b64 %s: %w", sentinel, basic, token,
		url.QueryEscape(tricky), base64.StdEncoding.EncodeToString([]byte(tricky)), &codeError{Code: 7})
	err := r.Error(fmt.Errorf("mtt: login %s: %w", tricky, inner))

	msg := err.Error()
	for _, s := range []string{tricky, token, basic, url.QueryEscape(tricky), base64.StdEncoding.EncodeToString([]byte(tricky))} {
		if strings.Contains(msg, s) {
			t.Errorf("error text %q holds %q", msg, s)
		}
	}
	if strings.Count(msg, Redacted) != 5 {
		t.Errorf("want 5 redactions in %q", msg)
	}
	if !errors.Is(err, sentinel) {
		t.Error("errors.Is lost the sentinel")
	}
	var ce *codeError
	if !errors.As(err, &ce) || ce.Code != 7 {
		t.Error("errors.As lost *codeError")
	}
	// %v and %+v print the redacted text too.
	if s := fmt.Sprintf("%v %+v %s", err, err, err); strings.Contains(s, tricky) {
		t.Errorf("formatted error leaks: %q", s)
	}
	// Wrapping the redacted error keeps it redacted.
	if s := fmt.Errorf("outer: %w", err).Error(); strings.Contains(s, tricky) {
		t.Errorf("outer wrap leaks: %q", s)
	}

	// A real *fs.PathError survives too.
	_, openErr := os.Open("/nonexistent/" + token)
	red := r.Error(openErr)
	if strings.Contains(red.Error(), token) || !errors.Is(red, fs.ErrNotExist) {
		t.Errorf("path error: %v (Is ErrNotExist=%v)", red, errors.Is(red, fs.ErrNotExist))
	}
}

func TestRedactConcurrent(t *testing.T) {
	r := NewRedactor()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 50 {
				s := fmt.Sprintf("secret-%d-%d", i, j)
				r.Add(s)
				if got := r.Redact("x " + s); got != "x "+Redacted {
					t.Errorf("Redact after Add = %q", got)
					return
				}
			}
		})
	}
	wg.Wait()
}

type stringer struct{ s string }

func (s stringer) String() string { return s.s }

type nilStringer struct{ s string }

func (s *nilStringer) String() string { return s.s }

func TestHandler(t *testing.T) {
	r := NewRedactor()
	r.Add(tricky)
	r.AddBasic("bob", token)
	u, _ := url.Parse("https://bob:" + url.QueryEscape(token) + "@h/x?pw=" + url.QueryEscape(tricky))

	for _, tc := range []struct {
		name string
		new  func(*bytes.Buffer) slog.Handler
	}{
		{"text", func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) }},
		{"json", func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			log := slog.New(NewHandler(tc.new(&buf), r))
			err := fmt.Errorf("dial with %s: %w", token, os.ErrDeadlineExceeded)
			log.With("base", tricky).WithGroup("req").Warn("retry with "+tricky,
				"pw", tricky,
				"err", err,
				"url", u,
				"stringer", stringer{"has " + token},
				"nilptr", (*nilStringer)(nil),
				"n", 3,
				slog.Group("auth", "hdr", "Basic "+base64.StdEncoding.EncodeToString([]byte("bob:"+token)),
					slog.Group("deep", "t", token)),
			)
			out := buf.String()
			for _, s := range []string{tricky, token, url.QueryEscape(tricky), url.QueryEscape(token)} {
				if strings.Contains(out, s) {
					t.Errorf("log holds %q:\n%s", s, out)
				}
			}
			if n := strings.Count(out, Redacted); n < 9 {
				t.Errorf("want ≥9 redactions, got %d:\n%s", n, out)
			}
			if !strings.Contains(out, "3") {
				t.Errorf("non-secret attr lost:\n%s", out)
			}
		})
	}
}

func TestHandlerErrorStaysError(t *testing.T) {
	r := NewRedactor()
	r.Add(token)
	var got any
	h := NewHandler(captureHandler{fn: func(rec slog.Record) {
		rec.Attrs(func(a slog.Attr) bool { got = a.Value.Any(); return true })
	}}, r)
	slog.New(h).Error("x", "err", fmt.Errorf("t=%s: %w", token, os.ErrClosed))
	err, ok := got.(error)
	if !ok {
		t.Fatalf("attr is %T, want error", got)
	}
	if !errors.Is(err, os.ErrClosed) || strings.Contains(err.Error(), token) {
		t.Errorf("err = %v", err)
	}
}

type captureHandler struct{ fn func(slog.Record) }

func (captureHandler) Enabled(_ context.Context, _ slog.Level) bool { return true }
func (h captureHandler) Handle(_ context.Context, r slog.Record) error {
	h.fn(r)
	return nil
}
func (h captureHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h captureHandler) WithGroup(string) slog.Handler      { return h }
