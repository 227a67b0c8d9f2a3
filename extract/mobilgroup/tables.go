package mobilgroup

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/calletl/calletl/load"
)

func ts(name string) arrow.Field { return load.Nullable(name, load.TimestampType()) }

func optString(name string) arrow.Field { return load.Nullable(name, arrow.BinaryTypes.String) }

func nullInt(name string) arrow.Field { return load.Nullable(name, arrow.PrimitiveTypes.Int32) }

func money(name string) arrow.Field { return load.Nullable(name, load.MoneyType()) }

// Tables lists the vendor tables this source writes (besides the canonical
// calls, rejects and balances).
func Tables() []load.TableInfo { return []load.TableInfo{BroadcastsTable.Info(), CallsTable.Info()} }

// BroadcastsTable is `mobilgroup_broadcasts`: one row per broadcast per
// extraction.
var BroadcastsTable = func() *load.Table[BroadcastRow] {
	fs := []arrow.Field{
		load.String("broadcast_id"), nullInt("phones"), money("budget"),
		load.Required("price_total", load.MoneyType()),
		load.Required("subscribers", arrow.PrimitiveTypes.Int64),
		load.Required("rejected_subscribers", arrow.PrimitiveTypes.Int64),
		load.Required("called_subscribers", arrow.PrimitiveTypes.Int64),
	}
	comments := map[string]string{
		"date":                 "Hive partition: the business-zone day of the earliest subscriber date (the run's day when no subscriber has a date yet).",
		"source":               "Hive partition: mobilgroup.",
		"broadcast_id":         "id: the broadcast (рассылка) id",
		"phones":               "phones: the number of phones in the broadcast, as the vendor counts them",
		"budget":               "budget: the broadcast's total cost, roubles (an estimate until every subscriber is final)",
		"price_total":          "sum of the price of the subscribers in mobilgroup_calls (rejected ones excluded), roubles",
		"subscribers":          "subscribers listed in the state answer (rejected ones included)",
		"rejected_subscribers": "subscribers that failed validation (in rejects)",
		"called_subscribers":   "subscribers with a date (called at least once)",
	}
	for _, s := range Statuses {
		col := "status_" + s
		fs = append(fs, load.Required(col, arrow.PrimitiveTypes.Int64))
		comments[col] = "mapped subscribers whose status normalises to " + s
	}
	fs = append(fs, ts("first_called_at"), ts("last_called_at"),
		load.Required("final", arrow.FixedWidthTypes.Boolean),
		load.String("extras"), load.String("run_id"), ts("extracted_at"))
	comments["first_called_at"] = "earliest subscriber date, UTC; NULL when none"
	comments["last_called_at"] = "latest subscriber date, UTC; NULL when none"
	comments["final"] = "at least one subscriber, every subscriber final (see mobilgroup_calls.final) and none rejected: the broadcast will not be fetched again"
	comments["extras"] = "answer members this version does not know, as a JSON object ('' when none)"
	comments["run_id"] = "run that extracted the row"
	comments["extracted_at"] = "when the row was extracted, UTC"
	return &load.Table[BroadcastRow]{
		Name:   "mobilgroup_broadcasts",
		Doc:    "Mobilgroup voice broadcasts (api/get state): one row per broadcast as its latest extraction saw it",
		Schema: arrow.NewSchema(fs, nil),
		Append: func(b *array.RecordBuilder, r *BroadcastRow) {
			load.AppendString(b.Field(0), r.BroadcastID)
			load.AppendNull(b.Field(1), r.Phones)
			load.AppendMoney(b.Field(2), r.Budget)
			b.Field(3).(*array.Decimal128Builder).Append(load.Decimal(r.PriceTotal))
			b.Field(4).(*array.Int64Builder).Append(r.Subscribers)
			b.Field(5).(*array.Int64Builder).Append(r.Rejected)
			b.Field(6).(*array.Int64Builder).Append(r.Called)
			for i, s := range Statuses {
				b.Field(7 + i).(*array.Int64Builder).Append(r.ByStatus[s])
			}
			n := 7 + len(Statuses)
			load.AppendTimestamp(b.Field(n), r.FirstCalledAt)
			load.AppendTimestamp(b.Field(n+1), r.LastCalledAt)
			b.Field(n + 2).(*array.BooleanBuilder).Append(r.Final)
			load.AppendString(b.Field(n+3), r.Extras)
			load.AppendString(b.Field(n+4), r.RunID)
			load.AppendTimestamp(b.Field(n+5), r.ExtractedAt)
		},
		Dictionary: []string{"run_id"},
		Comments:   comments,
	}
}()

// CallsTable is `mobilgroup_calls`: one row per subscriber of a broadcast.
var CallsTable = &load.Table[CallRow]{
	Name: "mobilgroup_calls",
	Doc:  "Mobilgroup broadcast subscribers (api/get state): one row per subscriber, with its transfer and SMS legs",
	Schema: arrow.NewSchema([]arrow.Field{
		load.String("broadcast_id"), load.Required("seq", arrow.PrimitiveTypes.Int32),
		load.String("phone"), load.String("phone_raw"), ts("called_at"),
		load.String("status_text"), load.String("status"), load.Required("final", arrow.FixedWidthTypes.Boolean),
		nullInt("attempts"), nullInt("duration_s"), money("price"),
		optString("transfer_number"), optString("transfer_number_raw"), nullInt("transfer_duration_s"),
		money("transfer_price"), optString("transfer_status_text"), optString("transfer_status"),
		ts("sms_date"), optString("sms_message"), nullInt("sms_parts"), money("sms_price"),
		optString("sms_status_text"), optString("sms_status"),
		load.String("extras"), load.String("run_id"), ts("extracted_at"),
	}, nil),
	Append: func(b *array.RecordBuilder, r *CallRow) {
		f := b.Fields()
		load.AppendString(f[0], r.BroadcastID)
		f[1].(*array.Int32Builder).Append(r.Seq)
		load.AppendString(f[2], r.Phone)
		load.AppendString(f[3], r.PhoneRaw)
		load.AppendTimestamp(f[4], r.CalledAt)
		load.AppendString(f[5], r.StatusText)
		load.AppendString(f[6], r.Status)
		f[7].(*array.BooleanBuilder).Append(r.Final)
		load.AppendNull(f[8], r.Attempts)
		load.AppendNull(f[9], r.DurationS)
		load.AppendMoney(f[10], r.Price)
		load.AppendNull(f[11], r.TransferNumber)
		load.AppendNull(f[12], r.TransferNumberRaw)
		load.AppendNull(f[13], r.TransferDurationS)
		load.AppendMoney(f[14], r.TransferPrice)
		load.AppendNull(f[15], r.TransferStatusTxt)
		load.AppendNull(f[16], r.TransferStatus)
		load.AppendTimestamp(f[17], r.SMSDate)
		load.AppendNull(f[18], r.SMSMessage)
		load.AppendNull(f[19], r.SMSParts)
		load.AppendMoney(f[20], r.SMSPrice)
		load.AppendNull(f[21], r.SMSStatusText)
		load.AppendNull(f[22], r.SMSStatus)
		load.AppendString(f[23], r.Extras)
		load.AppendString(f[24], r.RunID)
		load.AppendTimestamp(f[25], r.ExtractedAt)
	},
	Dictionary: []string{"broadcast_id", "status_text", "status", "transfer_status_text", "transfer_status",
		"sms_status_text", "sms_status", "run_id"},
	Comments: map[string]string{
		"date":                 "Hive partition: the call's day in the business time zone, or the broadcast's day when the subscriber has no date.",
		"source":               "Hive partition: mobilgroup.",
		"broadcast_id":         "the broadcast id",
		"seq":                  "1-based position of the subscriber in the state answer: the stable key (a phone can repeat)",
		"phone":                "phone as E.164 digits",
		"phone_raw":            "phone as sent",
		"called_at":            "date (Moscow time by default) as a UTC instant; NULL when not called yet",
		"status_text":          "status as sent (Russian)",
		"status":               "status normalised: answered, busy, no_answer, unavailable, failed, rejected, pending, unknown",
		"final":                "the subscriber will not change: a result status (not pending or unknown), no SMS pending, and no redial can still come (answered, 3 attempts used, or called at least the redial window, 2h30m, before the run started)",
		"attempts":             "attempts: dial attempts",
		"duration_s":           "duration: seconds talked with the subscriber",
		"price":                "price: the subscriber's total cost in roubles, transfer and SMS legs included",
		"transfer_number":      "transfer.number as E.164 digits; NULL when there was no transfer",
		"transfer_number_raw":  "transfer.number as sent",
		"transfer_duration_s":  "transfer.duration: seconds the operator talked with the subscriber",
		"transfer_price":       "transfer.price: cost of the transfer leg, roubles (part of price)",
		"transfer_status_text": "transfer.status as sent",
		"transfer_status":      "transfer.status normalised like status",
		"sms_date":             "sms.date as a UTC instant; NULL when there was no SMS or no date",
		"sms_message":          "sms.message: the SMS text",
		"sms_parts":            "sms.partition: SMS parts in the message",
		"sms_price":            "sms.price: cost of the SMS, roubles (part of price)",
		"sms_status_text":      "sms.status as sent",
		"sms_status":           "sms.status normalised: delivered, undelivered, sent, pending, unknown",
		"extras":               "subscriber members this version does not know (transfer.* and sms.* for the legs), as a JSON object ('' when none)",
		"run_id":               "run that extracted the row",
		"extracted_at":         "when the row was extracted, UTC",
	},
}
