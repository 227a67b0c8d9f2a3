package mtt

import (
	"context"
	"testing"
	"time"

	"github.com/calletl/calletl/extract/httpx"
	"github.com/calletl/calletl/sandbox"
	"github.com/calletl/calletl/secret"
)

// A redirect off the API origin never carries the Basic credentials: it is
// refused (another host, same host other port, https to http).
func TestRedirectKeepsCredentials(t *testing.T) {
	const user, pass = "agent-7", "mtt-Basic-pa55"
	for _, rc := range sandbox.RedirectCases() {
		t.Run(rc.Name, func(t *testing.T) {
			tr, err := rc.Start(nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer tr.Close()
			c, err := New(Config{BaseURL: tr.API + "/index.php", Username: user, Password: secret.New(pass),
				HTTP: httpx.Config{Transport: tr.Transport, MaxAttempts: 2,
					Sleep: func(ctx context.Context, _ time.Duration) error { return ctx.Err() }}}, nil)
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Accounts(context.Background(), "110011256")
			for _, p := range tr.Refused(err, pass) {
				t.Error(p)
			}
			if !httpx.IsRedirectRefused(err) {
				t.Errorf("err = %v; want a *httpx.RedirectError", err)
			}
		})
	}
}
