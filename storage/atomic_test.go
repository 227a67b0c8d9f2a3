package storage_test

import (
	"bufio"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"testing"

	"github.com/calletl/calletl/storage"
)

// The child process of TestWriteFileAtomicCrash and TestWriteFileAtomicPerm:
// with CALLETL_ATOMIC_CHILD=path it sets the umask to 077 and writes "new"
// to path with WriteFileAtomicFunc and the mode CALLETL_ATOMIC_PERM; with
// CALLETL_ATOMIC_HANG=1 it says "written" on stdout once the content is in
// the temporary file and then waits on stdin, never reaching the rename,
// for the parent to kill it.
func init() {
	path := os.Getenv("CALLETL_ATOMIC_CHILD")
	if path == "" {
		return
	}
	syscall.Umask(0o077)
	perm, err := strconv.ParseUint(os.Getenv("CALLETL_ATOMIC_PERM"), 8, 32)
	if err != nil {
		os.Exit(3)
	}
	err = storage.WriteFileAtomicFunc(path, fs.FileMode(perm), func(w io.Writer) error {
		if _, err := io.WriteString(w, "new"); err != nil {
			return err
		}
		if os.Getenv("CALLETL_ATOMIC_HANG") == "1" {
			os.Stdout.WriteString("written\n")
			io.Copy(io.Discard, os.Stdin) // until killed
			return errors.New("stdin closed before the kill")
		}
		return nil
	})
	if err != nil {
		os.Stderr.WriteString(err.Error())
		os.Exit(1)
	}
	os.Exit(0)
}

func atomicChild(t *testing.T, path string, perm fs.FileMode, hang bool) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "CALLETL_ATOMIC_CHILD="+path, "CALLETL_ATOMIC_PERM="+strconv.FormatUint(uint64(perm), 8))
	if hang {
		cmd.Env = append(cmd.Env, "CALLETL_ATOMIC_HANG=1")
	}
	return cmd
}

// tempLeft lists the hidden temporary files left in dir.
func tempLeft(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, ".*.tmp"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// A process killed after writing the new content and before the rename
// leaves the old file whole (a leftover hidden .tmp is all that shows);
// with no old file, none appears.
func TestWriteFileAtomicCrash(t *testing.T) {
	for _, tc := range []struct {
		name string
		old  *string
	}{
		{"replace", new("old")},
		{"create", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "state.json")
			if tc.old != nil {
				if err := os.WriteFile(path, []byte(*tc.old), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			cmd := atomicChild(t, path, 0o600, true)
			stdin, err := cmd.StdinPipe()
			if err != nil {
				t.Fatal(err)
			}
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer stdin.Close()
			line, err := bufio.NewReader(stdout).ReadString('\n')
			if line != "written\n" {
				cmd.Process.Kill()
				cmd.Wait()
				t.Fatalf("child said %q, %v; want written", line, err)
			}
			if err := cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			cmd.Wait()

			got, err := os.ReadFile(path)
			switch {
			case tc.old == nil && !errors.Is(err, fs.ErrNotExist):
				t.Errorf("after the crash %s holds %q, %v; want no file", path, got, err)
			case tc.old != nil && (err != nil || string(got) != *tc.old):
				t.Errorf("after the crash %s holds %q, %v; want the old %q", path, got, err, *tc.old)
			}
			tmps := tempLeft(t, dir)
			if len(tmps) != 1 {
				t.Fatalf("temporary files left: %v, want the one the killed write was filling", tmps)
			}
			if b, _ := os.ReadFile(tmps[0]); string(b) != "new" {
				t.Errorf("the temporary file holds %q; want the new content, written before the kill", b)
			}
		})
	}
}

// The file gets exactly the mode asked for, whatever the umask (the child
// runs with 077), whether it is created or replaces a file of another mode.
func TestWriteFileAtomicPerm(t *testing.T) {
	for _, tc := range []struct {
		perm    fs.FileMode
		oldMode fs.FileMode // 0: no old file
	}{
		{0o600, 0},
		{0o640, 0},
		{0o644, 0},
		{0o640, 0o600},
		{0o600, 0o644},
	} {
		t.Run(tc.perm.String()+"_over_"+tc.oldMode.String(), func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "f")
			if tc.oldMode != 0 {
				if err := os.WriteFile(path, []byte("old"), tc.oldMode); err != nil {
					t.Fatal(err)
				}
				if err := os.Chmod(path, tc.oldMode); err != nil {
					t.Fatal(err)
				}
			}
			if out, err := atomicChild(t, path, tc.perm, false).CombinedOutput(); err != nil {
				t.Fatalf("child: %v: %s", err, out)
			}
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if got := fi.Mode().Perm(); got != tc.perm {
				t.Errorf("mode %v, want %v", got, tc.perm)
			}
			if b, _ := os.ReadFile(path); string(b) != "new" {
				t.Errorf("content %q, want new", b)
			}
			if tmps := tempLeft(t, dir); len(tmps) != 0 {
				t.Errorf("temporary files left: %v", tmps)
			}
		})
	}
}

// A failing write, a missing directory or a path that is a directory leave
// what was there and no temporary file.
func TestWriteFileAtomicErrors(t *testing.T) {
	boom := errors.New("boom")
	for _, tc := range []struct {
		name    string
		path    func(dir string) string
		write   func(io.Writer) error
		wantErr error
		old     bool // an old file "old" at path stays
	}{
		{
			name: "write fails after a part",
			path: func(dir string) string { return filepath.Join(dir, "f") },
			write: func(w io.Writer) error {
				io.WriteString(w, "ne")
				return boom
			},
			wantErr: boom,
			old:     true,
		},
		{
			name:    "no directory",
			path:    func(dir string) string { return filepath.Join(dir, "missing", "f") },
			write:   func(w io.Writer) error { _, err := io.WriteString(w, "new"); return err },
			wantErr: fs.ErrNotExist,
		},
		{
			name: "path is a directory",
			path: func(dir string) string {
				p := filepath.Join(dir, "d")
				if err := os.Mkdir(p, 0o700); err != nil {
					panic(err)
				}
				if err := os.WriteFile(filepath.Join(p, "x"), nil, 0o600); err != nil {
					panic(err)
				}
				return p
			},
			write: func(w io.Writer) error { _, err := io.WriteString(w, "new"); return err },
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := tc.path(dir)
			if tc.old {
				if err := os.WriteFile(path, []byte("old"), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			err := storage.WriteFileAtomicFunc(path, 0o600, tc.write)
			if err == nil || tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Fatalf("err %v, want %v", err, cmpOr(tc.wantErr, "an error"))
			}
			if tc.old {
				if b, _ := os.ReadFile(path); string(b) != "old" {
					t.Errorf("%s holds %q, want the old content", path, b)
				}
			}
			if tmps := tempLeft(t, filepath.Dir(path)); len(tmps) != 0 {
				t.Errorf("temporary files left: %v", tmps)
			}
		})
	}
}

func cmpOr(err error, s string) any {
	if err != nil {
		return err
	}
	return s
}

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	for _, content := range []string{"first", "", "third, longer than the first"} {
		if err := storage.WriteFileAtomic(path, []byte(content), 0o640); err != nil {
			t.Fatal(err)
		}
		if b, err := os.ReadFile(path); err != nil || string(b) != content {
			t.Fatalf("read %q, %v; want %q", b, err, content)
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if !slices.Equal(names, []string{"f"}) {
		t.Errorf("directory holds %v, want only f", names)
	}
}

// CommitFile moves a finished file over the target; when the temporary
// file is missing, the target stays.
func TestCommitFile(t *testing.T) {
	for _, tc := range []struct {
		name    string
		tmp     *string // content of the temporary file; nil: none
		old     *string // content of the target before; nil: none
		want    *string // content of the target after; nil: none
		wantErr bool
	}{
		{name: "create", tmp: new("new"), want: new("new")},
		{name: "replace", tmp: new("new"), old: new("old"), want: new("new")},
		{name: "no temporary file", old: new("old"), want: new("old"), wantErr: true},
		{name: "nothing", wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path, tmp := filepath.Join(dir, "out.parquet"), filepath.Join(dir, "out.parquet.tmp")
			for p, c := range map[string]*string{tmp: tc.tmp, path: tc.old} {
				if c != nil {
					if err := os.WriteFile(p, []byte(*c), 0o644); err != nil {
						t.Fatal(err)
					}
				}
			}
			err := storage.CommitFile(tmp, path)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err %v, want an error: %v", err, tc.wantErr)
			}
			b, rerr := os.ReadFile(path)
			switch {
			case tc.want == nil && !errors.Is(rerr, fs.ErrNotExist):
				t.Errorf("%s: %q, %v; want no file", path, b, rerr)
			case tc.want != nil && string(b) != *tc.want:
				t.Errorf("%s: %q, %v; want %q", path, b, rerr, *tc.want)
			}
			if _, err := os.Stat(tmp); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("the temporary file is still there: %v", err)
			}
		})
	}
}

func TestSyncDir(t *testing.T) {
	dir := t.TempDir()
	if err := storage.SyncDir(dir); err != nil {
		t.Errorf("SyncDir(%s): %v", dir, err)
	}
	if err := storage.SyncDir(filepath.Join(dir, "missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("SyncDir(missing): %v, want fs.ErrNotExist", err)
	}
}
