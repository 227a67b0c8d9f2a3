package recordings

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/calletl/calletl/extract/httpx"
)

// hostGuard sends requests for one origin (scheme, host and port, as
// httpx.Origin) through authed, which adds the vendor's credentials, and
// every other request through plain with any Authorization and Cookie
// header removed. It sits under the http.Client, so it also covers
// redirects: a redirect to another origin never carries credentials,
// whatever CheckRedirect does (httpx refuses https to http anyway).
type hostGuard struct {
	origin        string // "https://rc.mtt.ru:443"
	authed, plain http.RoundTripper
}

func newHostGuard(base string, authed, plain http.RoundTripper) (*hostGuard, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return nil, fmt.Errorf("base URL %q: want http(s)://host[/path] without user information", base)
	}
	return &hostGuard{origin: httpx.Origin(u), authed: authed, plain: plain}, nil
}

func (g *hostGuard) RoundTrip(req *http.Request) (*http.Response, error) {
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

// basicAuth adds Basic credentials to every request.
type basicAuth struct {
	user, password string
	next           http.RoundTripper
}

func (b *basicAuth) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.SetBasicAuth(b.user, b.password)
	return b.next.RoundTrip(req)
}

// checkDownloadURL accepts an absolute http(s) URL without user information.
func checkDownloadURL(raw string) (*url.URL, error) {
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
