package pipeline

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/calletl/calletl/model"
)

// emptyingSource writes a call and a reject in every window while full,
// then nothing at all: no row, no table registered, no Cover (a vendor
// that now answers the day empty, a source that opens its writers on its
// first row).
type emptyingSource struct{ full bool }

func (f *emptyingSource) Name() string               { return "fake" }
func (f *emptyingSource) Concurrency() int           { return 1 }
func (f *emptyingSource) Streams() []model.StreamKey { return keys("a") }

func (f *emptyingSource) Extract(ctx context.Context, key model.StreamKey, w model.Window, sink *Sink) (int64, error) {
	if !f.full {
		return 1, nil
	}
	run := sink.Run()
	c := model.Call{Source: "fake", Date: w.Day, Account: key.Account, CallID: w.Day, Direction: model.Incoming,
		StartedAt: w.From, RunID: run.ID, ExtractedAt: run.StartedAt}
	if err := sink.Call(&c); err != nil {
		return 0, err
	}
	return 1, sink.Reject(w.Day, "list", "bad", "{}")
}

// TestPipelineCoversTheWindow: the pipeline covers each window's day and
// owns the canonical tables, so a re-extraction that writes nothing
// removes the rows an earlier run wrote, whatever the source registers.
func TestPipelineCoversTheWindow(t *testing.T) {
	e := newEnv(t, time.Date(2026, 11, 20, 3, 0, 0, 0, time.UTC), "2026-11-19")
	src := &emptyingSource{full: true}
	files := func(table string) []string {
		f, _ := filepath.Glob(filepath.Join(e.dir, "lake", table, "source=fake", "*", "a-acc.parquet"))
		return f
	}
	for _, full := range []bool{true, false} {
		src.full = full
		sum, err := e.p.Run(context.Background(), []Source{src})
		if err != nil || sum.Err() != nil {
			t.Fatalf("run (full %v): %v %v", full, err, sum.Err())
		}
		want := 0
		if full {
			want = 2 // 2026-11-19 and 2026-11-20
		}
		for _, table := range []string{"calls", "rejects"} {
			if got := files(table); len(got) != want {
				t.Errorf("after the run with full=%v, %s has %d files of the stream, want %d: %v", full, table, len(got), want, got)
			}
		}
	}
}
