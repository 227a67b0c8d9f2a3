package recordings_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/calletl/calletl/recordings"
	"github.com/calletl/calletl/sandbox"
	"github.com/calletl/calletl/secret"
	"github.com/calletl/calletl/storage"
)

// outageStore fails one of its methods (op: "put", "stat" or "list") with
// err once failAfter calls of it have succeeded; with suffix, only Puts of
// keys ending in it count and fail.
type outageStore struct {
	storage.Store
	op        string
	suffix    string
	failAfter int64
	err       error
	calls     atomic.Int64
}

func (o *outageStore) String() string { return fmt.Sprint(o.Store) }

func (o *outageStore) fails(op string) bool { return op == o.op && o.calls.Add(1) > o.failAfter }

func (o *outageStore) Put(ctx context.Context, key string, r io.Reader, ct string) (storage.Info, error) {
	if strings.HasSuffix(key, o.suffix) && o.fails("put") {
		_, _ = io.CopyN(io.Discard, r, 1000) // a write that dies midway
		return storage.Info{}, fmt.Errorf("blob: put %s: %w", key, o.err)
	}
	return o.Store.Put(ctx, key, r, ct)
}

func (o *outageStore) Stat(ctx context.Context, key string) (storage.Info, error) {
	if o.fails("stat") {
		return storage.Info{}, fmt.Errorf("blob: stat %s: %w", key, o.err)
	}
	return o.Store.Stat(ctx, key)
}

func (o *outageStore) List(ctx context.Context, prefix string, fn func(storage.Info) error) error {
	if o.fails("list") {
		return fmt.Errorf("blob: list %s: %w", prefix, o.err)
	}
	return o.Store.List(ctx, prefix, fn)
}

// s3Outage is a proxy in front of versitygw that answers 503 to every
// request once failAfter PUT requests have gone through.
func s3Outage(t *testing.T, endpoint string, failAfter int64) string {
	t.Helper()
	target, err := url.Parse(endpoint)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	var puts atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if puts.Load() >= failAfter {
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>ServiceUnavailable</Code><Message>down for the test</Message></Error>`)
			return
		}
		if r.Method == http.MethodPut {
			puts.Add(1)
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// closedEndpoint is the URL of a port nothing listens on.
func closedEndpoint(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}

func s3StoreAt(t *testing.T, endpoint, prefix string) *storage.S3 {
	t.Helper()
	s, err := storage.NewS3(context.Background(), storage.S3Config{Endpoint: endpoint, Region: "us-east-1", Bucket: testBucket,
		Prefix: prefix, PathStyle: true, AccessKey: secret.New(versityAccess), SecretKey: secret.New(versitySecret),
		PartSize: storage.MinPartSize})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// A failing blob store stops the run with one error naming the store
// (ErrStore), and uses up no call's attempts: nothing is recorded for the
// calls it interrupted, and once the store is back they are all fetched
// as first attempts, without backoff.
func TestStoreOutage(t *testing.T) {
	versity := startVersity(t)
	s3 := func(*testing.T) string { return versity }
	local := func(t *testing.T) storage.Store {
		st := localStore(t)
		return st
	}
	for _, tc := range []struct {
		name string
		// stores returns the healthy store and the same store failing.
		stores func(t *testing.T) (healthy, broken storage.Store)
		// primed: the objects are stored (manifest lost) before the outage.
		primed bool
	}{
		{"local disk full on the 4th Put", func(t *testing.T) (storage.Store, storage.Store) {
			st := local(t)
			return st, &outageStore{Store: st, op: "put", failAfter: 3, err: syscall.ENOSPC}
		}, false},
		{"local disk unreadable", func(t *testing.T) (storage.Store, storage.Store) {
			st := local(t)
			return st, &outageStore{Store: st, op: "list", failAfter: 0, err: syscall.EIO}
		}, false},
		{"stat of a stored object fails", func(t *testing.T) (storage.Store, storage.Store) {
			st := local(t)
			return st, &outageStore{Store: st, op: "stat", failAfter: 1, err: syscall.EIO}
		}, true},
		{"S3 answers 503 after 3 uploads", func(t *testing.T) (storage.Store, storage.Store) {
			ep := s3(t)
			prefix := fmt.Sprintf("outage%d", len(t.Name()))
			return s3StoreAt(t, ep, prefix), s3StoreAt(t, s3Outage(t, ep, 3), prefix)
		}, false},
		{"S3 unreachable", func(t *testing.T) (storage.Store, storage.Store) {
			ep := s3(t)
			return s3StoreAt(t, ep, "unreachable"), s3StoreAt(t, closedEndpoint(t), "unreachable")
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			env := newMTTEnv(t, 64<<10, 0)
			ids := mttIDs(8)
			total := 0
			for _, id := range ids {
				total += env.emu.Parts(id)
			}
			lake := lakeWithCalls(t, "mtt", ids...)
			healthy, broken := tc.stores(t)
			clk := newClock()
			cfg := recordings.Config{Lake: lake, Concurrency: 2, Now: clk.Now}
			if tc.primed {
				cfg.Store = healthy
				if _, err := recordings.Run(ctx, cfg, testRun("r0", clk.Now()), env.fetcher); err != nil {
					t.Fatal(err)
				}
				if err := os.RemoveAll(filepath.Join(lake.Root(), "recordings")); err != nil {
					t.Fatal(err)
				}
			}

			cfg.Store = broken
			sum, err := recordings.Run(ctx, cfg, testRun("r1", clk.Now()), env.fetcher)
			t.Logf("outage run: %+v\n%v", sum, err)
			if !errors.Is(err, recordings.ErrStore) {
				t.Fatalf("Run = %v; want ErrStore", err)
			}
			if msg := err.Error(); !strings.Contains(msg, fmt.Sprint(broken)) || !strings.Contains(msg, "run again") {
				t.Errorf("error %q does not name the store (%s) and what to do", msg, broken)
			}
			if sum.Failed != 0 || sum.Missing != 0 || sum.Calls == len(ids) {
				t.Errorf("outage run summary %+v; want some calls not done, none failed", sum)
			}
			recorded := 0
			for id, rows := range latestManifest(t, lake.Root()) {
				recorded++
				for p, r := range rows {
					if r.Status != recordings.StatusOK || r.Attempts != 1 {
						t.Errorf("%s part %d after the outage: %+v; want only ok rows of first attempts", id, p, r)
					}
				}
			}
			if recorded != sum.Calls {
				t.Errorf("%d calls in the manifest, summary says %d", recorded, sum.Calls)
			}

			// The store is back: every call is fetched now (no backoff),
			// as its first attempt.
			cfg.Store = healthy
			sum, err = recordings.Run(ctx, cfg, testRun("r2", clk.Now()), env.fetcher)
			if err != nil {
				t.Fatal(err)
			}
			if sum.Deferred != 0 || sum.Failed != 0 || sum.Calls != len(ids)-recorded || sum.Stored+sum.Reused == 0 {
				t.Errorf("run after the outage: %+v; want the %d other calls done", sum, len(ids)-recorded)
			}
			man := latestManifest(t, lake.Root())
			for _, id := range ids {
				checkStored(t, env, healthy, id, man[id])
				for p, r := range man[id] {
					if r.Attempts != 1 {
						t.Errorf("%s part %d: attempts %d; want 1 (the outage is not an attempt)", id, p, r.Attempts)
					}
				}
			}
			if keys := listKeys(t, healthy); len(keys) != total {
				t.Errorf("%d objects; want %d", len(keys), total)
			}
		})
	}
}

// A store failing to take a transcript stops the run like any other
// failure of the store: the call is not recorded (its transcript not
// failed), and is fetched as a first attempt once the store is back.
func TestStoreOutageTranscript(t *testing.T) {
	emu := sandbox.NewT2(sandbox.T2Config{Seed: 3, From: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC), CallsPerDay: 60})
	srv := httptest.NewServer(emu)
	defer srv.Close()
	access, _ := emu.IssueTokens()
	var refs []string
	for _, c := range emu.Calls() {
		if c.RecordFileName != "" && len(refs) < 6 && servedTranscript(t, srv.URL, access, c.RecordFileName) != nil {
			refs = append(refs, c.RecordFileName)
		}
	}
	f := t2Fetcher(t, srv.URL, access)
	lake := lakeWithCalls(t, "t2", refs...)
	healthy := localStore(t)
	broken := &outageStore{Store: healthy, op: "put", suffix: "transcript.json", failAfter: 2, err: syscall.EROFS}
	clk := newClock()
	cfg := recordings.Config{Store: broken, Lake: lake, Concurrency: 1, Now: clk.Now}
	sum, err := recordings.Run(context.Background(), cfg, testRun("r1", clk.Now()), f)
	if !errors.Is(err, recordings.ErrStore) || sum.Calls != 2 || sum.Transcripts != 2 || sum.TranscriptsFailed != 0 {
		t.Fatalf("outage run: %+v, %v; want ErrStore after 2 calls", sum, err)
	}
	cfg.Store = healthy
	sum, err = recordings.Run(context.Background(), cfg, testRun("r2", clk.Now()), f)
	if err != nil || sum.Calls != len(refs)-2 || sum.Transcripts != len(refs)-2 || sum.Deferred != 0 {
		t.Fatalf("run after the outage: %+v, %v; want the %d other calls", sum, err, len(refs)-2)
	}
	for _, ref := range refs {
		for p, r := range latestManifest(t, lake.Root())[ref] {
			if r.Status != recordings.StatusOK || r.Attempts != 1 {
				t.Errorf("%s part %d: %+v; want ok, first attempt", ref, p, r)
			}
		}
	}
}
