package recordings_test

import (
	"context"
	"database/sql"
	"io"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/calletl/calletl/extract/httpx"
	"github.com/calletl/calletl/extract/mtt"
	"github.com/calletl/calletl/extract/t2"
	"github.com/calletl/calletl/extract/votbox"
	"github.com/calletl/calletl/load"
	"github.com/calletl/calletl/model"
	"github.com/calletl/calletl/sandbox"
	"github.com/calletl/calletl/secret"
	"github.com/calletl/calletl/storage"
	"github.com/calletl/calletl/storage/storagetest"
	_ "github.com/duckdb/duckdb-go/v2"
)

const (
	mttUser = "rec-user"
	mttPass = "rec-pass-0f9e8d"
	day     = "2026-11-20"
)

// mttEnv is the MTT recordings emulator on two hosts (API and downloads)
// and a fetcher pointed at it.
type mttEnv struct {
	emu     *sandbox.MTTRecords
	api     *httptest.Server
	files   *httptest.Server
	fetcher *mtt.Recordings
}

func newMTTEnv(t testing.TB, partSize int, missingEvery int) *mttEnv {
	t.Helper()
	emu := sandbox.NewMTTRecords(sandbox.MTTRecordsConfig{Username: mttUser, Password: mttPass, Seed: 7, PartSize: partSize, MissingEvery: missingEvery})
	api := httptest.NewServer(emu.API())
	files := httptest.NewServer(emu.Files())
	t.Cleanup(api.Close)
	t.Cleanup(files.Close)
	emu.SetDownloadBase(files.URL)
	return &mttEnv{emu: emu, api: api, files: files, fetcher: newMTT(t, api.URL)}
}

func newMTT(t testing.TB, base string) *mtt.Recordings {
	t.Helper()
	return mttRecordings(t, base, httpx.Config{})
}

// mttRecordings is the MTT client's recordings fetcher for the emulator at
// base, h tuning its HTTP client.
func mttRecordings(t testing.TB, base string, h httpx.Config) *mtt.Recordings {
	t.Helper()
	c, err := mtt.New(mtt.Config{Username: mttUser, Password: secret.New(mttPass)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	f, err := c.Recordings(base, h)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// votboxRecordings is the VotBox client's recordings fetcher for the
// emulator at base (user vb, password vb-pass), h tuning its HTTP client.
func votboxRecordings(t testing.TB, base string, h httpx.Config) *votbox.Recordings {
	t.Helper()
	c, err := votbox.New(votbox.Config{BaseURL: base, Username: "vb", Password: secret.New("vb-pass")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	f, err := c.Recordings(h)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// lakeWithCalls writes one canonical call per id (has_recording, the id as
// recording_ref) into a new lake.
func lakeWithCalls(t testing.TB, source string, ids ...string) *load.Lake {
	t.Helper()
	lake, err := load.Open(filepath.Join(t.TempDir(), "lake"), load.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tx, err := lake.Begin(source, "calls-test")
	if err != nil {
		t.Fatal(err)
	}
	w := load.Writer(tx, load.Calls)
	for _, id := range ids {
		c := model.Call{Source: source, Date: day, Account: "acc", CallID: id, Direction: model.Outgoing,
			HasRecording: true, RecordingRef: id, RunID: "extract"}
		if err := w.Add(day, &c); err != nil {
			t.Fatal(err)
		}
	}
	// A call without a recording, which must never be asked for.
	if err := w.Add(day, &model.Call{Source: source, Date: day, CallID: "no-rec", Direction: model.Incoming}); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	return lake
}

func mttIDs(n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = "2B23D937_BD9BCF86_E89D407D_" + string(rune('A'+i/26)) + string(rune('A'+i%26)) + "0162"
	}
	return ids
}

func testRun(id string, at time.Time) model.Run {
	return model.Run{ID: id, Mode: "run", StartedAt: at, Location: time.UTC}
}

// clock is a settable Now.
type clock struct{ t atomic.Int64 }

func newClock() *clock {
	c := &clock{}
	c.t.Store(time.Date(2026, 11, 21, 3, 0, 0, 0, time.UTC).UnixNano())
	return c
}
func (c *clock) Now() time.Time          { return time.Unix(0, c.t.Load()).UTC() }
func (c *clock) Advance(d time.Duration) { c.t.Add(int64(d)) }

// countingStore counts Puts and can fail every Put after the first failAfter
// (failAfter < 0: never), cancelling cancel when it does.
type countingStore struct {
	storage.Store
	puts      atomic.Int64
	failAfter int64
	cancel    context.CancelFunc
}

func (c *countingStore) Put(ctx context.Context, key string, r io.Reader, ct string) (storage.Info, error) {
	n := c.puts.Add(1)
	if c.failAfter >= 0 && n > c.failAfter {
		if c.cancel != nil {
			c.cancel()
		}
		// Read some of the body, like a connection that dies mid-upload.
		_, _ = io.CopyN(io.Discard, r, 100)
		return storage.Info{}, context.Canceled
	}
	return c.Store.Put(ctx, key, r, ct)
}

// manifestState is the latest attempt per call: call_id → part → row.
type manifestRow struct {
	Key, SHA, Status, Err, ContentType string
	Bytes                              int64
	Attempts                           int
}

func latestManifest(t testing.TB, lakeDir string) map[string]map[int]manifestRow {
	t.Helper()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	glob := filepath.Join(lakeDir, "recordings", "*", "*", "*.parquet")
	if m, _ := filepath.Glob(glob); len(m) == 0 {
		return nil
	}
	rows, err := db.Query(`SELECT call_id, part, key, sha256, status, error, content_type, bytes, attempts FROM read_parquet('` + glob + `', hive_partitioning=true)
		QUALIFY dense_rank() OVER (PARTITION BY source, call_id ORDER BY fetched_at DESC, run_id DESC) = 1`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]map[int]manifestRow{}
	for rows.Next() {
		var id string
		var part int
		var r manifestRow
		if err := rows.Scan(&id, &part, &r.Key, &r.SHA, &r.Status, &r.Err, &r.ContentType, &r.Bytes, &r.Attempts); err != nil {
			t.Fatal(err)
		}
		if out[id] == nil {
			out[id] = map[int]manifestRow{}
		}
		out[id][part] = r
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// listKeys returns every key in the store.
func listKeys(t testing.TB, s storage.Store) []string {
	t.Helper()
	var keys []string
	if err := s.List(context.Background(), "", func(i storage.Info) error { keys = append(keys, i.Key); return nil }); err != nil {
		t.Fatal(err)
	}
	return keys
}

// The S3 server of the tests (storagetest.StartVersity).
const (
	versityAccess = storagetest.VersityAccessKey
	versitySecret = storagetest.VersitySecretKey
	testBucket    = storagetest.VersityBucket
)

// startVersity starts versitygw with one bucket and returns its endpoint.
func startVersity(t testing.TB) string { return storagetest.StartVersity(t).Endpoint }

func s3Store(t testing.TB, endpoint string) *storage.S3 {
	t.Helper()
	s, err := storage.NewS3(context.Background(), storage.S3Config{Endpoint: endpoint, Region: "us-east-1", Bucket: testBucket,
		PathStyle: true, AccessKey: secret.New(versityAccess), SecretKey: secret.New(versitySecret),
		PartSize: storage.MinPartSize, Concurrency: 2})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// localStore is a local blob store in a temporary directory.
func localStore(t testing.TB) *storage.Local {
	t.Helper()
	st, err := storage.NewLocal(filepath.Join(t.TempDir(), "store"))
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// t2Fetcher is a T2 recordings fetcher for the emulator at base, sending
// access as its bearer token.
func t2Fetcher(t testing.TB, base, access string) *t2.Recordings {
	t.Helper()
	f, err := t2.NewRecordings(base, tokenTransport{access}, httpx.Config{})
	if err != nil {
		t.Fatal(err)
	}
	return f
}
