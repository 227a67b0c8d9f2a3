package mtt

import (
	"database/sql"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/calletl/calletl/load"
	"github.com/calletl/calletl/model"
)

func str(name string) arrow.Field { return arrow.Field{Name: name, Type: arrow.BinaryTypes.String} }
func opt(name string, t arrow.DataType) arrow.Field {
	return arrow.Field{Name: name, Type: t, Nullable: true}
}

func appendInt32(b array.Builder, v sql.Null[int32]) {
	ib := b.(*array.Int32Builder)
	if !v.Valid {
		ib.AppendNull()
		return
	}
	ib.Append(v.V)
}

// CallsTable is `mtt_calls`: every documented field of
// getServiceHistoryByCustomer, one row per (customer, type, call).
var CallsTable = &load.Table[Detail]{
	Name: "mtt_calls",
	Doc:  "MTT call history (getServiceHistoryByCustomer), every documented field; one row per customer, type and call",
	Schema: arrow.NewSchema([]arrow.Field{
		str("customer_name"),
		str("type"),
		str("call_id"),
		str("cli"),
		str("cld"),
		opt("customer_local_time", load.TimestampType()),
		{Name: "connect_time", Type: load.TimestampType()},
		opt("charged_time", arrow.PrimitiveTypes.Int32),
		opt("charged", load.MoneyType()),
		str("curr"),
		str("destination"),
		opt("disconnect_cause", arrow.PrimitiveTypes.Int16),
		opt("setup_time_ms", arrow.PrimitiveTypes.Int32),
		str("account_id"),
		opt("used_quantity", arrow.PrimitiveTypes.Int32),
		str("h323_conf_id"),
		str("h323_incoming_conf_id"),
		opt("voice_record_exist", arrow.FixedWidthTypes.Boolean),
		str("extras"),
		str("run_id"),
		{Name: "extracted_at", Type: load.TimestampType()},
	}, nil),
	Append: func(b *array.RecordBuilder, d *Detail) {
		b.Field(0).(*array.StringBuilder).Append(d.Customer)
		b.Field(1).(*array.StringBuilder).Append(d.Type)
		b.Field(2).(*array.StringBuilder).Append(d.CallID)
		b.Field(3).(*array.StringBuilder).Append(d.CLI)
		b.Field(4).(*array.StringBuilder).Append(d.CLD)
		var lt time.Time
		if d.CustomerLocalTime.Valid {
			lt = d.CustomerLocalTime.V
		}
		load.AppendTimestamp(b.Field(5), lt)
		load.AppendTimestamp(b.Field(6), d.ConnectTime)
		appendInt32(b.Field(7), d.ChargedTime)
		load.AppendMoney(b.Field(8), d.Charged)
		b.Field(9).(*array.StringBuilder).Append(d.Curr)
		b.Field(10).(*array.StringBuilder).Append(d.Destination)
		cb := b.Field(11).(*array.Int16Builder)
		if d.DisconnectCause.Valid {
			cb.Append(d.DisconnectCause.V)
		} else {
			cb.AppendNull()
		}
		appendInt32(b.Field(12), d.SetupTimeMs)
		b.Field(13).(*array.StringBuilder).Append(d.AccountID)
		appendInt32(b.Field(14), d.UsedQuantity)
		b.Field(15).(*array.StringBuilder).Append(d.H323ConfID)
		b.Field(16).(*array.StringBuilder).Append(d.H323IncomingConfID)
		vb := b.Field(17).(*array.BooleanBuilder)
		if d.VoiceRecordExist.Valid {
			vb.Append(d.VoiceRecordExist.V)
		} else {
			vb.AppendNull()
		}
		b.Field(18).(*array.StringBuilder).Append(d.Extras)
		b.Field(19).(*array.StringBuilder).Append(d.RunID)
		load.AppendTimestamp(b.Field(20), d.ExtractedAt)
	},
	Dictionary: []string{"customer_name", "type", "curr", "destination", "account_id", "run_id"},
	Comments: map[string]string{
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
		str("customer_name"), str("account_number"), opt("activation_date", load.TimestampType()),
		str("status"), str("run_id"), {Name: "snapshot_at", Type: load.TimestampType()},
	}, nil),
	Append: func(b *array.RecordBuilder, r *AccountRow) {
		b.Field(0).(*array.StringBuilder).Append(r.Customer)
		b.Field(1).(*array.StringBuilder).Append(r.AccountNumber)
		var t time.Time
		if r.ActivationDate.Valid {
			t = r.ActivationDate.V
		}
		load.AppendTimestamp(b.Field(2), t)
		b.Field(3).(*array.StringBuilder).Append(r.Status)
		b.Field(4).(*array.StringBuilder).Append(r.RunID)
		load.AppendTimestamp(b.Field(5), r.SnapshotAt)
	},
	Dictionary: []string{"customer_name", "status", "run_id"},
	Comments: map[string]string{
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
		str("customer_name"), opt("balance", load.MoneyType()), opt("real_balance", load.MoneyType()),
		str("currency"), str("run_id"), {Name: "taken_at", Type: load.TimestampType()},
	}, nil),
	Append: func(b *array.RecordBuilder, r *BalanceRow) {
		b.Field(0).(*array.StringBuilder).Append(r.Customer)
		load.AppendMoney(b.Field(1), r.Balance)
		load.AppendMoney(b.Field(2), r.RealBalance)
		b.Field(3).(*array.StringBuilder).Append(r.Currency)
		b.Field(4).(*array.StringBuilder).Append(r.RunID)
		load.AppendTimestamp(b.Field(5), r.TakenAt)
	},
	Dictionary: []string{"customer_name", "currency", "run_id"},
	Comments: map[string]string{
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
