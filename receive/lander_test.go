package receive

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"

	"github.com/calletl/calletl/load"
	"github.com/calletl/calletl/sandbox"
	"github.com/calletl/calletl/storage"
	"github.com/calletl/calletl/storage/storagetest"
)

// backend is where the spool and the lake live: a local directory (fsync)
// or versitygw (S3 uploads), with how to read the lake back.
type backend struct {
	name  string
	spool func(t *testing.T) storage.Store
	lake  func(t *testing.T) *load.Lake
	read  func(t *testing.T) string // a local copy of the lake root
}

var prefixSeq atomic.Int64

func backends(top *testing.T) []backend {
	var once sync.Once
	var v *storagetest.Versity
	versity := func() *storagetest.Versity {
		once.Do(func() { v = storagetest.StartVersity(top) })
		return v
	}
	s3 := func(t *testing.T, prefix string) storage.Store {
		return versity().Store(t, storage.S3Config{Prefix: prefix})
	}
	local := func() backend {
		var root string
		return backend{
			name: "local",
			spool: func(t *testing.T) storage.Store {
				st, err := storage.NewLocal(filepath.Join(root, "spool"))
				if err != nil {
					t.Fatal(err)
				}
				return st
			},
			lake: func(t *testing.T) *load.Lake {
				if root == "" {
					root = t.TempDir()
				}
				l, err := load.Open(filepath.Join(root, "lake"), load.Options{})
				if err != nil {
					t.Fatal(err)
				}
				return l
			},
			read: func(t *testing.T) string { return filepath.Join(root, "lake") },
		}
	}()
	remote := func() backend {
		var prefix string
		return backend{
			name:  "s3",
			spool: func(t *testing.T) storage.Store { return s3(t, prefix+"/spool") },
			lake: func(t *testing.T) *load.Lake {
				if prefix == "" {
					prefix = fmt.Sprintf("recv%d", prefixSeq.Add(1))
				}
				l, err := load.Open(t.TempDir(), load.Options{Store: s3(t, prefix), Prefix: "lake"})
				if err != nil {
					t.Fatal(err)
				}
				return l
			},
			read: func(t *testing.T) string {
				dir := t.TempDir()
				versity().Download(t, prefix+"/lake/", dir)
				return dir
			},
		}
	}()
	return []backend{local, remote}
}

// lakeCounts returns, per table, the rows and the distinct event ids.
func lakeCounts(t *testing.T, root string) map[string][2]int {
	t.Helper()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	out := map[string][2]int{}
	for _, table := range []string{"votbox_events", "mtt_events"} {
		if _, err := os.Stat(filepath.Join(root, table)); err != nil {
			out[table] = [2]int{}
			continue
		}
		var rows, ids int
		q := fmt.Sprintf(`SELECT count(*), count(DISTINCT event_id) FROM read_parquet('%s/%s/**/*.parquet', hive_partitioning=true)`, root, table)
		if err := db.QueryRow(q).Scan(&rows, &ids); err != nil {
			t.Fatal(err)
		}
		out[table] = [2]int{rows, ids}
	}
	return out
}

// appendAll decodes and appends pushed events; it returns how many were new.
func appendAll(t *testing.T, sp *Spool, vendor, source string, evs []sandbox.PushEvent) int {
	t.Helper()
	n := 0
	for _, p := range evs {
		var ev Event
		var err error
		if vendor == VotBox {
			ev, err = DecodeVotBox(source, p.Query, at)
		} else {
			ev, err = DecodeMTT(source, p.ContentType, []byte(p.Body), p.Query, at)
		}
		if err != nil {
			t.Fatal(err)
		}
		dup, err := sp.Append(context.Background(), ev)
		if err != nil {
			t.Fatal(err)
		}
		if !dup {
			n++
		}
	}
	return n
}

// Landing is exactly once whatever crashes: after the lake commit but
// before the landed marker (the unit is landed again under the same name),
// after a restart (the index is rebuilt from the spool), and with retries
// of events already landed. Local directory and versitygw.
func TestLandExactlyOnce(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			lake := b.lake(t)
			store := b.spool(t)
			sp, err := OpenSpool(ctx, store, SpoolOptions{MaxBatch: 7})
			if err != nil {
				t.Fatal(err)
			}
			vb, _ := sandbox.GenVotBox(1, 1000, 40, at)
			mt := sandbox.GenMTT(1, 15, at)
			want := map[string]int{
				"votbox_events": appendAll(t, sp, VotBox, "votbox", append(vb, sandbox.VotBoxNotifyExamples...)),
				"mtt_events":    appendAll(t, sp, MTT, "mtt", append(mt, sandbox.MTTEventExamples...)),
			}
			if n := appendAll(t, sp, VotBox, "votbox", vb[:10]); n != 0 {
				t.Fatalf("%d retried events stored again", n)
			}
			if want["votbox_events"] != 3*40+12 || want["mtt_events"] != 2*15+18 {
				t.Fatalf("stored %v", want)
			}

			// Crash after the lake commit, before the landed marker.
			crash := errors.New("crash")
			now := at
			clock := func() time.Time { return now }
			l := NewLander(sp, lake, LanderOptions{Now: clock, afterCommit: func(string) error { return crash }})
			if _, err := l.LandOnce(ctx); !errors.Is(err, crash) {
				t.Fatalf("land with a crash: %v", err)
			}
			sp.Close()

			// Restart: a new spool (index rebuilt) and lander re-land the unit.
			sp, err = OpenSpool(ctx, b.spool(t), SpoolOptions{})
			if err != nil {
				t.Fatal(err)
			}
			defer sp.Close()
			if n := sp.Len(); n != want["votbox_events"]+want["mtt_events"] {
				t.Fatalf("rebuilt index holds %d ids", n)
			}
			if n := appendAll(t, sp, MTT, "mtt", mt[:4]); n != 0 {
				t.Fatalf("%d events retried after the restart stored again", n)
			}
			l = NewLander(sp, b.lake(t), LanderOptions{Now: clock})
			st, err := l.LandOnce(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if st.Units != 1 || st.Rows["votbox_events"] != want["votbox_events"] || st.Deleted == 0 {
				t.Errorf("re-land: %+v", st)
			}
			check := func(when string) {
				t.Helper()
				got := lakeCounts(t, b.read(t))
				for table, n := range want {
					if got[table] != [2]int{n, n} {
						t.Errorf("%s: %s has %d rows, %d ids; want %d once each", when, table, got[table][0], got[table][1], n)
					}
				}
			}
			check("after the re-land")

			// Nothing left: landing again writes nothing.
			if st, err := l.LandOnce(ctx); err != nil || st.Units != 0 {
				t.Errorf("second landing: %+v %v", st, err)
			}
			// New events and retries of landed ones: only the new land.
			more, _ := sandbox.GenVotBox(2, 5000, 5, at)
			want["votbox_events"] += appendAll(t, sp, VotBox, "votbox", append(more, vb[:6]...))
			if _, err := l.LandOnce(ctx); err != nil {
				t.Fatal(err)
			}
			check("after more events")

			// Past the retention the manifests and their ids go.
			now = now.Add(DefaultRetention + time.Minute)
			st, err = l.LandOnce(ctx)
			if err != nil || st.Expired != 2 {
				t.Errorf("expiry: %+v %v", st, err)
			}
			if n := sp.Len(); n != 0 {
				t.Errorf("index holds %d ids after the retention", n)
			}
			left := 0
			_ = b.spool(t).List(ctx, "", func(storage.Info) error { left++; return nil })
			if left != 0 {
				t.Errorf("%d objects left in the spool", left)
			}
			check("after the expiry")
		})
	}
}

// A batch stored twice (a write that failed after storing, then the
// retry) lands once.
func TestLandDropsEventsStoredTwice(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	store, _ := storage.NewLocal(filepath.Join(dir, "spool"))
	sp, err := OpenSpool(ctx, store, SpoolOptions{})
	if err != nil {
		t.Fatal(err)
	}
	evs, _ := sandbox.GenVotBox(3, 1, 4, at)
	n := appendAll(t, sp, VotBox, "votbox", evs)
	sp.Close()
	// The same events in a second batch, as a lost write's retry stores.
	var keys []string
	_ = store.List(ctx, batchPrefix, func(i storage.Info) error { keys = append(keys, i.Key); return nil })
	rc, _ := store.Open(ctx, keys[0])
	if _, err := store.Put(ctx, batchPrefix+"99999999999999999999-copy.jsonl", rc, ""); err != nil {
		t.Fatal(err)
	}
	rc.Close()
	sp, err = OpenSpool(ctx, store, SpoolOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Close()
	lake, _ := load.Open(filepath.Join(dir, "lake"), load.Options{})
	if _, err := NewLander(sp, lake, LanderOptions{}).LandOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if got := lakeCounts(t, filepath.Join(dir, "lake"))["votbox_events"]; got != [2]int{n, n} {
		t.Errorf("lake %v, want %d once each", got, n)
	}
}

// A stored event this version cannot map (decoded by another version) is
// landed with the columns that map, and does not stop the landing.
func TestLandEventThatNoLongerMaps(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	store, _ := storage.NewLocal(filepath.Join(dir, "spool"))
	line := `{"id":"0123456789abcdef0123456789abcdef","vendor":"votbox","source":"votbox","kind":"notify","fields":{"CALLID":"9","STATE":"ENDCALL","CALLPAY":"lots"},"received_at":"2026-12-03T10:00:00Z"}` + "\n"
	if _, err := store.Put(ctx, batchPrefix+"00000000000000000001-old.jsonl", strings.NewReader(line), ""); err != nil {
		t.Fatal(err)
	}
	sp, err := OpenSpool(ctx, store, SpoolOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Close()
	lake, _ := load.Open(filepath.Join(dir, "lake"), load.Options{})
	if st, err := NewLander(sp, lake, LanderOptions{}).LandOnce(ctx); err != nil || st.Rows["votbox_events"] != 1 {
		t.Fatalf("landing: %+v %v", st, err)
	}
	if got := lakeCounts(t, filepath.Join(dir, "lake"))["votbox_events"]; got != [2]int{1, 1} {
		t.Errorf("lake %v, want the event once", got)
	}
}

// lyingStore stores the first manifest and then reports a failure, as an
// upload whose answer was lost.
type lyingStore struct {
	storage.Store
	lied atomic.Bool
}

func (s *lyingStore) Put(ctx context.Context, key string, r io.Reader, ct string) (storage.Info, error) {
	info, err := s.Store.Put(ctx, key, r, ct)
	if err == nil && strings.HasPrefix(key, unitPrefix) && s.lied.CompareAndSwap(false, true) {
		return storage.Info{}, errors.New("timeout reading the answer")
	}
	return info, err
}

// A manifest stored by an upload reported failed is found and landed,
// its batches not sealed into a second unit.
func TestLandManifestStoredDespiteError(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	local, _ := storage.NewLocal(filepath.Join(dir, "spool"))
	store := &lyingStore{Store: local}
	sp, err := OpenSpool(ctx, store, SpoolOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Close()
	evs, _ := sandbox.GenVotBox(6, 1, 5, at)
	n := appendAll(t, sp, VotBox, "votbox", evs)
	lake, _ := load.Open(filepath.Join(dir, "lake"), load.Options{})
	l := NewLander(sp, lake, LanderOptions{})
	if _, err := l.LandOnce(ctx); err == nil {
		t.Fatal("the lost answer was not reported")
	}
	if _, err := l.LandOnce(ctx); err != nil {
		t.Fatal(err)
	}
	// And after a restart, which reads every manifest of the spool.
	if _, err := NewLander(sp, lake, LanderOptions{}).LandOnce(ctx); err != nil {
		t.Fatalf("after a restart: %v", err)
	}
	if got := lakeCounts(t, filepath.Join(dir, "lake"))["votbox_events"]; got != [2]int{n, n} {
		t.Errorf("lake %v, want %d once each", got, n)
	}
}

// countingStore counts the Opens of each key.
type countingStore struct {
	storage.Store
	mu    sync.Mutex
	opens map[string]int
}

func (c *countingStore) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	c.mu.Lock()
	c.opens[key]++
	c.mu.Unlock()
	return c.Store.Open(ctx, key)
}

// Landing new batches reads each of them once: the events seal read are
// the ones landed (on S3 every read is a GET).
func TestLandReadsEachBatchOnce(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	local, _ := storage.NewLocal(filepath.Join(dir, "spool"))
	store := &countingStore{Store: local, opens: map[string]int{}}
	sp, err := OpenSpool(ctx, store, SpoolOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Close()
	evs, _ := sandbox.GenVotBox(8, 1, 6, at)
	n := appendAll(t, sp, VotBox, "votbox", evs)
	lake, _ := load.Open(filepath.Join(dir, "lake"), load.Options{})
	if st, err := NewLander(sp, lake, LanderOptions{}).LandOnce(ctx); err != nil || st.Rows["votbox_events"] != n {
		t.Fatalf("landing: %+v %v, want %d rows", st, err, n)
	}
	batches := 0
	for k, opens := range store.opens {
		if !strings.HasPrefix(k, batchPrefix) {
			continue
		}
		batches++
		if opens != 1 {
			t.Errorf("batch %s read %d times in one landing", k, opens)
		}
	}
	if batches == 0 {
		t.Fatal("no batch was read")
	}
}
