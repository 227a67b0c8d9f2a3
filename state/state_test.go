package state

import (
	"errors"
	"os"
	"path/filepath"
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
