package sandbox

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestHostileLeaks(t *testing.T) {
	for _, tc := range []struct {
		name  string
		build func(base string) *http.Request
		want  string // a substring of the one leak expected, "" for none
	}{
		{"clean", func(b string) *http.Request { r, _ := http.NewRequest("GET", b+"/x?a=1", nil); return r }, ""},
		{"basic", func(b string) *http.Request {
			r, _ := http.NewRequest("GET", b+"/x", nil)
			r.SetBasicAuth("u", "s3cret")
			return r
		}, "header Authorization"},
		{"custom header", func(b string) *http.Request {
			r, _ := http.NewRequest("GET", b+"/x", nil)
			r.Header.Set("X-Key", "pre-s3cret-post")
			return r
		}, "in header X-Key"},
		{"query", func(b string) *http.Request { r, _ := http.NewRequest("GET", b+"/x?k=s3cret", nil); return r }, "in URL"},
		{"form body", func(b string) *http.Request {
			r, _ := http.NewRequest("POST", b+"/x", strings.NewReader("password=s3cret"))
			return r
		}, "in body"},
		{"cookie", func(b string) *http.Request {
			r, _ := http.NewRequest("GET", b+"/x", nil)
			r.Header.Set("Cookie", "a=b")
			return r
		}, "header Cookie"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := NewHostile()
			srv := httptest.NewServer(h)
			defer srv.Close()
			resp, err := http.DefaultClient.Do(tc.build(srv.URL))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			leaks := h.Leaks("s3cret", "")
			if tc.want == "" {
				if len(leaks) > 0 {
					t.Errorf("leaks %q; want none", leaks)
				}
				return
			}
			if !strings.Contains(strings.Join(leaks, "\n"), tc.want) {
				t.Errorf("leaks %q; want one %q", leaks, tc.want)
			}
			for _, l := range leaks {
				if strings.Contains(l, "s3cret") {
					t.Errorf("a leak description shows the secret: %q", l)
				}
			}
		})
	}
}

// The other-host case really is on another address where the system has
// one (Linux loopback has all of 127/8).
func TestRedirectCaseOtherHost(t *testing.T) {
	tr, err := RedirectCases()[0].Start(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	if !tr.OtherHost {
		t.Skip("127.0.0.2 cannot be bound here; the other-host cases run on 127.0.0.1")
	}
	if !strings.HasPrefix(tr.Target, "http://127.0.0.2:") || !strings.HasPrefix(tr.API, "http://127.0.0.1:") {
		t.Errorf("API %s, target %s", tr.API, tr.Target)
	}
}
