package pipeline_test

import (
	"context"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/calletl/calletl/load"
	"github.com/calletl/calletl/load/loadtest"
	"github.com/calletl/calletl/model"
	"github.com/calletl/calletl/pipeline"
)

type detailRow struct{ ID string }

var detailTable = &load.Table[detailRow]{
	Name:   "fake_details",
	Schema: arrow.NewSchema([]arrow.Field{load.String("id")}, nil),
	Append: func(b *array.RecordBuilder, r *detailRow) { load.AppendString(b.Field(0), r.ID) },
}

// TestSink: what a source gives the sink lands in the canonical and its own
// tables, rejects carry the pipeline's origin, the endpoint, the raw
// payload and the run's clock, and the counts are the sink's.
func TestSink(t *testing.T) {
	run := model.Run{ID: "r1", Mode: "run", StartedAt: time.Date(2026, 11, 21, 2, 0, 0, 0, time.UTC), Location: time.UTC}
	key := model.StreamKey{Source: "fake", Stream: "dialed", Account: "acc"}
	const day = "2026-11-20"
	call := func(id string) *model.Call {
		return &model.Call{Source: "fake", Date: day, Account: "acc", CallID: id, Direction: model.Incoming,
			StartedAt: time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC), RunID: run.ID, ExtractedAt: run.StartedAt}
	}
	for _, tc := range []struct {
		name             string
		records          bool // the details are the records
		calls, details   int
		rejects          int
		wantRows         int64
		wantDetailsTable int
	}{
		{name: "calls are the records", calls: 3, details: 3, rejects: 2, wantRows: 3, wantDetailsTable: 3},
		{name: "details are the records", records: true, calls: 1, details: 4, rejects: 0, wantRows: 4, wantDetailsTable: 4},
		{name: "records named, none written", records: true, calls: 2, details: 0, rejects: 1, wantRows: 0},
		{name: "nothing", wantRows: 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lake := loadtest.OpenLake(t)
			tx, err := lake.Begin("fake", key.Unit())
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Abort()
			s := pipeline.NewSink(tx, run, model.Origin{Key: key, Window: "2026-11-20 [..)"})
			if s.Run() != run {
				t.Errorf("Run() = %+v, want %+v", s.Run(), run)
			}
			w := pipeline.Detail(s, detailTable)
			if tc.records {
				w = pipeline.Records(s, detailTable)
			}
			for i := range tc.calls {
				if err := s.Call(call(string(rune('a' + i)))); err != nil {
					t.Fatal(err)
				}
			}
			for i := range tc.details {
				if err := w.Add(day, &detailRow{ID: string(rune('a' + i))}); err != nil {
					t.Fatal(err)
				}
			}
			for range tc.rejects {
				if err := s.Reject(day, "history", "bad date", `{"x":1}`); err != nil {
					t.Fatal(err)
				}
			}
			if got, want := s.Counts(), (model.Counts{Rows: tc.wantRows, Rejects: int64(tc.rejects)}); got != want {
				t.Errorf("Counts() = %+v, want %+v", got, want)
			}
			if _, err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
			if got := len(loadtest.ReadRows(t, lake, "calls", "fake")); got != tc.calls {
				t.Errorf("calls has %d rows, want %d", got, tc.calls)
			}
			if got := len(loadtest.ReadRows(t, lake, detailTable.Name, "fake")); got != tc.wantDetailsTable {
				t.Errorf("%s has %d rows, want %d", detailTable.Name, got, tc.wantDetailsTable)
			}
			rej := loadtest.ReadRows(t, lake, "rejects", "fake")
			if len(rej) != tc.rejects {
				t.Fatalf("rejects has %d rows, want %d", len(rej), tc.rejects)
			}
			for _, r := range rej {
				want := map[string]any{"date": day, "stream": "dialed", "account": "acc", "endpoint": "history",
					"window": "2026-11-20 [..)", "reason": "bad date", "raw": `{"x":1}`, "run_id": "r1"}
				for k, v := range want {
					if r[k] != v {
						t.Errorf("reject %s = %v, want %v", k, r[k], v)
					}
				}
			}
		})
	}
}

// TestSinkSetAccount: an item source files its rejects under its vendor
// account, not the item's key.
func TestSinkSetAccount(t *testing.T) {
	lake := loadtest.OpenLake(t)
	tx, err := lake.Begin("fake", "task-7")
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Abort()
	run := model.Run{ID: "r1", StartedAt: time.Date(2026, 11, 21, 2, 0, 0, 0, time.UTC), Location: time.UTC}
	s := pipeline.NewSink(tx, run, model.Origin{Key: model.StreamKey{Source: "fake", Stream: "task", Account: "7"}, Window: "task 7"})
	s.SetAccount("robot")
	if err := s.Reject("2026-11-20", "check", "no phone", "<item/>"); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	rej := loadtest.ReadRows(t, lake, "rejects", "fake")
	if len(rej) != 1 || rej[0]["account"] != "robot" || rej[0]["window"] != "task 7" || rej[0]["stream"] != "task" {
		t.Errorf("rejects = %v, want one of account robot, window \"task 7\", stream task", rej)
	}
}

// TestSinkCover: a day the sink covers is replaced even when the
// extraction writes nothing there (an item whose day is known only after
// reading it).
func TestSinkCover(t *testing.T) {
	lake := loadtest.OpenLake(t)
	run := model.Run{ID: "r1", StartedAt: time.Date(2026, 11, 21, 2, 0, 0, 0, time.UTC), Location: time.UTC}
	o := model.Origin{Key: model.StreamKey{Source: "fake", Stream: "task", Account: "7"}, Window: "task 7"}
	for i, write := range []bool{true, false} {
		tx, err := lake.Begin("fake", "task-7")
		if err != nil {
			t.Fatal(err)
		}
		s := pipeline.NewSink(tx, run, o)
		if err := s.Cover("2026-11-20"); err != nil {
			t.Fatal(err)
		}
		if write {
			c := &model.Call{Source: "fake", Date: "2026-11-20", CallID: "x", Direction: model.Autocall, RunID: run.ID}
			if err := s.Call(c); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		want := 1 - i
		if got := len(loadtest.ReadRows(t, lake, "calls", "fake")); got != want {
			t.Errorf("after extraction %d, calls has %d rows, want %d", i, got, want)
		}
	}
	tx, err := lake.Begin("fake", "task-7")
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Abort()
	if err := pipeline.NewSink(tx, run, o).Cover("2026-13-45"); err == nil {
		t.Error("Cover of 2026-13-45: no error")
	}
}

// oneOfEach writes a call and a reject per window or item, and reads two
// pages.
type oneOfEach struct{}

func (oneOfEach) Name() string                                      { return "fake" }
func (oneOfEach) Concurrency() int                                  { return 1 }
func (oneOfEach) Streams() []model.StreamKey                        { return nil }
func (oneOfEach) Kind() string                                      { return "task" }
func (oneOfEach) Items(context.Context, []string) ([]string, error) { return nil, nil }

func (oneOfEach) emit(sink *pipeline.Sink, day string) error {
	run := sink.Run()
	c := &model.Call{Source: "fake", Date: day, Account: "acc", CallID: "x", Direction: model.Incoming, RunID: run.ID}
	if err := sink.Call(c); err != nil {
		return err
	}
	return sink.Reject(day, "list", "bad", "{}")
}

func (f oneOfEach) Extract(ctx context.Context, key model.StreamKey, w model.Window, sink *pipeline.Sink) (int64, error) {
	return 2, f.emit(sink, w.Day)
}

func (f oneOfEach) ExtractItem(ctx context.Context, key string, sink *pipeline.Sink) (int64, bool, error) {
	return 2, true, f.emit(sink, "2026-11-20")
}

// TestExtractOrigin: a window and an item extracted as a run does count
// the pages the source returns and the rows and rejects its sink got, and
// the rejects name what was asked: the window, or "<kind> <key>".
func TestExtractOrigin(t *testing.T) {
	run := model.Run{ID: "r1", Mode: "run", StartedAt: time.Date(2026, 11, 21, 2, 0, 0, 0, time.UTC), Location: time.UTC}
	w, _ := model.DayWindow("2026-11-20", time.UTC)
	key := model.StreamKey{Source: "fake", Stream: "dialed", Account: "acc"}
	for _, tc := range []struct {
		name                  string
		extract               func(lake *load.Lake) (model.Counts, error)
		stream, account, from string
	}{
		{"window", func(lake *load.Lake) (model.Counts, error) {
			return pipeline.ExtractWindow(context.Background(), lake, oneOfEach{}, key, w, run)
		}, "dialed", "acc", w.String()},
		{"item", func(lake *load.Lake) (model.Counts, error) {
			c, final, dates, err := pipeline.ExtractItem(context.Background(), lake, oneOfEach{}, "42", run)
			if err == nil && (!final || len(dates) != 1 || dates[0] != "2026-11-20") {
				t.Errorf("final %v, dates %v: want true, [2026-11-20]", final, dates)
			}
			return c, err
		}, "task", "42", "task 42"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lake := loadtest.OpenLake(t)
			c, err := tc.extract(lake)
			if err != nil {
				t.Fatal(err)
			}
			if want := (model.Counts{Pages: 2, Rows: 1, Rejects: 1}); c != want {
				t.Errorf("counts %+v, want %+v", c, want)
			}
			rej := loadtest.ReadRows(t, lake, "rejects", "fake")
			if len(rej) != 1 || rej[0]["stream"] != tc.stream || rej[0]["account"] != tc.account || rej[0]["window"] != tc.from || rej[0]["endpoint"] != "list" {
				t.Errorf("rejects %v: want one of stream %s, account %s, window %q, endpoint list", rej, tc.stream, tc.account, tc.from)
			}
		})
	}
}
