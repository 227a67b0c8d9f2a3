package recordings_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/calletl/calletl/extract/httpx"
	"github.com/calletl/calletl/recordings"
	"github.com/calletl/calletl/sandbox"
	"github.com/calletl/calletl/storage"
)

// silentAfterHalf answers, while on is set, the downloads of id with
// files' status, full Content-Length and first half, then sends nothing
// more until the client goes away: a stall in the middle of a Put. Other
// downloads go to other.
func silentAfterHalf(files, other http.Handler, id string, on *atomic.Bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !on.Load() || !strings.Contains(r.URL.Path, id) {
			other.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		files.ServeHTTP(rec, r)
		body := rec.Body.Bytes()
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(rec.Code)
		_, _ = w.Write(body[:len(body)/2])
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	})
}

// Downloads that trickle (the emulator's Trickle fault, one byte every
// 5ms) or stop midway fail their attempt after IdleTimeout: the run goes
// on and returns no error, the stalled parts are recorded failed (attempt
// 1, the error saying it stalled) with nothing stored for them, not even a
// temp file; the next run fetches them as attempt 2.
func TestMTTRecordingStalls(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute) // a hang fails, not blocks
	defer cancel()
	emu := sandbox.NewMTTRecords(sandbox.MTTRecordsConfig{Username: mttUser, Password: mttPass, Seed: 7, PartSize: 8 << 10})
	inj := sandbox.NewFaultInjector(sandbox.Faults{TrickleEvery: 3, TrickleInterval: 5 * time.Millisecond})
	ids := mttIDs(9)
	midway := ids[4]
	api := httptest.NewServer(emu.API())
	var silent atomic.Bool
	silent.Store(true)
	files := httptest.NewServer(silentAfterHalf(emu.Files(), inj.Wrap(emu.Files()), midway, &silent))
	t.Cleanup(api.Close)
	t.Cleanup(files.Close)
	emu.SetDownloadBase(files.URL)
	fetcher := mttRecordings(t, api.URL, httpx.Config{IdleTimeout: 50 * time.Millisecond})
	lake := lakeWithCalls(t, "mtt", ids...)
	storeDir := filepath.Join(t.TempDir(), "store")
	store, err := storage.NewLocal(storeDir)
	if err != nil {
		t.Fatal(err)
	}
	clk := newClock()
	cfg := recordings.Config{Store: store, Lake: lake, Concurrency: 3, PerHost: 3, Now: clk.Now}

	sum, err := recordings.Run(ctx, cfg, testRun("r1", clk.Now()), fetcher)
	if err != nil {
		t.Fatalf("run 1: %v (a stalled download must fail its call, not the run)", err)
	}
	t.Logf("run 1: %+v, faults %+v", sum, inj.Counts())
	trickled := inj.Counts().Trickle
	if trickled == 0 {
		t.Fatal("no download trickled: the test tests nothing")
	}
	stored := map[string]bool{}
	for _, k := range listKeys(t, store) {
		stored[k] = true
	}
	man := latestManifest(t, lake.Root())
	failedParts, failedCalls, okParts, parts := 0, 0, 0, 0
	for _, id := range ids {
		parts += emu.Parts(id)
		callFailed := false
		for p, r := range man[id] {
			switch r.Status {
			case recordings.StatusFailed:
				failedParts++
				callFailed = true
				if !strings.Contains(r.Err, "body stalled") || r.Attempts != 1 || r.Key != "" {
					t.Errorf("%s part %d: failed row %+v; want attempt 1, no key, an error saying the body stalled", id, p, r)
				} else if failedParts == 1 {
					t.Logf("a stalled part: %s", r.Err)
				}
			case recordings.StatusOK:
				okParts++
				if !stored[r.Key] {
					t.Errorf("%s part %d: ok but %s is not in the store", id, p, r.Key)
				}
			default:
				t.Errorf("%s part %d: status %s", id, p, r.Status)
			}
		}
		if callFailed {
			failedCalls++
		}
	}
	if statusOf(man[midway]) != recordings.StatusFailed {
		t.Errorf("%s (silent after half its bytes): %+v, want failed", midway, man[midway])
	}
	if failedParts != trickled+1 || okParts != parts-failedParts || len(stored) != okParts {
		t.Errorf("%d failed parts (want %d trickled + 1 silent), %d ok of %d parts, %d objects stored",
			failedParts, trickled, okParts, parts, len(stored))
	}
	if sum.Failed != failedCalls || sum.Calls != len(ids) {
		t.Errorf("summary %+v; want %d calls, %d failed", sum, len(ids), failedCalls)
	}
	_ = filepath.WalkDir(storeDir, func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".tmp") {
			t.Errorf("half-stored temp file left: %s", p)
		}
		return nil
	})

	// The vendor recovers; once the backoff has passed, the failed calls
	// are fetched again, as their second attempt.
	inj.SetFaults(sandbox.Faults{})
	silent.Store(false)
	clk.Advance(2 * recordings.DefaultRetryBase)
	sum, err = recordings.Run(ctx, cfg, testRun("r2", clk.Now()), fetcher)
	if err != nil || sum.Failed != 0 || sum.Calls != failedCalls {
		t.Fatalf("run 2: %+v, %v; want the %d failed calls fetched", sum, err, failedCalls)
	}
	man = latestManifest(t, lake.Root())
	for _, id := range ids {
		if statusOf(man[id]) != recordings.StatusOK || len(man[id]) != emu.Parts(id) {
			t.Errorf("%s after run 2: %+v", id, man[id])
		}
	}
	if len(listKeys(t, store)) != parts {
		t.Errorf("%d objects stored, want %d", len(listKeys(t, store)), parts)
	}
}
