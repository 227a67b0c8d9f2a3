package mtt

import (
	"database/sql"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/calletl/calletl/load"
	"github.com/calletl/calletl/model"
)

// Callback outcomes (mtt_callbacks.outcome). A "Call ended by <reason> on
// side <X>" answer is "<reason>_<x>" (timeout_a, cancel_a, cancel_b).
const (
	OutcomeCompleted = "completed" // call_back_status "ok": final
	OutcomeUnknown   = "unknown"   // any other status: asked again next run
)

// CallbackRow is one row of `mtt_callbacks`: one callBackFollowmeCallInfo
// (seq 1; an answer with several has seq 1..n), or one documented
// "Call ended by …" answer (seq 1, the legs NULL).
type CallbackRow struct {
	Customer     string
	CallbackID   string
	Seq          int32
	CallID       string // calls.call_id
	Outcome      string
	Status       string // call_back_status, or the "Call ended by …" text
	DestinationA string
	DestinationB string
	WaitingA     sql.Null[int32]
	WaitingB     sql.Null[int32]
	ChargedA     sql.Null[int32]
	RealA        sql.Null[int32]
	ChargedB     sql.Null[int32]
	RealB        sql.Null[int32]
	Cost         sql.Null[model.Money]
	Currency     string
	RecordsA     int32 // download URLs of leg A's recording (not stored: they are credentials)
	RecordsB     int32
	Description  string
	Final        bool
	Extras       string
	RunID        string
	ExtractedAt  time.Time
}

// CallbacksTable is `mtt_callbacks`.
var CallbacksTable = &load.Table[CallbackRow]{
	Name: "mtt_callbacks",
	Doc: "MTT callback calls (getCallBackFollowmeCallInfo): both legs' lengths, cost and status, one row per callback id " +
		"(and seq); joined to calls on source, date, account = customer_name, direction 'callback' and call_id",
	Schema: arrow.NewSchema([]arrow.Field{
		load.String("customer_name"),
		load.String("callback_id"),
		load.Required("seq", arrow.PrimitiveTypes.Int32),
		load.String("call_id"),
		load.String("outcome"),
		load.String("status"),
		load.String("destination_a"),
		load.String("destination_b"),
		load.Nullable("waiting_period_a_s", arrow.PrimitiveTypes.Int32),
		load.Nullable("waiting_period_b_s", arrow.PrimitiveTypes.Int32),
		load.Nullable("charged_length_a_s", arrow.PrimitiveTypes.Int32),
		load.Nullable("real_length_a_s", arrow.PrimitiveTypes.Int32),
		load.Nullable("charged_length_b_s", arrow.PrimitiveTypes.Int32),
		load.Nullable("real_length_b_s", arrow.PrimitiveTypes.Int32),
		load.Nullable("cost", load.MoneyType()),
		load.String("currency"),
		load.Required("records_a", arrow.PrimitiveTypes.Int32),
		load.Required("records_b", arrow.PrimitiveTypes.Int32),
		load.String("call_description"),
		load.Required("final", arrow.FixedWidthTypes.Boolean),
		load.String("extras"),
		load.String("run_id"),
		load.Nullable("extracted_at", load.TimestampType()),
	}, nil),
	Append: func(b *array.RecordBuilder, r *CallbackRow) {
		f := b.Fields()
		load.AppendString(f[0], r.Customer)
		load.AppendString(f[1], r.CallbackID)
		f[2].(*array.Int32Builder).Append(r.Seq)
		load.AppendString(f[3], r.CallID)
		load.AppendString(f[4], r.Outcome)
		load.AppendString(f[5], r.Status)
		load.AppendString(f[6], r.DestinationA)
		load.AppendString(f[7], r.DestinationB)
		for i, v := range []sql.Null[int32]{r.WaitingA, r.WaitingB, r.ChargedA, r.RealA, r.ChargedB, r.RealB} {
			load.AppendNull(f[8+i], v)
		}
		load.AppendMoney(f[14], r.Cost)
		load.AppendString(f[15], r.Currency)
		f[16].(*array.Int32Builder).Append(r.RecordsA)
		f[17].(*array.Int32Builder).Append(r.RecordsB)
		load.AppendString(f[18], r.Description)
		f[19].(*array.BooleanBuilder).Append(r.Final)
		load.AppendString(f[20], r.Extras)
		load.AppendString(f[21], r.RunID)
		load.AppendTimestamp(f[22], r.ExtractedAt)
	},
	Dictionary: []string{"customer_name", "outcome", "status", "currency", "run_id"},
	Comments: map[string]string{
		"source": "Hive partition: mtt.",
		"date": "Hive partition: the business day of the run that extracted the answer. The answer carries no time, " +
			"so a callback is dated by the run that first saw it finished (rows move to a later day while it is not final).",
		"customer_name":      "customer_name getCallBackFollowmeCallInfo was asked with (sources.mtt.callback_customer); calls.account",
		"callback_id":        "callBackCall_id, as makeCallBackCallFollowme returned it",
		"seq":                "1-based position in the answer's callBackFollowmeCallInfoStruct (documented as an array; its example is one object)",
		"call_id":            "calls.call_id: callback_id, or callback_id-seq when the answer has several elements",
		"outcome":            "completed (call_back_status ok), unknown (another status: asked again next run), or <reason>_<side> for a documented 'Call ended by <reason> on side <X>' answer: timeout_a, cancel_a, cancel_b",
		"status":             "call_back_status as sent, or the 'Call ended by …' text",
		"destination_a":      "destination_A: the A number (the operator side) as sent",
		"destination_b":      "destination_B: the B number (the customer who ordered the call) as sent",
		"waiting_period_a_s": "waiting_period_A: seconds until A answered",
		"waiting_period_b_s": "waiting_period_B: seconds until B answered",
		"charged_length_a_s": "call_back_charged_length_A: billed seconds of leg A (calls.billed_s is the two legs' sum, as the history's charged_time sums legs)",
		"real_length_a_s":    "call_back_real_length_A: connected seconds of leg A (calls.duration_s and talk_s are the two legs' sum, as the history's used_quantity)",
		"charged_length_b_s": "call_back_charged_length_B: billed seconds of leg B",
		"real_length_b_s":    "call_back_real_length_B: connected seconds of leg B: the conversation itself",
		"cost":               "call_back_cost: the cost of both legs (calls.cost); NULL for an ended-without-conversation answer, which gives none",
		"currency":           "call_back_currency (RUB when not sent)",
		"records_a":          "number of recording files of leg A the answer listed (the URLs are not stored; recordings holds the files)",
		"records_b":          "number of recording files of leg B",
		"call_description":   "callDescription as sent",
		"final":              "true when the callback will not change: completed or ended; false rows are asked again next run",
		"extras":             "members the API sent that this version does not know, as a JSON object ('' when none)",
		"run_id":             "run that extracted the row",
		"extracted_at":       "when the row was extracted, UTC",
	},
}
