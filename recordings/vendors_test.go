package recordings_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/calletl/calletl/extract/httpx"
	"github.com/calletl/calletl/recordings"
	"github.com/calletl/calletl/sandbox"
)

// tokenTransport stands in for t2's token transport.
type tokenTransport struct{ tok string }

func (t tokenTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.Header.Set("Authorization", t.tok)
	return http.DefaultTransport.RoundTrip(req)
}

func TestT2Fetch(t *testing.T) {
	emu := sandbox.NewT2(sandbox.T2Config{Seed: 3, From: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC), CallsPerDay: 40})
	srv := httptest.NewServer(emu)
	defer srv.Close()
	access, _ := emu.IssueTokens()
	var refs []string
	for _, c := range emu.Calls() {
		if c.RecordFileName != "" && len(refs) < 5 {
			refs = append(refs, c.RecordFileName)
		}
	}
	if len(refs) == 0 {
		t.Fatal("no recorded calls in the emulator")
	}
	refs = append(refs, "2026-11-20/unknown/nothing.mp3")
	f := t2Fetcher(t, srv.URL, access)
	lake := lakeWithCalls(t, "t2", refs...)
	st := localStore(t)
	sum, err := recordings.Run(context.Background(), recordings.Config{Store: st, Lake: lake}, testRun("r1", time.Now()), f)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Stored != len(refs)-1 || sum.Missing != 1 || sum.Failed != 0 {
		t.Errorf("summary %+v; want %d stored, 1 missing", sum, len(refs)-1)
	}
	man := latestManifest(t, lake.Root())
	for _, ref := range refs[:len(refs)-1] {
		r := man[ref][1]
		if r.Status != recordings.StatusOK || r.Key != recordings.PartKey("t2", day, ref, 1, "mp3") {
			t.Errorf("%s: %+v", ref, r)
		}
	}
}

func TestVotBoxFetch(t *testing.T) {
	emu := sandbox.NewVotBox(sandbox.VotBoxConfig{Seed: 5, Username: "vb", Password: "vb-pass", Tasks: 1, ItemsPerTask: 40})
	for i := 0; i < 50 && !emu.Final(); i++ {
		emu.Advance()
	}
	srv := httptest.NewServer(emu)
	defer srv.Close()
	var refs []string
	for _, task := range emu.Tasks() {
		for _, it := range task.Items {
			if it.RecFileName != "" && len(refs) < 5 {
				refs = append(refs, it.RecFileName)
			}
		}
	}
	if len(refs) == 0 {
		t.Fatal("no recorded items in the emulator")
	}
	refs = append(refs, "no-such-file.wav")
	f := votboxRecordings(t, srv.URL, httpx.Config{})
	lake := lakeWithCalls(t, "votbox", refs...)
	st := localStore(t)
	sum, err := recordings.Run(context.Background(), recordings.Config{Store: st, Lake: lake}, testRun("r1", time.Now()), f)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Stored != len(refs)-1 || sum.Missing != 1 || sum.Failed != 0 {
		t.Errorf("summary %+v; want %d stored, 1 missing; manifest %+v", sum, len(refs)-1, latestManifest(t, lake.Root()))
	}
}
