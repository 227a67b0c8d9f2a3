package recordings

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/calletl/calletl/extract/httpx"
)

// DefaultT2Base is the T2 CRM OpenAPI base.
const DefaultT2Base = "https://ats2.t2.ru/crm/openapi"

// T2Config configures [NewT2].
type T2Config struct {
	BaseURL string // up to and including /crm/openapi; DefaultT2Base when empty
	// Transport adds the access token (and refreshes it). It is used for
	// the BaseURL origin only; anything else goes through a plain transport
	// without credentials. Package t2 should export its token transport
	// (e.g. `func (c *t2.Client) Transport() http.RoundTripper`) so the CLI
	// can pass it here; until then the caller supplies one.
	Transport http.RoundTripper
	HTTP      httpx.Config
}

// T2Fetcher fetches T2 recordings: GET {base}/call-records/file?filename=
// <recordFileName> answers the MP3; 404 "Record not found by filename" is
// ErrMissing.
type T2Fetcher struct {
	base string
	host string
	http *httpx.Client
}

var _ Fetcher = (*T2Fetcher)(nil)

// NewT2 returns the T2 fetcher.
func NewT2(cfg T2Config) (*T2Fetcher, error) {
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultT2Base
	}
	base := strings.TrimRight(cfg.BaseURL, "/")
	if cfg.Transport == nil {
		return nil, errors.New("recordings: t2: Transport (the token transport) is required")
	}
	if cfg.HTTP.Name == "" {
		cfg.HTTP.Name = "t2-recordings"
	}
	if cfg.HTTP.Concurrency <= 0 {
		cfg.HTTP.Concurrency = 16
	}
	guard, err := newHostGuard(base, cfg.Transport, httpx.NewTransport(cfg.HTTP))
	if err != nil {
		return nil, fmt.Errorf("recordings: t2: %w", err)
	}
	cfg.HTTP.Transport = guard
	// A file answer may redirect to a storage host; the guard sends the
	// token to the BaseURL origin only, so that is followed (never from
	// https to http).
	cfg.HTTP.OffOriginRedirects = true
	u, _ := url.Parse(base)
	return &T2Fetcher{base: base, host: u.Host, http: httpx.New(cfg.HTTP)}, nil
}

// Source implements [Fetcher].
func (f *T2Fetcher) Source() string { return "t2" }

// Parts implements [Fetcher]: one part, the MP3 of call.Ref (the
// recordFileName, URL-encoded once).
func (f *T2Fetcher) Parts(ctx context.Context, call Call, fn func(Part) error) error {
	u := f.base + "/call-records/file?" + url.Values{"filename": {call.Ref}}.Encode()
	return fn(Part{N: 1, Host: f.host, Kind: KindAudio, Open: func(ctx context.Context) (io.ReadCloser, int64, error) {
		resp, err := f.http.Stream(ctx, "call-records/file "+call.Ref, func(ctx context.Context) (*http.Request, error) {
			return http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		})
		if err != nil {
			return nil, 0, missingIf404(err)
		}
		return resp.Body, resp.ContentLength, nil
	}})
}

var _ TranscriptFetcher = (*T2Fetcher)(nil)

// Transcript implements [TranscriptFetcher]: GET {base}/call-records/file/stt
// ?filename=<recordFileName> answers [{channel, startTime, endTime, word}];
// 404 "Transcription not found for filename" is ErrMissing.
func (f *T2Fetcher) Transcript(call Call) Part {
	u := f.base + "/call-records/file/stt?" + url.Values{"filename": {call.Ref}}.Encode()
	return Part{N: TranscriptPart, Host: f.host, Kind: KindJSON, Open: func(ctx context.Context) (io.ReadCloser, int64, error) {
		resp, err := f.http.Stream(ctx, "call-records/file/stt "+call.Ref, func(ctx context.Context) (*http.Request, error) {
			return http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		})
		if err != nil {
			return nil, 0, missingIf404(err)
		}
		return resp.Body, resp.ContentLength, nil
	}}
}
