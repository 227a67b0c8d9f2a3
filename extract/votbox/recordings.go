package votbox

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/calletl/calletl/extract/httpx"
	"github.com/calletl/calletl/recordings/fetch"
)

// Recordings fetches VotBox recordings: POST autocall.recordtalk.api.php
// with the client's login and filename=<recfilename> answers the WAV, or
// an XML error ("not found" errors are fetch.ErrMissing, others failures).
type Recordings struct {
	script string
	host   string
	login  login
	http   *httpx.Client
}

var _ fetch.Fetcher = (*Recordings)(nil)

// Recordings returns the recordings fetcher on the client's login; h tunes
// its HTTP client (Concurrency: default 16).
func (c *Client) Recordings(h httpx.Config) (*Recordings, error) {
	if h.Name == "" {
		h.Name = Name + "-recordings"
	}
	if h.Concurrency <= 0 {
		h.Concurrency = 16
	}
	if h.Redactor == nil {
		h.Redactor = c.red
	}
	plain := h.Transport
	if plain == nil {
		plain = httpx.NewTransport(h)
	}
	// The credentials travel in the form body, which a 307/308 redirect
	// would resend: redirects off the origin are refused (httpx's default)
	// and, should one get through, so is any request to another origin.
	guard, err := fetch.NewGuard(c.cfg.BaseURL, plain, fetch.Refuse{})
	if err != nil {
		return nil, fmt.Errorf("votbox: recordings: %w", err)
	}
	h.Transport = guard
	u, _ := url.Parse(c.cfg.BaseURL)
	return &Recordings{script: c.cfg.BaseURL + "/autocall.recordtalk.api.php", host: u.Host, login: c.login, http: httpx.New(h)}, nil
}

// Source implements fetch.Fetcher.
func (f *Recordings) Source() string { return Name }

// Parts implements fetch.Fetcher: one part, the talk recorded as ref
// (recfilename).
func (f *Recordings) Parts(ctx context.Context, ref string, fn func(fetch.Part) error) error {
	return fn(fetch.Part{N: 1, Host: f.host, Kind: fetch.KindAudio, Open: func(ctx context.Context) (io.ReadCloser, int64, error) {
		return f.open(ctx, ref)
	}})
}

func (f *Recordings) open(ctx context.Context, name string) (io.ReadCloser, int64, error) {
	op := "recordtalk " + name
	resp, err := f.http.Stream(ctx, op, func(ctx context.Context) (*http.Request, error) {
		form := f.login.form(url.Values{"filename": {name}})
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.script, strings.NewReader(form.Encode()))
		if err == nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		return req, err
	})
	if err != nil {
		return nil, 0, fetch.MissingIf404(err)
	}
	br := bufio.NewReaderSize(resp.Body, 512)
	head, _ := br.Peek(64)
	if t := bytes.TrimLeft(head, " \t\r\n\xef\xbb\xbf"); len(t) > 0 && t[0] == '<' {
		// An XML answer instead of audio: an error.
		body, _ := io.ReadAll(io.LimitReader(br, 64<<10))
		resp.Body.Close()
		_, derr := Decode(body, contentCharset(resp.Header.Get("Content-Type")))
		var apiErr *APIError
		if errors.As(derr, &apiErr) {
			if strings.Contains(strings.ToLower(apiErr.Text), "не найден") || strings.Contains(strings.ToLower(apiErr.Text), "not found") {
				return nil, 0, fmt.Errorf("votbox-recordings: %s: %w: %v", op, fetch.ErrMissing, apiErr)
			}
			return nil, 0, fmt.Errorf("votbox-recordings: %s: %w", op, apiErr)
		}
		return nil, 0, fmt.Errorf("votbox-recordings: %s: %w: XML answer instead of audio: %.80q", op, fetch.ErrContent, body)
	}
	return readCloser{Reader: br, Closer: resp.Body}, resp.ContentLength, nil
}

type readCloser struct {
	io.Reader
	io.Closer
}
