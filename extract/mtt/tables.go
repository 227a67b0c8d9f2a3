package mtt

import (
	"database/sql"
	"hash/maphash"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/calletl/calletl/load"
	"github.com/calletl/calletl/model"
)

// CallsTable is `mtt_calls`: what getServiceHistoryByCustomer says about a
// call that the canonical `calls` row does not hold, one row per
// (customer, type, call), plus what top_destinations sums by destination.
// It joins to calls on the key: source, date, customer_name = account,
// type ↔ direction (incoming, missed, dialed = outgoing, forwarded) and
// call_id. Most fields calls holds exactly are not repeated here: cli =
// caller_raw, cld = callee_raw, connect_time = started_at,
// disconnect_cause, used_quantity = duration_s, run_id, extracted_at.
// charged_time, charged and curr (= billed_s, cost, currency) are, with
// the writer's duplicate flag: joining 4M destinations to 10M calls took
// top_destinations 2.3 s (BENCHMARKS.md). Files written before a column
// moved still have it, and files written while charged, charged_time and
// curr were left out lack them (duplicate is NULL there); the views read
// every file by name (union_by_name), so absent columns read NULL.
var CallsTable = &load.Table[Detail]{
	Name: "mtt_calls",
	Doc:  "MTT call history (getServiceHistoryByCustomer): the fields calls does not hold; one row per customer, type and call, joined to calls on source, date, account, direction and call_id",
	Schema: arrow.NewSchema([]arrow.Field{
		load.String("customer_name"),
		load.String("type"),
		load.String("call_id"),
		load.Nullable("customer_local_time", load.TimestampType()),
		load.String("destination"),
		load.Nullable("setup_time_ms", arrow.PrimitiveTypes.Int32),
		load.String("account_id"),
		load.String("h323_conf_id"),
		load.String("h323_incoming_conf_id"),
		load.Nullable("voice_record_exist", arrow.FixedWidthTypes.Boolean),
		load.String("extras"),
		load.Nullable("charged_time", arrow.PrimitiveTypes.Int32),
		load.Nullable("charged", load.MoneyType()),
		load.String("curr"),
		load.Required("duplicate", arrow.FixedWidthTypes.Boolean),
	}, nil),
	Append: func(b *array.RecordBuilder, d *Detail) {
		f := b.Fields()
		load.AppendString(f[0], d.Customer)
		load.AppendString(f[1], d.Type)
		load.AppendString(f[2], d.CallID)
		var lt time.Time
		if d.CustomerLocalTime.Valid {
			lt = d.CustomerLocalTime.V
		}
		load.AppendTimestamp(f[3], lt)
		load.AppendString(f[4], d.Destination)
		load.AppendNull(f[5], d.SetupTimeMs)
		load.AppendString(f[6], d.AccountID)
		load.AppendString(f[7], d.H323ConfID)
		load.AppendString(f[8], d.H323IncomingConfID)
		load.AppendNull(f[9], d.VoiceRecordExist)
		load.AppendString(f[10], d.Extras)
		load.AppendNull(f[11], d.ChargedTime)
		load.AppendMoney(f[12], d.Charged)
		load.AppendString(f[13], d.Curr)
		f[14].(*array.BooleanBuilder).Append(d.Duplicate)
	},
	// The same call sent twice by one extraction of one day, as in calls.
	Key: func(h *maphash.Hash, d *Detail) {
		h.WriteString(d.Customer)
		h.WriteByte(0)
		h.WriteString(d.Type)
		h.WriteByte(0)
		h.WriteString(d.CallID)
	},
	Repeat:     func(d *Detail) { d.Duplicate = true },
	Dictionary: []string{"customer_name", "type", "destination", "account_id", "curr"},
	Comments: map[string]string{
		"source":                "Hive partition: mtt.",
		"date":                  "Hive partition: the call's start day in the business time zone (as in calls).",
		"customer_name":         "MTT personal account the history was requested for (getServiceHistoryByCustomer customer_name); calls.account",
		"type":                  "history type: incoming, missed, dialed or forwarded; calls.direction incoming, missed, outgoing, forwarded",
		"call_id":               "natural key within (customer_name, type), calls.call_id: h323_conf_id, or sha256: of the raw row when that is empty",
		"customer_local_time":   "customer_local_time, as an instant (vendor time zone applied)",
		"destination":           "destination name as sent",
		"setup_time_ms":         "call setup time, milliseconds",
		"account_id":            "the MTT number (client number) the call went through",
		"h323_conf_id":          "call id as sent; with spaces replaced by _ it is the recordings id",
		"h323_incoming_conf_id": "id of the incoming leg",
		"voice_record_exist":    "as sent: true, false, or NULL when the row did not say (calls.has_recording is false then)",
		"extras":                "fields the API sent that this version does not know, as a JSON object ('' when none)",
		"charged_time":          "billed seconds (sum over legs with a charge); calls.billed_s",
		"charged":               "call cost, exact DECIMAL(18,4) from the JSON text; calls.cost",
		"curr":                  "currency of charged, e.g. RUB; calls.currency",
		"duplicate":             "True when an earlier row of the same extraction and day has the same customer_name, type and call_id (as calls.duplicate); NULL in files written before the flag",
	},
}

// AccountRow is one row of `mtt_accounts`, a snapshot of
// getPersonalAccountList per run day.
type AccountRow struct {
	Customer       string
	AccountNumber  string
	ActivationDate sql.Null[time.Time]
	Status         string
	RunID          string
	SnapshotAt     time.Time
}

// AccountsTable is `mtt_accounts`.
var AccountsTable = &load.Table[AccountRow]{
	Name: "mtt_accounts",
	Doc:  "MTT numbers per personal account (getPersonalAccountList), snapshot per run day",
	Schema: arrow.NewSchema([]arrow.Field{
		load.String("customer_name"), load.String("account_number"), load.Nullable("activation_date", load.TimestampType()),
		load.String("status"), load.String("run_id"), {Name: "snapshot_at", Type: load.TimestampType()},
	}, nil),
	Append: func(b *array.RecordBuilder, r *AccountRow) {
		load.AppendString(b.Field(0), r.Customer)
		load.AppendString(b.Field(1), r.AccountNumber)
		var t time.Time
		if r.ActivationDate.Valid {
			t = r.ActivationDate.V
		}
		load.AppendTimestamp(b.Field(2), t)
		load.AppendString(b.Field(3), r.Status)
		load.AppendString(b.Field(4), r.RunID)
		load.AppendTimestamp(b.Field(5), r.SnapshotAt)
	},
	Dictionary: []string{"customer_name", "status", "run_id"},
	Comments: map[string]string{
		"source":          "Hive partition: mtt.",
		"date":            "Hive partition: the run's day in the business time zone (the snapshot is replaced by a later run that day).",
		"customer_name":   "MTT personal account",
		"account_number":  "number (account) on the personal account",
		"activation_date": "activation date (DD.MM.YYYY HH:MM:SS in the vendor zone), as an instant",
		"status":          "account status as sent, e.g. active",
		"run_id":          "run that took the snapshot",
		"snapshot_at":     "when the snapshot was taken, UTC",
	},
}

// BalanceRow is one row of `mtt_balances`: getCustomerBalance, taken on
// every run so finance can follow balance movement.
type BalanceRow struct {
	Customer    string
	Balance     sql.Null[model.Money]
	RealBalance sql.Null[model.Money]
	Currency    string
	RunID       string
	TakenAt     time.Time
	// PendingPayment is pending_payment when it is an amount; Raw is the
	// answer's result as sent ("" when MTT had no balance).
	PendingPayment sql.Null[model.Money]
	Raw            string
}

// BalancesTable is `mtt_balances`.
var BalancesTable = &load.Table[BalanceRow]{
	Name: "mtt_balances",
	Doc:  "MTT balance (getCustomerBalance), one row per customer per run",
	Schema: arrow.NewSchema([]arrow.Field{
		load.String("customer_name"), load.Nullable("balance", load.MoneyType()), load.Nullable("real_balance", load.MoneyType()),
		load.String("currency"), load.String("run_id"), {Name: "taken_at", Type: load.TimestampType()},
		load.Nullable("pending_payment", load.MoneyType()), load.String("raw"),
	}, nil),
	Append: func(b *array.RecordBuilder, r *BalanceRow) {
		load.AppendString(b.Field(0), r.Customer)
		load.AppendMoney(b.Field(1), r.Balance)
		load.AppendMoney(b.Field(2), r.RealBalance)
		load.AppendString(b.Field(3), r.Currency)
		load.AppendString(b.Field(4), r.RunID)
		load.AppendTimestamp(b.Field(5), r.TakenAt)
		load.AppendMoney(b.Field(6), r.PendingPayment)
		load.AppendString(b.Field(7), r.Raw)
	},
	Dictionary: []string{"customer_name", "currency", "run_id"},
	Comments: map[string]string{
		"source":        "Hive partition: mtt.",
		"date":          "Hive partition: the run's day in the business time zone.",
		"customer_name": "MTT personal account",
		"balance":       "balance as getCustomerBalance reports it",
		"real_balance":  "real_balance as getCustomerBalance reports it",
		"currency":      "currency of the balance (the API does not say; RUB assumed)",
		"run_id":        "run that took the snapshot",
		"taken_at":      "when the balance was read, UTC",
		"pending_payment": "pending_payment as getCustomerBalance reports it (the document gives no type or meaning); " +
			"NULL when absent, null or not an amount (raw keeps it). NULL in files written before it was kept",
		"raw": "the getCustomerBalance result exactly as sent (JSON), every field included; '' when MTT answered " +
			"-32001 (no balance) and in files written before it was kept",
	},
}

// Tables lists the MTT detail tables.
func Tables() []load.TableInfo {
	return []load.TableInfo{CallsTable.Info(), AccountsTable.Info(), BalancesTable.Info(), CallbacksTable.Info()}
}
