// Package fetch is the contract between the recordings stage and a
// vendor's recordings fetcher: [Fetcher], [Part] and the errors a fetcher
// returns, with the pieces every fetcher shares ([NewGuard],
// [CheckDownloadURL], [MissingIf404]). Each vendor's fetcher lives beside
// its client in extract/<vendor>, on the client's own credentials; package
// recordings downloads, checks and stores what the fetchers resolve. This
// package is a leaf (no DuckDB, no lake) so a vendor package can import it.
package fetch

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

// ErrMissing is wrapped by fetcher errors meaning the vendor holds no such
// recording (a 404): the call is recorded missing and not retried.
var ErrMissing = errors.New("recordings: the vendor has no such recording")

// ErrContent marks a body whose first bytes are not what was expected (an
// HTML or JSON error page served with status 200): it is never stored.
var ErrContent = errors.New("recordings: unexpected content")

// Kinds of content a part holds.
const (
	KindAudio = "audio" // WAV or MP3
	KindJSON  = "json"  // a transcript
)

// TranscriptPart is the manifest part number of a call's transcript row.
const TranscriptPart = -1

// Part is one file of a call's recording, not downloaded yet.
type Part struct {
	N    int    // 1-based, in the vendor's order
	Host string // host the download goes to: the per-host limit applies to it
	Kind string // KindAudio or KindJSON: what the first bytes must look like
	// Open starts the download and returns the body, which the caller
	// closes, and its Content-Length (-1 when unknown). An error wrapping
	// ErrMissing means the vendor has no such file.
	Open func(ctx context.Context) (body io.ReadCloser, length int64, err error)
}

// Fetcher finds the recordings of one source. Implementations live in the
// vendor packages (mtt.RecordingsFetcher, t2.RecordingsFetcher,
// votbox.RecordingsFetcher).
type Fetcher interface {
	// Source is the calls table's source the fetcher serves ("mtt").
	Source() string
	// Parts resolves the recording a call's recording_ref names into its
	// parts and calls fn for each, in order, in the calling goroutine,
	// stopping at fn's first error, which it returns. Resolving does not
	// download anything: the caller opens the parts it does not hold yet.
	// An error wrapping ErrMissing means the vendor has no such recording.
	Parts(ctx context.Context, ref string, fn func(Part) error) error
}

// TranscriptFetcher is implemented by fetchers whose vendor also serves a
// speech transcript of a call (T2's).
type TranscriptFetcher interface {
	// Transcript returns the transcript of the call whose recording_ref is
	// ref as a part (N is TranscriptPart, Kind KindJSON), not downloaded
	// yet. Its Open error wraps ErrMissing when the vendor has none.
	Transcript(ref string) Part
}

// Guard is an http.RoundTripper that sends requests for one origin
// (scheme, host and port, as httpx.Origin) through authed, which adds the
// vendor's credentials, and every other request through plain with any
// Authorization and Cookie header removed. It sits under the http.Client,
// so it also covers redirects: a redirect to another origin never carries
// credentials, whatever CheckRedirect does (httpx refuses https to http
// anyway).
type Guard struct {
	origin        string // "https://rc.mtt.ru:443"
	authed, plain http.RoundTripper
}

// NewGuard returns the guard of base's origin.
func NewGuard(base string, authed, plain http.RoundTripper) (*Guard, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return nil, fmt.Errorf("base URL %q: want http(s)://host[/path] without user information", base)
	}
	return &Guard{origin: httpx.Origin(u), authed: authed, plain: plain}, nil
}

// RoundTrip implements http.RoundTripper.
func (g *Guard) RoundTrip(req *http.Request) (*http.Response, error) {
	if httpx.Origin(req.URL) == g.origin {
		return g.authed.RoundTrip(req)
	}
	if req.Header.Get("Authorization") != "" || req.Header.Get("Cookie") != "" {
		req = req.Clone(req.Context())
		req.Header.Del("Authorization")
		req.Header.Del("Cookie")
	}
	return g.plain.RoundTrip(req)
}

// Refuse is an http.RoundTripper that fails every request: the plain side
// of a Guard whose vendor sends credentials in the body (which a 307/308
// redirect would resend), so nothing may leave the origin.
type Refuse struct{}

// RoundTrip implements http.RoundTripper.
func (Refuse) RoundTrip(req *http.Request) (*http.Response, error) {
	return nil, fmt.Errorf("refusing a request to %s: credentials go to the configured host only", req.URL.Host)
}

// CheckDownloadURL accepts an absolute http(s) URL without user information.
func CheckDownloadURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return nil, errors.New("download URL does not parse")
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("download URL scheme %q: want http or https", u.Scheme)
	case u.Host == "":
		return nil, errors.New("download URL has no host")
	case u.User != nil:
		return nil, errors.New("download URL carries user information")
	}
	// A URL whose path climbs ("/../", "..%2F") is refused outright: it is
	// either a vendor bug or an attempt to reach something else. (Keys are
	// never derived from URLs, so it could not escape the key prefix.)
	decoded, err := url.PathUnescape(u.EscapedPath())
	if err != nil {
		return nil, errors.New("download URL path does not unescape")
	}
	for seg := range strings.SplitSeq(strings.ReplaceAll(decoded, "\\", "/"), "/") {
		if seg == ".." {
			return nil, fmt.Errorf("download URL path %q climbs with \"..\"", u.EscapedPath())
		}
	}
	return u, nil
}

// MissingIf404 marks a 404 or 410 *httpx.StatusError with ErrMissing.
func MissingIf404(err error) error {
	var se *httpx.StatusError
	if errors.As(err, &se) && (se.StatusCode == http.StatusNotFound || se.StatusCode == http.StatusGone) {
		return fmt.Errorf("%w: %w", ErrMissing, err)
	}
	return err
}

// Stream opens a GET download of u through h; a 404 or 410 is ErrMissing.
func Stream(ctx context.Context, h *httpx.Client, op, u string) (io.ReadCloser, int64, error) {
	resp, err := h.Stream(ctx, op, func(ctx context.Context) (*http.Request, error) {
		return http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	})
	if err != nil {
		return nil, 0, MissingIf404(err)
	}
	return resp.Body, resp.ContentLength, nil
}
