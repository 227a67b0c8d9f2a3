package pipeline

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/calletl/calletl/load"
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

func (f *emptyingSource) Extract(ctx context.Context, key model.StreamKey, w model.Window, tx *load.Tx, run model.Run) (model.Counts, error) {
	if !f.full {
		return model.Counts{Pages: 1}, nil
	}
	c := model.Call{Source: "fake", Date: w.Day, Account: key.Account, CallID: w.Day, Direction: model.Incoming,
		StartedAt: w.From, RunID: run.ID, ExtractedAt: run.StartedAt}
	if err := load.Writer(tx, load.Calls).Add(w.Day, &c); err != nil {
		return model.Counts{}, err
	}
	o := model.Origin{Key: key, Window: w.String(), Endpoint: "list"}
	if err := load.Writer(tx, load.Rejects).Add(w.Day, model.NewReject(run, o, w.Day, "bad", "{}")); err != nil {
		return model.Counts{}, err
	}
	return model.Counts{Pages: 1, Rows: 1, Rejects: 1}, nil
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
