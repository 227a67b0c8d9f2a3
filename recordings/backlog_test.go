package recordings_test

import (
	"context"
	"testing"
	"time"

	"github.com/calletl/calletl/recordings"
	"github.com/calletl/calletl/sandbox"
)

// InspectBacklog sees the work list as Run does: new calls, failed ones
// waiting for their backoff (and when the first is due), due ones, and
// those given up after MaxAttempts; and Run agrees at each step.
func TestInspectBacklog(t *testing.T) {
	ctx := context.Background()
	env := newMTTEnv(t, 64<<10, 0)
	ids := mttIDs(6)
	var bad []string
	for _, id := range ids {
		if env.emu.Parts(id) > 0 && len(bad) < 2 {
			bad = append(bad, id)
			env.emu.SetFault(id, sandbox.MTTRecTruncate)
		}
	}
	if len(bad) != 2 {
		t.Fatalf("ids with recordings: %v", bad)
	}
	lake := lakeWithCalls(t, "mtt", ids...)
	clk := newClock()
	cfg := recordings.Config{Store: localStore(t), Lake: lake, Concurrency: 2, PerHost: 2, MaxAttempts: 2, Now: clk.Now}
	inspect := func() recordings.Backlog {
		t.Helper()
		b, err := recordings.InspectBacklog(ctx, lake.Root(), []string{"mtt"}, nil, cfg.MaxAttempts, 0, clk.Now())
		if err != nil || len(b) != 1 || b[0].Source != "mtt" {
			t.Fatalf("InspectBacklog: %+v, %v", b, err)
		}
		return b[0]
	}
	if got := inspect(); got != (recordings.Backlog{Source: "mtt", New: len(ids), Oldest: day}) {
		t.Errorf("before any run: %+v", got)
	}
	first := clk.Now()
	if _, err := recordings.Run(ctx, cfg, testRun("r1", clk.Now()), env.fetcher); err != nil {
		t.Fatal(err)
	}
	// Failed once: the backoff is RetryBase·2¹ = 1h after the attempt.
	want := recordings.Backlog{Source: "mtt", RetryWaiting: 2, NextRetry: first.Add(time.Hour), Oldest: day}
	if got := inspect(); got != want {
		t.Errorf("within the backoff: %+v, want %+v", got, want)
	}
	clk.Advance(2 * time.Hour)
	if got := inspect(); got != (recordings.Backlog{Source: "mtt", RetryDue: 2, Oldest: day}) {
		t.Errorf("after the backoff: %+v", got)
	}
	sum, err := recordings.Run(ctx, cfg, testRun("r2", clk.Now()), env.fetcher)
	if err != nil || sum.Calls != 2 || sum.Failed != 2 {
		t.Fatalf("run 2: %+v, %v; want the 2 due calls, failed again", sum, err)
	}
	if got := inspect(); got != (recordings.Backlog{Source: "mtt", GivenUp: 2}) {
		t.Errorf("after MaxAttempts: %+v", got)
	}
	clk.Advance(48 * time.Hour)
	if sum, err := recordings.Run(ctx, cfg, testRun("r3", clk.Now()), env.fetcher); err != nil || sum.Calls != 0 || sum.Deferred != 0 {
		t.Errorf("run 3: %+v, %v; want nothing (given up)", sum, err)
	}
}
