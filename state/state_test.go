package state

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestCursorsSurviveReopen(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 20, 3, 0, 0, 0, time.UTC)
	if err := s.SetCursor("mtt/dialed/1", Cursor{Day: "2026-11-19", RunID: "r1", UpdatedAt: at}); err != nil {
		t.Fatal(err)
	}
	if err := s.Put("votbox/tasks", []int{1, 2}); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	c, ok := s2.Cursor("mtt/dialed/1")
	if !ok || c.Day != "2026-11-19" || c.RunID != "r1" || !c.UpdatedAt.Equal(at) {
		t.Fatalf("cursor after reopen: %+v %v", c, ok)
	}
	var tasks []int
	if ok, err := s2.Get("votbox/tasks", &tasks); !ok || err != nil || len(tasks) != 2 {
		t.Fatalf("value after reopen: %v %v %v", tasks, ok, err)
	}
	fi, err := os.Stat(filepath.Join(dir, fileName))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("state file mode: %v %v", fi.Mode(), err)
	}
	left, _ := filepath.Glob(filepath.Join(dir, ".*.tmp"))
	if len(left) != 0 {
		t.Fatalf("temp files left: %v", left)
	}
}

func TestCorruptStateIsAClearError(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, fileName), []byte("{half"), 0o600)
	if _, err := Open(dir); err == nil {
		t.Fatal("want an error for a corrupt state file")
	}
}

func TestLockIsExclusive(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	unlock, err := s.Lock()
	if err != nil {
		t.Fatal(err)
	}
	// flock locks are per open file description: a second open conflicts
	// even within one process, as a second process would.
	if _, err := s.Lock(); !errors.Is(err, ErrLocked) {
		t.Fatalf("second lock: %v, want ErrLocked", err)
	}
	unlock()
	unlock2, err := s.Lock()
	if err != nil {
		t.Fatalf("lock after unlock: %v", err)
	}
	unlock2()
}

// A present state file must be a state object of a known version whose
// every cursor day parses; anything else is a *FileError naming the file
// and the key, never a silent fresh start (everything re-extracted) nor a
// panic later. A missing file is the fresh state.
func TestBadStateFileIsAClearError(t *testing.T) {
	const ok = `"run_id": "r1", "updated_at": "2026-11-20T03:00:00Z"`
	tests := []struct {
		name, body, key, msg string
	}{
		{"null", `null`, "", "not a state object"},
		{"empty object", `{}`, "version", "missing"},
		{"empty file", "", "", "the file is empty"},
		{"blank file", "  \n", "", "the file is empty"},
		{"a list", `[]`, "", "not a state object"},
		{"unknown version", `{"version": 2, "cursors": {}}`, "version", "2 is not a version this etl reads"},
		{"version zero", `{"version": 0, "cursors": {}}`, "version", "0 is not a version"},
		{"version as text", `{"version": "1", "cursors": {}}`, "", "not valid state JSON"},
		{"unknown field", `{"version": 1, "cursor": {}}`, "", `unknown field "cursor"`},
		{"trailing data", `{"version": 1, "cursors": {}} {}`, "", "data after the state object"},
		{"bad cursor day", `{"version": 1, "cursors": {"mtt/dialed/1": {"day": "2026-13-45", ` + ok + `}}}`, `cursors["mtt/dialed/1"].day`, `"2026-13-45" is not a YYYY-MM-DD day`},
		{"cursor day of 30 February", `{"version": 1, "cursors": {"mtt/dialed/1": {"day": "2026-02-30", ` + ok + `}}}`, `cursors["mtt/dialed/1"].day`, "not a YYYY-MM-DD day"},
		{"cursor without a day", `{"version": 1, "cursors": {"t2/missed/company": {` + ok + `}}}`, `cursors["t2/missed/company"].day`, `"" is not a YYYY-MM-DD day`},
		{"cursor null", `{"version": 1, "cursors": {"mtt/dialed/1": null}}`, `cursors["mtt/dialed/1"]`, "not a cursor"},
		{"cursor not an object", `{"version": 1, "cursors": {"mtt/dialed/1": "2026-11-19"}}`, `cursors["mtt/dialed/1"]`, "not a cursor"},
		{"cursor with a bad time", `{"version": 1, "cursors": {"mtt/dialed/1": {"day": "2026-11-19", "updated_at": "yesterday"}}}`, `cursors["mtt/dialed/1"]`, "not a cursor"},
		{"bad backfill day", `{"version": 1, "cursors": {}, "backfills": {"mtt/dialed/1@2026-01-01..2026-01-31": {"day": "2026/01/05"}}}`, `backfills["mtt/dialed/1@2026-01-01..2026-01-31"].day`, "not a YYYY-MM-DD day"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, fileName)
			if err := os.WriteFile(path, []byte(tt.body), 0o600); err != nil {
				t.Fatal(err)
			}
			s, err := Open(dir)
			var fe *FileError
			if !errors.As(err, &fe) {
				t.Fatalf("Open = %v, %v; want a *FileError", s, err)
			}
			if fe.File != path || fe.Key != tt.key {
				t.Errorf("error names file %q key %q, want %q %q", fe.File, fe.Key, path, tt.key)
			}
			for _, want := range []string{path, tt.key, tt.msg, "move it away to start from scratch"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			}
		})
	}
	// Valid files still open: no cursors, and the file the store writes.
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, fileName), []byte(`{"version": 1}`), 0o600)
	if _, err := Open(dir); err != nil {
		t.Errorf("version only: %v", err)
	}
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetCursor("a", Cursor{Day: "2026-11-19"}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetBackfill("a@x", Cursor{Day: "2026-11-19"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Put("v", map[string]int{"x": 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(s.Dir()); err != nil {
		t.Errorf("reopen what the store wrote: %v", err)
	}
}

// The store refuses to write a cursor day the next Open would refuse.
func TestSetCursorRefusesABadDay(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetCursor("mtt/dialed/1", Cursor{Day: "2026-13-45"}); err == nil || !strings.Contains(err.Error(), "mtt/dialed/1") {
		t.Errorf("SetCursor with a bad day: %v", err)
	}
	if err := s.SetBackfill("mtt/dialed/1@x", Cursor{Day: "tomorrow"}); err == nil {
		t.Error("SetBackfill with a bad day: no error")
	}
	if _, ok := s.Cursor("mtt/dialed/1"); ok {
		t.Error("the bad cursor was kept")
	}
}
