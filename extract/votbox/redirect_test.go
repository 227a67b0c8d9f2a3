package votbox

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"testing"
	"time"

	"github.com/calletl/calletl/extract/httpx"
	"github.com/calletl/calletl/sandbox"
	"github.com/calletl/calletl/secret"
)

// A redirect off the API origin never carries the password's MD5 hash
// (a form field of the POST body, which a 307/308 resends): it is refused
// (another host, same host other port, https to http).
func TestRedirectKeepsPasswordHash(t *testing.T) {
	const pass = "votbox-Secret-pa55"
	sum := md5.Sum([]byte(pass))
	hash := hex.EncodeToString(sum[:])
	for _, rc := range sandbox.RedirectCases() {
		t.Run(rc.Name, func(t *testing.T) {
			tr, err := rc.Start(nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer tr.Close()
			c, err := New(Config{BaseURL: tr.API + "/api", Username: "robo", Password: secret.New(pass),
				HTTP: httpx.Config{Transport: tr.Transport, MaxAttempts: 2,
					Sleep: func(ctx context.Context, _ time.Duration) error { return ctx.Err() }}}, nil)
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.ActiveTasks(context.Background())
			for _, p := range tr.Refused(err, hash, pass) {
				t.Error(p)
			}
			if !httpx.IsRedirectRefused(err) {
				t.Errorf("err = %v; want a *httpx.RedirectError", err)
			}
		})
	}
}
