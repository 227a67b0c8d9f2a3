package pipeline

import (
	"context"
	"path/filepath"
	"testing"
	"time"

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
	tx, err := begin("balance-" + account + "-" + run.ID)
	if err != nil {
		return model.Counts{}, err
	}
	defer tx.Abort()
	day := run.Day()
	if err := load.Writer(tx, load.Balances).Add(day, &model.Balance{Source: f.Name(), Date: day, Account: account,
		Balance: 10000, Currency: "RUB", Raw: "1.00", RunID: run.ID, TakenAt: run.StartedAt}); err != nil {
		return model.Counts{}, err
	}
	if _, err := tx.CommitContext(ctx); err != nil {
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
