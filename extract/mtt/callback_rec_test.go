package mtt

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/calletl/calletl/extract/httpx"
	"github.com/calletl/calletl/recordings/fetch"
	"github.com/calletl/calletl/sandbox"
	"github.com/calletl/calletl/secret"
)

// recEnv is the MTT API emulator with callbacks whose recordings an
// MTTRecords emulator serves, and a recordings fetcher on both.
type recEnv struct {
	api  *sandbox.MTT
	recs *sandbox.MTTRecords
	f    *Recordings
}

func newRecEnv(t *testing.T, format string) *recEnv {
	t.Helper()
	const user, pass = "u", "p4ssw0rd"
	recs := sandbox.NewMTTRecords(sandbox.MTTRecordsConfig{Username: user, Password: pass, Seed: 3, PartSize: 4096})
	recAPI, files := httptest.NewServer(recs.API()), httptest.NewServer(recs.Files())
	t.Cleanup(recAPI.Close)
	t.Cleanup(files.Close)
	recs.SetDownloadBase(files.URL)
	emu := sandbox.NewMTT(sandbox.MTTConfig{Seed: 3, Customers: []string{cbCustomer}, CallbacksPerCustomer: 8,
		Username: user, Password: pass, CallbackRecordBase: files.URL, CallbackRecordParts: recs.Parts})
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	c, err := New(Config{BaseURL: srv.URL, Username: user, Password: secret.New(pass), Customers: []string{cbCustomer},
		RecordingFormat: format,
		HTTP:            httpx.Config{MaxAttempts: 3, Sleep: func(ctx context.Context, _ time.Duration) error { return ctx.Err() }}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	f, err := c.Recordings(recAPI.URL, httpx.Config{MaxAttempts: 3, Sleep: func(ctx context.Context, _ time.Duration) error { return ctx.Err() }})
	if err != nil {
		t.Fatal(err)
	}
	return &recEnv{api: emu, recs: recs, f: f}
}

// download resolves ref and downloads every part: their SHA-256, in order.
func download(t *testing.T, f *Recordings, ref string) ([]string, error) {
	t.Helper()
	var sums []string
	err := f.Parts(context.Background(), ref, func(p fetch.Part) error {
		if p.N != len(sums)+1 {
			return fmt.Errorf("part %d after %d", p.N, len(sums))
		}
		body, _, err := p.Open(context.Background())
		if err != nil {
			return err
		}
		defer body.Close()
		h := sha256.New()
		if _, err := io.Copy(h, body); err != nil {
			return err
		}
		sums = append(sums, hex.EncodeToString(h.Sum(nil)))
		return nil
	})
	return sums, err
}

// TestCallbackRecordings: a callback's recording is leg A's files then
// leg B's, with URLs asked of getCallBackFollowmeCallInfo at fetch time,
// downloaded byte for byte and without credentials; a callback without
// recording, or that ended without one, is fetch.ErrMissing.
func TestCallbackRecordings(t *testing.T) {
	e := newRecEnv(t, "")
	withRec := 0
	for _, c := range e.api.Callbacks() {
		sums, err := download(t, e.f, CallbackRef(cbCustomer, c.ID, 1))
		if c.Ended != "" || c.RecordA+c.RecordB == 0 {
			if !errors.Is(err, fetch.ErrMissing) {
				t.Errorf("%s (no recording): %v, want ErrMissing", c.ID, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", c.ID, err)
		}
		withRec++
		var want []string
		for _, leg := range []struct {
			side string
			n    int
		}{{"A", c.RecordA}, {"B", c.RecordB}} {
			for n := 1; n <= leg.n; n++ {
				_, sum := e.recs.Digest(c.RecordID(leg.side), n)
				want = append(want, sum)
			}
		}
		if fmt.Sprint(sums) != fmt.Sprint(want) {
			t.Errorf("%s: parts %v, want %v", c.ID, sums, want)
		}
	}
	if withRec < 3 {
		t.Fatalf("only %d callbacks with a recording", withRec)
	}
	if n := e.recs.LeakedAuth(); n != 0 {
		t.Errorf("%d download requests carried credentials", n)
	}
	if _, err := download(t, e.f, CallbackRef(cbCustomer, "0123456789abcdef", 1)); !errors.Is(err, fetch.ErrMissing) {
		t.Errorf("unknown callback: %v, want ErrMissing", err)
	}
}

// TestRecordingsMP3: with recording_format mp3 the URL list comes from the
// document's v2 URL with format=mp3 and the files are MP3; the default
// stays WAV.
func TestRecordingsMP3(t *testing.T) {
	const id = "2B23D937_BD9BCF86_E89D407D_44DA0162"
	for _, format := range []string{"", FormatWAV, FormatMP3} {
		t.Run("format "+format, func(t *testing.T) {
			e := newRecEnv(t, format)
			if e.recs.Parts(id) == 0 {
				t.Skip("no recording for the id with this seed")
			}
			sums, err := download(t, e.f, id)
			if err != nil {
				t.Fatal(err)
			}
			digest := e.recs.Digest
			if format == FormatMP3 {
				digest = e.recs.DigestMP3
			}
			for n, got := range sums {
				if _, want := digest(id, n+1); got != want {
					t.Errorf("part %d: %s, want the %q file %s", n+1, got, format, want)
				}
			}
		})
	}
}
