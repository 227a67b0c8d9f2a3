package voicebox

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/calletl/calletl/extract/httpx"
	"github.com/calletl/calletl/sandbox"
)

// A redirect off the origin never carries the bearer token (which the
// transport adds on every hop) nor, from the token endpoint, the client
// secret and password: it is refused (another host, same host other port,
// https to http).
func TestRedirectKeepsToken(t *testing.T) {
	emu := sandbox.NewVoiceBox(sandbox.VoiceBoxConfig{Customers: []string{"1001"}, CallsPerDay: 2, Days: 1, Seed: 3,
		Start: time.Date(2026, 11, 18, 0, 0, 0, 0, time.UTC)})
	api := http.StripPrefix("/voicebox", emu)
	isToken := func(r *http.Request) bool { return strings.HasSuffix(r.URL.Path, TokenPath) }
	for _, endpoint := range []struct {
		name     string
		redirect func(*http.Request) bool
	}{
		{"api", func(r *http.Request) bool { return !isToken(r) }},
		{"token", isToken},
	} {
		for _, rc := range sandbox.RedirectCases() {
			t.Run(endpoint.name+"/"+rc.Name, func(t *testing.T) {
				tr, err := rc.Start(api, endpoint.redirect)
				if err != nil {
					t.Fatal(err)
				}
				defer tr.Close()
				cfg := testConfig(tr.API + "/voicebox")
				cfg.HTTP.Transport = tr.Transport
				c := newClient(t, cfg, nil)
				err = c.Ping(context.Background())
				for _, p := range tr.Refused(err, sandbox.VoiceBoxDefaultClientSecret, sandbox.VoiceBoxDefaultPassword) {
					t.Error(p)
				}
				if !httpx.IsRedirectRefused(err) {
					t.Errorf("err = %v; want a *httpx.RedirectError", err)
				}
				if endpoint.name == "token" && (!strings.Contains(err.Error(), "token_url")) {
					t.Errorf("err = %v; want it to point at token_url", err)
				}
			})
		}
	}
}

// The token transport sends the token to the API origin only, whoever
// asks: a request for another origin is refused before a token is even
// obtained.
func TestTransportOnlyForAPIOrigin(t *testing.T) {
	for _, rc := range sandbox.RedirectCases() {
		t.Run(rc.Name, func(t *testing.T) {
			tr, err := rc.Start(nil, func(*http.Request) bool { return false })
			if err != nil {
				t.Fatal(err)
			}
			defer tr.Close()
			cfg := testConfig(tr.API + "/voicebox")
			cfg.HTTP.Transport = tr.Transport
			c := newClient(t, cfg, nil)
			_, err = c.http.Do(context.Background(), "elsewhere", func(ctx context.Context) (*http.Request, error) {
				return http.NewRequestWithContext(ctx, http.MethodGet, tr.Target+"/voicebox/customers", nil)
			}, nil)
			if err == nil || !strings.Contains(err.Error(), "refusing to send the access token") {
				t.Errorf("err = %v; want the transport to refuse", err)
			}
			if n := len(tr.Hostile.Requests()); n > 0 {
				t.Errorf("%d requests reached %s", n, tr.Target)
			}
			if n := c.TokensIssued(); n != 0 {
				t.Errorf("%d tokens obtained for a refused request", n)
			}
		})
	}
}
