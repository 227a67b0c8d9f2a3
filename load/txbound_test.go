package load_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/calletl/calletl/load"
	"github.com/calletl/calletl/model"
)

// txPeak writes perDay calls to each of days dates, day after day, in one
// transaction, and returns the most Arrow memory the writers held after a
// day (sampled through a checked allocator) and the commit's row count.
func txPeak(t *testing.T, opts load.Options, days, perDay int) (peak int64, rows int64) {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	opts.Allocator = mem
	lake := newLake(t, opts)
	tx, err := lake.Begin("voicebox", "history")
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Abort()
	w := load.Writer(tx, load.Calls)
	start, _ := time.Parse(model.DayLayout, day1)
	for d := range days {
		date := start.AddDate(0, 0, d).Format(model.DayLayout)
		for _, c := range callsOn(date, 0, perDay) {
			if err := w.Add(date, &c); err != nil {
				t.Fatal(err)
			}
		}
		peak = max(peak, int64(mem.CurrentAlloc()))
	}
	stats, err := tx.Commit()
	if err != nil {
		t.Fatal(err)
	}
	return peak, stats.Rows["calls"]
}

// A transaction over many days holds a bounded amount: with
// TxBufferBytes at 1 MiB, 32 days of 4000 calls written day after day
// never hold more than twice that in Arrow buffers (without the bound, each
// day's open row group stayed in memory until the commit: 13.7 MB at 32
// days, 3.4 MB at 8, measured with TxBufferBytes at 1 TiB), and every row
// reads back, from files whose row groups were closed early.
func TestTxBufferBytesBoundsManyDays(t *testing.T) {
	const limit = 1 << 20
	for _, days := range []int{8, 32} {
		opts := load.Options{TxBufferBytes: limit, BatchRows: 1024}
		peak, rows := txPeak(t, opts, days, 4000)
		if peak > 2*limit {
			t.Errorf("%d days: %d bytes of Arrow buffers held, want at most %d", days, peak, 2*limit)
		}
		if rows != int64(days*4000) {
			t.Errorf("%d days: committed %d rows, want %d", days, rows, days*4000)
		}
	}
}

// Rows of partitions whose row groups were closed early, and rows added to
// them after that, read back whole; no Arrow buffer is left behind.
func TestTxBufferBytesReadBack(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	lake := newLake(t, load.Options{TxBufferBytes: 256 << 10, BatchRows: 512, Allocator: mem})
	tx, err := lake.Begin("voicebox", "history")
	if err != nil {
		t.Fatal(err)
	}
	w := load.Writer(tx, load.Calls)
	start, _ := time.Parse(model.DayLayout, day1)
	var want int64
	for round := range 2 { // each day twice: rows arrive after a cut
		for d := range 6 {
			date := start.AddDate(0, 0, d).Format(model.DayLayout)
			for _, c := range callsOn(date, round*3000, 3000) {
				want += int64(c.Cost.V)
				if err := w.Add(date, &c); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	if _, err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	mem.AssertSize(t, 0)
	db := openDuckDB(t)
	var n, sum int64
	if err := db.QueryRow(`SELECT count(*), sum(cost * 10000)::BIGINT FROM `+scan(lake.Root(), "calls")).Scan(&n, &sum); err != nil {
		t.Fatal(err)
	}
	if n != 36000 || sum != want {
		t.Errorf("read back %d rows, cost sum %d; want 36000, %d", n, sum, want)
	}
}

// The bound is the lake's, shared evenly by its open transactions: four
// windows written at once (as a run's streams are) hold about what one
// would, not four times it. Without the sharing the four held 3.9× the
// bound here.
func TestTxBufferBytesSharedByOpenTransactions(t *testing.T) {
	const limit, txs, days, perDay = 4 << 20, 4, 8, 4000
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	lake := newLake(t, load.Options{TxBufferBytes: limit, BatchRows: 1024, Allocator: mem})
	var writers []*load.TableWriter[model.Call]
	var open []*load.Tx
	for i := range txs {
		tx, err := lake.Begin("voicebox", fmt.Sprintf("history-%d", i))
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Abort()
		open = append(open, tx)
		writers = append(writers, load.Writer(tx, load.Calls))
	}
	start, _ := time.Parse(model.DayLayout, day1)
	var peak int64
	for d := range days {
		date := start.AddDate(0, 0, d).Format(model.DayLayout)
		for i, w := range writers {
			for _, c := range callsOn(date, i*perDay, perDay) {
				if err := w.Add(date, &c); err != nil {
					t.Fatal(err)
				}
			}
			peak = max(peak, int64(mem.CurrentAlloc()))
		}
	}
	if peak > 2*limit {
		t.Errorf("%d transactions at once held %d bytes of Arrow buffers, want at most %d", txs, peak, 2*limit)
	}
	t.Logf("peak %d bytes held by %d open transactions (bound %d)", peak, txs, limit)
	for i, tx := range open {
		stats, err := tx.Commit()
		if err != nil {
			t.Fatal(err)
		}
		if stats.Rows["calls"] != days*perDay {
			t.Errorf("transaction %d committed %d rows, want %d", i, stats.Rows["calls"], days*perDay)
		}
	}
}
