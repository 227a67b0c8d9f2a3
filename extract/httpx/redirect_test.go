package httpx

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/calletl/calletl/sandbox"
)

func TestOrigin(t *testing.T) {
	for _, tc := range []struct{ a, b string }{
		{"https://API.example/x?y=1", "https://api.example:443"},
		{"http://api.example/", "http://api.example:80"},
		{"http://127.0.0.1:8080/a", "http://127.0.0.1:8080"},
		{"https://[::1]/a", "https://[::1]:443"},
	} {
		u, _ := url.Parse(tc.a)
		if got := Origin(u); got != tc.b {
			t.Errorf("Origin(%s) = %s; want %s", tc.a, got, tc.b)
		}
	}
	for _, tc := range []struct{ a, b string }{
		{"https://api.example", "http://api.example"},
		{"https://api.example", "https://api.example:8443"},
		{"https://api.example", "https://evil.api.example"},
	} {
		ua, _ := url.Parse(tc.a)
		ub, _ := url.Parse(tc.b)
		if Origin(ua) == Origin(ub) {
			t.Errorf("%s and %s have the same origin %s", tc.a, tc.b, Origin(ua))
		}
	}
	for _, bad := range []string{"ftp://x", "/path", "https://", "https://u:p@x", "::"} {
		if o, err := ParseOrigin(bad); err == nil {
			t.Errorf("ParseOrigin(%q) = %q; want an error", bad, o)
		}
	}
}

// withCreds returns a request builder carrying every kind of credential a
// vendor client sets: Basic auth, a raw Authorization key is replaced by it,
// a custom header, a cookie, and a secret in the body (307 resends it).
func withCreds(method, u string) NewRequestFunc {
	return func(ctx context.Context) (*http.Request, error) {
		var body io.Reader
		if method == http.MethodPost {
			body = strings.NewReader("password=hash-0123456789")
		}
		req, err := http.NewRequestWithContext(ctx, method, u, body)
		if err != nil {
			return nil, err
		}
		req.SetBasicAuth("user", "basic-pa55")
		req.Header.Set("X-Api-Key", "custom-key-0123")
		req.Header.Set("Cookie", "session=cookie-0123")
		req.Header.Set("Accept", "application/json")
		req.Header.Set("Range", "bytes=10-")
		return req, nil
	}
}

var credSecrets = []string{"basic-pa55", "custom-key-0123", "cookie-0123", "hash-0123456789"}

// Same-origin redirects are followed with everything the request carried.
func TestRedirectSameOriginFollowed(t *testing.T) {
	for _, code := range []int{http.StatusFound, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		var got atomic.Value
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/old" {
				http.Redirect(w, r, "/new?x=1", code)
				return
			}
			if _, p, _ := r.BasicAuth(); p != "basic-pa55" || r.Header.Get("X-Api-Key") == "" {
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			got.Store(r.Method)
			io.WriteString(w, "ok")
		}))
		c, _ := newClient(Config{MaxAttempts: 1})
		body, err := c.Do(context.Background(), "op", withCreds(http.MethodPost, srv.URL+"/old"), nil)
		srv.Close()
		if err != nil || string(body) != "ok" {
			t.Errorf("%d: body %q, err %v; want ok", code, body, err)
		}
	}
}

// Redirects to another origin are refused, at once (no retry), with an
// error naming both ends and no query.
func TestRedirectOffOriginRefused(t *testing.T) {
	for _, rc := range sandbox.RedirectCases() {
		t.Run(rc.Name, func(t *testing.T) {
			tr, err := rc.Start(nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer tr.Close()
			for _, method := range []string{http.MethodGet, http.MethodPost} {
				for _, off := range []bool{false, true} {
					keepsBody := method == http.MethodPost && rc.Code != http.StatusFound
					if off && !rc.TLS && !keepsBody {
						// Followed: TestRedirectOffOriginFollowed's.
						continue
					}
					c, rec := newClient(Config{Name: "vendor", Transport: tr.Transport, MaxAttempts: 3, OffOriginRedirects: off})
					_, err := c.Do(context.Background(), "history", withCreds(method, tr.API+"/api?token=q-secret"), nil)
					for _, p := range tr.Refused(err, credSecrets...) {
						t.Errorf("%s off=%v: %s", method, off, p)
					}
					var re *RedirectError
					if !errors.As(err, &re) {
						t.Fatalf("%s: err = %v; want *RedirectError", method, err)
					}
					if re.Downgrade != rc.TLS || re.Status != rc.Code || re.Origin != Origin(mustURL(tr.API)) {
						t.Errorf("%s: %+v", method, re)
					}
					if !strings.HasPrefix(err.Error(), "vendor: history: ") || strings.Contains(err.Error(), "q-secret") {
						t.Errorf("error %q: want the source and op, and no query", err)
					}
					if n := len(rec.get()); n != 0 {
						t.Errorf("%d retries of a refused redirect", n)
					}
				}
			}
		})
	}
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

// With OffOriginRedirects, a GET redirected to another origin is followed
// with only harmless headers: no credential, no cookie, no Referer.
func TestRedirectOffOriginFollowed(t *testing.T) {
	for _, rc := range sandbox.RedirectCases() {
		if rc.TLS {
			continue
		}
		t.Run(rc.Name, func(t *testing.T) {
			tr, err := rc.Start(nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer tr.Close()
			c, _ := newClient(Config{Transport: tr.Transport, MaxAttempts: 1, OffOriginRedirects: true})
			body, err := c.Do(context.Background(), "download", withCreds(http.MethodGet, tr.API+"/file.wav"), nil)
			if err != nil || string(body) != "{}" {
				t.Fatalf("body %q, err %v", body, err)
			}
			for _, l := range tr.Hostile.Leaks(credSecrets...) {
				t.Errorf("leaked: %s", l)
			}
			reqs := tr.Hostile.Requests()
			if len(reqs) != 1 {
				t.Fatalf("%d requests at the target; want 1", len(reqs))
			}
			h := reqs[0].Header
			if h.Get("X-Api-Key") != "" || h.Get("Referer") != "" || h.Get("Range") != "bytes=10-" || h.Get("Accept") != "application/json" {
				t.Errorf("headers at the target: %v", h)
			}
		})
	}
}

func TestRedirectLimit(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		http.Redirect(w, r, "/again", http.StatusFound)
	}))
	defer srv.Close()
	c, _ := newClient(Config{MaxAttempts: 3})
	_, err := c.Do(context.Background(), "loop", get(srv.URL), nil)
	var re *RedirectError
	if !errors.As(err, &re) || !re.TooMany {
		t.Fatalf("err = %v; want too many redirects", err)
	}
	if got := n.Load(); got != maxRedirects {
		t.Errorf("%d requests; want %d (one attempt)", got, maxRedirects)
	}
}

// CheckRedirect serves http.Clients built elsewhere (an OAuth2 token client).
func TestCheckRedirectPlainClient(t *testing.T) {
	rc := sandbox.RedirectCases()[3] // same host other port 307
	tr, err := rc.Start(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	hc := &http.Client{Transport: tr.Transport, CheckRedirect: CheckRedirect}
	req, _ := withCreds(http.MethodPost, tr.API+"/oauth/token")(context.Background())
	resp, err := hc.Do(req)
	if err == nil {
		resp.Body.Close()
	}
	for _, p := range tr.Refused(err, credSecrets...) {
		t.Error(p)
	}
	if !IsRedirectRefused(err) {
		t.Errorf("err = %v", err)
	}
}
