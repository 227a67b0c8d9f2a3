package main

import (
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/calletl/calletl/model"
	"github.com/calletl/calletl/sandbox"
)

// VotBox through the real CLI: each run polls the tasks that are not
// final; as the emulator's tasks progress the lake converges to the ground
// truth (every item once, cost to the kopeck), and a final task is never
// fetched again.
func TestVotBoxRepollingConverges(t *testing.T) {
	emu := sandbox.NewVotBox(sandbox.VotBoxConfig{Seed: 4, Username: "robo", Password: "vb-Secret-pass",
		Tasks: 3, ItemsPerTask: 150, Start: time.Now().UTC().AddDate(0, 0, -2), Charset: "windows-1251", Form: "elem"})
	emu.SetFaults(sandbox.Faults{Error5xxEvery: 9, TruncateEvery: 14})
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "pw"), []byte("vb-Secret-pass"), 0o600)
	cfg := filepath.Join(dir, "etl.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`lake: lake
state: state
timezone: Europe/Moscow
sources:
  votbox:
    base_url: %s/api
    username: robo
    password: {file: pw}
    http: {max_attempts: 10, base_backoff: 5ms, max_backoff: 50ms}
`, srv.URL)), 0o644)
	w := &world{dir: dir, cfg: cfg}

	check := func(step int) {
		t.Helper()
		var items int
		var kop int64
		for _, task := range emu.Tasks() {
			for _, it := range task.Items {
				items++
				kop += it.CallPayKop + it.OperCallPayKop
			}
		}
		var n, distinct int
		var cost string
		q := `SELECT count(*), count(DISTINCT call_id), CAST(coalesce(sum(cost), 0) AS VARCHAR) FROM ` + w.glob("calls") + ` WHERE source = 'votbox'`
		if err := duck(t).QueryRow(q).Scan(&n, &distinct, &cost); err != nil {
			t.Fatal(err)
		}
		if want := model.Money(kop * 100).String(); n != items || distinct != n || cost != want {
			t.Errorf("step %d: lake %d calls (%d distinct) costing %s; truth %d items costing %s", step, n, distinct, cost, items, want)
		}
	}
	for step := 0; !emu.Final(); step++ {
		if step > 20 {
			t.Fatal("the emulator never finished")
		}
		if code, _, stderr := w.etl("run"); code != exitOK {
			t.Fatalf("step %d: exit %d\n%s", step, code, stderr)
		}
		check(step)
		emu.Advance()
	}
	// One run to pick up the final state; after it nothing is polled.
	if code, _, stderr := w.etl("run"); code != exitOK {
		t.Fatalf("final run: exit %d\n%s", code, stderr)
	}
	check(99)
	before := emu.Requests("autocall.check.api.php")
	if code, _, stderr := w.etl("run"); code != exitOK {
		t.Fatalf("idle run: exit %d\n%s", code, stderr)
	}
	check(100)
	if after := emu.Requests("autocall.check.api.php"); after != before {
		t.Errorf("final tasks were fetched again: %d check requests", after-before)
	}
}
