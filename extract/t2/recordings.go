package t2

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/calletl/calletl/extract/httpx"
	"github.com/calletl/calletl/recordings/fetch"
)

// Recordings fetches T2 recordings and their transcripts:
// GET {base}/call-records/file?filename=<recordFileName> answers the MP3,
// GET {base}/call-records/file/stt?filename=… the words; a 404 ("Record
// not found by filename", "Transcription not found for filename") is
// fetch.ErrMissing.
type Recordings struct {
	base string
	host string
	http *httpx.Client
}

var (
	_ fetch.Fetcher           = (*Recordings)(nil)
	_ fetch.TranscriptFetcher = (*Recordings)(nil)
)

// Recordings returns the recordings fetcher on the client's token
// transport (the same token lifecycle as the API's); h tunes its HTTP
// client (Concurrency: default 16).
func (c *Client) Recordings(h httpx.Config) (*Recordings, error) {
	return NewRecordings(c.cfg.BaseURL, c.transport, h)
}

// NewRecordings returns a recordings fetcher of base (up to and including
// /crm/openapi; DefaultBaseURL when empty) whose requests to base's origin
// go through authed, which adds the access token; anything else goes
// through a plain transport without credentials. [Client.Recordings]
// passes the client's token transport.
func NewRecordings(base string, authed http.RoundTripper, h httpx.Config) (*Recordings, error) {
	if base == "" {
		base = DefaultBaseURL
	}
	base = strings.TrimRight(base, "/")
	if authed == nil {
		return nil, fmt.Errorf("t2: recordings: the token transport is required")
	}
	if h.Name == "" {
		h.Name = Name + "-recordings"
	}
	if h.Concurrency <= 0 {
		h.Concurrency = 16
	}
	guard, err := fetch.NewGuard(base, authed, httpx.NewTransport(h))
	if err != nil {
		return nil, fmt.Errorf("t2: recordings: %w", err)
	}
	h.Transport = guard
	// A file answer may redirect to a storage host; the guard sends the
	// token to the base origin only, so that is followed (never from
	// https to http).
	h.OffOriginRedirects = true
	u, _ := url.Parse(base)
	return &Recordings{base: base, host: u.Host, http: httpx.New(h)}, nil
}

// Source implements fetch.Fetcher.
func (f *Recordings) Source() string { return Name }

// Parts implements fetch.Fetcher: one part, the MP3 of ref (the
// recordFileName, URL-encoded once).
func (f *Recordings) Parts(ctx context.Context, ref string, fn func(fetch.Part) error) error {
	return fn(f.part(1, fetch.KindAudio, "call-records/file", ref))
}

// Transcript implements fetch.TranscriptFetcher: [{channel, startTime,
// endTime, word}] of ref.
func (f *Recordings) Transcript(ref string) fetch.Part {
	return f.part(fetch.TranscriptPart, fetch.KindJSON, "call-records/file/stt", ref)
}

func (f *Recordings) part(n int, kind, path, ref string) fetch.Part {
	u := f.base + "/" + path + "?" + url.Values{"filename": {ref}}.Encode()
	return fetch.Part{N: n, Host: f.host, Kind: kind, Open: func(ctx context.Context) (io.ReadCloser, int64, error) {
		return fetch.Stream(ctx, f.http, path+" "+ref, u)
	}}
}
