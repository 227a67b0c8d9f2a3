package pipeline

import (
	"context"
	"errors"
	"fmt"
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

// fakeTasks has tasks that become final after a number of polls; a task's
// one row lands on a date that changes with the poll, like an item whose
// call time appears when it is dialled.
type fakeTasks struct {
	mu      sync.Mutex
	active  []string       // what discovery returns
	finalAt map[string]int // polls until final
	polls   map[string]int
	failing map[string]bool
	gone    map[string]bool // the vendor does not know these
}

func (f *fakeTasks) Name() string     { return "fake" }
func (f *fakeTasks) Concurrency() int { return 2 }
func (f *fakeTasks) Kind() string     { return "task" }

func (f *fakeTasks) Items(ctx context.Context, pending []string) ([]string, error) {
	return append(slices.Clone(f.active), pending...), nil
}

func (f *fakeTasks) ExtractItem(ctx context.Context, key string, sink *Sink) (int64, bool, error) {
	f.mu.Lock()
	f.polls[key]++
	n := f.polls[key]
	fail, gone := f.failing[key], f.gone[key]
	f.mu.Unlock()
	if gone {
		return 0, false, fmt.Errorf("fake: task %s: %w", key, ErrItemGone)
	}
	day := fmt.Sprintf("2026-11-%02d", 10+n) // the row moves to another day on each poll
	c := model.Call{Source: "fake", Date: day, Account: "a", CallID: key, Direction: model.Autocall, RunID: sink.Run().ID}
	if err := sink.Call(&c); err != nil {
		return 0, false, err
	}
	if fail {
		return 1, false, errors.New("vendor down")
	}
	return 1, n >= f.finalAt[key], nil
}

func unitFiles(t *testing.T, dir, unit string) []string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "lake", "calls", "source=fake", "*", unit+".parquet"))
	return files
}

func TestItemsPolledUntilFinal(t *testing.T) {
	e := newEnv(t, time.Date(2026, 11, 20, 3, 0, 0, 0, time.UTC), "")
	src := &fakeTasks{active: []string{"1", "2"}, finalAt: map[string]int{"1": 1, "2": 3}, polls: map[string]int{}}

	for run := 1; run <= 4; run++ {
		if run == 2 {
			src.active = nil // discovery forgets the tasks: state must remember task 2
		}
		sum, err := e.p.Run(context.Background(), nil, src)
		if err != nil || sum.Err() != nil {
			t.Fatalf("run %d: %v %v", run, err, sum.Err())
		}
		// Each task has exactly one file: re-polls replaced the old dates.
		for _, k := range []string{"1", "2"} {
			if files := unitFiles(t, e.dir, "task-"+k); len(files) != 1 {
				t.Fatalf("run %d: task %s has files %v", run, k, files)
			}
		}
	}
	if src.polls["1"] != 1 || src.polls["2"] != 3 {
		t.Errorf("polls %v: task 1 should stop after 1, task 2 after 3", src.polls)
	}
}

func TestItemFailureIsRetried(t *testing.T) {
	e := newEnv(t, time.Date(2026, 11, 20, 3, 0, 0, 0, time.UTC), "")
	src := &fakeTasks{active: []string{"7"}, finalAt: map[string]int{"7": 1}, polls: map[string]int{}, failing: map[string]bool{"7": true}}
	sum, err := e.p.Run(context.Background(), nil, src)
	if err != nil || len(sum.Failed()) != 1 || sum.Failed()[0].Account != "7" {
		t.Fatalf("%v %+v", err, sum.Failed())
	}
	if files := unitFiles(t, e.dir, "task-7"); len(files) != 0 {
		t.Fatalf("a failed item was committed: %v", files)
	}
	// Discovery no longer lists it (the task finished meanwhile): the
	// pipeline remembers the failure and retries it anyway.
	src.active, src.failing = nil, nil
	if sum, err := e.p.Run(context.Background(), nil, src); err != nil || sum.Err() != nil || len(sum.Streams) != 1 {
		t.Fatal(err, sum.Err(), sum.Streams)
	}
	if files := unitFiles(t, e.dir, "task-7"); len(files) != 1 {
		t.Fatalf("files %v", files)
	}
}

// An item the vendor does not know fails its first run with a clear error,
// then is skipped (not failed again) on later runs, even while discovery
// still lists it; the other items go on.
func TestItemGoneIsNotPolledAgain(t *testing.T) {
	e := newEnv(t, time.Date(2026, 11, 20, 3, 0, 0, 0, time.UTC), "")
	src := &fakeTasks{active: []string{"8", "9"}, finalAt: map[string]int{"8": 5}, polls: map[string]int{},
		gone: map[string]bool{"9": true}}
	sum, err := e.p.Run(context.Background(), nil, src)
	if err != nil || len(sum.Failed()) != 1 || sum.Failed()[0].Account != "9" {
		t.Fatalf("first run: %v %+v", err, sum.Failed())
	}
	if msg := sum.Failed()[0].Error; !errors.Is(sum.Err(), ErrItemGone) && !strings.Contains(msg, "not polled again") {
		t.Errorf("error %q does not say the item is dropped", msg)
	}
	for run := 2; run <= 3; run++ {
		sum, err := e.p.Run(context.Background(), nil, src)
		if err != nil || sum.Err() != nil {
			t.Fatalf("run %d: %v %v", run, err, sum.Err())
		}
	}
	if src.polls["9"] != 1 || src.polls["8"] != 3 {
		t.Errorf("polls %v: the gone task 9 must be asked once, task 8 every run", src.polls)
	}
}

// An item that never becomes final is polled until ItemMaxAge after the
// pipeline first saw it, then given up: its rows stay, later runs skip it,
// and no run fails for it.
func TestItemGivenUpAfterMaxAge(t *testing.T) {
	dir := t.TempDir()
	lake, err := load.Open(filepath.Join(dir, "lake"), load.Options{})
	if err != nil {
		t.Fatal(err)
	}
	st, err := state.Open(filepath.Join(dir, "state"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 20, 3, 0, 0, 0, time.UTC)
	p := New(Config{Lake: lake, State: st, Location: time.UTC, ItemMaxAge: 48 * time.Hour, Now: func() time.Time { return now }})
	src := &fakeTasks{active: []string{"5"}, finalAt: map[string]int{"5": 100}, polls: map[string]int{}}
	for day := range 5 {
		sum, err := p.Run(context.Background(), nil, src)
		if err != nil || sum.Err() != nil {
			t.Fatalf("day %d: %v %v", day, err, sum.Err())
		}
		now = now.Add(24 * time.Hour)
	}
	// Polled on days 0, 1 and 2 (48 h after first seen is not more than
	// 48 h), given up on day 3.
	if src.polls["5"] != 3 {
		t.Errorf("polled %d times, want 3", src.polls["5"])
	}
	if files := unitFiles(t, dir, "task-5"); len(files) != 1 {
		t.Errorf("the given-up item's rows: %v, want its last extraction kept", files)
	}
}
