package recordings_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/calletl/calletl/load"
	"github.com/calletl/calletl/recordings"
	"github.com/calletl/calletl/sandbox"
	"github.com/calletl/calletl/storage"
)

func TestMTTEndToEndLocal(t *testing.T) {
	st := localStore(t)
	testMTTEndToEnd(t, st, 64<<10)
}

// PartSize 6 MiB against the S3 store's 5 MiB parts: every recording goes
// through the multipart path.
func TestMTTEndToEndS3(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	testMTTEndToEnd(t, s3Store(t, startVersity(t)), 6<<20)
}

func testMTTEndToEnd(t *testing.T, inner storage.Store, partSize int) {
	ctx := context.Background()
	env := newMTTEnv(t, partSize, 5)
	ids := mttIDs(10)
	// Faulty ids must have a recording.
	var good []string
	for _, id := range ids {
		if env.emu.Parts(id) > 0 {
			good = append(good, id)
		}
	}
	if len(good) < 6 {
		t.Fatalf("only %d ids with recordings", len(good))
	}
	truncated, html, traversal, gone := good[0], good[1], good[2], good[3]
	env.emu.SetFault(truncated, sandbox.MTTRecTruncate)
	env.emu.SetFault(html, sandbox.MTTRecHTML200)
	env.emu.SetFault(traversal, sandbox.MTTRecTraversal)
	env.emu.SetFault(gone, sandbox.MTTRecGone)
	lake := lakeWithCalls(t, "mtt", ids...)
	store := &countingStore{Store: inner, failAfter: -1}
	clk := newClock()
	cfg := recordings.Config{Store: store, Lake: lake, Concurrency: 4, PerHost: 2, Now: clk.Now}

	sum, err := recordings.Run(ctx, cfg, testRun("r1", clk.Now()), env.fetcher)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("run 1: %+v", sum)
	faulty := map[string]string{truncated: "failed", html: "failed", traversal: "failed", gone: "missing"}
	man := latestManifest(t, lake.Root())
	wantParts := 0
	for _, id := range ids {
		rows := man[id]
		if rows == nil {
			t.Errorf("%s: no manifest rows", id)
			continue
		}
		n := env.emu.Parts(id)
		switch {
		case n == 0:
			if len(rows) != 1 || rows[0].Status != recordings.StatusMissing {
				t.Errorf("%s (no recording): rows %+v; want one part-0 missing row", id, rows)
			}
		case faulty[id] != "":
			for p, r := range rows {
				if r.Status == recordings.StatusOK {
					t.Errorf("%s (fault %s) part %d: status ok", id, faulty[id], p)
				}
			}
			if got := statusOf(rows); got != faulty[id] {
				t.Errorf("%s: call status %s; want %s (%+v)", id, got, faulty[id], rows)
			}
		default:
			wantParts += n
			checkStored(t, env, inner, id, rows)
		}
	}
	if sum.Stored != wantParts || sum.Failed != 3 || sum.Calls != len(ids) {
		t.Errorf("summary %+v; want Stored %d, Failed 3, Calls %d", sum, wantParts, len(ids))
	}
	for _, id := range []string{truncated, html, traversal, gone} {
		prefix := recordings.CallPrefix("mtt", day, id)
		for _, k := range listKeys(t, inner) {
			if strings.HasPrefix(k, prefix) {
				t.Errorf("faulty call %s left object %s", id, k)
			}
		}
	}
	if n := env.emu.LeakedAuth(); n != 0 {
		t.Errorf("download host saw Authorization %d times", n)
	}

	// Faults cleared, but the backoff (30m·2¹) has not elapsed: nothing.
	for id := range faulty {
		env.emu.SetFault(id, "")
	}
	puts := store.puts.Load()
	sum, err = recordings.Run(ctx, cfg, testRun("r2", clk.Now()), env.fetcher)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Deferred != 3 || sum.Calls != 0 || store.puts.Load() != puts {
		t.Errorf("run 2 within backoff: %+v, %d puts", sum, store.puts.Load()-puts)
	}

	// After the backoff the failed calls are fetched; the missing ones
	// (gone included) are not asked again.
	clk.Advance(2 * time.Hour)
	sum, err = recordings.Run(ctx, cfg, testRun("r3", clk.Now()), env.fetcher)
	if err != nil {
		t.Fatal(err)
	}
	retried := env.emu.Parts(truncated) + env.emu.Parts(html) + env.emu.Parts(traversal)
	if sum.Calls != 3 || sum.Stored != retried || sum.Failed != 0 {
		t.Errorf("run 3: %+v; want 3 calls, %d parts stored", sum, retried)
	}
	man = latestManifest(t, lake.Root())
	for _, id := range []string{truncated, html, traversal} {
		checkStored(t, env, inner, id, man[id])
		for _, r := range man[id] {
			if r.Attempts != 2 {
				t.Errorf("%s: attempts %d; want 2", id, r.Attempts)
			}
		}
	}

	// Idempotent: nothing pending, nothing downloaded or uploaded.
	puts, files := store.puts.Load(), env.emu.FileRequests()
	clk.Advance(48 * time.Hour)
	sum, err = recordings.Run(ctx, cfg, testRun("r4", clk.Now()), env.fetcher)
	if err != nil {
		t.Fatal(err)
	}
	if sum != (recordings.Summary{}) || store.puts.Load() != puts || env.emu.FileRequests() != files {
		t.Errorf("re-run: %+v, %d puts, %d downloads; want nothing", sum, store.puts.Load()-puts, env.emu.FileRequests()-files)
	}
	keys := listKeys(t, inner)
	if len(keys) != wantParts+retried {
		t.Errorf("%d objects; want %d: %v", len(keys), wantParts+retried, keys)
	}
	for _, k := range keys {
		if !strings.HasPrefix(k, "recordings/source=mtt/date="+day+"/") {
			t.Errorf("key %s outside the prefix", k)
		}
	}
	if n := env.emu.LeakedAuth(); n != 0 {
		t.Errorf("download host saw Authorization %d times", n)
	}
}

func statusOf(rows map[int]manifestRow) string {
	s := recordings.StatusOK
	for _, r := range rows {
		if r.Status == recordings.StatusFailed {
			return recordings.StatusFailed
		}
		if r.Status == recordings.StatusMissing {
			s = recordings.StatusMissing
		}
	}
	return s
}

// checkStored verifies that every part of id is in the store and the
// manifest with the emulator's size and SHA-256.
func checkStored(t *testing.T, env *mttEnv, st storage.Store, id string, rows map[int]manifestRow) {
	t.Helper()
	n := env.emu.Parts(id)
	if len(rows) != n {
		t.Errorf("%s: %d manifest rows; want %d parts: %+v", id, len(rows), n, rows)
	}
	for p := 1; p <= n; p++ {
		size, sum := env.emu.Digest(id, p)
		r := rows[p]
		if r.Status != recordings.StatusOK || r.SHA != sum || r.Bytes != size {
			t.Errorf("%s part %d: manifest %+v; want ok %d %s", id, p, r, size, sum)
			continue
		}
		if want := recordings.PartKey("mtt", day, id, p, "wav"); r.Key != want {
			t.Errorf("%s part %d: key %s; want %s", id, p, r.Key, want)
		}
		if n, h := storedDigest(t, st, r.Key); n != size || h != sum {
			t.Errorf("%s part %d: stored %d bytes, sha %s; want %d %s", id, p, n, h, size, sum)
		}
	}
}

// storedDigest reads key from the store and returns its size and SHA-256
// (Stat may not know the SHA-256 of an S3 object uploaded in parts).
func storedDigest(t *testing.T, st storage.Store, key string) (int64, string) {
	t.Helper()
	rc, err := st.Open(context.Background(), key)
	if err != nil {
		t.Errorf("Open(%s): %v", key, err)
		return 0, ""
	}
	defer rc.Close()
	h := sha256.New()
	n, err := io.Copy(h, rc)
	if err != nil {
		t.Errorf("Open(%s): %v", key, err)
	}
	return n, hex.EncodeToString(h.Sum(nil))
}

// A run killed in the middle of uploads, then a crash that lost the
// manifest: re-runs end with every object exactly once and a true
// manifest, without downloading what is already stored. On S3 the parts
// are larger than a multipart part, so the store keeps no SHA-256 of them:
// the manifest's is computed by reading them back.
func TestMTTKilledMidRun(t *testing.T) {
	for _, tc := range []struct {
		name     string
		partSize int
		store    func(t *testing.T) storage.Store
	}{
		{"local", 32 << 10, func(t *testing.T) storage.Store {
			st := localStore(t)
			return st
		}},
		{"S3 multipart", 6 << 20, func(t *testing.T) storage.Store { return s3Store(t, startVersity(t)) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if testing.Short() && tc.name != "local" {
				t.Skip("short")
			}
			testMTTKilledMidRun(t, tc.store(t), tc.partSize)
		})
	}
}

func testMTTKilledMidRun(t *testing.T, inner storage.Store, partSize int) {
	env := newMTTEnv(t, partSize, 0)
	ids := mttIDs(12)
	lake := lakeWithCalls(t, "mtt", ids...)
	clk := newClock()
	ctx, cancel := context.WithCancel(context.Background())
	killer := &countingStore{Store: inner, failAfter: 4, cancel: cancel}
	cfg := recordings.Config{Store: killer, Lake: lake, Concurrency: 3, Now: clk.Now}
	sum, err := recordings.Run(ctx, cfg, testRun("r1", clk.Now()), env.fetcher)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("killed run: %v; want context.Canceled", err)
	}
	t.Logf("killed run: %+v", sum)
	if sum.Failed != 0 {
		t.Errorf("interrupted calls counted as failed: %+v", sum)
	}
	before := len(listKeys(t, inner))
	if before == 0 || before > 4 {
		t.Fatalf("%d objects after the kill; want 1..4", before)
	}

	// Crash before the manifest: remove it, so only the store knows.
	if err := os.RemoveAll(filepath.Join(lake.Root(), "recordings")); err != nil {
		t.Fatal(err)
	}
	store := &countingStore{Store: inner, failAfter: -1}
	cfg.Store = store
	files := env.emu.FileRequests()
	sum, err = recordings.Run(context.Background(), cfg, testRun("r2", clk.Now()), env.fetcher)
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, id := range ids {
		total += env.emu.Parts(id)
	}
	if sum.Reused != before || sum.Stored != total-before || sum.Failed != 0 {
		t.Errorf("re-run: %+v; want %d reused, %d stored", sum, before, total-before)
	}
	if got := env.emu.FileRequests() - files; got != total-before {
		t.Errorf("re-run downloaded %d parts; want %d (stored ones not again)", got, total-before)
	}
	keys := listKeys(t, inner)
	if len(keys) != total {
		t.Errorf("%d objects; want %d", len(keys), total)
	}
	man := latestManifest(t, lake.Root())
	for _, id := range ids {
		checkStored(t, env, inner, id, man[id])
	}
}

// Credentials never leave the configured host: not to download URLs on
// another host, not through redirects from the API host or from a
// download host.
func TestMTTCredentialsStayOnHost(t *testing.T) {
	var leaked atomic.Int32
	wav := "RIFF\x24\x00\x00\x00WAVEfmt payload"
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			leaked.Add(1)
		}
		switch r.URL.Path {
		case "/urls":
			w.Write([]byte(`["` + "http://" + r.Host + `/file.wav"]`))
		case "/redirect.wav":
			http.Redirect(w, r, "/file.wav", http.StatusFound)
		default:
			w.Write([]byte(wav))
		}
	}))
	defer other.Close()
	var api *httptest.Server
	api = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != mttUser || p != mttPass {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		switch r.URL.Path {
		case "/v1/records/redir/urls": // the API itself redirects elsewhere
			http.Redirect(w, r, other.URL+"/urls", http.StatusFound)
		case "/v1/records/cross/urls":
			w.Write([]byte(`["` + other.URL + `/redirect.wav", "` + api.URL + `/local.wav"]`))
		case "/local.wav": // a download on the API host itself
			w.Write([]byte(wav))
		default:
			http.NotFound(w, r)
		}
	}))
	defer api.Close()
	lake := lakeWithCalls(t, "mtt", "redir", "cross")
	st := localStore(t)
	sum, err := recordings.Run(context.Background(), recordings.Config{Store: st, Lake: lake}, testRun("r1", time.Now()), newMTT(t, api.URL))
	if err != nil {
		t.Fatal(err)
	}
	if sum.Stored != 3 || sum.Failed != 0 {
		t.Errorf("summary %+v; want 3 parts stored", sum)
	}
	if n := leaked.Load(); n != 0 {
		t.Errorf("another host received Authorization %d times", n)
	}
}

func TestRunNoCalls(t *testing.T) {
	lake, err := load.Open(t.TempDir(), load.Options{})
	if err != nil {
		t.Fatal(err)
	}
	st, _ := storage.NewLocal(t.TempDir())
	sum, err := recordings.Run(context.Background(), recordings.Config{Store: st, Lake: lake}, testRun("r", time.Now()), newMTT(t, "http://127.0.0.1:1"))
	if err != nil || sum != (recordings.Summary{}) {
		t.Errorf("empty lake: %+v, %v", sum, err)
	}
}
