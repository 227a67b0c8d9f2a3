package pipeline

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/parquet/file"

	"github.com/calletl/calletl/load"
	"github.com/calletl/calletl/model"
	"github.com/calletl/calletl/shard"
)

// fakeSnapshot is a fakeSource with a per-account balance snapshot, which
// it writes through the transactions begin opens.
type fakeSnapshot struct {
	fakeSource
	accounts []string
}

func (f *fakeSnapshot) Snapshot(ctx context.Context, begin BeginFunc, run model.Run) (model.Counts, error) {
	var n model.Counts
	for _, a := range f.accounts {
		c, err := f.SnapshotAccount(ctx, begin, run, a)
		n.Add(c)
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

func (f *fakeSnapshot) SnapshotAccounts() []string { return f.accounts }

func (f *fakeSnapshot) SnapshotAccount(ctx context.Context, begin BeginFunc, run model.Run, account string) (model.Counts, error) {
	day := run.Day()
	if err := WriteBalance(begin, "balance-"+account+"-"+run.ID, model.Balance{Source: f.Name(), Date: day, Account: account,
		Balance: 10000, Currency: "RUB", Raw: "1.00", RunID: run.ID, TakenAt: run.StartedAt}); err != nil {
		return model.Counts{}, err
	}
	return model.Counts{Pages: 1, Rows: 1}, nil
}

var (
	_ Snapshotter        = (*fakeSnapshot)(nil)
	_ AccountSnapshotter = (*fakeSnapshot)(nil)
)

// TestSnapshotThroughBegin: a snapshot writes through the transactions of
// the BeginFunc the pipeline gives it, bound to the snapshot's own source,
// in a whole run (Snapshot) and in the shards of a sharded one
// (SnapshotAccount, each account on one shard).
func TestSnapshotThroughBegin(t *testing.T) {
	now := time.Date(2026, 11, 20, 3, 0, 0, 0, time.UTC)
	accounts := []string{"acc1", "acc2", "acc3", "acc4", "acc5", "acc6"}
	for _, tc := range []struct {
		name   string
		shards []shard.Shard
	}{
		{"whole", []shard.Shard{{}}},
		{"sharded", []shard.Shard{{Index: 0, Count: 2}, {Index: 1, Count: 2}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, now, "")
			var rows int64
			for _, sh := range tc.shards {
				e.p.cfg.Shard = shard.Assigner{Shard: sh}
				src := &fakeSnapshot{fakeSource: fakeSource{streams: keys("a")}, accounts: accounts}
				sum, err := e.p.Run(context.Background(), []Source{src})
				if err != nil || sum.Err() != nil {
					t.Fatalf("run of shard %v: %v %v", sh, err, sum.Err())
				}
				for _, rs := range sum.Streams {
					if rs.Stream == "snapshot" {
						rows += rs.Rows
					}
				}
			}
			if rows != int64(len(accounts)) {
				t.Errorf("the snapshots wrote %d rows, want one per account (%d)", rows, len(accounts))
			}
			for _, a := range accounts {
				files, _ := filepath.Glob(filepath.Join(e.dir, "lake", "balances", "source=fake", "date=2026-11-20", "balance-"+a+"-*.parquet"))
				if len(files) != 1 {
					t.Errorf("the snapshot of %s is %d files in its source's partition, want 1: %v", a, len(files), files)
				}
			}
		})
	}
}

// WriteSnapshot replaces a unit's rows of the day, with no rows too (the
// day is covered); WriteBalance keeps one file per unit.
func TestWriteSnapshotAndBalance(t *testing.T) {
	dir := t.TempDir()
	lake, err := load.Open(dir, load.Options{})
	if err != nil {
		t.Fatal(err)
	}
	begin := LakeBegin(lake, "fake")
	const day = "2026-11-20"
	partition := filepath.Join(dir, "balances", "source=fake", "date="+day)
	rowsIn := func(unit string) int64 {
		t.Helper()
		f, err := file.OpenParquetFile(filepath.Join(partition, unit+".parquet"), false)
		if err != nil {
			return -1
		}
		defer f.Close()
		return f.NumRows()
	}
	bal := func(account string) model.Balance {
		return model.Balance{Source: "fake", Date: day, Account: account, Balance: 10000, Currency: "RUB", Raw: "1.00", RunID: "r1", TakenAt: time.Now()}
	}
	for _, step := range []struct {
		rows []model.Balance
		want int64 // -1: no file
	}{
		{[]model.Balance{bal("a"), bal("b")}, 2},
		{[]model.Balance{bal("a")}, 1},
		{nil, -1},
	} {
		if err := WriteSnapshot(begin, "snap", day, load.Balances, step.rows); err != nil {
			t.Fatal(err)
		}
		if got := rowsIn("snap"); got != step.want {
			t.Errorf("after a snapshot of %d rows: %d rows in its file, want %d", len(step.rows), got, step.want)
		}
	}
	for _, unit := range []string{"balance-r1", "balance-r2"} {
		if err := WriteBalance(begin, unit, bal("a")); err != nil {
			t.Fatal(err)
		}
	}
	if a, b := rowsIn("balance-r1"), rowsIn("balance-r2"); a != 1 || b != 1 {
		t.Errorf("two balances of one day: %d and %d rows, want one in each unit's file", a, b)
	}
}
