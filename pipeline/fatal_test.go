package pipeline_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/calletl/calletl/extract/httpx"
	"github.com/calletl/calletl/extract/mobilgroup"
	"github.com/calletl/calletl/extract/mtt"
	"github.com/calletl/calletl/extract/t2"
	"github.com/calletl/calletl/extract/voicebox"
	"github.com/calletl/calletl/extract/votbox"
	"github.com/calletl/calletl/load"
	"github.com/calletl/calletl/model"
	"github.com/calletl/calletl/pipeline"
	"github.com/calletl/calletl/sandbox"
	"github.com/calletl/calletl/secret"
	"github.com/calletl/calletl/state"
)

// The emulators generate traffic over these days; the run covers both.
var (
	fatalFrom = time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	fatalTo   = fatalFrom.AddDate(0, 0, 1)
)

func noSleep(ctx context.Context, _ time.Duration) error { return ctx.Err() }

// serve serves h over httptest under prefix, counting the requests that
// reach it.
func serve(t *testing.T, prefix string, h http.Handler) (base string, requests *atomic.Int64) {
	t.Helper()
	requests = new(atomic.Int64)
	mux := http.NewServeMux()
	inner := h
	if prefix != "" {
		inner = http.StripPrefix(prefix, h)
	}
	mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		inner.ServeHTTP(w, r)
	}))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL + prefix, requests
}

// httpCfg: one request at a time, so the number of requests a dead
// credential costs does not depend on scheduling.
func httpCfg() httpx.Config { return httpx.Config{Concurrency: 1, MaxAttempts: 3, Sleep: noSleep} }

// vendorCase builds one vendor's source against its emulator, with the
// right credentials (good) or wrong ones.
type vendorCase struct {
	name string
	// refusal is how many requests the first refusal takes: VoiceBox's
	// password grant tries HTTP Basic, then the form (AuthStyleAutoDetect).
	refusal int64
	build   func(t *testing.T, good bool) (src any, requests *atomic.Int64)
}

var vendorCases = []vendorCase{
	{"mtt", 1, func(t *testing.T, good bool) (any, *atomic.Int64) {
		emu := sandbox.NewMTT(sandbox.MTTConfig{Seed: 7, Customers: []string{"110011256", "110022512"},
			From: fatalFrom, To: fatalTo, CallsPerDay: 5, Username: "u", Password: "p4ssw0rd"})
		base, n := serve(t, "", emu)
		pw := "p4ssw0rd"
		if !good {
			pw = "wrong-password"
		}
		c, err := mtt.New(mtt.Config{BaseURL: base, Username: "u", Password: secret.New(pw),
			Customers: []string{"110011256", "110022512"}, HTTP: httpCfg()}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return mtt.NewSource(c), n
	}},
	{"t2", 1, func(t *testing.T, good bool) (any, *atomic.Int64) {
		emu := sandbox.NewT2(sandbox.T2Config{Seed: 7, From: fatalFrom, To: fatalTo, CallsPerDay: 5, MissedPerDay: 2, Employees: 2})
		base, n := serve(t, "", emu)
		access, refresh := emu.IssueTokens()
		if !good {
			access, refresh = "revoked-access-token-1", "revoked-refresh-token-1"
		}
		c, err := t2.New(t2.Config{BaseURL: base + "/crm/openapi", Access: secret.New(access), Refresh: secret.New(refresh),
			TokenFile: filepath.Join(t.TempDir(), "t2-tokens.json"), HTTP: httpCfg()}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return t2.NewSource(c), n
	}},
	{"voicebox", 2, func(t *testing.T, good bool) (any, *atomic.Int64) {
		emu := sandbox.NewVoiceBox(sandbox.VoiceBoxConfig{Customers: []string{"1001", "1002"}, CallsPerDay: 5, Days: 2, Seed: 3, Start: fatalFrom})
		base, n := serve(t, "/voicebox", emu)
		pw := sandbox.VoiceBoxDefaultPassword
		if !good {
			pw = "wrong-Passw0rd-xyz"
		}
		c, err := voicebox.New(voicebox.Config{BaseURL: base, ClientID: sandbox.VoiceBoxDefaultClientID,
			ClientSecret: secret.New(sandbox.VoiceBoxDefaultClientSecret), Username: sandbox.VoiceBoxDefaultUsername,
			Password: secret.New(pw), Customers: []string{"1001", "1002"}, PageSize: 10, HTTP: httpCfg()}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return voicebox.NewSource(c), n
	}},
	{"votbox", 1, func(t *testing.T, good bool) (any, *atomic.Int64) {
		emu := sandbox.NewVotBox(sandbox.VotBoxConfig{Seed: 7, Username: "acme", Password: "s3cret-Pa55", Tasks: 3, ItemsPerTask: 5})
		base, n := serve(t, "", emu)
		pw := "s3cret-Pa55"
		if !good {
			pw = "wrong-Pa55"
		}
		c, err := votbox.New(votbox.Config{BaseURL: base, Username: "acme", Password: secret.New(pw), HTTP: httpCfg()}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return votbox.NewSource(c), n
	}},
	{"mobilgroup", 1, func(t *testing.T, good bool) (any, *atomic.Int64) {
		emu := sandbox.NewMobilgroup(sandbox.MobilgroupConfig{APIKey: "mg-K3y-9f8e7d6c5b4a", Broadcasts: 3, SubscribersPerBroadcast: 5, Seed: 7})
		base, n := serve(t, "", emu)
		key := "mg-K3y-9f8e7d6c5b4a"
		if !good {
			key = "mg-revoked-key-0000"
		}
		c, err := mobilgroup.New(mobilgroup.Config{BaseURL: base, APIKey: secret.New(key), BroadcastIDs: emu.IDs(), HTTP: httpCfg()}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return mobilgroup.NewSource(c), n
	}},
}

// A dead credential (the emulator refuses it as the vendor document says
// the vendor does) makes its source fail once, with one error that says
// what to do: the source's other streams, items and snapshots are not
// attempted (the emulator sees one request), while another source of the
// same run runs in full.
func TestDeadCredentialStopsItsSourceOnce(t *testing.T) {
	for _, tc := range vendorCases {
		t.Run(tc.name, func(t *testing.T) {
			dead, requests := tc.build(t, false)
			other := vendorCases[0]
			if tc.name == other.name {
				other = vendorCases[len(vendorCases)-1]
			}
			healthy, _ := other.build(t, true)

			dir := t.TempDir()
			lake, err := load.Open(filepath.Join(dir, "lake"), load.Options{})
			if err != nil {
				t.Fatal(err)
			}
			st, err := state.Open(filepath.Join(dir, "state"))
			if err != nil {
				t.Fatal(err)
			}
			p := pipeline.New(pipeline.Config{Lake: lake, State: st, Location: time.UTC, LookbackDays: 1,
				Now: func() time.Time { return fatalTo.Add(12 * time.Hour) }})
			var windowed []pipeline.Source
			var items []pipeline.ItemSource
			for _, s := range []any{dead, healthy} {
				switch s := s.(type) {
				case pipeline.Source:
					windowed = append(windowed, s)
				case pipeline.ItemSource:
					items = append(items, s)
				}
			}
			sum, err := p.Run(context.Background(), windowed, items...)
			if err != nil {
				t.Fatal(err)
			}

			var deadRows, otherRows int
			for _, r := range sum.Streams {
				switch r.Source {
				case tc.name:
					deadRows++
					if r.Status != model.RunFailed {
						t.Errorf("%s/%s/%s: status %s, want failed", r.Source, r.Stream, r.Account, r.Status)
					}
				case other.name:
					otherRows++
					if r.Status != model.RunOK {
						t.Errorf("other source %s/%s/%s: %s %s", r.Source, r.Stream, r.Account, r.Status, r.Error)
					}
				}
			}
			if deadRows == 0 || otherRows == 0 {
				t.Fatalf("rows: %d of %s, %d of %s", deadRows, tc.name, otherRows, other.name)
			}
			errs := sum.Errors()
			if len(errs) != 1 {
				t.Fatalf("%d errors, want 1:\n%v", len(errs), sum.Err())
			}
			if msg := errs[0].Error(); !strings.HasPrefix(msg, tc.name) || strings.Contains(msg, "wrong-") || strings.Contains(msg, "revoked-") {
				t.Errorf("the error does not name the source, or shows a secret: %s", msg)
			}
			if tc.name != "votbox" && !errors.Is(errs[0], httpx.ErrAuth) {
				t.Errorf("the error is not httpx.ErrAuth: %v", errs[0])
			}
			if got := requests.Load(); got != tc.refusal {
				t.Errorf("%d requests reached the %s emulator, want %d (the source stops at the first refusal)", got, tc.name, tc.refusal)
			}
		})
	}
}
