package load_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/calletl/calletl/load"
	"github.com/calletl/calletl/model"
)

// withUmask runs fn under umask mask and restores the old one. The umask
// is process-wide: tests using it must not run in parallel.
func withUmask(t *testing.T, mask int, fn func()) {
	t.Helper()
	old := syscall.Umask(mask)
	defer syscall.Umask(old)
	fn()
}

// lakeModes returns the permission bits (and set-group-ID bit) of every
// file and directory under root, root included, by path relative to root.
func lakeModes(t *testing.T, root string) map[string]fs.FileMode {
	t.Helper()
	modes := map[string]fs.FileMode{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := os.Stat(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		modes[rel] = fi.Mode() & (fs.ModePerm | fs.ModeSetgid | fs.ModeDir)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return modes
}

// TestFileModes: every file and directory the lake creates (the root, every
// table's partition directories, rejects and invalid_utf8 included) gets the
// configured mode exactly, whatever the umask: 0 would otherwise leave the
// OS default of the create call, 077 would take the group's bits away.
func TestFileModes(t *testing.T) {
	cases := []struct {
		name       string
		umask      int
		file, dir  fs.FileMode // Options
		wantF, wan fs.FileMode
	}{
		{"defaults, umask 0", 0, 0, 0, 0o640, 0o750},
		{"defaults, umask 077", 0o077, 0, 0, 0o640, 0o750},
		{"defaults, umask 022", 0o022, 0, 0, 0o640, 0o750},
		{"private, umask 0", 0, 0o600, 0o700, 0o600, 0o700},
		{"world-readable on purpose, umask 077", 0o077, 0o644, 0o755, 0o644, 0o755},
		{"group-writable, umask 022", 0o022, 0o660, 0o770, 0o660, 0o770},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			root := filepath.Join(t.TempDir(), "lake")
			withUmask(t, tc.umask, func() {
				lake, err := load.Open(root, load.Options{FileMode: tc.file, DirMode: tc.dir})
				if err != nil {
					t.Fatal(err)
				}
				writeVendorStrings(t, lake, "\xff", "raw") // calls, rejects, runs, balances, invalid_utf8
				if _, err := lake.Sweep(); err != nil {
					t.Fatal(err)
				}
			})
			modes := lakeModes(t, root)
			files := 0
			for rel, m := range modes {
				want := tc.wantF
				if m.IsDir() {
					want = fs.ModeDir | tc.wan
				} else {
					files++
				}
				if m != want {
					t.Errorf("%s: mode %v, want %v", rel, m, want)
				}
			}
			if files != 5 {
				t.Errorf("%d files, want 5 (calls, rejects, runs, balances, invalid_utf8): %v", files, modes)
			}
		})
	}
}

// TestFileModesKeepSetgid: a lake root with the set-group-ID bit (so that
// analysts' group owns every file) keeps it on the directories the lake
// creates, also when the umask makes the lake chmod them.
func TestFileModesKeepSetgid(t *testing.T) {
	for _, umask := range []int{0, 0o077} {
		root := filepath.Join(t.TempDir(), "lake")
		if err := os.Mkdir(root, 0o750); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(root, 0o750|fs.ModeSetgid); err != nil {
			t.Fatal(err)
		}
		if fi, _ := os.Stat(root); fi.Mode()&fs.ModeSetgid == 0 {
			t.Skip("the file system does not keep the set-group-ID bit")
		}
		withUmask(t, umask, func() {
			lake, err := load.Open(root, load.Options{})
			if err != nil {
				t.Fatal(err)
			}
			c := syntheticCall(0, day1)
			writeCalls(t, lake, "mtt", "u", []model.Call{c})
		})
		for rel, m := range lakeModes(t, root) {
			want := fs.FileMode(0o640)
			if m.IsDir() {
				want = fs.ModeDir | fs.ModeSetgid | 0o750
			}
			if m != want {
				t.Errorf("umask %#o: %s: mode %v, want %v", umask, rel, m, want)
			}
		}
	}
}

func TestFileModesValidated(t *testing.T) {
	for _, o := range []load.Options{
		{FileMode: 0o1640}, {FileMode: 0o440}, {FileMode: fs.ModeSetuid | 0o640},
		{DirMode: 0o650}, {DirMode: 0o2750}, {DirMode: fs.ModeSetgid | 0o750},
	} {
		if _, err := load.Open(t.TempDir(), o); err == nil {
			t.Errorf("Open with file mode %v, dir mode %v: no error", o.FileMode, o.DirMode)
		}
	}
}
