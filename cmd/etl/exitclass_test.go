package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Exit codes by class: a backfill whose lake write fails (here the runs
// table's directory is a file, which no process, root included, can write
// under) exits 1, not 2: only a bad command line (--from, --to, --source)
// is a usage error. Before, every pipeline error of a backfill exited 2.
func TestBackfillExitCodeByClass(t *testing.T) {
	w := newWorld(t, 2, 20, 0, "")
	lake := filepath.Join(w.dir, "lake")
	if err := os.MkdirAll(lake, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(lake, "runs"), []byte("not a directory\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		want int
	}{
		{"lake write fails", []string{"--source", "mtt", "--from", w.from, "--to", w.to}, exitFailed},
		{"reversed range", []string{"--source", "mtt", "--from", w.to, "--to", w.from}, exitUsage},
		{"not a day", []string{"--source", "mtt", "--from", "2026-13-45", "--to", w.to}, exitUsage},
		{"unknown source", []string{"--source", "nope", "--from", w.from, "--to", w.to}, exitUsage},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := w.etl(append([]string{"backfill"}, tc.args...)...)
			if code != tc.want {
				t.Fatalf("exit %d, want %d\n%s", code, tc.want, stderr)
			}
			if tc.want == exitFailed && !strings.Contains(stderr, "runs table") {
				t.Errorf("stderr does not say which write failed:\n%s", stderr)
			}
		})
	}
}

// A refused credential is one error on stderr, naming the source and what
// to check, and exit 1: the source stopped at the first refusal. Before,
// every stream and the snapshot printed its own 401.
func TestDeadCredentialIsOneError(t *testing.T) {
	w := newWorld(t, 2, 20, 0, "")
	if err := os.WriteFile(filepath.Join(w.dir, "pw"), []byte("wrong-password\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := w.etl("run")
	if code != exitFailed {
		t.Fatalf("exit %d, want 1\n%s", code, stderr)
	}
	var lines []string // the failed-stream records (the text log's "  mtt…" lines)
	for _, rec := range logRecords(t, stderr) {
		if rec["msg"] == "stream did not finish" {
			lines = append(lines, fmt.Sprint(rec["err"]))
		}
	}
	if len(lines) != 1 || !strings.Contains(lines[0], "sources.mtt.username") || !strings.Contains(lines[0], "9 streams failed on one error") {
		t.Errorf("want one error line for mtt, naming what to check:\n%s", stderr)
	}
}
