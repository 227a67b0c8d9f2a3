package mtt

import (
	"database/sql"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/calletl/calletl/load"
	"github.com/calletl/calletl/model"
)

// CallsTable is `mtt_calls`: every documented field of
// getServiceHistoryByCustomer, one row per (customer, type, call).
var CallsTable = &load.Table[Detail]{
	Name: "mtt_calls",
	Doc:  "MTT call history (getServiceHistoryByCustomer), every documented field; one row per customer, type and call",
	Schema: arrow.NewSchema([]arrow.Field{
		load.String("customer_name"),
		load.String("type"),
		load.String("call_id"),
		load.String("cli"),
		load.String("cld"),
		load.Nullable("customer_local_time", load.TimestampType()),
		{Name: "connect_time", Type: load.TimestampType()},
		load.Nullable("charged_time", arrow.PrimitiveTypes.Int32),
		load.Nullable("charged", load.MoneyType()),
		load.String("curr"),
		load.String("destination"),
		load.Nullable("disconnect_cause", arrow.PrimitiveTypes.Int16),
		load.Nullable("setup_time_ms", arrow.PrimitiveTypes.Int32),
		load.String("account_id"),
		load.Nullable("used_quantity", arrow.PrimitiveTypes.Int32),
		load.String("h323_conf_id"),
		load.String("h323_incoming_conf_id"),
		load.Nullable("voice_record_exist", arrow.FixedWidthTypes.Boolean),
		load.String("extras"),
		load.String("run_id"),
		{Name: "extracted_at", Type: load.TimestampType()},
	}, nil),
	Append: func(b *array.RecordBuilder, d *Detail) {
		load.AppendString(b.Field(0), d.Customer)
		load.AppendString(b.Field(1), d.Type)
		load.AppendString(b.Field(2), d.CallID)
		load.AppendString(b.Field(3), d.CLI)
		load.AppendString(b.Field(4), d.CLD)
		var lt time.Time
		if d.CustomerLocalTime.Valid {
			lt = d.CustomerLocalTime.V
		}
		load.AppendTimestamp(b.Field(5), lt)
		load.AppendTimestamp(b.Field(6), d.ConnectTime)
		load.AppendNull(b.Field(7), d.ChargedTime)
		load.AppendMoney(b.Field(8), d.Charged)
		load.AppendString(b.Field(9), d.Curr)
		load.AppendString(b.Field(10), d.Destination)
		load.AppendNull(b.Field(11), d.DisconnectCause)
		load.AppendNull(b.Field(12), d.SetupTimeMs)
		load.AppendString(b.Field(13), d.AccountID)
		load.AppendNull(b.Field(14), d.UsedQuantity)
		load.AppendString(b.Field(15), d.H323ConfID)
		load.AppendString(b.Field(16), d.H323IncomingConfID)
		load.AppendNull(b.Field(17), d.VoiceRecordExist)
		load.AppendString(b.Field(18), d.Extras)
		load.AppendString(b.Field(19), d.RunID)
		load.AppendTimestamp(b.Field(20), d.ExtractedAt)
	},
	Dictionary: []string{"customer_name", "type", "curr", "destination", "account_id", "run_id"},
	Comments: map[string]string{
		"source":                "Hive partition: mtt.",
		"date":                  "Hive partition: the call's start day in the business time zone.",
		"customer_name":         "MTT personal account the history was requested for (getServiceHistoryByCustomer customer_name)",
		"type":                  "history type: incoming, missed, dialed or forwarded",
		"call_id":               "natural key within (customer_name, type): h323_conf_id, or sha256: of the raw row when that is empty",
		"cli":                   "A-number as sent (for forwarded: the original caller)",
		"cld":                   "B-number as sent (\"cld\", or \"clid\" in some answers; for forwarded: the forward target)",
		"customer_local_time":   "customer_local_time, as an instant (vendor time zone applied)",
		"connect_time":          "connect_time: call start, UTC",
		"charged_time":          "billed seconds (sum over legs with a charge)",
		"charged":               "call cost, exact DECIMAL(18,4) from the JSON text",
		"curr":                  "currency of charged, e.g. RUB",
		"destination":           "destination name as sent",
		"disconnect_cause":      "Q.850/ISUP cause of the last leg",
		"setup_time_ms":         "call setup time, milliseconds",
		"account_id":            "the MTT number (client number) the call went through",
		"used_quantity":         "connected seconds in the session",
		"h323_conf_id":          "call id; with spaces replaced by _ it is the recordings id",
		"h323_incoming_conf_id": "id of the incoming leg",
		"voice_record_exist":    "true when a recording exists",
		"extras":                "fields the API sent that this version does not know, as a JSON object ('' when none)",
		"run_id":                "run that extracted the row",
		"extracted_at":          "when the row was extracted, UTC",
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
}

// BalancesTable is `mtt_balances`.
var BalancesTable = &load.Table[BalanceRow]{
	Name: "mtt_balances",
	Doc:  "MTT balance (getCustomerBalance), one row per customer per run",
	Schema: arrow.NewSchema([]arrow.Field{
		load.String("customer_name"), load.Nullable("balance", load.MoneyType()), load.Nullable("real_balance", load.MoneyType()),
		load.String("currency"), load.String("run_id"), {Name: "taken_at", Type: load.TimestampType()},
	}, nil),
	Append: func(b *array.RecordBuilder, r *BalanceRow) {
		load.AppendString(b.Field(0), r.Customer)
		load.AppendMoney(b.Field(1), r.Balance)
		load.AppendMoney(b.Field(2), r.RealBalance)
		load.AppendString(b.Field(3), r.Currency)
		load.AppendString(b.Field(4), r.RunID)
		load.AppendTimestamp(b.Field(5), r.TakenAt)
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
	},
}

// Tables lists the MTT detail tables.
func Tables() []load.TableInfo {
	return []load.TableInfo{CallsTable.Info(), AccountsTable.Info(), BalancesTable.Info()}
}
