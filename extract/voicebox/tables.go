package voicebox

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/calletl/calletl/load"
)

// CallsTable is `voicebox_calls`: every call history row with the fields
// lifted from it and the row's JSON as sent; one row per customer and
// call, partitioned by the call's start day.
var CallsTable = &load.Table[CallRow]{
	Name: "voicebox_calls",
	Doc:  "MTT VoiceBox call history (GET /customers/{id}/callhistory): lifted fields and the row as sent; one row per customer and call",
	Schema: arrow.NewSchema([]arrow.Field{
		load.String("customer_id"),
		load.String("call_id"),
		load.String("call_id_field"),
		{Name: "started_at", Type: load.TimestampType()},
		load.Nullable("ended_at", load.TimestampType()),
		load.String("caller"),
		load.String("caller_raw"),
		load.String("callee"),
		load.String("callee_raw"),
		load.String("direction"),
		load.String("direction_raw"),
		load.Nullable("duration_s", arrow.PrimitiveTypes.Int32),
		load.Nullable("talk_s", arrow.PrimitiveTypes.Int32),
		load.String("status"),
		load.Nullable("cost", load.MoneyType()),
		load.String("cost_raw"),
		load.String("currency"),
		load.String("campaign_id"),
		load.String("campaign_name"),
		load.String("raw"),
		load.String("run_id"),
		{Name: "extracted_at", Type: load.TimestampType()},
	}, nil),
	Append: func(b *array.RecordBuilder, r *CallRow) {
		f := b.Fields()
		load.AppendString(f[0], r.Customer)
		load.AppendString(f[1], r.CallID)
		load.AppendString(f[2], r.CallIDField)
		load.AppendTimestamp(f[3], r.StartedAt)
		load.AppendTimestamp(f[4], r.EndedAt)
		load.AppendString(f[5], r.Caller)
		load.AppendString(f[6], r.CallerRaw)
		load.AppendString(f[7], r.Callee)
		load.AppendString(f[8], r.CalleeRaw)
		load.AppendString(f[9], r.Direction)
		load.AppendString(f[10], r.DirectionRaw)
		load.AppendNull(f[11], r.DurationS)
		load.AppendNull(f[12], r.TalkS)
		load.AppendString(f[13], r.Status)
		load.AppendMoney(f[14], r.Cost)
		load.AppendString(f[15], r.CostRaw)
		load.AppendString(f[16], r.Currency)
		load.AppendString(f[17], r.CampaignID)
		load.AppendString(f[18], r.CampaignName)
		load.AppendString(f[19], r.Raw)
		load.AppendString(f[20], r.RunID)
		load.AppendTimestamp(f[21], r.ExtractedAt)
	},
	Dictionary: []string{"customer_id", "call_id_field", "direction", "direction_raw", "status", "currency", "campaign_id", "campaign_name", "run_id"},
	Comments: map[string]string{
		"source":        "Hive partition: voicebox.",
		"date":          "Hive partition: the call's start day in the business time zone.",
		"customer_id":   "VoiceBox customer id the history was read for",
		"call_id":       "the row's id (first of id, callId, uuid, sessionId… present), else h + 16 hex digits of the SHA-256 of the row's canonical JSON",
		"call_id_field": "the field call_id came from; empty when it is a hash",
		"started_at":    "call start (startTime, callStart, started_at, date… as sent; times without a zone are in the vendor zone), UTC",
		"ended_at":      "call end (endTime, finished_at…), UTC; NULL when absent",
		"caller":        "calling number as E.164 digits (or the extension as it is)",
		"caller_raw":    "calling number as sent (from, callerNumber, ani, src…)",
		"callee":        "called number as E.164 digits (or the extension as it is)",
		"callee_raw":    "called number as sent (to, calledNumber, dnis, dst, phone…)",
		"direction":     "canonical direction: incoming (Входящая) or autocall (Исходящая, or unknown)",
		"direction_raw": "direction or campaign type as sent",
		"duration_s":    "call duration in seconds (duration, durationSec, callDuration…; ms fields converted); else end - start",
		"talk_s":        "talk time in seconds (talkDuration, billsec…); the duration when the row has none",
		"status":        "status as sent (status, result, disposition, state)",
		"cost":          "call cost, exact DECIMAL(18,4) from the JSON text (cost, price, amount, charge)",
		"cost_raw":      "cost as sent",
		"currency":      "currency of cost, upper case; RUB when the row has none",
		"campaign_id":   "campaign id (campaignId or campaign.id)",
		"campaign_name": "campaign name (campaignName or campaign.name)",
		"raw":           "the row's JSON exactly as the API sent it",
		"run_id":        "run that extracted the row",
		"extracted_at":  "when the row was extracted, UTC",
	},
}

// CampaignsTable is `voicebox_campaigns`: a per-run snapshot of
// GET /customers/{id}/campaigns and /callhistory/campaigns, partitioned by
// the run's day (one file per customer, replaced by a later run that day).
var CampaignsTable = &load.Table[CampaignRow]{
	Name: "voicebox_campaigns",
	Doc:  "MTT VoiceBox campaigns per customer (GET /campaigns and /callhistory/campaigns), snapshot per run day",
	Schema: arrow.NewSchema([]arrow.Field{
		load.String("customer_id"),
		load.String("campaign_id"),
		load.String("name"),
		load.String("campaign_type"),
		load.String("status"),
		load.String("listed_in"),
		load.String("raw"),
		load.String("run_id"),
		{Name: "snapshot_at", Type: load.TimestampType()},
	}, nil),
	Append: func(b *array.RecordBuilder, r *CampaignRow) {
		f := b.Fields()
		load.AppendString(f[0], r.Customer)
		load.AppendString(f[1], r.CampaignID)
		load.AppendString(f[2], r.Name)
		load.AppendString(f[3], r.CampaignType)
		load.AppendString(f[4], r.Status)
		load.AppendString(f[5], r.ListedIn)
		load.AppendString(f[6], r.Raw)
		load.AppendString(f[7], r.RunID)
		load.AppendTimestamp(f[8], r.SnapshotAt)
	},
	Dictionary: []string{"customer_id", "campaign_type", "status", "listed_in", "run_id"},
	Comments: map[string]string{
		"source":        "Hive partition: voicebox.",
		"date":          "Hive partition: the run's day in the business time zone (one snapshot per customer, replaced by a later run that day).",
		"customer_id":   "VoiceBox customer id",
		"campaign_id":   "campaign id (id or campaignId), else h + 16 hex digits of the SHA-256 of the row",
		"name":          "campaign name (name or campaignName)",
		"campaign_type": "campaign type as sent: Входящая or Исходящая",
		"status":        "campaign status as sent (Active, Paused, Stopped, Suspended); empty in callhistory rows",
		"listed_in":     "campaigns (GET /campaigns) or callhistory (GET /callhistory/campaigns: campaigns with call history, deleted ones included)",
		"raw":           "the row's JSON exactly as the API sent it",
		"run_id":        "run that took the snapshot",
		"snapshot_at":   "when the snapshot was taken, UTC",
	},
}

// Tables lists the VoiceBox detail tables.
func Tables() []load.TableInfo {
	return []load.TableInfo{CallsTable.Info(), CampaignsTable.Info()}
}
