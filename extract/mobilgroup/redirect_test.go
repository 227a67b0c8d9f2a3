package mobilgroup

import (
	"context"
	"testing"
	"time"

	"github.com/calletl/calletl/extract/httpx"
	"github.com/calletl/calletl/sandbox"
	"github.com/calletl/calletl/secret"
)

// A redirect off the API origin never carries the API key (sent as the raw
// Authorization header, which net/http keeps on a redirect to the same
// host name on another port): it is refused (another host, same host other
// port, https to http).
func TestRedirectKeepsAPIKey(t *testing.T) {
	const key = "mobilgroup-Key-0123456789abcdef"
	for _, rc := range sandbox.RedirectCases() {
		t.Run(rc.Name, func(t *testing.T) {
			tr, err := rc.Start(nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer tr.Close()
			c, err := New(Config{BaseURL: tr.API, APIKey: secret.New(key),
				HTTP: httpx.Config{Transport: tr.Transport, MaxAttempts: 2,
					Sleep: func(ctx context.Context, _ time.Duration) error { return ctx.Err() }}}, nil)
			if err != nil {
				t.Fatal(err)
			}
			err = c.Ping(context.Background())
			for _, p := range tr.Refused(err, key) {
				t.Error(p)
			}
			if !httpx.IsRedirectRefused(err) {
				t.Errorf("err = %v; want a *httpx.RedirectError", err)
			}
		})
	}
}
