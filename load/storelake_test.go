package load_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/calletl/calletl/load"
	"github.com/calletl/calletl/load/loadtest"
	"github.com/calletl/calletl/model"
	"github.com/calletl/calletl/storage"
	"github.com/calletl/calletl/storage/storagetest"
)

// storeKeys lists the keys of a store under prefix.
func storeKeys(t testing.TB, st storage.Store, prefix string) []string {
	t.Helper()
	var keys []string
	if err := st.List(context.Background(), prefix, func(i storage.Info) error {
		keys = append(keys, i.Key)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return keys
}

func openStoreLake(t testing.TB, st storage.Store, spool string, opts load.Options) *load.Lake {
	t.Helper()
	opts.Store, opts.Prefix = st, "lake"
	lake, err := load.Open(spool, opts)
	if err != nil {
		t.Fatal(err)
	}
	return lake
}

func TestStoreLakeOpen(t *testing.T) {
	st, err := storage.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := load.Open(t.TempDir(), load.Options{Prefix: "lake"}); err == nil {
		t.Error("a prefix without a store was accepted")
	}
	for _, prefix := range []string{"a//b", ".x", "a b", "../x"} {
		if _, err := load.Open(t.TempDir(), load.Options{Store: st, Prefix: prefix}); !errors.Is(err, storage.ErrInvalidKey) {
			t.Errorf("prefix %q: %v, want ErrInvalidKey", prefix, err)
		}
	}
	other, err := storage.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	// One spool per lake: another store or another prefix, another spool.
	if a, b, c := load.DefaultSpoolDir(st, "lake"), load.DefaultSpoolDir(other, "lake"), load.DefaultSpoolDir(st, "lake2"); a == b || a == c || a != load.DefaultSpoolDir(st, "/lake/") {
		t.Errorf("default spools %s, %s, %s: want one per (store, prefix)", a, b, c)
	}
	for prefix, want := range map[string]string{"": "", "lake": "lake/", "/a/b/": "a/b/"} {
		lake, err := load.Open("", load.Options{Store: st, Prefix: prefix})
		if err != nil {
			t.Fatalf("prefix %q: %v", prefix, err)
		}
		spool := load.DefaultSpoolDir(st, prefix)
		if lake.Prefix() != want || lake.Root() != spool || !strings.HasPrefix(spool, os.TempDir()) {
			t.Errorf("prefix %q: Prefix %q, Root %q; want %q, %q", prefix, lake.Prefix(), lake.Root(), want, spool)
		}
		t.Cleanup(func() { os.RemoveAll(spool) })
	}
}

func TestStoreLakeCompactedUnitReserved(t *testing.T) {
	st, err := storage.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	lake := openStoreLake(t, st, t.TempDir(), load.Options{})
	if _, err := lake.Begin("mtt", "compacted"); !errors.Is(err, load.ErrInvalidName) {
		t.Errorf("Begin of unit compacted: %v, want ErrInvalidName", err)
	}
}

// An aborted transaction uploads nothing and leaves an empty spool; a
// crashed one's spool files are swept; nothing in the store is touched by
// either.
func TestStoreLakeAbortAndSweep(t *testing.T) {
	st, err := storage.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	spool := filepath.Join(t.TempDir(), "spool")
	lake := openStoreLake(t, st, spool, load.Options{BatchRows: 10})
	writeCalls(t, lake, "mtt", "dialed-1", callsOn(day1, 0, 5))
	before := storeKeys(t, st, "")
	if want := []string{"lake/calls/source=mtt/date=" + day1 + "/dialed-1.parquet"}; !slices.Equal(before, want) {
		t.Fatalf("store holds %v, want %v", before, want)
	}

	tx, err := lake.Begin("mtt", "dialed-1")
	if err != nil {
		t.Fatal(err)
	}
	w := load.Writer(tx, load.Calls)
	for _, c := range slices.Concat(callsOn(day1, 0, 25), callsOn(day2, 0, 25)) {
		if err := w.Add(c.Date, &c); err != nil {
			t.Fatal(err)
		}
	}
	if files := lakeFiles(t, spool); len(files) != 2 {
		t.Fatalf("spool while writing: %v, want two temporary files", files)
	}
	if got := storeKeys(t, st, ""); !slices.Equal(got, before) {
		t.Errorf("store while writing: %v, want %v", got, before)
	}
	// A second process's view: Sweep keeps nothing it does not own, but
	// SweepStale spares young files.
	other := openStoreLake(t, st, spool, load.Options{})
	if n, err := other.SweepStale(3600e9); n != 0 || err != nil {
		t.Errorf("SweepStale of live files: %d, %v", n, err)
	}
	tx.Abort()
	if files := lakeFiles(t, spool); len(files) != 0 {
		t.Errorf("spool after Abort: %v", files)
	}
	if entries, _ := os.ReadDir(spool); len(entries) != 0 {
		t.Errorf("spool directories after Abort: %v", entries)
	}
	if got := storeKeys(t, st, ""); !slices.Equal(got, before) {
		t.Errorf("store after Abort: %v, want %v", got, before)
	}

	// A crashed transaction's file in the spool: swept at the next open.
	stale := filepath.Join(spool, "calls", "source=mtt", "date="+day1, ".dialed-2.parquet.X.tmp")
	if err := os.MkdirAll(filepath.Dir(stale), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(stale, []byte("PAR1"), 0o600); err != nil {
		t.Fatal(err)
	}
	if n, err := openStoreLake(t, st, spool, load.Options{}).Sweep(); n != 1 || err != nil {
		t.Errorf("Sweep: removed %d, %v; want 1", n, err)
	}
	if got := storeKeys(t, st, ""); !slices.Equal(got, before) {
		t.Errorf("store after Sweep: %v, want %v", got, before)
	}
}

// failingStore fails the Replace calls for which fail returns true, as a
// network or server error mid-commit would.
type failingStore struct {
	storage.Store
	fail func(key string) bool
}

func (f failingStore) Replace(ctx context.Context, key string, r io.Reader, cond storage.Cond) (storage.Info, error) {
	if f.fail(key) {
		return storage.Info{}, errors.New("injected: connection reset")
	}
	return f.Store.Replace(ctx, key, r, cond)
}

// An upload failing mid-commit: Commit fails (the cursor would not move),
// the partitions published before hold the new file and the others the
// old one, each complete; re-running the window makes them all new.
func TestStoreLakeUploadFails(t *testing.T) {
	st, err := storage.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var broken atomic.Bool
	fs := failingStore{Store: st, fail: func(key string) bool { return broken.Load() && strings.Contains(key, "date="+day2) }}
	lake := openStoreLake(t, fs, t.TempDir(), load.Options{})
	db := openDuckDB(t)
	root := filepath.Join(st.Dir(), "lake")
	writeCalls(t, lake, "mtt", "u", slices.Concat(callsOn(day1, 0, 4), callsOn(day2, 0, 4)))

	broken.Store(true)
	tx, _ := lake.Begin("mtt", "u")
	w := load.Writer(tx, load.Calls)
	for _, c := range slices.Concat(callsOn(day1, 0, 6), callsOn(day2, 0, 6)) {
		if err := w.Add(c.Date, &c); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := tx.Commit(); err == nil || !strings.Contains(err.Error(), "date="+day2) {
		t.Fatalf("Commit with a failing upload: %v, want an error naming the partition", err)
	}
	if a, b := countRows(t, db, root, "calls", "date='"+day1+"'"), countRows(t, db, root, "calls", "date='"+day2+"'"); a != 6 || b != 4 {
		t.Errorf("after the failed commit: %d and %d rows, want 6 (new) and 4 (old)", a, b)
	}
	if files := lakeFiles(t, lake.Root()); len(files) != 0 {
		t.Errorf("spool after the failed commit: %v", files)
	}
	broken.Store(false)
	writeCalls(t, lake, "mtt", "u", slices.Concat(callsOn(day1, 0, 6), callsOn(day2, 0, 6)))
	if got := countRows(t, db, root, "calls", ""); got != 12 {
		t.Errorf("after the re-run: %d rows, want 12", got)
	}
}

// The S3 lake read back by plain DuckDB and by arrow-go, from a download
// of the prefix: same rows, same values as a local lake given the same
// transactions.
func TestStoreLakeReadBack(t *testing.T) {
	v := storagetest.StartVersity(t)
	s3 := s3Store(t, v, "readback")
	remote := openStoreLake(t, s3, t.TempDir(), load.Options{})
	local := newLake(t, load.Options{})
	for _, lake := range []*load.Lake{remote, local} {
		writeCalls(t, lake, "mtt", "dialed-1", slices.Concat(callsOn(day1, 0, 300), callsOn(day2, 0, 20)))
		writeCalls(t, lake, "t2", "calls-9", callsOn(day2, 1000, 7))
	}
	down := downloadS3(t, v, s3, "lake")
	db := openDuckDB(t)
	q := func(root string) string {
		return "SELECT string_agg(concat_ws('|', source, date, call_id, cost, started_at), ',' ORDER BY call_id, source) FROM " + scan(root, "calls")
	}
	var got, want string
	if err := db.QueryRow(q(down)).Scan(&got); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow(q(local.Root())).Scan(&want); err != nil {
		t.Fatal(err)
	}
	if got != want || strings.Count(got, ",") != 326 {
		t.Errorf("DuckDB over the downloaded S3 lake differs from the local lake (%d vs %d rows)", strings.Count(got, ",")+1, strings.Count(want, ",")+1)
	}
	dl, err := load.Open(down, load.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, source := range []string{"mtt", "t2"} {
		a, b := loadtest.ReadRows(t, dl, "calls", source), loadtest.ReadRows(t, local, "calls", source)
		if fmt.Sprint(a) != fmt.Sprint(b) || len(a) == 0 {
			t.Errorf("arrow-go: source %s: %d rows from S3, %d from the local lake, or different values", source, len(a), len(b))
		}
	}
	if dates, err := remote.Partitions("calls", "mtt"); err != nil || !slices.Equal(dates, []string{day1, day2}) {
		t.Errorf("Partitions over S3: %v, %v", dates, err)
	}

	// A file larger than the store's part size (5 MiB) goes up in parts
	// and reads back whole: rejects with incompressible raw payloads.
	tx, err := remote.Begin("mtt", "big")
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Abort()
	rw := load.Writer(tx, load.Rejects)
	var wantBytes int64
	for i := range 7 {
		raw := make([]byte, 1<<20)
		rand.Read(raw)
		r := model.Reject{Stream: "big", Reason: strconv.Itoa(i), Raw: hex.EncodeToString(raw)}
		wantBytes += int64(len(r.Raw))
		if err := rw.Add(day1, &r); err != nil {
			t.Fatal(err)
		}
	}
	stats, err := tx.Commit()
	if err != nil {
		t.Fatal(err)
	}
	if stats.Bytes <= storage.MinPartSize {
		t.Fatalf("the big file has %d bytes, not more than one part", stats.Bytes)
	}
	info, err := s3.Stat(context.Background(), "lake/rejects/source=mtt/date="+day1+"/big.parquet")
	if err != nil || info.Size != stats.Bytes || info.SHA256 != "" {
		// An object uploaded in parts carries no x-amz-meta-sha256.
		t.Errorf("Stat of the big object: %+v, %v; want %d bytes, uploaded in parts", info, err, stats.Bytes)
	}
	down = downloadS3(t, v, s3, "lake")
	if got := queryInt(t, db, "SELECT sum(length(raw)) FROM "+scan(down, "rejects")); got != wantBytes {
		t.Errorf("DuckDB reads %d raw bytes from the big object, want %d", got, wantBytes)
	}
}

// The kill test's windows: units u0..u2 × days killDays, each one
// transaction writing the unit's calls and rejects of the day. Generation
// g gives unit k 3+k+g calls a day (call ids unit-day-i, so a row written
// twice shows as a repeated id) and, in odd generations, no rejects for
// u1 (its reject objects are deleted).
var killDays = []string{"2026-11-01", "2026-11-02", "2026-11-03", "2026-11-04"}

func killCalls(unit int, day string, gen int) int { return 3 + unit + gen }

func killRejects(unit int, gen int) int {
	if unit == 1 && gen%2 == 1 {
		return 0
	}
	return 1 + unit
}

// commitKillWindows commits every window of generation gen, in order,
// after sweeping the spool as a run does.
func commitKillWindows(lake *load.Lake, gen int) error {
	if _, err := lake.Sweep(); err != nil {
		return err
	}
	for u := range 3 {
		unit := fmt.Sprintf("u%d", u)
		for _, day := range killDays {
			tx, err := lake.Begin("mtt", unit)
			if err != nil {
				return err
			}
			calls := unitCalls("mtt", unit, day, 0, killCalls(u, day, gen))
			cw, rw := load.Writer(tx, load.Calls), load.Writer(tx, load.Rejects)
			if err := tx.Cover(day); err != nil {
				return err
			}
			for i := range calls {
				calls[i].RunID = "gen-" + strconv.Itoa(gen)
				if err := cw.Add(day, &calls[i]); err != nil {
					return err
				}
			}
			for i := range killRejects(u, gen) {
				r := model.Reject{Stream: unit, Account: unit, Reason: "gen-" + strconv.Itoa(gen), Raw: strconv.Itoa(i), RunID: "gen-" + strconv.Itoa(gen)}
				if err := rw.Add(day, &r); err != nil {
					return err
				}
			}
			if _, err := tx.Commit(); err != nil {
				return err
			}
		}
	}
	return nil
}

// TestKillHelper is the process TestStoreLakeKillMidCommit kills: it
// commits the windows of one generation into the S3 lake and SIGKILLs
// itself right after the CALLETL_LOAD_KILL_AT-th object is published, in
// the middle of a commit.
func TestKillHelper(t *testing.T) {
	if os.Getenv("CALLETL_LOAD_KILL_HELPER") != "1" {
		t.Skip("helper process of TestStoreLakeKillMidCommit")
	}
	v := &storagetest.Versity{Endpoint: os.Getenv("CALLETL_LOAD_S3")}
	gen, _ := strconv.Atoi(os.Getenv("CALLETL_LOAD_GEN"))
	killAt, _ := strconv.Atoi(os.Getenv("CALLETL_LOAD_KILL_AT"))
	lake := openStoreLake(t, s3Store(t, v, "kill"), os.Getenv("CALLETL_LOAD_SPOOL"), load.Options{})
	var published int
	load.SetStepHook(lake, func(step string) error {
		if step == "published" {
			published++
			fmt.Println("published", published)
			if published == killAt {
				syscall.Kill(os.Getpid(), syscall.SIGKILL)
				select {}
			}
		}
		return nil
	})
	if err := commitKillWindows(lake, gen); err != nil {
		t.Fatal(err)
	}
}

// Helper processes commit generations of windows into the S3 lake and are
// SIGKILLed mid-commit (some objects of a window published, others not);
// after each kill the downloaded lake reads whole, every (unit, day,
// table) holding one generation's rows; a final run of the same windows
// leaves every row exactly once.
func TestStoreLakeKillMidCommit(t *testing.T) {
	v := storagetest.StartVersity(t)
	spool := filepath.Join(t.TempDir(), "spool")
	db := openDuckDB(t)
	// Each window publishes 2 objects (calls, rejects), or in odd
	// generations for u1 the calls and a delete of the rejects (counted as
	// a publish when there was an object to delete).
	for i, kill := range []struct {
		gen, at int
		temp    bool // a temporary file of the window is left in the spool
	}{
		{2, 13, true}, // u1's 3rd window: calls published, rejects not
		{3, 9, false}, // u1's 1st window: calls published, its gen-2 rejects not yet deleted
		{1, 5, true},  // u0's 3rd window: calls published, rejects not
	} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestKillHelper$", "-test.count=1")
		cmd.Env = append(os.Environ(), "CALLETL_LOAD_KILL_HELPER=1", "CALLETL_LOAD_S3="+v.Endpoint,
			"CALLETL_LOAD_SPOOL="+spool, "CALLETL_LOAD_GEN="+strconv.Itoa(kill.gen), "CALLETL_LOAD_KILL_AT="+strconv.Itoa(kill.at))
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		var last string
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "published ") {
				last = sc.Text()
			}
		}
		err = cmd.Wait()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
			t.Fatalf("kill %d: helper ended with %v, want SIGKILL", i, err)
		}
		if last != "published "+strconv.Itoa(kill.at) {
			t.Fatalf("kill %d: helper's last line %q, want published %d", i, last, kill.at)
		}
		// Mid-commit: the window's other file is still in the spool.
		if files := lakeFiles(t, spool); (len(files) > 0) != kill.temp {
			t.Errorf("kill %d: spool holds %v, want a temporary file: %v", i, files, kill.temp)
		}
		// The lake reads whole, and each (unit, day) file holds one
		// generation: no partial object, no mixture.
		root := downloadS3(t, v, s3Store(t, v, "kill"), "lake")
		q := "SELECT count(*) FROM (SELECT filename FROM " + scan(root, "calls", "filename=true") +
			" GROUP BY filename HAVING count(DISTINCT run_id) > 1 OR count(*) <> count(DISTINCT call_id))"
		if n := queryInt(t, db, q); n != 0 {
			t.Errorf("kill %d: %d files mix generations or repeat rows", i, n)
		}
	}

	// The re-run, in this process: sweeps the killed helper's spool files,
	// then commits every window of the final generation.
	lake := openStoreLake(t, s3Store(t, v, "kill"), spool, load.Options{})
	if n, err := lake.Sweep(); err != nil || n == 0 {
		t.Errorf("Sweep after the kills: removed %d, %v; want the killed commit's files", n, err)
	}
	const final = 4
	if err := commitKillWindows(lake, final); err != nil {
		t.Fatal(err)
	}
	if files := lakeFiles(t, spool); len(files) != 0 {
		t.Errorf("spool after the re-run: %v", files)
	}
	root := downloadS3(t, v, s3Store(t, v, "kill"), "lake")
	var wantCalls, wantRejects int64
	for u := range 3 {
		for _, day := range killDays {
			wantCalls += int64(killCalls(u, day, final))
			wantRejects += int64(killRejects(u, final))
		}
	}
	for _, c := range []struct {
		q    string
		want int64
	}{
		{"SELECT count(*) FROM " + scan(root, "calls"), wantCalls},
		{"SELECT count(DISTINCT (call_id, source, date)) FROM " + scan(root, "calls"), wantCalls},
		{"SELECT count(*) FROM " + scan(root, "calls") + " WHERE run_id = 'gen-4'", wantCalls},
		{"SELECT count(*) FROM " + scan(root, "rejects"), wantRejects},
		{"SELECT count(*) FROM " + scan(root, "rejects") + " WHERE run_id = 'gen-4'", wantRejects},
	} {
		if got := queryInt(t, db, c.q); got != c.want {
			t.Errorf("%s = %d, want %d", c.q, got, c.want)
		}
	}
	// Every unit and day is there, with exactly its count.
	for u := range 3 {
		for _, day := range killDays {
			q := fmt.Sprintf("SELECT count(*) FROM %s WHERE account = 'u%d' AND date = '%s'", scan(root, "calls"), u, day)
			if got, want := queryInt(t, db, q), int64(killCalls(u, day, final)); got != want {
				t.Errorf("u%d %s: %d calls, want %d", u, day, got, want)
			}
		}
	}
}
