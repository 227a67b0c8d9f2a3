package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/calletl/calletl/extract/mtt"
	"github.com/calletl/calletl/extract/registry"
	"github.com/calletl/calletl/sandbox"
	"github.com/calletl/calletl/state"
)

// A vendor that trickles (every 4th answer one byte every 200ms, which the
// 60s idle timeout would take minutes to give up on) holds the run until
// max_run_time: the run then stops like an interrupt with exit 4, the lock
// is free, the lake is readable, and the next run completes it to exactly
// the ground truth (so no cursor moved past an uncommitted window).
func TestMaxRunTimeEndsStuckRun(t *testing.T) {
	for _, tc := range []struct {
		name   string
		config string   // appended to the config
		args   []string // the command
	}{
		{"config max_run_time", "max_run_time: 1500ms\n", []string{"run"}},
		{"--max-run-time overrides the config", "max_run_time: 0s\n", []string{"run", "--max-run-time", "1500ms"}},
		{"backfill", "", []string{"backfill", "--max-run-time", "1500ms", "--source", "mtt"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, 3, 100, 0, tc.config)
			args := tc.args
			if args[0] == "backfill" {
				args = append(args, "--from", w.from, "--to", w.to)
			}
			w.emu.SetFaults(sandbox.Faults{TrickleEvery: 4, TrickleInterval: 200 * time.Millisecond})
			type result struct {
				code   int
				stderr string
			}
			done := make(chan result, 1)
			go func() {
				code, _, stderr := w.etl(args...)
				done <- result{code, stderr}
			}()
			var r result
			select {
			case r = <-done:
			case <-time.After(2 * time.Minute):
				// Stop it the way an operator would, so the test ends.
				_ = syscall.Kill(os.Getpid(), syscall.SIGINT)
				r = <-done
				t.Fatalf("etl was still running two minutes after its 1.5s max_run_time (stopped with SIGINT: exit %d)", r.code)
			}
			if r.code != exitMaxRunTime || !strings.Contains(r.stderr, "max_run_time 1.5s reached") {
				t.Fatalf("exit %d, want %d and a message naming max_run_time\n%s", r.code, exitMaxRunTime, r.stderr)
			}
			if w.emu.FaultInjector().Counts().Trickle == 0 {
				t.Fatal("nothing trickled: the test tests nothing")
			}

			// The lock is free: another process (a second open file) takes it.
			st, err := state.Open(filepath.Join(w.dir, "state"))
			if err != nil {
				t.Fatal(err)
			}
			unlock, err := st.Lock()
			if err != nil {
				t.Fatalf("the lock is still held after exit 4: %v", err)
			}
			unlock()

			// What was committed is readable; nothing half-written is visible.
			if files, _ := filepath.Glob(filepath.Join(w.dir, "lake", "calls", "*", "*", "*.parquet")); len(files) > 0 {
				var n int
				if err := duck(t).QueryRow(`SELECT count(*) FROM ` + w.glob("calls")).Scan(&n); err != nil {
					t.Fatalf("lake not readable after exit 4: %v", err)
				}
				t.Logf("%d call rows committed before max_run_time", n)
			}

			w.emu.SetFaults(sandbox.Faults{})
			if code, _, stderr := w.etl(append(args, "--max-run-time", "0")...); code != exitOK {
				t.Fatalf("next run: exit %d\n%s", code, stderr)
			}
			w.checkLake(t)
		})
	}
}

func TestMaxRunTimeConfig(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "pw"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	load := func(extra, httpExtra string) (*Config, error) {
		cfg := "lake: lake\nstate: state\n" + extra + "sources:\n  mtt:\n    username: u\n    password: {file: pw}\n" +
			"    customers: [\"1\"]\n    http: {" + httpExtra + "}\n"
		p := filepath.Join(dir, "etl.yaml")
		if err := os.WriteFile(p, []byte(cfg), 0o644); err != nil {
			t.Fatal(err)
		}
		return LoadConfig(p)
	}
	for _, tc := range []struct {
		extra, http string
		want        time.Duration // max_run_time
		wantIdle    time.Duration
		wantErr     string
	}{
		{"", "", defaultMaxRunTime, 0, ""},
		{"max_run_time: 6h\n", "idle_timeout: 90s", 6 * time.Hour, 90 * time.Second, ""},
		{"max_run_time: 0\n", "", 0, 0, ""},
		{"max_run_time: -1h\n", "", 0, 0, "max_run_time: -1h0m0s"},
		{"", "idle_timeout: -5s", 0, 0, "sources.mtt.http.idle_timeout"},
		{"max_run_time: soon\n", "", 0, 0, `max_run_time "soon": want a duration`},
		{"max_run_time: 90m\n", "", 90 * time.Minute, 0, ""},
	} {
		c, err := load(tc.extra, tc.http)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%q %q: err %v, want %q", tc.extra, tc.http, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q %q: %v", tc.extra, tc.http, err)
			continue
		}
		m := section[*mtt.Settings](t, c, mtt.Name)
		if time.Duration(*c.MaxRunTime) != tc.want || m.HTTP.IdleTimeout != tc.wantIdle ||
			(registry.Env{}).HTTP("mtt", m.HTTP).IdleTimeout != tc.wantIdle {
			t.Errorf("%q %q: max_run_time %v, idle_timeout %v; want %v, %v", tc.extra, tc.http, time.Duration(*c.MaxRunTime),
				m.HTTP.IdleTimeout, tc.want, tc.wantIdle)
		}
	}
	var fe *FieldError
	if _, err := load("max_run_time: -1h\n", ""); !errors.As(err, &fe) || fe.Field != "max_run_time" {
		t.Errorf("a negative max_run_time is not a FieldError naming it: %v", err)
	}

	var out bytes.Buffer
	runMain([]string{"--help"}, &out, &bytes.Buffer{})
	if !strings.Contains(out.String(), "4    max_run_time reached") {
		t.Errorf("usage does not document exit code 4:\n%s", out.String())
	}
}
