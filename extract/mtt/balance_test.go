package mtt

import (
	"bytes"
	"context"
	"database/sql"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/calletl/calletl/extract/httpx"
	"github.com/calletl/calletl/lakeread"
	"github.com/calletl/calletl/load"
	"github.com/calletl/calletl/load/loadtest"
	"github.com/calletl/calletl/model"
	"github.com/calletl/calletl/pipeline"
	"github.com/calletl/calletl/sandbox"
	"github.com/calletl/calletl/secret"
)

// oldBalancesTable is mtt_balances as files written before pending_payment
// and raw were kept have it.
var oldBalancesTable = &load.Table[BalanceRow]{
	Name:   BalancesTable.Name,
	Schema: arrow.NewSchema(BalancesTable.Schema.Fields()[:6], nil),
	Append: func(b *array.RecordBuilder, r *BalanceRow) {
		load.AppendString(b.Field(0), r.Customer)
		load.AppendMoney(b.Field(1), r.Balance)
		load.AppendMoney(b.Field(2), r.RealBalance)
		load.AppendString(b.Field(3), r.Currency)
		load.AppendString(b.Field(4), r.RunID)
		load.AppendTimestamp(b.Field(5), r.TakenAt)
	},
}

// TestBalanceSnapshotKeepsPendingPaymentAndRaw: a balance snapshot writes
// pending_payment and the raw answer as the emulator sent them, and the
// view reads a file written before those columns existed beside it, with
// NULLs.
func TestBalanceSnapshotKeepsPendingPaymentAndRaw(t *testing.T) {
	const cust = "110011256"
	emu := sandbox.NewMTT(sandbox.MTTConfig{Seed: 9, Customers: []string{cust}, Username: "u", Password: "p4ssw0rd"})
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	c, err := New(Config{BaseURL: srv.URL, Username: "u", Password: secret.New("p4ssw0rd"), Customers: []string{cust},
		HTTP: httpx.Config{MaxAttempts: 2, Sleep: func(ctx context.Context, _ time.Duration) error { return ctx.Err() }}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	lake := loadtest.OpenLake(t)
	old := time.Date(2026, 10, 1, 6, 0, 0, 0, time.UTC)
	tx, err := lake.Begin(Name, "balance-"+cust+"-old")
	if err != nil {
		t.Fatal(err)
	}
	if err := load.Writer(tx, oldBalancesTable).Add("2026-10-01", &BalanceRow{Customer: cust, Currency: "RUB", RunID: "old", TakenAt: old,
		Balance: sql.Null[model.Money]{V: 10_0000, Valid: true}}); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	run := model.Run{ID: "new", StartedAt: old.Add(24 * time.Hour), Location: time.UTC}
	if _, err := NewSource(c).SnapshotAccount(context.Background(), pipeline.LakeBegin(lake, Name), run, cust); err != nil {
		t.Fatal(err)
	}
	db := loadtest.OpenDuckDB(t)
	if _, err := lakeread.CreateView(context.Background(), db, lake.Root(), BalancesTable.Info()); err != nil {
		t.Fatal(err)
	}
	rows, err := db.Query(`SELECT run_id, CAST(pending_payment AS VARCHAR), raw FROM mtt_balances ORDER BY run_id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got [][3]sql.NullString
	for rows.Next() {
		var r [3]sql.NullString
		if err := rows.Scan(&r[0], &r[1], &r[2]); err != nil {
			t.Fatal(err)
		}
		got = append(got, r)
	}
	bal, realBal := emu.Balance(cust, run.StartedAt)
	wantRaw := `{"balance":` + model.Money(bal).String()[:len(model.Money(bal).String())-2] + `,"real_balance":` +
		model.Money(realBal).String()[:len(model.Money(realBal).String())-2] + `,"pending_payment":` +
		model.Money(emu.PendingPayment(cust)).String()[:len(model.Money(emu.PendingPayment(cust)).String())-2] + `}`
	if len(got) != 2 || got[0][0].String != "new" || got[0][1].String != model.Money(emu.PendingPayment(cust)).String() || got[0][2].String != wantRaw ||
		got[1][0].String != "old" || got[1][1].Valid || got[1][2].Valid {
		t.Errorf("mtt_balances rows %v; want the new one with pending_payment %s and raw %s, the old one NULL in both",
			got, model.Money(emu.PendingPayment(cust)), wantRaw)
	}
}

// TestPendingPaymentNotAnAmount: a pending_payment that is not an amount
// (the document gives it no type) is NULL with a warning, not a failed
// snapshot; absent is NULL without one.
func TestPendingPaymentNotAnAmount(t *testing.T) {
	var logs bytes.Buffer
	c, err := New(Config{BaseURL: "http://x", Customers: []string{"1"}}, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	s := NewSource(c)
	for text, want := range map[string]string{"": "NULL", "12.5": "12.5000", "-3": "-3.0000", "abc": "NULL", `{"sum":1}`: "NULL"} {
		logs.Reset()
		got := "NULL"
		if v := s.pendingPayment("1", text); v.Valid {
			got = v.V.String()
		}
		if got != want {
			t.Errorf("%q: %s, want %s", text, got, want)
		}
		if warned := strings.Contains(logs.String(), "pending_payment is not an amount"); warned != (text != "" && want == "NULL") {
			t.Errorf("%q: warning %v: %s", text, warned, logs.String())
		}
	}
}
