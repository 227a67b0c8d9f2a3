package httpx

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// maxRedirects is how many redirects one request may follow (net/http's
// default too).
const maxRedirects = 10

// Origin returns u's origin, "scheme://host:port": scheme and host
// lowercased, the scheme's default port made explicit. Two URLs are of the
// same origin when their Origins are equal: "https://API.example" and
// "https://api.example:443" are, "https://api.example:8443" and
// "http://api.example" are not.
func Origin(u *url.URL) string {
	scheme := strings.ToLower(u.Scheme)
	port := u.Port()
	if port == "" {
		switch scheme {
		case "https":
			port = "443"
		case "http":
			port = "80"
		}
	}
	return scheme + "://" + net.JoinHostPort(strings.ToLower(u.Hostname()), port)
}

// ParseOrigin returns the Origin of raw, an absolute http(s) URL with a
// host and without user information (a vendor base URL).
func ParseOrigin(raw string) (string, error) {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return "", fmt.Errorf("URL %q does not parse", raw)
	case u.Scheme != "http" && u.Scheme != "https":
		return "", fmt.Errorf("URL %q: want an http or https URL", raw)
	case u.Host == "":
		return "", fmt.Errorf("URL %q has no host", raw)
	case u.User != nil:
		return "", fmt.Errorf("URL %q carries user information; configure credentials separately", raw)
	}
	return Origin(u), nil
}

// RedirectError is a redirect the client refused to follow. It names the
// request's origin and where the redirect pointed (origin and path, never
// the query, which may carry anything).
type RedirectError struct {
	Status    int    // the redirect's HTTP status, e.g. 307
	From      string // the URL that answered with the redirect (origin and path)
	To        string // where it pointed, resolved (origin and path)
	Origin    string // the origin of the original request: the only one credentials go to
	Downgrade bool   // from https to plain http
	TooMany   bool   // more than 10 redirects
}

func (e *RedirectError) Error() string {
	head := fmt.Sprintf("HTTP %d redirect from %s to %s refused: ", e.Status, e.From, e.To)
	switch {
	case e.TooMany:
		return head + fmt.Sprintf("more than %d redirects", maxRedirects)
	case e.Downgrade:
		return head + "it leads from https to plain http, which would expose the request; check the vendor's address (base URL) or ask the vendor"
	}
	return head + "it leaves the API origin " + e.Origin + " (scheme, host and port), the only one the credentials are sent to; if the vendor has moved, configure its new base URL"
}

// IsRedirectRefused reports whether err, or any error it wraps, is a
// refused redirect.
func IsRedirectRefused(err error) bool {
	var re *RedirectError
	return errors.As(err, &re)
}

// CheckRedirect is the redirect rule of every Client, usable as
// http.Client.CheckRedirect for clients built outside this package (an
// OAuth2 token client). It follows a redirect only within the origin
// (scheme, host and port) of the original request and never from https to
// plain http; anything else ends the request with a *RedirectError, marked
// Permanent.
//
// Why refuse rather than follow with the credentials stripped: net/http
// removes Authorization and Cookie only when the host name changes (ports
// are ignored, subdomains keep them) and keeps every other header, a
// 307/308 resends the request body (VotBox's password hash, an OAuth2
// password grant) and a RoundTripper that adds a token (T2, VoiceBox) adds
// it again on every hop. The client cannot know which header, form field
// or transport carries a secret, so the only rule that holds for all of
// them is not to send the request at all. A vendor API that moved is a
// configuration change (its base URL), not something to follow silently.
func CheckRedirect(req *http.Request, via []*http.Request) error {
	return checkRedirect(req, via, false)
}

// checkRedirect implements CheckRedirect; offOrigin follows redirects to
// other origins (see Config.OffOriginRedirects).
func checkRedirect(req *http.Request, via []*http.Request, offOrigin bool) error {
	prev := via[len(via)-1]
	re := &RedirectError{From: where(prev.URL), To: where(req.URL), Origin: Origin(via[0].URL)}
	if req.Response != nil {
		re.Status = req.Response.StatusCode
	}
	if len(via) >= maxRedirects {
		re.TooMany = true
		return Permanent(re)
	}
	if !strings.EqualFold(req.URL.Scheme, "https") {
		for _, r := range via {
			if strings.EqualFold(r.URL.Scheme, "https") {
				re.Downgrade = true
				return Permanent(re)
			}
		}
	}
	if Origin(req.URL) == re.Origin {
		return nil
	}
	if !offOrigin || (req.Body != nil && req.Body != http.NoBody) {
		return Permanent(re)
	}
	// Followed: nothing the original request carried goes along but a
	// few headers that cannot hold a credential (net/http copied them all,
	// and set a Referer that may hold the API's query).
	h := make(http.Header)
	for k, v := range req.Header {
		switch http.CanonicalHeaderKey(k) {
		case "Accept", "Accept-Language", "If-Range", "Range", "User-Agent":
			h[k] = v
		}
	}
	req.Header = h
	return nil
}

// where is u's origin and path, without user information, query or
// fragment, for error messages.
func where(u *url.URL) string {
	return Origin(u) + u.EscapedPath()
}
