package sourcetest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/calletl/calletl/extract/httpx"
	"github.com/calletl/calletl/load"
	"github.com/calletl/calletl/model"
	"github.com/calletl/calletl/sandbox"
)

// faults are the faults of the truth check's second run: every kind a
// retry must absorb, capped so five attempts always suffice with two
// requests in flight.
var faults = sandbox.Faults{Error5xxEvery: 3, TruncateEvery: 5, MalformedEvery: 7, MaxInARow: 2}

// equalsTruth compares the lake with tr.
func (w *world) equalsTruth(t testing.TB, tr Truth) {
	t.Helper()
	name := w.h.Vendor.Name()
	rows := readLake(t, w.lake.Root())
	calls := of(rows, "calls", name)

	want := map[string]int{} // unit date → calls
	for _, c := range tr.Calls {
		want[c.Unit+" "+c.Date]++
	}
	got := map[string]int{}
	for _, r := range calls {
		got[r.unit+" "+r.date]++
	}
	if d := diffCounts(got, want); d != "" {
		t.Errorf("calls rows by unit and date differ from the ground truth (%d rows, truth %d):\n%s", len(calls), len(tr.Calls), d)
	}
	ids := map[string]int{}
	keys := map[string]int{}
	for _, r := range calls {
		ids[str(r.cols["account"])+"|"+str(r.cols["call_id"])]++
		keys[str(r.cols["account"])+"|"+str(r.cols["direction"])+"|"+str(r.cols["call_id"])]++
	}
	var missing []string
	for _, c := range tr.Calls {
		if c.CallID == "" {
			continue
		}
		k := c.Account + "|" + c.CallID
		if ids[k] == 0 {
			missing = append(missing, k)
			continue
		}
		ids[k]--
	}
	if len(missing) > 0 {
		t.Errorf("%d calls of the ground truth are not in the lake (account|call_id), e.g. %v", len(missing), missing[:min(5, len(missing))])
	}
	for k, n := range keys {
		if n > 1 {
			t.Errorf("calls: %d rows of (account, direction, call_id) %s", n, k)
		}
	}
	for table, n := range tr.Tables {
		if got := len(of(rows, table, name)); got != n {
			t.Errorf("%s: %d rows, ground truth %d", table, got, n)
		}
	}
	rejects := of(rows, "rejects", name)
	if len(rejects) != tr.Rejects {
		t.Errorf("rejects: %d rows, ground truth %d", len(rejects), tr.Rejects)
	}
	if tr.RejectRaws != nil {
		var raws []string
		for _, r := range rejects {
			raws = append(raws, str(r.cols["raw"]))
		}
		want := slices.Clone(tr.RejectRaws)
		sort.Strings(raws)
		sort.Strings(want)
		if !slices.Equal(raws, want) {
			t.Errorf("rejects' raw payloads differ from what the emulator served:\n got %q\nwant %q", raws, want)
		}
	}
}

// diffCounts describes the keys whose counts differ.
func diffCounts(got, want map[string]int) string {
	var lines []string
	for k, n := range want {
		if got[k] != n {
			lines = append(lines, fmt.Sprintf("  %s: %d, want %d", k, got[k], n))
		}
	}
	for k, n := range got {
		if _, ok := want[k]; !ok {
			lines = append(lines, fmt.Sprintf("  %s: %d, want none", k, n))
		}
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// checkTruth: the lake equals the ground truth, with and without faults.
func checkTruth(t *testing.T, h *Harness) {
	for _, tc := range []struct {
		name   string
		faults sandbox.Faults
	}{{"clean", sandbox.Faults{}}, {"faults", faults}} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, h)
			w.emu.SetFaults(tc.faults)
			w.run(t, t.Context(), Options{}).mustOK(t)
			w.equalsTruth(t, w.emu.Truth())
			if fi, ok := w.emu.(interface{ FaultInjector() *sandbox.FaultInjector }); ok && tc.faults != (sandbox.Faults{}) {
				if fi.FaultInjector().Counts().Total() == 0 {
					t.Error("no fault was injected: the ground truth is too small for the fault knobs")
				}
			}
		})
	}
}

// checkRerun: a second run replaces every window and item it extracts
// again and changes nothing.
func checkRerun(t *testing.T, h *Harness) {
	w := newWorld(t, h)
	w.run(t, t.Context(), Options{}).mustOK(t)
	tr := w.emu.Truth()
	first := fingerprint(readLake(t, w.lake.Root()), h.Vendor.Name(), tr)
	w.run(t, t.Context(), Options{}).mustOK(t)
	second := fingerprint(readLake(t, w.lake.Root()), h.Vendor.Name(), tr)
	if !slices.Equal(first, second) {
		t.Errorf("the re-run changed the lake: %d rows before, %d after;\n%s", len(first), len(second), firstDiff(first, second))
	}
	w.equalsTruth(t, tr)
}

func firstDiff(a, b []string) string {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return fmt.Sprintf("first difference:\n before %s\n  after %s", a[i], b[i])
		}
	}
	return ""
}

// fullRequests is the number of requests one whole run makes against a
// fresh emulator.
func fullRequests(t *testing.T, h *Harness) int {
	w := newWorld(t, h)
	w.run(t, t.Context(), Options{}).mustOK(t)
	if n := w.Requests(); n >= 2 {
		return n
	}
	t.Fatalf("a whole run made %d requests: the ground truth is too small to cut a run in the middle", w.Requests())
	return 0
}

// cancelAt cancels the run when request n arrives, before the emulator
// answers it; the request waits until the client has gone. before runs
// first, with the request held (a kill's snapshot of the disk).
func (w *world) cancelAt(n int, cancel context.CancelFunc, before func()) {
	w.setHook(func(i int, r *http.Request) bool {
		if i != n {
			return false
		}
		// With the body read, the server watches the connection and ends
		// r's context when the cancelled client closes it.
		_, _ = io.Copy(io.Discard, r.Body)
		if before != nil {
			before()
		}
		cancel()
		select {
		case <-r.Context().Done():
		case <-w.done:
		}
		return true
	})
}

// checkCancel: a run cancelled mid-window commits only whole windows and
// items and leaves the cursor of the cancelled stream behind it; the next
// run completes the truth with no loss and no duplicate.
func checkCancel(t *testing.T, h *Harness) {
	total := fullRequests(t, h)
	w := newWorld(t, h)
	ctx, cancel := context.WithCancel(t.Context())
	w.cancelAt(total/2, cancel, nil)
	r := w.run(t, ctx, Options{})
	cancel()
	w.setHook(nil)
	if r.err != nil {
		t.Fatalf("cancelled run: %v", r.err)
	}
	var cancelled []model.RunStream
	for _, rs := range r.sum.Streams {
		if rs.Status == model.RunCanceled {
			cancelled = append(cancelled, rs)
		}
	}
	if len(cancelled) == 0 {
		t.Fatalf("the run cancelled at request %d of %d has no cancelled stream: %+v", total/2, total, r.sum.Streams)
	}
	st := w.state(t)
	for _, rs := range cancelled {
		key := model.StreamKey{Source: rs.Source, Stream: rs.Stream, Account: rs.Account}
		if h.StartDay == "" || rs.Stream == "snapshot" {
			continue
		}
		if c, ok := st.Cursor(key.String()); ok && c.Day >= rs.LastDay {
			t.Errorf("%s was cancelled in window %s, but its cursor is at %s", key, rs.LastDay, c.Day)
		}
	}
	if h.StartDay == "" {
		var items map[string]struct {
			Final bool `json:"final"`
		}
		if _, err := st.Get("items/"+h.Vendor.Name(), &items); err != nil {
			t.Fatal(err)
		}
		for _, rs := range cancelled {
			if items[rs.Account].Final {
				t.Errorf("item %s was cancelled, but is remembered final", rs.Account)
			}
		}
	}
	// What was committed is whole: every unit and date in the lake holds
	// its ground truth exactly.
	tr := w.emu.Truth()
	want := map[string]int{}
	for _, c := range tr.Calls {
		want[c.Unit+" "+c.Date]++
	}
	for k, n := range countBy(of(readLake(t, w.lake.Root()), "calls", h.Vendor.Name())) {
		if want[k] != n {
			t.Errorf("after the cancel, %s holds %d calls, ground truth %d: a partial window was committed", k, n, want[k])
		}
	}
	w.run(t, t.Context(), Options{}).mustOK(t)
	w.equalsTruth(t, w.emu.Truth())
}

func countBy(rows []row) map[string]int {
	out := map[string]int{}
	for _, r := range rows {
		out[r.unit+" "+r.date]++
	}
	return out
}

// checkKill: a process killed leaves the lake ahead of its state, and
// temp files; the next run loses and doubles nothing.
func checkKill(t *testing.T, h *Harness) {
	t.Run("after_commits", func(t *testing.T) {
		// Killed after every lake commit, before any state was saved.
		w := newWorld(t, h)
		w.run(t, t.Context(), Options{}).mustOK(t)
		if err := os.RemoveAll(w.stateDir()); err != nil {
			t.Fatal(err)
		}
		w.run(t, t.Context(), Options{}).mustOK(t)
		w.equalsTruth(t, w.emu.Truth())
	})
	t.Run("mid_run", func(t *testing.T) {
		// Killed mid-run: the disk as it was at that instant (state, then
		// lake, temp files and all) is what the next process finds.
		total := fullRequests(t, h)
		w := newWorld(t, h)
		snap := filepath.Join(t.TempDir(), "snap")
		ctx, cancel := context.WithCancel(t.Context())
		w.cancelAt(total/2, cancel, func() {
			copyDir(t, w.stateDir(), filepath.Join(snap, "state"))
			copyDir(t, w.lake.Root(), filepath.Join(snap, "lake"))
		})
		r := w.run(t, ctx, Options{})
		cancel()
		w.setHook(nil)
		if r.err != nil {
			t.Fatalf("killed run: %v", r.err)
		}
		for _, d := range []string{w.stateDir(), w.lake.Root()} {
			if err := os.RemoveAll(d); err != nil {
				t.Fatal(err)
			}
			if err := os.MkdirAll(d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		copyDir(t, filepath.Join(snap, "state"), w.stateDir())
		copyDir(t, filepath.Join(snap, "lake"), w.lake.Root())
		w.run(t, t.Context(), Options{}).mustOK(t)
		w.equalsTruth(t, w.emu.Truth())
		if temps := tempFiles(t, w.lake.Root()); len(temps) > 0 {
			t.Errorf("temp files left after the next run: %v", temps)
		}
	})
}

func tempFiles(t testing.TB, root string) []string {
	var out []string
	_ = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(d.Name(), ".tmp") {
			out = append(out, path)
		}
		return nil
	})
	return out
}

// checkSecrets: no credential in any log line, error, lake value or state
// file, through a good run, a run with faults and a run on revoked
// credentials; every configured credential is in the redactor.
func checkSecrets(t *testing.T, h *Harness) {
	w := newWorld(t, h)
	configured := w.emu.Secrets()
	r1 := w.run(t, t.Context(), Options{})
	r1.mustOK(t)
	for _, s := range configured {
		if strings.Contains(r1.red.Redact("x"+s+"x"), s) {
			t.Errorf("a configured credential (%d bytes) is not registered with the redactor", len(s))
		}
	}
	w.emu.SetFaults(faults)
	r2 := w.run(t, t.Context(), Options{})
	w.emu.SetFaults(sandbox.Faults{})
	w.emu.Revoke()
	r3 := w.run(t, t.Context(), Options{})
	if r3.sum.Err() == nil {
		t.Errorf("a run on revoked credentials succeeded")
	}
	where := map[string]string{
		"logs":   w.logs.String(),
		"errors": r1.errText() + r2.errText() + r3.errText(),
	}
	var lake strings.Builder
	for _, r := range readLake(t, w.lake.Root()) {
		for k, v := range r.cols {
			fmt.Fprintf(&lake, "%s.%s=%s\n", r.table, k, str(v))
		}
	}
	where["lake"] = lake.String()
	_ = filepath.WalkDir(w.stateDir(), func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := os.ReadFile(path)
			where["state "+d.Name()] = string(b)
		}
		return nil
	})
	if len(where["logs"]) == 0 {
		t.Error("the runs logged nothing: the check would prove nothing")
	}
	for _, s := range w.emu.Secrets() {
		for name, text := range where {
			if strings.Contains(text, s) {
				i := strings.Index(text, s)
				t.Errorf("a credential is in the %s: …%s…", name, strings.ReplaceAll(text[max(0, i-60):i], "\n", " "))
			}
		}
	}
}

// checkUTF8: every string the source writes is valid UTF-8, also when the
// vendor sends invalid bytes (the suite turns the emulator's "о" into the
// windows-1251 byte 0xEE on the wire).
func checkUTF8(t *testing.T, h *Harness) {
	w := newWorld(t, h)
	var mu sync.Mutex
	replaced := 0
	if h.NoInvalidText != "" {
		t.Logf("answers not corrupted: %s", h.NoInvalidText)
	} else {
		w.setWrap(func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
				rec := httptest.NewRecorder()
				next.ServeHTTP(rec, r)
				body := rec.Body.Bytes()
				if !strings.Contains(strings.ToLower(rec.Header().Get("Content-Type")), "1251") {
					n := bytes.Count(body, []byte("о"))
					body = bytes.ReplaceAll(body, []byte("о"), []byte{0xee})
					mu.Lock()
					replaced += n
					mu.Unlock()
				}
				for k, v := range rec.Header() {
					rw.Header()[k] = v
				}
				rw.Header().Set("Content-Length", strconv.Itoa(len(body)))
				rw.WriteHeader(rec.Code)
				_, _ = rw.Write(body)
			})
		})
	}
	w.run(t, t.Context(), Options{}).mustOK(t)
	mu.Lock()
	n := replaced
	mu.Unlock()
	if n == 0 && h.NoInvalidText == "" {
		t.Fatal("the emulator served no Cyrillic о to corrupt: give the harness's ground truth some Cyrillic text")
	}
	for _, row := range readLake(t, w.lake.Root()) {
		for k, v := range row.cols {
			if s, ok := v.(string); ok && !utf8.ValidString(s) {
				t.Errorf("%s.%s (source %s, date %s): invalid UTF-8 %q", row.table, k, row.source, row.date, s)
			}
		}
	}
}

// checkRejects: rows that fail validation are rejects that keep the
// payload exactly as the vendor sent it.
func checkRejects(t *testing.T, h *Harness) {
	w := newWorld(t, h)
	tr := w.emu.Truth()
	if tr.Rejects == 0 {
		t.Fatal("the harness's ground truth has no rejects: give the emulator malformed rows")
	}
	w.run(t, t.Context(), Options{}).mustOK(t)
	tr = w.emu.Truth()
	rejects := of(readLake(t, w.lake.Root()), "rejects", h.Vendor.Name())
	if len(rejects) != tr.Rejects {
		t.Errorf("%d rejects, ground truth %d", len(rejects), tr.Rejects)
	}
	for _, r := range rejects {
		if str(r.cols["raw"]) == "" || str(r.cols["reason"]) == "" || str(r.cols["endpoint"]) == "" {
			t.Errorf("reject without its raw payload, reason or endpoint: %v", r.cols)
		}
	}
	w.equalsTruth(t, tr)
}

// checkUnknownItem: an item the vendor does not know fails once, is then
// remembered, and later runs skip it without an error.
func checkUnknownItem(t *testing.T, h *Harness) {
	if h.UnknownItem == "" {
		t.Skip("a window source has no items")
	}
	w := newWorld(t, h)
	o := Options{ExtraItems: []string{h.UnknownItem}}
	r1 := w.run(t, t.Context(), o)
	if r1.err != nil {
		t.Fatal(r1.err)
	}
	errs := r1.sum.Errors()
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), h.UnknownItem) {
		t.Fatalf("first run: errors %v, want one naming %s", errs, h.UnknownItem)
	}
	r2 := w.run(t, t.Context(), o)
	r2.mustOK(t)
	for _, rs := range r2.sum.Streams {
		if rs.Account == h.UnknownItem {
			t.Errorf("second run attempted the unknown item again: %+v", rs)
		}
	}
	w.equalsTruth(t, w.emu.Truth())
}

// checkDeadCredential: revoked credentials stop the source at the first
// refusal, with one error that is fatal for the source.
func checkDeadCredential(t *testing.T, h *Harness) {
	w := newWorld(t, h)
	w.run(t, t.Context(), Options{}).mustOK(t)
	w.emu.Revoke()
	before := w.Requests()
	r := w.run(t, t.Context(), Options{})
	if r.err != nil {
		t.Fatal(r.err)
	}
	errs := r.sum.Errors()
	if len(errs) != 1 {
		t.Fatalf("%d errors, want one for the whole source:\n%v", len(errs), r.sum.Err())
	}
	if !httpx.IsFatal(errs[0]) {
		t.Errorf("the error is not fatal for the source (httpx.IsFatal): %v", errs[0])
	}
	// Each of at most http.concurrency pieces of work in flight may meet
	// the refusal (a token source: the refused request and the refused
	// refresh); nothing starts after it.
	if n := w.Requests() - before; n > 2*HTTP().Concurrency+3 {
		t.Errorf("%d requests on dead credentials: the source did not stop at the first refusal", n)
	}
}

// stamps are the columns that say when the run took a row: each must hold
// the run's time (model.Run.StartedAt, the pipeline's clock), never the
// wall clock, so a run's rows carry one time and a test's clock reaches
// every one of them.
var stamps = []string{"extracted_at", "rejected_at", "snapshot_at", "taken_at"}

// checkClock: every row the run writes is stamped with the run's time. The
// suite's clock (Harness.Now) is a fixed moment, not the wall clock, so a
// source that calls time.Now stamps another time.
func checkClock(t *testing.T, h *Harness) {
	w := newWorld(t, h)
	w.run(t, t.Context(), Options{}).mustOK(t)
	want := stampText(h.Now)
	checked := map[string]int{}
	bad := map[string]string{}
	for _, r := range readLake(t, w.lake.Root()) {
		if r.source != h.Vendor.Name() {
			continue
		}
		for _, col := range stamps {
			v, ok := r.cols[col]
			if !ok {
				continue
			}
			checked[r.table+"."+col]++
			if got := str(v); got != want {
				bad[r.table+"."+col] = got
			}
		}
	}
	if len(checked) == 0 {
		t.Fatalf("no row has a %v column: the check proves nothing", stamps)
	}
	if _, ok := checked["rejects.rejected_at"]; !ok {
		t.Error("no reject was written: the check does not reach rejected_at")
	}
	for col, got := range bad {
		t.Errorf("%s is %s, want the run's time %s: the source stamps rows with a clock of its own (time.Now?), not model.Run.StartedAt", col, got, want)
	}
	t.Logf("stamps checked: %v", checked)
}

// stampText is t as readLake reads a timestamp column back.
func stampText(t time.Time) string {
	b := array.NewTimestampBuilder(memory.DefaultAllocator, load.TimestampType().(*arrow.TimestampType))
	defer b.Release()
	load.AppendTimestamp(b, t)
	a := b.NewArray()
	defer a.Release()
	return str(a.GetOneForMarshal(0))
}
