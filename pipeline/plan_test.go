package pipeline

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/calletl/calletl/state"
)

// Plan lists exactly the windows Run then extracts, stream by stream, for
// every way a stream's start is chosen (lookback, start_date, a lagging
// cursor, a cursor at today), and the items it polls and gives up.
func TestPlanIsWhatRunExtracts(t *testing.T) {
	now := time.Date(2026, 11, 20, 3, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		startDay string
		cursors  map[string]string // stream → cursor day
		because  map[string]string // stream → StreamPlan.Start
	}{
		{"fresh: the lookback", "", nil, map[string]string{"a": "lookback", "b": "lookback"}},
		{"fresh: start_date", "2026-11-10", nil, map[string]string{"a": "start_date", "b": "start_date"}},
		{"a lagging cursor and one at today", "2026-11-01", map[string]string{"a": "2026-11-12", "b": "2026-11-20"},
			map[string]string{"a": "cursor", "b": "lookback"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, now, tt.startDay)
			for s, day := range tt.cursors {
				if err := e.state.SetCursor("fake/"+s+"/acc", state.Cursor{Day: day, RunID: "r0"}); err != nil {
					t.Fatal(err)
				}
			}
			src := &fakeSource{streams: keys("a", "b")}
			plan, err := e.p.Plan([]Source{src})
			if err != nil {
				t.Fatal(err)
			}
			if plan.Today != "2026-11-20" || len(plan.Streams) != 2 {
				t.Fatalf("plan: %+v", plan)
			}
			if len(src.seen) != 0 {
				t.Fatalf("Plan extracted: %v", src.seen)
			}
			sum, err := e.p.Run(context.Background(), []Source{src})
			if err != nil || sum.Err() != nil {
				t.Fatalf("run: %v %v", err, sum.Err())
			}
			for _, sp := range plan.Streams {
				if got := src.seen[sp.Key.Stream]; !slices.Equal(got, sp.Days) {
					t.Errorf("%s: planned %v, run extracted %v", sp.Stream, sp.Days, got)
				}
				if sp.Start != tt.because[sp.Key.Stream] || sp.Cursor != tt.cursors[sp.Key.Stream] {
					t.Errorf("%s: start %q cursor %q, want %q %q", sp.Stream, sp.Start, sp.Cursor, tt.because[sp.Key.Stream], tt.cursors[sp.Key.Stream])
				}
			}
			if n := plan.Windows(); n != len(src.seen["a"])+len(src.seen["b"]) {
				t.Errorf("Windows() %d", n)
			}
		})
	}

	t.Run("items", func(t *testing.T) {
		e := newEnv(t, now, "")
		e.p.cfg.ItemMaxAge = 72 * time.Hour
		// Pending items: 1 and 2 recent, 3 polled for a week (given up), 4 final.
		book := map[string]itemState{
			"1": {FirstSeen: now.Add(-time.Hour)}, "2": {FirstSeen: now.Add(-48 * time.Hour)},
			"3": {FirstSeen: now.Add(-7 * 24 * time.Hour)}, "4": {Final: true},
		}
		if err := e.state.Put("items/fake", book); err != nil {
			t.Fatal(err)
		}
		src := &fakeTasks{finalAt: map[string]int{}, polls: map[string]int{}}
		plan, err := e.p.Plan(nil, src)
		if err != nil {
			t.Fatal(err)
		}
		if len(plan.Items) != 1 || !plan.Items[0].Partial || !slices.Equal(plan.Items[0].Keys, []string{"1", "2"}) ||
			!slices.Equal(plan.Items[0].GiveUp, []string{"3"}) {
			t.Fatalf("plan: %+v", plan.Items)
		}
		if len(src.polls) != 0 {
			t.Fatalf("Plan polled: %v", src.polls)
		}
		if _, err := e.p.Run(context.Background(), nil, src); err != nil {
			t.Fatal(err)
		}
		var polled []string
		for k := range src.polls {
			polled = append(polled, k)
		}
		slices.Sort(polled)
		if !slices.Equal(polled, plan.Items[0].Keys) {
			t.Errorf("planned %v, run polled %v", plan.Items[0].Keys, polled)
		}
	})
}
