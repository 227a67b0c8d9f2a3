package sandbox

import (
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
)

// Hostile is a server that must never see a credential: a host a vendor
// API answer redirects to. It records every request it receives (method,
// URL with query, headers, body) and answers 200 with "{}", so a test can
// assert that no secret arrived. It is safe for concurrent use.
type Hostile struct {
	mu   sync.Mutex
	reqs []HostileRequest
}

// HostileRequest is one request a Hostile received.
type HostileRequest struct {
	Method     string
	Host       string // the Host header
	RequestURI string // path and query as sent
	Header     http.Header
	Body       []byte
}

// NewHostile returns a Hostile with no requests recorded.
func NewHostile() *Hostile { return &Hostile{} }

func (h *Hostile) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	h.mu.Lock()
	h.reqs = append(h.reqs, HostileRequest{Method: r.Method, Host: r.Host, RequestURI: r.RequestURI,
		Header: r.Header.Clone(), Body: body})
	h.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, "{}")
}

// Requests returns a copy of the requests received so far, in order.
func (h *Hostile) Requests() []HostileRequest {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]HostileRequest(nil), h.reqs...)
}

// Leaks describes every credential that reached the server: any
// Authorization, Proxy-Authorization or Cookie header whatever its value,
// and any of secrets (empty ones are skipped) found in the URL, a header
// (Basic credentials decoded) or the body, raw or URL-decoded. None means
// nothing leaked. The descriptions name where, never the secret.
func (h *Hostile) Leaks(secrets ...string) []string {
	var out []string
	for i, r := range h.Requests() {
		at := fmt.Sprintf("request %d (%s %s)", i+1, r.Method, pathOnly(r.RequestURI))
		for _, k := range []string{"Authorization", "Proxy-Authorization", "Cookie"} {
			if len(r.Header.Values(k)) > 0 {
				out = append(out, at+": header "+k)
			}
		}
		places := map[string]string{"URL": r.RequestURI, "body": string(r.Body)}
		if q, err := url.QueryUnescape(r.RequestURI); err == nil {
			places["URL (decoded)"] = q
		}
		if b, err := url.QueryUnescape(string(r.Body)); err == nil {
			places["body (decoded)"] = b
		}
		for k, vs := range r.Header {
			for _, v := range vs {
				places["header "+k] += v + "\n"
				if scheme, enc, ok := strings.Cut(v, " "); ok && strings.EqualFold(scheme, "Basic") {
					if dec, err := base64.StdEncoding.DecodeString(strings.TrimSpace(enc)); err == nil {
						places["header "+k+" (Basic, decoded)"] += string(dec) + "\n"
					}
				}
			}
		}
		for n, s := range secrets {
			if s == "" {
				continue
			}
			for place, text := range places {
				if strings.Contains(text, s) {
					out = append(out, fmt.Sprintf("%s: secret #%d in %s", at, n+1, place))
				}
			}
		}
	}
	return out
}

func pathOnly(requestURI string) string {
	p, _, _ := strings.Cut(requestURI, "?")
	return p
}

// ListenOtherHost listens on a second loopback address, 127.0.0.2, with a
// free port. Where that address cannot be bound it falls back to a free
// port on 127.0.0.1 and otherHost is false.
func ListenOtherHost() (ln net.Listener, otherHost bool, err error) {
	if ln, err := net.Listen("tcp", "127.0.0.2:0"); err == nil {
		return ln, true, nil
	}
	ln, err = net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, false, fmt.Errorf("sandbox: listen on loopback: %w", err)
	}
	return ln, false, nil
}

// RedirectCase is one way a vendor API's answer can send a client off the
// API's origin.
type RedirectCase struct {
	Name      string
	Code      int  // 302 (POST becomes GET, the body is dropped) or 307/308 (resent as is)
	OtherHost bool // the target is on the second loopback address (else 127.0.0.1, another port)
	TLS       bool // the API speaks https, the target plain http
}

// RedirectCases returns the cases every source is tested with: another
// host, the same host on another port, and https to http on the same
// host, each with a redirect that drops the body and one that keeps it.
func RedirectCases() []RedirectCase {
	return []RedirectCase{
		{Name: "other host 302", Code: http.StatusFound, OtherHost: true},
		{Name: "other host 307", Code: http.StatusTemporaryRedirect, OtherHost: true},
		{Name: "same host other port 302", Code: http.StatusFound},
		{Name: "same host other port 307", Code: http.StatusTemporaryRedirect},
		{Name: "https to http 302", Code: http.StatusFound, TLS: true},
		{Name: "https to http 308", Code: http.StatusPermanentRedirect, TLS: true},
	}
}

// RedirectTrial is a started RedirectCase: an API server that redirects to
// a Hostile server.
type RedirectTrial struct {
	API       string            // the API's base URL, "http(s)://127.0.0.1:port"
	Transport http.RoundTripper // a transport that trusts the API's certificate
	Target    string            // the Hostile's base URL, "http://host:port"
	OtherHost bool              // the Hostile is on another address than the API
	Hostile   *Hostile
	api, bad  *httptest.Server
}

// Start serves the case: every request for which redirect returns true
// (every request when redirect is nil) is answered with c.Code and a
// Location of the Hostile's base URL plus the request's path and query;
// the others go to next. Close the trial when done.
func (c RedirectCase) Start(next http.Handler, redirect func(*http.Request) bool) (*RedirectTrial, error) {
	tr := &RedirectTrial{Hostile: NewHostile()}
	var ln net.Listener
	var err error
	if c.OtherHost {
		ln, tr.OtherHost, err = ListenOtherHost()
	} else {
		ln, err = net.Listen("tcp", "127.0.0.1:0")
	}
	if err != nil {
		return nil, fmt.Errorf("sandbox: hostile server: %w", err)
	}
	tr.bad = httptest.NewUnstartedServer(tr.Hostile)
	tr.bad.Listener.Close()
	tr.bad.Listener = ln
	tr.bad.Start()
	tr.Target = tr.bad.URL
	tr.api = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if redirect == nil || redirect(r) {
			http.Redirect(w, r, tr.Target+r.URL.RequestURI(), c.Code)
			return
		}
		if next == nil {
			http.NotFound(w, r)
			return
		}
		next.ServeHTTP(w, r)
	}))
	if c.TLS {
		tr.api.StartTLS()
	} else {
		tr.api.Start()
	}
	tr.API = tr.api.URL
	tr.Transport = tr.api.Client().Transport
	return tr, nil
}

// Close stops both servers.
func (tr *RedirectTrial) Close() {
	tr.api.Close()
	tr.bad.Close()
}

// Refused returns what is wrong with a client's answer to a trial it must
// refuse: no request may have reached the Hostile (so no credential either,
// listed separately), and err must be an error that names the redirect
// target's host and port and says "refused". Nil means all is well.
func (tr *RedirectTrial) Refused(err error, secrets ...string) []string {
	var out []string
	for _, l := range tr.Hostile.Leaks(secrets...) {
		out = append(out, "credential leaked to "+tr.Target+": "+l)
	}
	if n := len(tr.Hostile.Requests()); n > 0 {
		out = append(out, fmt.Sprintf("the redirect to %s was followed (%d requests)", tr.Target, n))
	}
	host := strings.TrimPrefix(tr.Target, "http://")
	switch {
	case err == nil:
		out = append(out, "no error; want the redirect refused")
	case !strings.Contains(err.Error(), "refused") || !strings.Contains(err.Error(), host):
		out = append(out, fmt.Sprintf("error %q does not say the redirect to %s was refused", err, host))
	}
	return out
}
