// Package sourcetest is the source contract in code: [Run] drives one
// vendor, built through its registry Vendor, against its emulator in the
// in-process pipeline, and checks what every source must do, each as a
// subtest:
//
//   - truth: the lake equals the emulator's ground truth (calls, detail
//     table rows, rejects), with and without injected faults;
//   - rerun: a second run replaces what the first wrote and changes nothing;
//   - cancel: a run cancelled mid-window leaves the cursor behind the
//     window, and the next run completes it with no loss and no duplicate;
//   - kill: a process killed after a lake commit and before its state was
//     saved (the lake ahead of the state, temp files left behind) loses and
//     doubles nothing on the next run;
//   - secrets: no credential in any log line, error, lake table or state
//     file, and every one registered with the redactor;
//   - utf8: every string in the lake is valid UTF-8, also when the vendor
//     sends invalid bytes;
//   - rejects: every reject keeps the raw payload;
//   - unknown_item: an item the vendor does not know fails once, then is
//     skipped (item sources);
//   - dead_credential: refused credentials stop the source once, with one
//     error that is fatal for the source (httpx.IsFatal);
//   - clock: every extracted_at, rejected_at, snapshot_at and taken_at is
//     the run's time (model.Run.StartedAt), never the wall clock.
//
// A vendor's test file calls Run with its [Harness]. A check a vendor
// cannot satisfy is listed in Harness.Skip with the reason, and skipped
// naming it.
package sourcetest

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/calletl/calletl/extract/registry"
	"github.com/calletl/calletl/load"
	"github.com/calletl/calletl/sandbox"
)

// Harness is how a vendor meets the suite.
type Harness struct {
	// Vendor is the vendor as it registers itself.
	Vendor registry.Vendor
	// Location is the business time zone of the runs; UTC when nil.
	Location *time.Location
	// Now is the runs' clock: a moment on the last day of the emulator's
	// traffic, in Location (the pipeline extracts through that day).
	Now time.Time
	// StartDay is the first day a window source extracts (the emulator's
	// first day of traffic); "" for item sources.
	StartDay string
	// New returns a fresh emulator with a small ground truth (a few days,
	// tens of rows, some of them rejects).
	New func(t testing.TB) Emulator
	// UnknownItem is an item key the emulator does not know (item sources
	// only; "" for window sources).
	UnknownItem string
	// NoInvalidText, when set, says why the utf8 check must not corrupt
	// the emulator's answers (the check then only reads the lake back).
	NoInvalidText string
	// Skip lists the checks (subtest names) the vendor cannot satisfy,
	// each with the reason. Use sparingly: a failing check is a bug to fix
	// in the vendor.
	Skip map[string]string
}

// Options shape the config an Emulator returns.
type Options struct {
	// ExtraItems are item keys to configure besides the emulator's own
	// (item sources).
	ExtraItems []string
}

// Emulator is one vendor emulator, started for one subtest, with its
// ground truth and fault knobs.
type Emulator interface {
	// Handler serves the vendor API; the suite serves it with httptest.
	Handler() http.Handler
	// Config returns the vendor's section of etl.yaml for the API at base
	// (the httptest URL), its secrets written as files under dir (see
	// [SecretFile]), with http.concurrency 2 and millisecond backoffs.
	// The suite validates it as the CLI does.
	Config(t testing.TB, base, dir string, o Options) registry.Config
	// Truth is the ground truth now, as the lake must hold it.
	Truth() Truth
	// Secrets lists every credential, in every form it takes on the wire
	// (a password, its hash, a Basic header's base64, issued tokens): none
	// may be seen outside the vendor request.
	Secrets() []string
	// Revoke makes the credentials dead: every later request is refused.
	Revoke()
	// SetFaults sets the emulator's fault knobs.
	SetFaults(sandbox.Faults)
}

// Advancer is an Emulator whose items progress (VotBox, Mobilgroup): the
// suite advances it between runs, so a re-run has work that is not final.
type Advancer interface {
	Advance()
}

// Truth is what the lake must hold for the vendor's source partition.
type Truth struct {
	// Calls are the canonical calls rows.
	Calls []Call
	// Tables is the row count of each detail table that windows or items
	// replace (not per-run snapshots such as balances).
	Tables map[string]int
	// Rejects is the number of rejects rows.
	Rejects int
	// RejectRaws, when not nil, are the rejects' raw payloads exactly.
	RejectRaws []string
}

// Call is one canonical calls row of the truth.
type Call struct {
	Unit    string // the lake unit that writes it: the stream key's Unit ("dialed-110011256") or "<kind>-<item>"
	Account string
	Date    string // the date partition
	// CallID is the row's call_id; "" when the vendor derives it (a hash
	// of the row) and only the count is compared.
	CallID string
}

// SecretFile writes value to dir/name (mode 0600) and returns the
// reference to it.
func SecretFile(t testing.TB, dir, name, value string) registry.SecretRef {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(value+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return registry.SecretRef{File: p}
}

// HTTP returns the http: settings every harness uses: two requests at a
// time, five attempts, millisecond backoffs (no test waits for a real
// backoff), short timeouts.
func HTTP() registry.HTTP {
	return registry.HTTP{Concurrency: 2, MaxAttempts: 5, BaseBackoff: time.Millisecond,
		MaxBackoff: 2 * time.Millisecond, MaxRetryAfter: 2 * time.Millisecond,
		AttemptTimeout: 20 * time.Second}
}

// Run runs the suite for h.
func Run(t *testing.T, h Harness) {
	if h.Location == nil {
		h.Location = time.UTC
	}
	checks := []struct {
		name string
		fn   func(*testing.T, *Harness)
	}{
		{"truth", checkTruth},
		{"rerun", checkRerun},
		{"cancel", checkCancel},
		{"kill", checkKill},
		{"secrets", checkSecrets},
		{"utf8", checkUTF8},
		{"rejects", checkRejects},
		{"unknown_item", checkUnknownItem},
		{"dead_credential", checkDeadCredential},
		{"clock", checkClock},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			if why, ok := h.Skip[c.name]; ok {
				t.Skipf("%s cannot satisfy %q: %s", h.Vendor.Name(), c.name, why)
			}
			c.fn(t, &h)
		})
	}
}

// world is one emulator served over httptest, a lake and a state.
type world struct {
	h    *Harness
	emu  Emulator
	srv  *httptest.Server
	dir  string
	lake *load.Lake

	mu       sync.Mutex
	requests int
	onReq    func(n int, r *http.Request) bool // called before serving request n (1-based); true: do not serve it
	done     chan struct{}                     // closed when the test ends, before the server closes
	wrap     func(http.Handler) http.Handler
	logs     SyncBuffer
}

func newWorld(t *testing.T, h *Harness) *world {
	t.Helper()
	w := &world{h: h, emu: h.New(t), dir: t.TempDir(), done: make(chan struct{})}
	api := w.emu.Handler()
	w.srv = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		w.mu.Lock()
		w.requests++
		n, hook, wrap := w.requests, w.onReq, w.wrap
		w.mu.Unlock()
		if hook != nil && hook(n, r) {
			return
		}
		if wrap != nil {
			wrap(api).ServeHTTP(rw, r)
			return
		}
		api.ServeHTTP(rw, r)
	}))
	t.Cleanup(w.srv.Close)
	t.Cleanup(func() { close(w.done) }) // runs first: a held request lets go
	lake, err := load.Open(filepath.Join(w.dir, "lake"), load.Options{})
	if err != nil {
		t.Fatal(err)
	}
	w.lake = lake
	return w
}

func (w *world) stateDir() string { return filepath.Join(w.dir, "state") }

// Requests returns how many requests reached the server so far.
func (w *world) Requests() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.requests
}

func (w *world) setWrap(fn func(http.Handler) http.Handler) {
	w.mu.Lock()
	w.wrap = fn
	w.mu.Unlock()
}

func (w *world) setHook(fn func(n int, r *http.Request) bool) {
	w.mu.Lock()
	w.onReq = fn
	w.mu.Unlock()
}

// SyncBuffer is a log sink safe for concurrent writers (a vendor's own
// tests use it too).
type SyncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
