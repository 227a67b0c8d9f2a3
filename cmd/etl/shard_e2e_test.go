package main

import (
	"bytes"
	"cmp"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/calletl/calletl/model"
	"github.com/calletl/calletl/sandbox"
	"github.com/calletl/calletl/shard"
	"github.com/calletl/calletl/state"
	"github.com/calletl/calletl/storage/storagetest"
)

// shardWorld is MTT (several customers), T2 and VotBox emulators and one
// config: one lake and one state directory that every shard shares.
type shardWorld struct {
	*world
	t2     *sandbox.T2
	vb     *sandbox.VotBox
	mtt    []string // customers
	gate   *gate    // holds MTT requests while closed
	mttURL string
	nights int // nights run (each customer has one balance a night)
	// s3 and prefix: the lake, the state and the recordings are on S3,
	// under prefix in the bucket; check reads a copy downloaded by a
	// plain S3 client.
	s3     *storagetest.Versity
	prefix string
	// reruns bounds the balance snapshots taken again by shards re-run
	// after a kill: a balance is a snapshot per run.
	reruns int
}

// shardWorldOptions change newShardWorld's defaults.
type shardWorldOptions struct {
	customers   int                  // MTT customers; default 5
	callsPerDay int                  // per customer; default 60
	latency     time.Duration        // added to every MTT answer
	s3          *storagetest.Versity // lake, state and recordings on S3
	extra       string               // appended to the config's top level
}

// gate holds the requests it serves while closed, noting who sent them:
// a request to /via/<name>/… is served as /… and counted for name.
type gate struct {
	mu     sync.Mutex
	closed bool
	open   chan struct{}
	held   map[string]int
	served map[string]int // requests by sender, held or not
}

func (g *gate) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := ""
		if rest, ok := strings.CutPrefix(r.URL.Path, "/via/"); ok {
			name, rest, _ = strings.Cut(rest, "/")
			r.URL.Path = "/" + rest
			r.URL.RawPath = ""
		}
		g.mu.Lock()
		closed, open := g.closed, g.open
		if closed {
			g.held[name]++
		}
		if g.served == nil {
			g.served = map[string]int{}
		}
		g.served[name]++
		g.mu.Unlock()
		if closed {
			<-open
		}
		h.ServeHTTP(w, r)
	})
}

func (g *gate) close() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.closed, g.open, g.held = true, make(chan struct{}), map[string]int{}
}

func (g *gate) release() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		g.closed = false
		close(g.open)
	}
}

// count returns how many requests name has sent.
func (g *gate) count(name string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.served[name]
}

// holding reports whether requests of every one of names are held.
func (g *gate) holding(names ...string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, n := range names {
		if g.held[n] == 0 {
			return false
		}
	}
	return true
}

func newShardWorld(t *testing.T) *shardWorld { return newShardWorldWith(t, shardWorldOptions{}) }

var s3WorldSeq atomic.Int64

func newShardWorldWith(t testing.TB, o shardWorldOptions) *shardWorld {
	t.Helper()
	now := time.Now()
	today := now.UTC().Truncate(24 * time.Hour)
	customers := []string{"110011256", "110022512", "110033768", "110045024", "110056280"}
	if o.customers > 0 {
		customers = customers[:0]
		for i := range o.customers {
			customers = append(customers, fmt.Sprintf("1200%05d", i))
		}
	}
	mttEmu := sandbox.NewMTT(sandbox.MTTConfig{
		Seed: 23, Customers: customers, From: today.AddDate(0, 0, -4), To: today.AddDate(0, 0, 1),
		CallsPerDay: cmp.Or(o.callsPerDay, 60), BadRowsPerDay: 1, Username: "agent", Password: testPassword,
	})
	mttEmu.SetFaults(sandbox.Faults{Error5xxEvery: 11, TruncateEvery: 17, MaxInARow: 3, Latency: o.latency})
	g := &gate{}
	mttSrv := httptest.NewServer(g.wrap(mttEmu))
	t.Cleanup(mttSrv.Close)

	t2Emu := sandbox.NewT2(sandbox.T2Config{Seed: 9, From: today.AddDate(0, 0, -4), To: today.AddDate(0, 0, 1),
		CallsPerDay: 80, MissedPerDay: 15})
	t2Emu.SetFaults(sandbox.Faults{Error5xxEvery: 7, MaxInARow: 3}) // a truncated recording is a failed attempt, retried after retry_base
	t2Srv := httptest.NewServer(t2Emu)
	t.Cleanup(t2Srv.Close)
	access, refresh := t2Emu.IssueTokens()

	vb := sandbox.NewVotBox(sandbox.VotBoxConfig{Seed: 4, Username: "robo", Password: "vb-Secret-pass",
		Tasks: 5, ItemsPerTask: 40, Start: now.UTC().AddDate(0, 0, -2), Charset: "windows-1251", Form: "elem"})
	vbSrv := httptest.NewServer(vb)
	t.Cleanup(vbSrv.Close)

	rec := sandbox.NewMTTRecords(sandbox.MTTRecordsConfig{Username: "agent", Password: testPassword, PartSize: 1 << 10, MissingEvery: 9})
	recAPI, recFiles := httptest.NewServer(rec.API()), httptest.NewServer(rec.Files())
	t.Cleanup(recAPI.Close)
	t.Cleanup(recFiles.Close)
	rec.SetDownloadBase(recFiles.URL)

	dir := t.TempDir()
	for name, v := range map[string]string{"pw": testPassword, "access": access, "refresh": refresh, "vbpw": "vb-Secret-pass"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(v), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	from, to := model.Day(now.AddDate(0, 0, -2), msk), model.Day(now, msk)
	cfg := filepath.Join(dir, "etl.yaml")
	quoted := `"` + strings.Join(customers, `", "`) + `"`
	where := "lake: lake\nstate: state\nrecordings: {local: blobs, mtt_records_base: " + recAPI.URL + "}\n"
	prefix := ""
	if o.s3 != nil {
		prefix = fmt.Sprintf("scale%d", s3WorldSeq.Add(1))
		for name, v := range map[string]string{"s3key": storagetest.VersityAccessKey, "s3secret": storagetest.VersitySecretKey} {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(v), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		b := storagetest.VersityBucket
		where = fmt.Sprintf("lake: s3://%s/%s/lake\nstate: s3://%s/%s/state\n", b, prefix, b, prefix) +
			"s3: {endpoint: " + o.s3.Endpoint + ", region: us-east-1, path_style: true, access_key: {file: s3key}, secret_key: {file: s3secret}}\n" +
			fmt.Sprintf("recordings: {s3: {bucket: %s, prefix: %s/blobs}, mtt_records_base: %s}\n", b, prefix, recAPI.URL)
	}
	text := where + o.extra + fmt.Sprintf(`timezone: Europe/Moscow
lookback_days: 1
start_date: %s
sources:
  mtt:
    base_url: %s
    username: agent
    password: {file: pw}
    customers: [%s]
    page_size: 50
    http: {concurrency: 4, max_attempts: 10, max_retry_after: 1s, base_backoff: 5ms, max_backoff: 50ms}
  t2:
    base_url: %s
    access_token: {file: access}
    refresh_token: {file: refresh}
    page_size: 50
    http: {concurrency: 3, max_attempts: 10, max_retry_after: 1s, base_backoff: 5ms, max_backoff: 50ms}
  votbox:
    base_url: %s/api
    username: robo
    password: {file: vbpw}
    http: {max_attempts: 10, base_backoff: 5ms, max_backoff: 50ms}
`, from, mttSrv.URL, quoted, t2Srv.URL, vbSrv.URL)
	if err := os.WriteFile(cfg, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	w := &shardWorld{world: &world{emu: mttEmu, dir: dir, cfg: cfg, from: from, to: to}, t2: t2Emu, vb: vb, mtt: customers, gate: g, mttURL: mttSrv.URL,
		s3: o.s3, prefix: prefix}
	if o.s3 != nil {
		// Reports read the copy check downloads.
		w.world.args = []string{"--lake", filepath.Join(dir, "lake")}
	}
	return w
}

// night runs one night as n shards, one after the other or all at once,
// and fails the test unless every shard exits 0.
func (w *shardWorld) night(t *testing.T, n int, concurrent bool) {
	t.Helper()
	defer func(start time.Time) {
		t.Logf("night of %d shards (concurrent %v): %v", n, concurrent, time.Since(start))
	}(time.Now())
	codes := make([]int, n)
	errs := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		run := func() {
			start := time.Now()
			codes[i], _, errs[i] = w.etl("run", "--shard", fmt.Sprintf("%d/%d", i, n))
			t.Logf("shard %d/%d: %v", i, n, time.Since(start))
		}
		if concurrent {
			wg.Go(run)
		} else {
			run()
		}
	}
	wg.Wait()
	w.nights++
	for i := range n {
		if codes[i] != exitOK {
			t.Fatalf("shard %d/%d: exit %d\n%s", i, n, codes[i], errs[i])
		}
	}
}

// check asserts the lake equals the emulators' ground truth: every MTT
// call once with its exact cost per customer and direction, every bad row
// in rejects; every T2 call record (and each missed call no record
// matches) once; every VotBox item once at its current cost.
func (w *shardWorld) check(t *testing.T, step string) {
	t.Helper()
	w.pull(t)
	db := duck(t)
	tr := w.truth()
	rows, err := db.Query(`SELECT account || '/' || direction, count(*), CAST(sum(cost) AS VARCHAR) FROM ` + w.glob("calls") + ` WHERE source = 'mtt' GROUP BY ALL`)
	if err != nil {
		t.Fatal(err)
	}
	groups := 0
	for rows.Next() {
		var k, cost string
		var n int
		if err := rows.Scan(&k, &n, &cost); err != nil {
			t.Fatal(err)
		}
		groups++
		if n != tr.calls[k] || cost != tr.cost[k].String() {
			t.Errorf("%s: mtt %s: lake %d calls costing %s, truth %d costing %s", step, k, n, cost, tr.calls[k], tr.cost[k])
		}
	}
	rows.Close()
	if groups != len(tr.calls) {
		t.Errorf("%s: mtt: lake has %d customer/direction groups, truth %d", step, groups, len(tr.calls))
	}
	var total, distinct, details, rejects int
	db.QueryRow(`SELECT count(*), count(DISTINCT (account, direction, call_id)) FROM `+w.glob("calls")+` WHERE source = 'mtt'`).Scan(&total, &distinct)
	db.QueryRow(`SELECT count(*) FROM ` + w.glob("mtt_calls")).Scan(&details)
	db.QueryRow(`SELECT count(*) FROM ` + w.glob("rejects") + ` WHERE source = 'mtt'`).Scan(&rejects)
	if total != distinct || details != total || rejects != tr.rejects {
		t.Errorf("%s: mtt calls %d, distinct %d, mtt_calls %d, rejects %d (truth %d bad rows)", step, total, distinct, details, rejects, tr.rejects)
	}

	in := func(ts time.Time) bool { d := model.Day(ts, msk); return d >= w.from && d <= w.to }
	wantT2, wantMissed := 0, 0
	for _, c := range w.t2.Calls() {
		if in(c.Timestamp) {
			wantT2++
		}
	}
	for _, m := range w.t2.Missed() {
		if in(m.StartDate) {
			wantMissed++
			if !m.AlsoInCallRecords {
				wantT2++
			}
		}
	}
	var t2Calls, t2Distinct, missed int
	db.QueryRow(`SELECT count(*), count(DISTINCT call_id) FROM `+w.glob("calls")+` WHERE source = 't2'`).Scan(&t2Calls, &t2Distinct)
	db.QueryRow(`SELECT count(*) FROM ` + w.glob("t2_missed_calls")).Scan(&missed)
	if wantT2 < 100 || t2Calls != wantT2 || t2Distinct != t2Calls || missed != wantMissed {
		t.Errorf("%s: t2 calls %d (distinct %d), want %d; t2_missed_calls %d, want %d", step, t2Calls, t2Distinct, wantT2, missed, wantMissed)
	}

	items, kop := 0, int64(0)
	for _, task := range w.vb.Tasks() {
		for _, it := range task.Items {
			items++
			kop += it.CallPayKop + it.OperCallPayKop
		}
	}
	var n, vbDistinct int
	var cost string
	db.QueryRow(`SELECT count(*), count(DISTINCT call_id), CAST(coalesce(sum(cost), 0) AS VARCHAR) FROM `+w.glob("calls")+` WHERE source = 'votbox'`).Scan(&n, &vbDistinct, &cost)
	if want := model.Money(kop * 100).String(); n != items || vbDistinct != n || cost != want {
		t.Errorf("%s: votbox: lake %d calls (%d distinct) costing %s; truth %d items costing %s", step, n, vbDistinct, cost, items, want)
	}
	w.checkRecordings(t, step, false)

	// Snapshots: each customer's balance once a night (their snapshots
	// are spread over the shards), its accounts once a day.
	var balances, customers, accounts int
	db.QueryRow(`SELECT count(*), count(DISTINCT customer_name) FROM `+w.glob("mtt_balances")).Scan(&balances, &customers)
	db.QueryRow(`SELECT count(*) FROM ` + w.glob("mtt_accounts")).Scan(&accounts)
	wantAccounts := 0
	for _, c := range w.mtt {
		wantAccounts += len(w.emu.Accounts(c))
	}
	if w.nights > 0 && (balances < len(w.mtt)*w.nights || balances > len(w.mtt)*w.nights+w.reruns || customers != len(w.mtt) || accounts != wantAccounts) {
		t.Errorf("%s: mtt_balances %d rows of %d customers, want %d (+ at most %d from re-runs) of %d; mtt_accounts %d, want %d",
			step, balances, customers, len(w.mtt)*w.nights, w.reruns, len(w.mtt), accounts, wantAccounts)
	}
}

// pull replaces dir/lake by a copy of the S3 lake, downloaded with a
// plain S3 client, when the lake is on S3.
func (w *shardWorld) pull(t *testing.T) {
	t.Helper()
	if w.s3 == nil {
		return
	}
	dir := filepath.Join(w.dir, "lake")
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if n := w.s3.Download(t, w.prefix+"/lake/", dir); n == 0 {
		t.Fatalf("no object under s3://%s/%s/lake/", storagetest.VersityBucket, w.prefix)
	}
}

// checkRecordings asserts the recordings manifest: no call attempted by two runs
// (each call's recording belongs to one shard), none failed, no manifest
// row for a call the lake does not say was recorded, and recording_days,
// recomputed by the shards in turn from every shard's manifest files,
// counting each attempted call once. With all, every recorded call of the
// lake has been attempted (a shard fetches the recordings of its calls
// that are in the lake when its recordings step starts; a call another
// shard commits later is fetched on the next night).
func (w *shardWorld) checkRecordings(t *testing.T, step string, all bool) {
	t.Helper()
	db := duck(t)
	var recorded, attempted, twice, failed, strays int
	db.QueryRow(`SELECT count(*) FROM (SELECT DISTINCT source, call_id FROM ` + w.glob("calls") + ` WHERE has_recording AND recording_ref <> '')`).Scan(&recorded)
	q := `WITH m AS (SELECT source, call_id, count(DISTINCT run_id) AS attempts, bool_or(status = 'failed') AS failed FROM ` + w.glob("recordings") + ` GROUP BY ALL),
		c AS (SELECT DISTINCT source, call_id FROM ` + w.glob("calls") + ` WHERE has_recording AND recording_ref <> '')
		SELECT count(*), count(*) FILTER (WHERE attempts > 1), count(*) FILTER (WHERE failed),
		       count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM c WHERE c.source = m.source AND c.call_id = m.call_id)) FROM m`
	if err := db.QueryRow(q).Scan(&attempted, &twice, &failed, &strays); err != nil {
		t.Fatalf("%s: recordings manifest: %v", step, err)
	}
	var days int
	if err := db.QueryRow(`SELECT coalesce(sum(calls_attempted), 0) FROM ` + w.glob("recording_days")).Scan(&days); err != nil {
		t.Fatalf("%s: recording_days: %v", step, err)
	}
	if recorded == 0 || attempted == 0 || twice != 0 || failed != 0 || strays != 0 || days != attempted || (all && attempted != recorded) {
		rows, _ := db.Query(`SELECT source, status, left(error, 150), count(*) FROM ` + w.glob("recordings") + ` WHERE status = 'failed' GROUP BY ALL LIMIT 20`)
		for rows != nil && rows.Next() {
			var src, st, e string
			var c int
			rows.Scan(&src, &st, &e, &c)
			t.Logf("%s %s %d: %s", src, st, c, e)
		}
		t.Errorf("%s: recordings: %d recorded calls, %d attempted (%d twice, %d failed, %d not in calls), recording_days counts %d",
			step, recorded, attempted, twice, failed, strays, days)
	}
}

// runsOf returns the runs rows of the shards of n: shard label → rows,
// and the earliest window day any stream of theirs extracted.
func (w *shardWorld) runsOf(t *testing.T, n int) (rowsByShard map[string]int, firstDay string) {
	t.Helper()
	rows, err := duck(t).Query(`SELECT regexp_extract(run_id, '-(s[0-9]+of[0-9]+)$', 1), count(*), coalesce(CAST(min(first_day) FILTER (WHERE stream NOT IN ('snapshot', 'task')) AS VARCHAR), '')
		FROM ` + w.glob("runs") + ` WHERE run_id LIKE '%of` + fmt.Sprint(n) + `' GROUP BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	rowsByShard = map[string]int{}
	for rows.Next() {
		var label, first string
		var c int
		if err := rows.Scan(&label, &c, &first); err != nil {
			t.Fatal(err)
		}
		rowsByShard[label] = c
		if first != "" && (firstDay == "" || first < firstDay) {
			firstDay = first
		}
	}
	return rowsByShard, firstDay
}

// Sharded nights through the real CLI, over MTT (five customers), T2 and
// VotBox with faults, on one lake and one state directory: 3 shards one
// after the other, 3 at once, then 2 at once (n changed between nights),
// then 2 at once when every VotBox task is final. After every night the lake equals the
// emulators' ground truth (0 lost, 0 duplicated), every shard's runs rows
// are there, T2 (whose access token expires between nights) stays on one
// shard, and the night after n changed re-extracts only the lookback.
func TestShardedRunsGroundTruth(t *testing.T) {
	w := newShardWorld(t)

	w.night(t, 3, false)
	w.check(t, "3 shards in sequence")
	st, err := state.Open(filepath.Join(w.dir, "state"))
	if err != nil {
		t.Fatal(err)
	}
	if keys, _ := st.Cursors(); len(keys) != len(w.mtt)*4+5 { // four MTT streams per customer, five T2 streams
		t.Errorf("cursors after night 1: %d, want %d (every stream of every shard)", len(keys), len(w.mtt)*4+5)
	}
	byShard, _ := w.runsOf(t, 3)
	if len(byShard) != 3 {
		t.Errorf("runs rows by shard after night 1: %v, want all 3 shards", byShard)
	}

	w.vb.Advance()
	w.t2.ExpireAccessTokens() // the T2 shard refreshes; no other shard may touch the pair
	w.night(t, 3, true)
	w.check(t, "3 shards at once")
	if w.t2.Refreshes() < 1 {
		t.Error("no T2 refresh after the access token expired")
	}

	w.vb.Advance()
	w.night(t, 2, true)
	w.check(t, "2 shards at once")
	byShard, first := w.runsOf(t, 2)
	if len(byShard) != 2 {
		t.Errorf("runs rows by shard on the first 2-shard night: %v, want both shards", byShard)
	}
	// Cursors are per stream in the shared state: a stream moved to
	// another shard re-extracts only the lookback (1 day).
	if want := model.Day(time.Now().AddDate(0, 0, -1), msk); first < want {
		t.Errorf("after n changed from 3 to 2 a stream re-extracted from %s; want at most the lookback, from %s", first, want)
	}

	for step := 0; !w.vb.Final(); step++ {
		if step > 50 {
			t.Fatal("the VotBox emulator never finished")
		}
		w.vb.Advance()
	}
	w.vb.Advance()
	w.night(t, 2, true)
	w.check(t, "2 shards, VotBox final")
	checkAutocallResults(t, w.world, w.vb)
	// The recordings step alone, shard by shard: every recorded call of
	// the lake is now attempted, once.
	for i := range 2 {
		if code, _, stderr := w.etl("recordings", "--shard", fmt.Sprintf("%d/2", i)); code != exitOK {
			t.Fatalf("etl recordings --shard %d/2: exit %d\n%s", i, code, stderr)
		}
	}
	w.checkRecordings(t, "after etl recordings by shard", true)
	// recording_coverage (over recording_days) tells the manifest's one
	// truth across the shards' files: each call by its latest attempt.
	var wantStored, wantMissing int
	q := `WITH a AS (SELECT source, call_id, fetched_at, run_id, bool_or(status = 'missing') FILTER (WHERE part >= 0) AS missing
		FROM ` + w.glob("recordings") + ` GROUP BY source, call_id, fetched_at, run_id
		QUALIFY row_number() OVER (PARTITION BY source, call_id ORDER BY fetched_at DESC, run_id DESC) = 1)
		SELECT count(*) FILTER (WHERE NOT missing), count(*) FILTER (WHERE missing) FROM a`
	if err := duck(t).QueryRow(q).Scan(&wantStored, &wantMissing); err != nil {
		t.Fatal(err)
	}
	// Calls MTT flags recorded without a conference id cannot be fetched:
	// they are the report's not_attempted.
	var noRef int
	duck(t).QueryRow(`SELECT count(*) FROM ` + w.glob("calls") + ` WHERE has_recording AND recording_ref = '' AND NOT coalesce(duplicate, false)`).Scan(&noRef)
	var stored, missing, notAttempted, failedCalls int
	for _, r := range w.reportRows(t, "recording_coverage") {
		f := got(t, r, []string{"stored", "missing", "not_attempted", "failed"})
		for k, dst := range map[string]*int{"stored": &stored, "missing": &missing, "not_attempted": &notAttempted, "failed": &failedCalls} {
			var v int
			fmt.Sscan(f[k], &v)
			*dst += v
		}
	}
	if stored != wantStored || missing != wantMissing || notAttempted != noRef || failedCalls != 0 || wantStored == 0 || wantMissing == 0 {
		t.Errorf("recording_coverage: stored %d, missing %d, not attempted %d, failed %d; the manifest's latest attempts: %d stored, %d missing; %d recorded calls without a ref",
			stored, missing, notAttempted, failedCalls, wantStored, wantMissing, noRef)
	}
	manifests, _ := filepath.Glob(filepath.Join(w.dir, "lake", "recordings", "*", "*", "manifest-*-s*of*.parquet"))
	if len(manifests) == 0 {
		t.Error("no manifest file carries its shard's label")
	}

	// T2 (one token pair per PBX) ran on one shard for each n.
	var t2Shards int
	q = `SELECT max(c) FROM (SELECT regexp_extract(run_id, 'of([0-9]+)$', 1) AS n,
		count(DISTINCT regexp_extract(run_id, '-(s[0-9]+of[0-9]+)$', 1)) AS c
		FROM ` + w.glob("runs") + ` WHERE source = 't2' GROUP BY ALL)`
	if err := duck(t).QueryRow(q).Scan(&t2Shards); err != nil || t2Shards != 1 {
		t.Errorf("T2 streams ran on %d of the shards of one n (%v), want 1", t2Shards, err)
	}

	code, out, stderr := w.etl("state", "--shards", "2")
	if code != exitOK || !strings.Contains(out, "SHARD") || !strings.Contains(out, "t2/call_records") {
		t.Errorf("etl state --shards 2: exit %d\n%s%s", code, out, stderr)
	}
	t2Shard := fmt.Sprintf("%d/2", shard.Of("t2", 2))
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "t2/") && !strings.HasSuffix(strings.TrimSpace(line), t2Shard) {
			t.Errorf("etl state: a T2 stream not on shard %s: %s", t2Shard, line)
		}
	}
}

// Concurrent shards as real processes (the test binary as etl), one lake
// and one state: the same shard started twice gets exit 3, a whole run
// alongside the shards gets exit 3, and the lake equals the ground truth.
func TestShardProcessesAndLocks(t *testing.T) {
	w := newShardWorld(t)
	// Both shards must have MTT work for the gate below to prove both
	// are running: the assignment is fixed, so this is checked once here.
	mttShards := map[int]bool{}
	for _, c := range w.mtt {
		for _, s := range []string{"incoming", "missed", "dialed", "forwarded"} {
			mttShards[shard.Of("mtt/"+s+"/"+c, 2)] = true
		}
	}
	if len(mttShards) != 2 {
		t.Fatalf("the MTT streams all land on one of 2 shards: %v", mttShards)
	}
	w.gate.close()
	defer w.gate.release()
	start := func(i int, env []string, args ...string) (*exec.Cmd, *bytes.Buffer) {
		return w.start(t, i, env, args...)
	}
	// Shard 0 by flag, shard 1 the Kubernetes way: --shards 2 with
	// JOB_COMPLETION_INDEX.
	c0, e0 := start(0, nil, "run", "--shard", "0/2")
	c1, e1 := start(1, []string{envJobIndex + "=1"}, "run", "--shards", "2")
	// An MTT request held from each means both shards are in their run,
	// past their locks.
	for !w.gate.holding("0", "1") {
		time.Sleep(5 * time.Millisecond)
	}
	if code, _, stderr := w.etl("run", "--shard", "0/2"); code != exitLocked {
		t.Errorf("shard 0/2 twice: exit %d, want %d\n%s", code, exitLocked, stderr)
	}
	if code, _, stderr := w.etl("run"); code != exitLocked {
		t.Errorf("a whole run alongside the shards: exit %d, want %d\n%s", code, exitLocked, stderr)
	}
	w.gate.release()
	for i, c := range []*exec.Cmd{c0, c1} {
		if err := c.Wait(); err != nil {
			t.Fatalf("shard %d/2: %v\n%s%s", i, err, e0, e1)
		}
	}
	w.check(t, "2 shard processes")
}

// start runs etl (the test binary) as a process with args. Its config is
// a copy of the world's (same lake and state) whose MTT base URL names
// it, i, so that the gate knows who is in.
func (w *shardWorld) start(t testing.TB, i int, env []string, args ...string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	text, err := os.ReadFile(w.cfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(w.dir, fmt.Sprintf("etl-%d.yaml", i))
	mine := strings.Replace(string(text), "base_url: "+w.mttURL, fmt.Sprintf("base_url: %s/via/%d", w.mttURL, i), 1)
	if err := os.WriteFile(cfg, []byte(mine), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], append([]string{"--config", cfg, "--log-format", "json"}, args...)...)
	cmd.Env = append(append(os.Environ(), "CALLETL_E2E_CHILD=1"), env...)
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, &errb
}

// The shard comes from --shard, else --shards with JOB_COMPLETION_INDEX,
// else CALLETL_SHARD; flags win; a bad value exits 2 naming its flag or
// variable.
func TestShardFlagsAndEnv(t *testing.T) {
	w := newWorld(t, 1, 1, 0, "")
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		want string // in stderr
	}{
		{"bad --shard", nil, []string{"--shard", "3/3"}, "--shard"},
		{"--shard not i/n", nil, []string{"--shard", "2"}, "--shard"},
		{"--shards without the index", nil, []string{"--shards", "3"}, "JOB_COMPLETION_INDEX"},
		{"index out of range", map[string]string{envJobIndex: "3"}, []string{"--shards", "3"}, "JOB_COMPLETION_INDEX"},
		{"--shards 0", map[string]string{envJobIndex: "0"}, []string{"--shards", "0"}, "--shards"},
		{"both flags", nil, []string{"--shard", "0/2", "--shards", "2"}, "--shard and --shards"},
		{"bad env", map[string]string{envShard: "1/1"}, nil, envShard},
		{"bad flag and bad env: the flag is named", map[string]string{envShard: "x"}, []string{"--shard", "9/2"}, "--shard"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			code, _, stderr := w.etl(append([]string{"run"}, tc.args...)...)
			if code != exitUsage || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, want %d naming %q\n%s", code, exitUsage, tc.want, stderr)
			}
		})
	}
	// Flags win over the environment: a good --shard with a bad
	// CALLETL_SHARD runs.
	t.Setenv(envShard, "nonsense")
	if code, _, stderr := w.etl("run", "--shard", "0/1"); code != exitOK {
		t.Errorf("--shard 0/1 with a bad $%s: exit %d\n%s", envShard, code, stderr)
	}
}
