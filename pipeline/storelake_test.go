package pipeline

import (
	"context"
	"errors"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/calletl/calletl/load"
	"github.com/calletl/calletl/state"
	"github.com/calletl/calletl/storage"
)

// hookStore runs before on every Replace, with the key and the caller's
// context, and fails the Replace when before returns an error.
type hookStore struct {
	storage.Store
	before func(ctx context.Context, key string) error
}

func (h hookStore) Replace(ctx context.Context, key string, r io.Reader, cond storage.Cond) (storage.Info, error) {
	if err := h.before(ctx, key); err != nil {
		return storage.Info{}, err
	}
	return h.Store.Replace(ctx, key, r, cond)
}

// On a lake in a store, a window's cursor moves only after its objects are
// uploaded: a failed upload stops the stream on the last uploaded day, and
// a run stopped during an upload (max_run_time, a signal) does not move
// the cursor over the window whose upload it cut short.
func TestStoreLakeCursorAfterUpload(t *testing.T) {
	now := time.Date(2026, 11, 20, 3, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name       string
		before     func(cancel func()) func(ctx context.Context, key string) error
		wantCursor string
	}{
		{"upload fails", func(func()) func(context.Context, string) error {
			return func(_ context.Context, key string) error {
				if strings.Contains(key, "date=2026-11-18/bad-acc") {
					return errors.New("injected: connection reset")
				}
				return nil
			}
		}, "2026-11-17"},
		{"run stopped during the upload", func(cancel func()) func(context.Context, string) error {
			return func(ctx context.Context, key string) error {
				if strings.Contains(key, "date=2026-11-18/bad-acc") {
					cancel() // the run's context ends while the object is sent
				}
				return ctx.Err()
			}
		}, "2026-11-17"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			local, err := storage.NewLocal(filepath.Join(dir, "store"))
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			lake, err := load.Open(filepath.Join(dir, "spool"), load.Options{Store: hookStore{Store: local, before: tc.before(cancel)}, Prefix: "lake"})
			if err != nil {
				t.Fatal(err)
			}
			st, err := state.Open(filepath.Join(dir, "state"))
			if err != nil {
				t.Fatal(err)
			}
			p := New(Config{Lake: lake, State: st, Location: time.UTC, LookbackDays: 2, StartDay: "2026-11-16", Now: func() time.Time { return now }})
			src := &fakeSource{streams: keys("bad")}
			if _, err := p.Run(ctx, []Source{src}); err != nil && !errors.Is(err, context.Canceled) {
				t.Fatal(err)
			}
			if c, _ := st.Cursor("fake/bad/acc"); c.Day != tc.wantCursor {
				t.Errorf("cursor %q, want %q", c.Day, tc.wantCursor)
			}
			var keys []string
			local.List(context.Background(), "lake/calls/", func(i storage.Info) error {
				keys = append(keys, i.Key)
				return nil
			})
			want := []string{"lake/calls/source=fake/date=2026-11-16/bad-acc.parquet", "lake/calls/source=fake/date=2026-11-17/bad-acc.parquet"}
			if !slices.Equal(keys, want) {
				t.Errorf("objects %v, want %v", keys, want)
			}
		})
	}
}
