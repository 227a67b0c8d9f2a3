package t2

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/calletl/calletl/extract/httpx"
	"github.com/calletl/calletl/sandbox"
	"github.com/calletl/calletl/secret"
)

// A redirect off the API origin never carries the access token (which the
// transport adds on every hop) nor, from the refresh endpoint, the refresh
// token: it is refused (another host, same host other port, https to http).
func TestRedirectKeepsToken(t *testing.T) {
	const access, refresh = "access-redirect-aaaaaaaa", "refresh-redirect-bbbbbbbb"
	for _, endpoint := range []string{"call-records/info", "authorization/refresh/token"} {
		for _, rc := range sandbox.RedirectCases() {
			t.Run(endpoint+"/"+rc.Name, func(t *testing.T) {
				// The API answers the data endpoint 403 "expired" when only
				// the refresh redirects, so the client refreshes.
				expired := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { forbid(w, detailExpired) })
				tr, err := rc.Start(expired, func(r *http.Request) bool { return strings.HasSuffix(r.URL.Path, endpoint) })
				if err != nil {
					t.Fatal(err)
				}
				defer tr.Close()
				c, err := New(Config{BaseURL: tr.API + "/crm/openapi", Access: secret.New(access), Refresh: secret.New(refresh),
					TokenFile: filepath.Join(t.TempDir(), "t2-tokens.json"),
					HTTP: httpx.Config{Transport: tr.Transport, MaxAttempts: 2,
						Sleep: func(ctx context.Context, _ time.Duration) error { return ctx.Err() }}}, nil)
				if err != nil {
					t.Fatal(err)
				}
				day := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
				err = c.CallRecords(context.Background(), day, day.AddDate(0, 0, 1), time.UTC, func(Page) error { return nil })
				for _, p := range tr.Refused(err, access, refresh) {
					t.Error(p)
				}
				if !httpx.IsRedirectRefused(err) {
					t.Errorf("err = %v; want a *httpx.RedirectError", err)
				}
			})
		}
	}
}

// The token transport sends the token to the API origin only, whoever
// asks: a request for another origin is refused before it is sent.
func TestTransportOnlyForAPIOrigin(t *testing.T) {
	for _, rc := range sandbox.RedirectCases()[:4] {
		t.Run(rc.Name, func(t *testing.T) {
			tr, err := rc.Start(nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer tr.Close()
			c, err := New(Config{BaseURL: tr.API + "/crm/openapi", Access: secret.New("access-x-aaaaaaaa"),
				Refresh: secret.New("refresh-x-bbbbbbbb"), TokenFile: filepath.Join(t.TempDir(), "t2-tokens.json"),
				HTTP: httpx.Config{Transport: tr.Transport}}, nil)
			if err != nil {
				t.Fatal(err)
			}
			req, _ := http.NewRequest(http.MethodGet, tr.Target+"/crm/openapi/call-records/info", nil)
			resp, err := c.Transport().RoundTrip(req)
			if err == nil {
				resp.Body.Close()
				t.Fatal("the transport sent a request to another origin")
			}
			if n := len(tr.Hostile.Requests()); n > 0 {
				t.Errorf("%d requests reached %s", n, tr.Target)
			}
		})
	}
}
