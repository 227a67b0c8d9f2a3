package storage

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// The link(2) fallback used where renameat2(RENAME_NOREPLACE) is missing.
func TestLinkNoReplace(t *testing.T) {
	dir := t.TempDir()
	a, b, c := filepath.Join(dir, "a"), filepath.Join(dir, "b"), filepath.Join(dir, "c")
	for _, p := range []string{a, b} {
		if err := os.WriteFile(p, []byte(filepath.Base(p)), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := linkNoReplace(a, b); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("linkNoReplace onto an existing file = %v; want fs.ErrExist", err)
	}
	if got, _ := os.ReadFile(b); string(got) != "b" {
		t.Errorf("target overwritten: %q", got)
	}
	if err := linkNoReplace(a, c); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(a); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("source still there after the move: %v", err)
	}
	if got, _ := os.ReadFile(c); string(got) != "a" {
		t.Errorf("moved content %q", got)
	}
	if err := renameNoReplace(c, b); !errors.Is(err, fs.ErrExist) {
		t.Errorf("renameNoReplace onto an existing file = %v; want fs.ErrExist", err)
	}
}

func TestCheckPrefix(t *testing.T) {
	for _, p := range []string{"", "a", "a/", "a/b", "a/b.", "a/b-"} {
		if err := checkPrefix(p); err != nil {
			t.Errorf("checkPrefix(%q) = %v", p, err)
		}
	}
	for _, p := range []string{"/", "/a", "a//", "../", "a/.x", "a b"} {
		if err := checkPrefix(p); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("checkPrefix(%q) = %v; want ErrInvalidKey", p, err)
		}
	}
}
