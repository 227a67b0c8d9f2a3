package receive

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/calletl/calletl/load"
)

func ts(name string) arrow.Field    { return load.Nullable(name, load.TimestampType()) }
func i32(name string) arrow.Field   { return load.Nullable(name, arrow.PrimitiveTypes.Int32) }
func money(name string) arrow.Field { return load.Nullable(name, load.MoneyType()) }

// Tables lists the lake tables the receiver writes.
func Tables() []load.TableInfo { return []load.TableInfo{VotBoxEvents.Info(), MTTEvents.Info()} }

// VotBoxEvents is `votbox_events`: one row per VotBox notification.
var VotBoxEvents = &load.Table[VotBoxRow]{
	Name: "votbox_events",
	Doc:  "VotBox NotifyUrl notifications received by etl receive: one row per event (CALLOUT … ENDCALL), deduplicated by event_id",
	Schema: arrow.NewSchema([]arrow.Field{
		load.String("event_id"), load.String("call_id"), load.String("state"), ts("event_time"),
		load.String("ani"), load.String("dnis"), load.String("phone"), i32("rel"),
		load.String("dtmf"), load.String("addinfo"), load.String("filename"),
		i32("call_duration"), i32("oper_call_duration"), i32("job_status"),
		money("call_pay"), money("oper_call_pay"), i32("duration"), i32("link_duration"),
		load.String("fields"), load.Required("received_at", load.TimestampType()),
	}, nil),
	Append: func(b *array.RecordBuilder, r *VotBoxRow) {
		f := b.Fields()
		load.AppendString(f[0], r.EventID)
		load.AppendString(f[1], r.CallID)
		load.AppendString(f[2], r.State)
		load.AppendTimestamp(f[3], r.EventTime)
		load.AppendString(f[4], r.ANI)
		load.AppendString(f[5], r.DNIS)
		load.AppendString(f[6], r.Phone)
		load.AppendNull(f[7], r.Rel)
		load.AppendString(f[8], r.DTMF)
		load.AppendString(f[9], r.AddInfo)
		load.AppendString(f[10], r.FileName)
		load.AppendNull(f[11], r.CallDuration)
		load.AppendNull(f[12], r.OperCallDuration)
		load.AppendNull(f[13], r.JobStatus)
		load.AppendMoney(f[14], r.CallPay)
		load.AppendMoney(f[15], r.OperCallPay)
		load.AppendNull(f[16], r.Duration)
		load.AppendNull(f[17], r.LinkDuration)
		load.AppendString(f[18], r.Fields)
		load.AppendTimestamp(f[19], r.ReceivedAt)
	},
	Dictionary: []string{"state"},
	Comments: map[string]string{
		"date":               "Hive partition: the event's day (DT, else the arrival) in the business time zone.",
		"source":             "Hive partition: the receive endpoint's source name (votbox).",
		"event_id":           "Dedupe id: SHA-256 (first 128 bits, hex) of vendor, source and every field as received; a vendor's retry has the same id.",
		"call_id":            "CALLID: the call (item.id of autocall.check, votbox_calls.item_id).",
		"state":              "STATE: STARTCALL, CALLOUT, REDIRECT, CALLPROCESS, CALLNOANSWER, QUEUESTART, QUEUEEND, GETDTMF, ENDCALL, VOICEMAIL, RECORDTALK, or what VotBox sent.",
		"event_time":         "DT (DD.MM.YYYY HH:MM:SS, Moscow time) as a UTC instant; NULL when absent.",
		"ani":                "ANI as E.164 digits ('' when absent).",
		"dnis":               "DNIS as E.164 digits.",
		"phone":              "PHONE (REDIRECT: the operator's number) as E.164 digits.",
		"rel":                "REL (CALLNOANSWER): the release cause.",
		"dtmf":               "DTMF (GETDTMF): the keys pressed.",
		"addinfo":            "addinfo (REDIRECT): the FLIST DESCR of the subscriber.",
		"filename":           "FILENAME (VOICEMAIL, RECORDTALK).",
		"call_duration":      "CALLDURATION (autocall ENDCALL): seconds connected to the subscriber.",
		"oper_call_duration": "OPERCALLDURATION (ENDCALL): seconds connected to the operator.",
		"job_status":         "JOBSTATUS (ENDCALL): the call's jobstatus (3 success, 4 operator, …).",
		"call_pay":           "CALLPAY (ENDCALL): cost of the call to the subscriber, roubles (sent in kopecks).",
		"oper_call_pay":      "OPERCALLPAY (ENDCALL): cost of the call to the operator, roubles (sent in kopecks).",
		"duration":           "DURATION (inbound ENDCALL): call seconds.",
		"link_duration":      "LINKDURATION (inbound ENDCALL): connected seconds.",
		"fields":             "Every field as received (keys upper-cased), a JSON object.",
		"received_at":        "When etl receive stored the event, UTC.",
	},
}

// MTTEvents is `mtt_events`: one row per MTT call-progress notification.
var MTTEvents = &load.Table[MTTRow]{
	Name: "mtt_events",
	Doc:  "MTT call-progress notifications received by etl receive (follow-me event_URL, smart-call and callback events): one row per event, deduplicated by event_id",
	Schema: arrow.NewSchema([]arrow.Field{
		load.String("event_id"), load.String("kind"), load.String("call_id"), load.String("event"), load.String("side"),
		ts("event_time"), load.String("number"), load.String("number_a"), load.String("sip_id"),
		load.String("redirect_number"), load.String("client_id"), load.String("task_id"),
		load.String("dtmf"), load.String("notify_type"), i32("cause"), i32("duration"),
		load.String("data"), load.String("fields"), load.Required("received_at", load.TimestampType()),
	}, nil),
	Append: func(b *array.RecordBuilder, r *MTTRow) {
		f := b.Fields()
		for i, s := range []string{r.EventID, r.Kind, r.CallID, r.Event, r.Side} {
			load.AppendString(f[i], s)
		}
		load.AppendTimestamp(f[5], r.EventTime)
		for i, s := range []string{r.Number, r.NumberA, r.SIPID, r.RedirectNumber, r.ClientID, r.TaskID, r.DTMF, r.NotifyType} {
			load.AppendString(f[6+i], s)
		}
		load.AppendNull(f[14], r.Cause)
		load.AppendNull(f[15], r.Duration)
		load.AppendString(f[16], r.Data)
		load.AppendString(f[17], r.Fields)
		load.AppendTimestamp(f[18], r.ReceivedAt)
	},
	Dictionary: []string{"kind", "event", "side", "notify_type"},
	Comments: map[string]string{
		"date":            "Hive partition: the event's day (its time, else the arrival) in the business time zone.",
		"source":          "Hive partition: the receive endpoint's source name (mtt).",
		"event_id":        "Dedupe id: SHA-256 (first 128 bits, hex) of vendor, source, kind and every field as received.",
		"kind":            "followme (getControlCallFollowMe event_URL), smartcall (sb-api events) or callback (callback call progress).",
		"call_id":         "The call: h323_conf_id (followme), CallID (smartcall), id (callback).",
		"event":           "Event code: o, s, h, sp, ep, t (followme); o, h, n (smartcall); start_side_A … end_side_A (callback).",
		"side":            "A or B where the event names a side.",
		"event_time":      "date_time as a UTC instant (unix for followme, Moscow YYYY-MM-DD-HH-MM-SS for smartcall); NULL for callback events, which carry none.",
		"number":          "The number the event is about (b_number, redirect_number, phone_A) as E.164 digits.",
		"number_a":        "numberA (followme) as E.164 digits.",
		"sip_id":          "sip_id (followme): the client's MTT number.",
		"redirect_number": "redirect_number (followme) as E.164 digits.",
		"client_id":       "client_id (followme): the client API's id of the call.",
		"task_id":         "id (smartcall): the request's messId.",
		"dtmf":            "dtmf (smartcall): the key chosen ('' when none or null).",
		"notify_type":     "type (smartcall): transfer or notify.",
		"cause":           "Q.850/ISUP disconnect cause (h events).",
		"duration":        "Seconds (smartcall h events: TTS and talk, or the transferred call).",
		"data":            "data (followme) as sent.",
		"fields":          "Every field as received (nested objects flattened with dots), a JSON object.",
		"received_at":     "When etl receive stored the event, UTC.",
	},
}
