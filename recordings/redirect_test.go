package recordings_test

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"io"
	"path/filepath"
	"testing"

	"github.com/calletl/calletl/extract/httpx"
	"github.com/calletl/calletl/extract/t2"
	"github.com/calletl/calletl/recordings"
	"github.com/calletl/calletl/sandbox"
	"github.com/calletl/calletl/secret"
)

// Redirects off the vendor origin never carry credentials. MTT and T2
// downloads legitimately lead to other hosts: those redirects are followed
// without credentials (never from https to http); VotBox sends its password
// hash in the body, so its redirects off the origin are refused.
func TestRecordingsRedirects(t *testing.T) {
	const access, refresh = "rec-access-aaaaaaaa", "rec-refresh-bbbbbbbb"
	fetchers := []struct {
		name    string
		follow  bool // off-origin redirects (other than https to http) are followed
		secrets []string
		fetcher func(t *testing.T, tr *sandbox.RedirectTrial) recordings.Fetcher
	}{
		{"mtt", true, []string{mttPass}, func(t *testing.T, tr *sandbox.RedirectTrial) recordings.Fetcher {
			return mttRecordings(t, tr.API, httpx.Config{Transport: tr.Transport, MaxAttempts: 1})
		}},
		{"t2", true, []string{access, refresh}, func(t *testing.T, tr *sandbox.RedirectTrial) recordings.Fetcher {
			c, err := t2.New(t2.Config{BaseURL: tr.API, Access: secret.New(access), Refresh: secret.New(refresh),
				TokenFile: filepath.Join(t.TempDir(), "t2-tokens.json"), HTTP: httpx.Config{Transport: tr.Transport}}, nil)
			if err != nil {
				t.Fatal(err)
			}
			f, err := c.Recordings(httpx.Config{MaxAttempts: 1})
			if err != nil {
				t.Fatal(err)
			}
			return f
		}},
		{"votbox", false, []string{"vb-pass", md5hex("vb-pass")}, func(t *testing.T, tr *sandbox.RedirectTrial) recordings.Fetcher {
			return votboxRecordings(t, tr.API, httpx.Config{Transport: tr.Transport, MaxAttempts: 1})
		}},
	}
	for _, fc := range fetchers {
		for _, rc := range sandbox.RedirectCases() {
			t.Run(fc.name+"/"+rc.Name, func(t *testing.T) {
				tr, err := rc.Start(nil, nil)
				if err != nil {
					t.Fatal(err)
				}
				defer tr.Close()
				f := fc.fetcher(t, tr)
				err = f.Parts(context.Background(), "rec-1", func(p recordings.Part) error {
					body, _, err := p.Open(context.Background())
					if err == nil {
						_, _ = io.Copy(io.Discard, body)
						body.Close()
					}
					return err
				})
				if !fc.follow || rc.TLS {
					for _, p := range tr.Refused(err, fc.secrets...) {
						t.Error(p)
					}
					return
				}
				for _, l := range tr.Hostile.Leaks(fc.secrets...) {
					t.Errorf("credential leaked to %s: %s", tr.Target, l)
				}
				if len(tr.Hostile.Requests()) == 0 {
					t.Errorf("the redirect to %s was not followed: %v", tr.Target, err)
				}
				if errors.Is(err, recordings.ErrMissing) || httpx.IsRedirectRefused(err) {
					t.Errorf("err = %v", err)
				}
			})
		}
	}
}

func md5hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}
