package queries_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/calletl/calletl/extract/voicebox"
	"github.com/calletl/calletl/load"
	"github.com/calletl/calletl/model"
	"github.com/calletl/calletl/queries"
	"github.com/calletl/calletl/receive"
	"github.com/calletl/calletl/report"
	"github.com/calletl/calletl/transform"
)

// feesLake writes, through package load (business zone UTC):
//
//   - votbox/acme: balances 1000.00 (30 Oct 20:00), 990.00 and 985.50 (31 Oct
//     09:00, 20:00), 980.00 (1 Nov); calls costing 3.00 + 1.50 on 31 Oct and
//     5.50 on 1 Nov;
//   - voicebox/1001: voicebox_numbers snapshots on 30 and 31 Oct (A 350.40, B
//     200.00), 1 Nov (A now 360.00, B, new C 1500.00, D without a fee: its
//     price answered 404) and 2 Nov (A, B, C, D 100.00); balances 5000.00 (31
//     Oct) and 2900.00 (1 Nov); calls costing 50.40 on 31 Oct and 10.00 +
//     30.00 on 1 Nov;
//   - voicebox/1002: one number 99.99 USD seen on 15 Nov only.
func feesLake(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	lake, err := load.Open(dir, load.Options{})
	if err != nil {
		t.Fatal(err)
	}
	money := func(s string) model.Money {
		m, err := transform.Money(s)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	at := func(day string, h int) time.Time {
		d, _ := time.Parse(model.DayLayout, day)
		return d.Add(time.Duration(h) * time.Hour)
	}
	begin := func(source, unit string) *load.Tx {
		tx, err := lake.Begin(source, unit)
		if err != nil {
			t.Fatal(err)
		}
		return tx
	}
	commit := func(tx *load.Tx) {
		if _, err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	for _, src := range []struct {
		source, account string
		calls           map[string][]string // day → costs
		balances        [][3]string         // day, hour, amount
	}{
		{"votbox", "acme", map[string][]string{"2026-10-31": {"3.00", "1.50"}, "2026-11-01": {"5.50"}},
			[][3]string{{"2026-10-30", "20", "1000.00"}, {"2026-10-31", "9", "990.00"}, {"2026-10-31", "20", "985.50"}, {"2026-11-01", "10", "980.00"}}},
		{"voicebox", "1001", map[string][]string{"2026-10-31": {"50.40"}, "2026-11-01": {"10.00", "30.00"}},
			[][3]string{{"2026-10-31", "21", "5000.00"}, {"2026-11-01", "21", "2900.00"}}},
	} {
		tx := begin(src.source, "calls")
		w := load.Writer(tx, load.Calls)
		for day, costs := range src.calls {
			for i, c := range costs {
				if err := w.Add(day, &model.Call{Source: src.source, Date: day, Account: src.account, CallID: fmt.Sprint(day, "-", i),
					Direction: model.Autocall, StartedAt: at(day, 10+i), TalkS: sql.Null[int32]{V: 30, Valid: true},
					Cost: sql.Null[model.Money]{V: money(c), Valid: true}, Currency: "RUB"}); err != nil {
					t.Fatal(err)
				}
			}
		}
		commit(tx)
		for i, b := range src.balances {
			tx := begin(src.source, fmt.Sprint("balance-", i))
			var h int
			fmt.Sscan(b[1], &h)
			if err := load.Writer(tx, load.Balances).Add(b[0], &model.Balance{Source: src.source, Date: b[0], Account: src.account,
				Balance: money(b[2]), Currency: "RUB", Raw: b[2], RunID: fmt.Sprint("r", i), TakenAt: at(b[0], h)}); err != nil {
				t.Fatal(err)
			}
			commit(tx)
		}
	}
	type num struct{ id, fee, cur string }
	snapshots := []struct {
		customer, day string
		numbers       []num
	}{
		{"1001", "2026-10-30", []num{{"A", "350.40", "RUB"}, {"B", "200.00", "RUB"}}},
		{"1001", "2026-10-31", []num{{"A", "350.40", "RUB"}, {"B", "200.00", "RUB"}}},
		{"1001", "2026-11-01", []num{{"A", "360.00", "RUB"}, {"B", "200.00", "RUB"}, {"C", "1500.00", "RUB"}, {"D", "", ""}}},
		{"1001", "2026-11-02", []num{{"A", "360.00", "RUB"}, {"B", "200.00", "RUB"}, {"C", "1500.00", "RUB"}, {"D", "100.00", "RUB"}}},
		{"1002", "2026-11-15", []num{{"E", "99.99", "USD"}}},
	}
	for _, s := range snapshots {
		tx := begin("voicebox", "numbers-"+s.customer+"-"+s.day)
		w := load.Writer(tx, voicebox.NumbersTable)
		for _, n := range s.numbers {
			r := voicebox.NumberRow{Customer: s.customer, NumberID: n.id, Number: n.id, FeeRaw: n.fee, Currency: n.cur,
				RunID: "r-" + s.day, SnapshotAt: at(s.day, 3)}
			if n.fee != "" {
				r.MonthlyFee = sql.Null[model.Money]{V: money(n.fee), Valid: true}
			}
			if err := w.Add(s.day, &r); err != nil {
				t.Fatal(err)
			}
		}
		commit(tx)
	}
	return dir
}

// TestCostReconciliationFeesAndVotBox checks cost_reconciliation against
// figures computed by hand from feesLake:
//
//	2026-10-30 voicebox 1001  fees A 350.40 + B 200.00 = 550.40 (first October snapshot); no balance before: movement NULL.
//	2026-10-31 votbox acme    cost 4.50; movement 985.50 - 1000.00 = -14.50; difference 14.50 - 4.50 = 10.00.
//	2026-10-31 voicebox 1001  cost 50.40, no fee (October charged on the 30th), no earlier balance.
//	2026-11-01 votbox acme    cost 5.50; movement 980.00 - 985.50 = -5.50; difference 0.
//	2026-11-01 voicebox 1001  cost 40.00; fees A 360.00 (that day's price) + B 200.00 + C 1500.00 = 2060.00
//	                          (D has no fee yet); movement 2900 - 5000 = -2100; difference 2100 - 40 - 2060 = 0.
//	2026-11-02 voicebox 1001  fee D 100.00 (its first day with a fee); A, B, C are not charged again.
//	2026-11-15 voicebox 1002  fee 99.99 USD, currency USD.
func TestCostReconciliationFeesAndVotBox(t *testing.T) {
	lake := feesLake(t)
	ctx := context.Background()
	eng, err := report.Open(ctx, report.Options{Lake: lake, TimeZone: "UTC", Tables: append(append(load.CanonicalTables(), voicebox.Tables()...), receive.Tables()...)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	r, err := report.Find(queries.FS(), "cost_reconciliation")
	if err != nil {
		t.Fatal(err)
	}
	//          date         source    account calls cost  number_fees currency movement difference mixed
	all := []string{
		"2026-10-30 voicebox 1001 0 NULL 550.4 RUB NULL NULL false",
		"2026-10-31 voicebox 1001 1 50.4 NULL RUB NULL NULL false",
		"2026-10-31 votbox acme 2 4.5 NULL RUB -14.5 10 false",
		"2026-11-01 voicebox 1001 2 40 2060 RUB -2100 0 false",
		"2026-11-01 votbox acme 1 5.5 NULL RUB -5.5 0 false",
		"2026-11-02 voicebox 1001 0 NULL 100 RUB NULL NULL false",
		"2026-11-15 voicebox 1002 0 NULL 99.99 USD NULL NULL false",
	}
	for _, tc := range []struct {
		name string
		args map[string]string
		want []string
	}{
		{"all", nil, all},
		// A month is charged on its first snapshot day even when from is later.
		{"from the 2nd", map[string]string{"from": "2026-11-02"}, all[5:]},
		{"the 31st", map[string]string{"from": "2026-10-31", "to": "2026-10-31"}, all[1:3]},
		{"through the 1st", map[string]string{"to": "2026-11-01"}, all[:5]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := eng.Query(ctx, r, tc.args)
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			if err := res.Write(&buf, "csv"); err != nil {
				t.Fatal(err)
			}
			recs, err := csv.NewReader(&buf).ReadAll()
			if err != nil || len(recs) == 0 {
				t.Fatalf("csv: %v", err)
			}
			col := map[string]int{}
			for i, c := range recs[0] {
				col[c] = i
			}
			if i, j := col["cost"], col["number_fees"]; j != i+1 {
				t.Errorf("number_fees is not beside cost: %v", recs[0])
			}
			var got []string
			for _, rec := range recs[1:] {
				var f []string
				for _, c := range []string{"date", "source", "account", "calls", "cost", "number_fees", "currency", "balance_movement", "difference", "mixed_currency"} {
					v := rec[col[c]]
					switch {
					case v == "":
						if c != "currency" {
							v = "NULL"
						}
					case c == "cost" || c == "number_fees" || c == "balance_movement" || c == "difference":
						m, err := transform.Money(v)
						if err != nil {
							t.Fatalf("%s %q: %v", c, v, err)
						}
						v = strings.TrimSuffix(strings.TrimRight(m.String(), "0"), ".")
					}
					f = append(f, v)
				}
				got = append(got, strings.Join(f, " "))
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("rows:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}
