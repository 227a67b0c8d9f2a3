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

// NumbersTable is `voicebox_numbers`: a per-run snapshot of
// GET /customers/{id}/numbers with each number's monthly fee
// (GET /customers/{id}/numbers/{number_id}/price), partitioned by the
// run's day (one file per customer, replaced by a later run that day).
var NumbersTable = &load.Table[NumberRow]{
	Name: "voicebox_numbers",
	Doc:  "MTT VoiceBox numbers per customer (GET /customers/{id}/numbers) with each number's monthly fee (…/numbers/{number_id}/price), snapshot per run day",
	Schema: arrow.NewSchema([]arrow.Field{
		load.String("customer_id"),
		load.String("number_id"),
		load.String("number"),
		load.String("number_raw"),
		load.String("number_type"),
		load.String("owner"),
		load.String("region_name"),
		load.String("region_code"),
		load.String("category"),
		load.String("description"),
		load.String("campaigns"),
		load.Nullable("monthly_fee", load.MoneyType()),
		load.String("fee_raw"),
		load.String("currency"),
		load.String("price_raw"),
		load.String("raw"),
		load.String("run_id"),
		{Name: "snapshot_at", Type: load.TimestampType()},
	}, nil),
	Append: func(b *array.RecordBuilder, r *NumberRow) {
		f := b.Fields()
		load.AppendString(f[0], r.Customer)
		load.AppendString(f[1], r.NumberID)
		load.AppendString(f[2], r.Number)
		load.AppendString(f[3], r.NumberRaw)
		load.AppendString(f[4], r.Type)
		load.AppendString(f[5], r.Owner)
		load.AppendString(f[6], r.RegionName)
		load.AppendString(f[7], r.RegionCode)
		load.AppendString(f[8], r.Category)
		load.AppendString(f[9], r.Description)
		load.AppendString(f[10], r.Campaigns)
		load.AppendMoney(f[11], r.MonthlyFee)
		load.AppendString(f[12], r.FeeRaw)
		load.AppendString(f[13], r.Currency)
		load.AppendString(f[14], r.PriceRaw)
		load.AppendString(f[15], r.Raw)
		load.AppendString(f[16], r.RunID)
		load.AppendTimestamp(f[17], r.SnapshotAt)
	},
	Dictionary: []string{"customer_id", "number_type", "owner", "region_name", "region_code", "category", "currency", "run_id"},
	Comments: map[string]string{
		"source":      "Hive partition: voicebox.",
		"date":        "Hive partition: the run's day in the business time zone (one snapshot per customer, replaced by a later run that day): the days the number was held.",
		"customer_id": "VoiceBox customer id (the account of calls and balances)",
		"number_id":   "{number_id} of the price path: the row's id, else its number (the document lists no id), else h + 16 hex digits of the SHA-256 of the row",
		"number":      "the number as E.164 digits",
		"number_raw":  "number as sent (a JSON integer)",
		"number_type": "type as sent: ABC, DEF, TollFree",
		"owner":       "owner as sent (MTT)",
		"region_name": "regionName as sent",
		"region_code": "regionCode as sent (MOW, SPE…)",
		"category":    "category as sent (REGULAR, SILVER, GOLD, PLATINUM)",
		"description": "description as sent",
		"campaigns":   "the campaigns on the number: the array's JSON as sent ('' when absent)",
		"monthly_fee": "the number's monthly fee (абонентская плата) from GET …/numbers/{number_id}/price, exact DECIMAL(18,4); NULL when the price answered 404 or the row has no number",
		"fee_raw":     "the fee as sent",
		"currency":    "currency of the fee, upper case; RUB when the answer has none ('' when no fee)",
		"price_raw":   "the price answer's JSON as sent ('' when not fetched)",
		"raw":         "the numbers row's JSON exactly as the API sent it",
		"run_id":      "run that took the snapshot",
		"snapshot_at": "when the snapshot was taken, UTC",
	},
}

// CustomersTable is `voicebox_customers`: a per-run snapshot of
// GET /customers/{id}, the customer's name and personal account, without
// the credentials the answer carries.
var CustomersTable = &load.Table[CustomerRow]{
	Name: "voicebox_customers",
	Doc:  "MTT VoiceBox customers (GET /customers/{id}): who each customer id is, snapshot per run day, credentials removed",
	Schema: arrow.NewSchema([]arrow.Field{
		load.String("customer_id"),
		load.String("id"),
		load.String("name"),
		load.String("status"),
		load.String("description"),
		load.String("email"),
		load.String("phone"),
		load.String("personal_account"),
		load.String("manager_email"),
		load.String("tariffication_params"),
		load.String("raw"),
		load.String("run_id"),
		{Name: "snapshot_at", Type: load.TimestampType()},
	}, nil),
	Append: func(b *array.RecordBuilder, r *CustomerRow) {
		f := b.Fields()
		load.AppendString(f[0], r.Customer)
		load.AppendString(f[1], r.CustomerID)
		load.AppendString(f[2], r.Name)
		load.AppendString(f[3], r.Status)
		load.AppendString(f[4], r.Description)
		load.AppendString(f[5], r.Email)
		load.AppendString(f[6], r.Phone)
		load.AppendString(f[7], r.PersonalAccount)
		load.AppendString(f[8], r.ManagerEmail)
		load.AppendString(f[9], r.Tariffication)
		load.AppendString(f[10], r.Raw)
		load.AppendString(f[11], r.RunID)
		load.AppendTimestamp(f[12], r.SnapshotAt)
	},
	Dictionary: []string{"customer_id", "status", "run_id"},
	Comments: map[string]string{
		"source":               "Hive partition: voicebox.",
		"date":                 "Hive partition: the run's day in the business time zone (one row per customer, replaced by a later run that day).",
		"customer_id":          "the configured customer id (the account of calls, balances and voicebox_numbers)",
		"id":                   "id as the answer gives it",
		"name":                 "the customer's name (company) as sent",
		"status":               "status as sent",
		"description":          "description as sent",
		"email":                "email as sent",
		"phone":                "phone as sent",
		"personal_account":     "personalAccount: the MTT personal account the customer is billed on",
		"manager_email":        "managerEmail as sent",
		"tariffication_params": "tarifficationParams' JSON as sent ('' when absent)",
		"raw":                  "the answer re-encoded (keys sorted) WITHOUT every member whose name contains password, secret or token (password, passwordRL): the API hands out credentials, the lake never keeps them",
		"run_id":               "run that took the snapshot",
		"snapshot_at":          "when the snapshot was taken, UTC",
	},
}

// Tables lists the VoiceBox detail tables.
func Tables() []load.TableInfo {
	return []load.TableInfo{CallsTable.Info(), CampaignsTable.Info(), NumbersTable.Info(), CustomersTable.Info()}
}
