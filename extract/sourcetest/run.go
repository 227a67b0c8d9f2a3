package sourcetest

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/calletl/calletl/extract/registry"
	"github.com/calletl/calletl/model"
	"github.com/calletl/calletl/pipeline"
	"github.com/calletl/calletl/secret"
	"github.com/calletl/calletl/state"
)

// result is what one run of the vendor's source gave.
type result struct {
	sum *pipeline.Summary
	err error // Run's own error (the lake, the state)
	red *secret.Redactor
}

// errText is every error text of the run: Run's and each stream's.
func (r result) errText() string {
	var b strings.Builder
	if r.err != nil {
		b.WriteString(r.err.Error() + "\n")
	}
	if r.sum != nil {
		for _, e := range r.sum.Errors() {
			b.WriteString(e.Error() + "\n")
		}
	}
	return b.String()
}

// mustOK fails the test unless every stream succeeded.
func (r result) mustOK(t testing.TB) {
	t.Helper()
	if r.err != nil {
		t.Fatalf("run: %v", r.err)
	}
	if err := r.sum.Err(); err != nil {
		t.Fatalf("run failed:\n%v", err)
	}
}

// run builds the vendor's source as the CLI does (config validated, secrets
// loaded through Env into a redactor, logs through the redacting handler)
// and runs it once in the pipeline, as one process would.
func (w *world) run(t testing.TB, ctx context.Context, o Options) result {
	t.Helper()
	h := w.h
	name := h.Vendor.Name()
	cfg := w.emu.Config(t, w.srv.URL, w.dir, o)
	check := registry.NewCheck("sources."+name, "")
	cfg.Validate(check)
	if err := check.Err(); err != nil {
		t.Fatalf("the harness's config does not validate: %v", err)
	}
	red := secret.NewRedactor()
	log := slog.New(secret.NewHandler(slog.NewJSONHandler(&w.logs, &slog.HandlerOptions{Level: slog.LevelDebug}), red))
	now := func() time.Time { return h.Now }
	env := registry.Env{Section: "sources." + name, Log: log, Redactor: red, Dir: w.dir, Now: now}
	parts, err := h.Vendor.Build(ctx, cfg, env)
	if err != nil {
		t.Fatalf("build %s: %v", name, err)
	}
	st, err := state.Open(w.stateDir())
	if err != nil {
		t.Fatal(err)
	}
	lookback := 0
	if h.StartDay != "" {
		first, err := time.Parse(model.DayLayout, h.StartDay)
		if err != nil {
			t.Fatalf("harness StartDay: %v", err)
		}
		today, _ := time.Parse(model.DayLayout, model.Day(h.Now, h.Location))
		lookback = int(today.Sub(first).Hours()/24 + 0.5) // every run re-extracts every day of the truth
	}
	p := pipeline.New(pipeline.Config{Lake: w.lake, State: st, Location: h.Location, StartDay: h.StartDay,
		LookbackDays: lookback, Now: now, Logger: log})
	var r result
	r.red = red
	switch src := parts.Source.(type) {
	case pipeline.Source:
		var items []pipeline.ItemSource
		if c, ok := src.(registry.Companion); ok {
			if is := c.ItemSource(); is != nil {
				items = append(items, is)
			}
		}
		r.sum, r.err = p.Run(ctx, []pipeline.Source{src}, items...)
	case pipeline.ItemSource:
		r.sum, r.err = p.Run(ctx, nil, src)
	default:
		t.Fatalf("%s builds a %T: neither a pipeline.Source nor a pipeline.ItemSource", name, parts.Source)
	}
	if r.err == nil && r.sum == nil {
		t.Fatal("pipeline returned no summary")
	}
	return r
}

// state opens the world's state, to read cursors and items.
func (w *world) state(t testing.TB) *state.Store {
	t.Helper()
	st, err := state.Open(w.stateDir())
	if err != nil {
		t.Fatal(err)
	}
	return st
}
