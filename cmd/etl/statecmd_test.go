package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/calletl/calletl/pipeline"
	"github.com/calletl/calletl/recordings"
	"github.com/calletl/calletl/sandbox"
	"github.com/calletl/calletl/state"
)

// countingServer serves h and counts its requests.
func countingServer(t *testing.T, h http.Handler) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

// mobilgroupSection serves a Mobilgroup emulator with broadcasts and
// returns its config section (the ids plus extra ones) and request count.
func mobilgroupSection(t *testing.T, dir string, broadcasts int, extraIDs ...string) (string, []string, *atomic.Int64) {
	t.Helper()
	const key = "mg-key-7f3a"
	mg := sandbox.NewMobilgroup(sandbox.MobilgroupConfig{APIKey: key, Broadcasts: broadcasts, SubscribersPerBroadcast: 5, Seed: 3, Days: 2})
	srv, n := countingServer(t, mg)
	os.WriteFile(filepath.Join(dir, "mg-key"), []byte(key), 0o600)
	ids := append(mg.IDs(), extraIDs...)
	return fmt.Sprintf(`  mobilgroup:
    base_url: %s
    api_key: {file: mg-key}
    broadcast_ids: [%s]
    http: {max_attempts: 3, base_backoff: 5ms, max_backoff: 20ms}
`, srv.URL, strings.Join(ids, ", ")), mg.IDs(), n
}

// testJWT is an unsigned JWT with exp, like T2's tokens.
func testJWT(sub string, exp time.Time) string {
	enc := base64.RawURLEncoding
	return enc.EncodeToString([]byte(`{"alg":"none"}`)) + "." +
		enc.EncodeToString(fmt.Appendf(nil, `{"sub":%q,"exp":%d}`, sub, exp.Unix())) + ".sig"
}

// snapshot lists the files under dir with their size and modification
// time: equal snapshots mean nothing was written.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			fi, _ := d.Info()
			out[path] = fmt.Sprint(fi.Size(), fi.ModTime().UnixNano())
		}
		return nil
	})
	return out
}

// etl state shows what an operator needs to see and fix, in a table and
// in JSON: cursors, backfill progress, items (polled, given up, first
// seen), the recordings backlog (calls whose fetch failed, waiting for
// their backoff) and the T2 token pair's age and expiry, never a token;
// and it writes nothing. Before: cursors and polled items only, no
// --format (exit 2).
func TestStateShowsWhatAnOperatorFixes(t *testing.T) {
	dir0 := t.TempDir()
	mg, ids, _ := mobilgroupSection(t, dir0, 2, "999999") // 999999: unknown to the vendor
	w := newWorld(t, 2, 10, 0, mg+fmt.Sprintf(`recordings:
  local: blobs
  mtt_records_base: %s
  max_attempts: 3
`, closedURL(t)))
	os.WriteFile(filepath.Join(w.dir, "mg-key"), mustRead(t, filepath.Join(dir0, "mg-key")), 0o600)
	if code, _, stderr := w.etl("run"); code != exitFailed || !strings.Contains(stderr, "999999") {
		t.Fatalf("run: exit %d, want 1 for the unknown broadcast\n%s", code, stderr)
	}
	if code, _, stderr := w.etl("backfill", "--source", "mtt", "--from", w.from, "--to", w.from); code != exitOK {
		t.Fatalf("backfill: exit %d\n%s", code, stderr)
	}
	// Now T2 too, with a saved pair refreshed 6 days ago whose refresh
	// token dies in 30 hours.
	now := time.Now()
	refreshed := now.Add(-6 * 24 * time.Hour).UTC().Truncate(time.Second)
	access, refresh := testJWT("a", now.Add(-time.Hour)), testJWT("r", now.Add(30*time.Hour))
	refreshExp := time.Unix(now.Add(30*time.Hour).Unix(), 0).UTC()
	os.WriteFile(filepath.Join(w.dir, "state", "t2-tokens.json"), fmt.Appendf(nil,
		`{"access_token":%q,"refresh_token":%q,"refreshed_at":%q}`, access, refresh, refreshed.Format(time.RFC3339)), 0o600)
	t2 := fmt.Sprintf("  t2:\n    base_url: %s\n    access_token: {env: CALLETL_TEST_UNSET}\n    refresh_token: {env: CALLETL_TEST_UNSET}\nrecordings:\n", closedURL(t))
	os.WriteFile(w.cfg, []byte(strings.Replace(string(mustRead(t, w.cfg)), "recordings:\n", t2, 1)), 0o644)

	var recorded int
	if err := duck(t).QueryRow(`SELECT count(DISTINCT call_id) FROM ` + w.glob("calls") + ` WHERE has_recording AND recording_ref <> ''`).Scan(&recorded); err != nil || recorded == 0 {
		t.Fatalf("%d recorded calls (%v): the test needs some", recorded, err)
	}

	before := snapshot(t, w.dir)
	code, out, stderr := w.etl("state", "--format", "json")
	if code != exitOK {
		t.Fatalf("state --format json: exit %d\n%s", code, stderr)
	}
	var rep stateReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("state --format json: %v\n%s", err, out)
	}
	if len(rep.Cursors) != 8 {
		t.Errorf("%d cursors, want the 8 MTT streams: %+v", len(rep.Cursors), rep.Cursors)
	}
	for _, c := range rep.Cursors {
		if !strings.HasPrefix(c.Stream, "mtt/") || c.Day != w.to || c.RunID == "" || c.UpdatedAt.IsZero() {
			t.Errorf("cursor %+v, want an MTT stream at %s", c, w.to)
		}
	}
	if len(rep.Backfills) != 8 {
		t.Errorf("%d backfills, want 8: %+v", len(rep.Backfills), rep.Backfills)
	}
	for _, b := range rep.Backfills {
		if b.From != w.from || b.To != w.from || b.Day != w.from || !b.Done || !strings.HasPrefix(b.Stream, "mtt/") {
			t.Errorf("backfill %+v, want %s..%s done", b, w.from, w.from)
		}
	}
	var items []string
	for _, it := range rep.Items {
		items = append(items, it.Key)
		if it.Source != "mobilgroup" || it.Kind != "broadcast" || it.FirstSeen.IsZero() && !it.GivenUp {
			t.Errorf("item %+v", it)
		}
		if gone := it.Key == "999999"; gone != it.GivenUp || gone && (!it.Final || it.Reason == "") {
			t.Errorf("item %s: final %v, given up %v (%q)", it.Key, it.Final, it.GivenUp, it.Reason)
		}
	}
	if want := append(slices.Clone(ids), "999999"); !slices.Equal(items, slices.Sorted(slices.Values(want))) {
		t.Errorf("items %v, want %v", items, want)
	}
	if r := rep.Recordings; r == nil || r.Error != "" || len(r.Sources) != 2 {
		t.Errorf("recordings: %+v", r)
	} else {
		m, t2b := r.Sources[0], r.Sources[1]
		if m.Source != "mtt" || m.RetryWaiting != recorded || m.NextRetry.Before(now) || m.New+m.RetryDue+m.GivenUp != 0 || m.Oldest != w.from {
			t.Errorf("mtt backlog %+v, want %d calls waiting for their retry", m, recorded)
		}
		if t2b != (recordings.Backlog{Source: "t2"}) {
			t.Errorf("t2 backlog %+v, want empty", t2b)
		}
	}
	tok := rep.T2Token
	if tok == nil || !tok.Saved || !tok.SavedAt.Equal(refreshed) || tok.AgeS == nil || *tok.AgeS < 6*24*3600 ||
		!tok.RefreshExpiresAt.Equal(refreshExp) || tok.RefreshExpiresInS == nil || *tok.RefreshExpiresInS > 30*3600 || len(tok.Warnings) != 2 {
		t.Errorf("t2 token: %+v", tok)
	}

	code, table, stderr := w.etl("state")
	if code != exitOK {
		t.Fatalf("state: exit %d\n%s", code, stderr)
	}
	for _, want := range []string{"STREAM", "mtt/dialed/110011256", "BACKFILL", w.from + ".." + w.from, "(complete)",
		"mobilgroup/999999", "given up", "polled", "RECORDINGS", "T2 TOKENS", "refresh token expires", "WARNING"} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
	for _, secret := range []string{access, refresh, strings.Split(access, ".")[1], strings.Split(refresh, ".")[1]} {
		if strings.Contains(out+table+stderr, secret) {
			t.Errorf("a token is shown")
		}
	}
	if after := snapshot(t, w.dir); !maps.Equal(before, after) {
		t.Errorf("etl state wrote files")
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// planned and extracted are sets of "stream day" and "source/item".
func plannedWork(p *pipeline.Plan) (windows, items []string) {
	for _, s := range p.Streams {
		for _, d := range s.Days {
			windows = append(windows, s.Stream+" "+d)
		}
	}
	for _, it := range p.Items {
		for _, k := range it.Keys {
			items = append(items, it.Source+"/"+k)
		}
	}
	slices.Sort(windows)
	slices.Sort(items)
	return windows, items
}

// extractedWork reads what a run extracted from its debug log.
func extractedWork(t *testing.T, stderr string) (windows, items []string) {
	t.Helper()
	for _, rec := range logRecords(t, stderr) {
		switch rec["msg"] {
		case "window committed":
			windows = append(windows, fmt.Sprintf("%s/%s/%s %s", rec["source"], rec["stream"], rec["account"], rec["day"]))
		case "item done":
			items = append(items, fmt.Sprintf("%s/%s", rec["source"], rec["broadcast"]))
		}
	}
	slices.Sort(windows)
	slices.Sort(items)
	return windows, items
}

// etl run --dry-run prints exactly the windows and items the run then
// extracts, for a fresh state, after a run, and with a lagging cursor;
// the vendors see no request during it, and it neither waits for the
// lock nor writes the state or the lake. Before: no --dry-run (exit 2).
func TestDryRunIsTheRunsPlan(t *testing.T) {
	dir0 := t.TempDir()
	mg, _, mgReqs := mobilgroupSection(t, dir0, 2)
	w := newWorld(t, 4, 10, 0, mg)
	os.WriteFile(filepath.Join(w.dir, "mg-key"), mustRead(t, filepath.Join(dir0, "mg-key")), 0o600)
	stateDir := filepath.Join(w.dir, "state")

	for _, step := range []string{"fresh state", "after a run", "a lagging cursor"} {
		if step == "a lagging cursor" {
			st, err := state.Open(stateDir)
			if err != nil {
				t.Fatal(err)
			}
			if err := st.SetCursor("mtt/dialed/110011256", state.Cursor{Day: w.from, RunID: "old"}); err != nil {
				t.Fatal(err)
			}
		}
		// Another process holds the lock: the dry run does not wait for it.
		st, err := state.Open(stateDir)
		if err != nil {
			t.Fatal(err)
		}
		unlock, err := st.Lock()
		if err != nil {
			t.Fatal(err)
		}
		before, mttBefore, mgBefore := snapshot(t, w.dir), w.emu.Requests(), mgReqs.Load()
		code, out, stderr := w.etl("run", "--dry-run", "--format", "json")
		unlock()
		if code != exitOK {
			t.Fatalf("%s: dry run: exit %d\n%s", step, code, stderr)
		}
		if n, m := w.emu.Requests()-mttBefore, mgReqs.Load()-mgBefore; n != 0 || m != 0 {
			t.Errorf("%s: the dry run made %d MTT and %d Mobilgroup requests", step, n, m)
		}
		if !maps.Equal(before, snapshot(t, w.dir)) {
			t.Errorf("%s: the dry run wrote files", step)
		}
		logRecords(t, stderr) // JSON only
		var plan pipeline.Plan
		if err := json.Unmarshal([]byte(out), &plan); err != nil {
			t.Fatalf("%s: plan: %v\n%s", step, err, out)
		}
		if plan.Today != w.to {
			t.Errorf("%s: plan today %s, want %s", step, plan.Today, w.to)
		}
		planW, planI := plannedWork(&plan)
		if len(planW) == 0 || len(planI) != 2 {
			t.Fatalf("%s: plan of %d windows and items %v", step, len(planW), planI)
		}
		if step == "a lagging cursor" {
			for _, s := range plan.Streams {
				if lag := s.Stream == "mtt/dialed/110011256"; lag != (s.Start == "cursor") {
					t.Errorf("%s: %s starts because of %q", step, s.Stream, s.Start)
				}
			}
		}

		code, _, stderr = w.etl("--log-level", "debug", "run")
		if code != exitOK {
			t.Fatalf("%s: run: exit %d\n%s", step, code, stderr)
		}
		gotW, gotI := extractedWork(t, stderr)
		if !slices.Equal(planW, gotW) {
			t.Errorf("%s: planned windows\n%v\nthe run extracted\n%v", step, planW, gotW)
		}
		if !slices.Equal(planI, gotI) {
			t.Errorf("%s: planned items %v, the run extracted %v", step, planI, gotI)
		}
	}

	// The table names the streams, their windows and the items.
	code, out, stderr := w.etl("run", "--dry-run")
	if code != exitOK || !strings.Contains(out, "mtt/dialed/110011256") || !strings.Contains(out, "mobilgroup") || !strings.Contains(out, "day windows") {
		t.Errorf("dry run table: exit %d\n%s%s", code, out, stderr)
	}
	if code, _, _ := w.etl("run", "--format", "json"); code != exitUsage {
		t.Errorf("run --format without --dry-run: exit %d, want 2", code)
	}
}
