package pipeline

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/calletl/calletl/load"
	"github.com/calletl/calletl/model"
	"github.com/calletl/calletl/state"
)

// fakeSource writes one call per window and fails where told.
type fakeSource struct {
	mu      sync.Mutex
	streams []model.StreamKey
	failOn  map[string]bool // "stream/day"
	cancel  func()          // called when extracting cancelDay
	seen    map[string][]string
}

func (f *fakeSource) Name() string               { return "fake" }
func (f *fakeSource) Concurrency() int           { return 2 }
func (f *fakeSource) Streams() []model.StreamKey { return f.streams }

func (f *fakeSource) Extract(ctx context.Context, key model.StreamKey, w model.Window, sink *Sink) (int64, error) {
	f.mu.Lock()
	if f.seen == nil {
		f.seen = map[string][]string{}
	}
	f.seen[key.Stream] = append(f.seen[key.Stream], w.Day)
	f.mu.Unlock()
	run := sink.Run()
	c := model.Call{Source: "fake", Date: w.Day, Account: key.Account, CallID: key.Stream + w.Day, Direction: model.Incoming,
		StartedAt: w.From, RunID: run.ID, ExtractedAt: run.StartedAt}
	if err := sink.Call(&c); err != nil {
		return 0, err
	}
	if f.failOn[key.Stream+"/"+w.Day] {
		return 1, fmt.Errorf("fake: %s window %s: vendor said no", key, w.Day)
	}
	return 1, nil
}

type env struct {
	p     *Pipeline
	lake  *load.Lake
	state *state.Store
	dir   string
}

func newEnv(t *testing.T, now time.Time, startDay string) *env {
	t.Helper()
	dir := t.TempDir()
	lake, err := load.Open(filepath.Join(dir, "lake"), load.Options{})
	if err != nil {
		t.Fatal(err)
	}
	st, err := state.Open(filepath.Join(dir, "state"))
	if err != nil {
		t.Fatal(err)
	}
	p := New(Config{Lake: lake, State: st, Location: time.UTC, LookbackDays: 2, StartDay: startDay, Now: func() time.Time { return now }})
	return &env{p: p, lake: lake, state: st, dir: dir}
}

func keys(streams ...string) []model.StreamKey {
	var out []model.StreamKey
	for _, s := range streams {
		out = append(out, model.StreamKey{Source: "fake", Stream: s, Account: "acc"})
	}
	return out
}

func TestWindowsFromCursorAndLookback(t *testing.T) {
	now := time.Date(2026, 11, 20, 3, 0, 0, 0, time.UTC)
	e := newEnv(t, now, "2026-11-14")
	// a: no cursor → start_date; b: far behind → cursor+1; c: recent → lookback.
	e.state.SetCursor("fake/b/acc", state.Cursor{Day: "2026-11-10"})
	e.state.SetCursor("fake/c/acc", state.Cursor{Day: "2026-11-19"})
	src := &fakeSource{streams: keys("a", "b", "c")}
	sum, err := e.p.Run(context.Background(), []Source{src})
	if err != nil || sum.Err() != nil {
		t.Fatal(err, sum.Err())
	}
	want := map[string][]string{
		"a": days("2026-11-14", "2026-11-20"),
		"b": days("2026-11-11", "2026-11-20"),
		"c": days("2026-11-18", "2026-11-20"),
	}
	for s, w := range want {
		if !slices.Equal(src.seen[s], w) {
			t.Errorf("stream %s extracted %v, want %v", s, src.seen[s], w)
		}
		if c, _ := e.state.Cursor("fake/" + s + "/acc"); c.Day != "2026-11-20" || c.RunID != sum.RunID {
			t.Errorf("stream %s cursor %+v", s, c)
		}
	}
	// Lookback windows never move a cursor back.
	e.state.SetCursor("fake/c/acc", state.Cursor{Day: "2026-11-25"})
	if _, err := e.p.Run(context.Background(), []Source{src}); err != nil {
		t.Fatal(err)
	}
	if c, _ := e.state.Cursor("fake/c/acc"); c.Day != "2026-11-25" {
		t.Errorf("cursor moved back to %s", c.Day)
	}
}

// A failed window aborts its transaction, stops its stream there with the
// cursor on the last committed day, and leaves the other streams alone.
func TestFailureStopsOnlyItsStream(t *testing.T) {
	now := time.Date(2026, 11, 20, 3, 0, 0, 0, time.UTC)
	e := newEnv(t, now, "2026-11-16")
	src := &fakeSource{streams: keys("good", "bad"), failOn: map[string]bool{"bad/2026-11-18": true}}
	sum, err := e.p.Run(context.Background(), []Source{src})
	if err != nil {
		t.Fatal(err)
	}
	if got := src.seen["bad"]; !slices.Equal(got, days("2026-11-16", "2026-11-18")) {
		t.Errorf("bad stream went on after its failure: %v", got)
	}
	if c, _ := e.state.Cursor("fake/bad/acc"); c.Day != "2026-11-17" {
		t.Errorf("bad cursor %q, want 2026-11-17", c.Day)
	}
	if c, _ := e.state.Cursor("fake/good/acc"); c.Day != "2026-11-20" {
		t.Errorf("good cursor %q", c.Day)
	}
	if _, err := os.Stat(filepath.Join(e.dir, "lake", "calls", "source=fake", "date=2026-11-18", "bad-acc.parquet")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the failed window's rows were committed: %v", err)
	}
	failed := sum.Failed()
	if len(failed) != 1 || failed[0].Stream != "bad" || failed[0].Status != model.RunFailed || failed[0].Windows != 2 ||
		!strings.Contains(sum.Err().Error(), "vendor said no") {
		t.Errorf("summary: %+v / %v", failed, sum.Err())
	}
	// The runs table got one row per stream.
	parts, err := e.lake.Partitions("runs", "fake")
	if err != nil || len(parts) != 1 {
		t.Errorf("runs partitions %v %v", parts, err)
	}
	// The next run resumes at the failed day.
	src.failOn = nil
	src.seen = nil
	if sum, err := e.p.Run(context.Background(), []Source{src}); err != nil || sum.Err() != nil {
		t.Fatal(err, sum.Err())
	}
	if got := src.seen["bad"]; got[0] != "2026-11-18" {
		t.Errorf("resume started at %v", got)
	}
}

func TestCancelMarksStreamsCanceled(t *testing.T) {
	now := time.Date(2026, 11, 20, 3, 0, 0, 0, time.UTC)
	e := newEnv(t, now, "2026-11-01")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	sum, err := e.p.Run(ctx, []Source{&fakeSource{streams: keys("a")}})
	if err != nil {
		t.Fatal(err)
	}
	if f := sum.Failed(); len(f) != 1 || f[0].Status != model.RunCanceled {
		t.Errorf("%+v", f)
	}
	if _, ok := e.state.Cursor("fake/a/acc"); ok {
		t.Error("a canceled run moved a cursor")
	}
}

func TestBackfillResumesAndLeavesCursors(t *testing.T) {
	now := time.Date(2026, 11, 20, 3, 0, 0, 0, time.UTC)
	e := newEnv(t, now, "")
	src := &fakeSource{streams: keys("a"), failOn: map[string]bool{"a/2026-10-03": true}}
	sum, err := e.p.Backfill(context.Background(), src, "2026-10-01", "2026-10-05")
	if err != nil || len(sum.Failed()) != 1 {
		t.Fatalf("%v %+v", err, sum)
	}
	src.failOn, src.seen = nil, nil
	if _, err := e.p.Backfill(context.Background(), src, "2026-10-01", "2026-10-05"); err != nil {
		t.Fatal(err)
	}
	if got := src.seen["a"]; !slices.Equal(got, days("2026-10-03", "2026-10-05")) {
		t.Errorf("backfill resumed with %v", got)
	}
	if _, ok := e.state.Cursor("fake/a/acc"); ok {
		t.Error("backfill moved the run cursor")
	}
	if _, err := e.p.Backfill(context.Background(), src, "2026-10-05", "2026-10-01"); err == nil {
		t.Error("reversed range accepted")
	}
}

func TestDays(t *testing.T) {
	if got := days("2026-02-27", "2026-03-02"); !slices.Equal(got, []string{"2026-02-27", "2026-02-28", "2026-03-01", "2026-03-02"}) {
		t.Errorf("%v", got)
	}
	if got := days("2026-03-02", "2026-03-01"); len(got) != 0 {
		t.Errorf("%v", got)
	}
}

// A day that does not parse (a hand-edited cursor) is an error, not a
// panic.
func TestBadDayIsAnError(t *testing.T) {
	for _, day := range []string{"2026-13-45", "2026-02-30", "", "yesterday"} {
		if got, err := addDays(day, 1); err == nil || !strings.Contains(err.Error(), "not a YYYY-MM-DD day") {
			t.Errorf("addDays(%q) = %q, %v; want an error", day, got, err)
		}
		if got := days(day, "2026-11-20"); got != nil {
			t.Errorf("days(%q, …) = %v, want none", day, got)
		}
	}
	if got, err := addDays("2026-02-28", 1); err != nil || got != "2026-03-01" {
		t.Errorf("addDays(2026-02-28, 1) = %q, %v", got, err)
	}
}
