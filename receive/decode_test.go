package receive

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/calletl/calletl/model"
	"github.com/calletl/calletl/sandbox"
)

var at = time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)

// The document's examples all decode, to the fields the document names.
func TestDecodeVotBoxExamples(t *testing.T) {
	want := []struct {
		state string
		check func(r VotBoxRow) bool
	}{
		{"STARTCALL", func(r VotBoxRow) bool { return r.ANI == "79110000000" && r.DNIS == "78123350515" }},
		{"CALLOUT", func(r VotBoxRow) bool {
			return r.ANI == "79110000000" && r.EventTime.Equal(time.Date(2012, 1, 1, 6, 0, 0, 0, time.UTC)) // Moscow was UTC+4 in 2012
		}},
		{"REDIRECT", func(r VotBoxRow) bool { return r.Phone == "79110000001" }},
		{"CALLPROCESS", func(r VotBoxRow) bool { return true }},
		{"CALLNOANSWER", func(r VotBoxRow) bool { return r.Rel.Valid && r.Rel.V == 19 }},
		{"QUEUESTART", func(r VotBoxRow) bool { return true }},
		{"QUEUEEND", func(r VotBoxRow) bool { return true }},
		{"GETDTMF", func(r VotBoxRow) bool { return r.DTMF == "1" }},
		{"ENDCALL", func(r VotBoxRow) bool { return r.Duration.V == 40 && r.LinkDuration.V == 10 }},
		{"VOICEMAIL", func(r VotBoxRow) bool { return r.FileName == "VM_8123350515_VM_ 9111111111_010120121101010.wav" }},
		{"RECORDTALK", func(r VotBoxRow) bool { return strings.HasPrefix(r.FileName, "RT_8123350515_") }},
		{"ENDCALL", func(r VotBoxRow) bool {
			return r.CallDuration.V == 25 && r.OperCallDuration.V == 12 && r.JobStatus.V == 4 &&
				r.CallPay == (sqlMoney(15000)) && r.OperCallPay == sqlMoney(9000)
		}},
	}
	if len(want) != len(sandbox.VotBoxNotifyExamples) {
		t.Fatalf("%d examples, %d expectations", len(sandbox.VotBoxNotifyExamples), len(want))
	}
	ids := map[string]bool{}
	for i, ex := range sandbox.VotBoxNotifyExamples {
		ev, err := DecodeVotBox("votbox", ex.Query, at)
		if err != nil {
			t.Errorf("example %d (%s): %v", i, ex.Query, err)
			continue
		}
		r, _ := votboxRow(&ev)
		if r.CallID != "4654" || r.State != want[i].state || !want[i].check(r) {
			t.Errorf("example %d: got %+v", i, r)
		}
		if ids[ev.ID] {
			t.Errorf("example %d: id %s repeats an earlier example's", i, ev.ID)
		}
		ids[ev.ID] = true
	}
}

func sqlMoney(m model.Money) (n struct {
	V     model.Money
	Valid bool
}) {
	n.V, n.Valid = m, true
	return n
}

func TestDecodeMTTExamples(t *testing.T) {
	want := []struct{ kind, call, event, side, number string }{
		{KindMTTFollowMe, "BC5F236C 5AD211E9 81BA5CB9 01FED6FC", "sp", "A", "79154368886"},
		{KindMTTFollowMe, "BC5F236C 5AD211E9 81BA5CB9 01FED6FC", "ep", "A", "79154368886"},
		{KindMTTFollowMe, "BC5F236C 5AD211E9 81BA5CB9 01FED6FC", "o", "", "79684881033"},
		{KindMTTFollowMe, "BC5F236C 5AD211E9 81BA5CB9 01FED6FC", "s", "", "79684881033"},
		{KindMTTFollowMe, "BC5F236C 5AD211E9 81BA5CB9 01FED6FC", "sp", "B", "79684881033"},
		{KindMTTSmartCall, "00035c7d92bb0971", "o", "", "79103880489"},
		{KindMTTSmartCall, "00035c7d92bb0971", "h", "", "79103880489"},
		{KindMTTSmartCall, "00035c7d92bb0971", "o", "", "78001000101"},
		{KindMTTSmartCall, "00035c7d92bb0971", "h", "", "78001000101"},
		{KindMTTSmartCall, "00035c7d92bb0971", "n", "", "79103880489"},
		{KindMTTSmartCall, "00035c7d92bb0935", "o", "", "7910000000"},
		{KindMTTSmartCall, "00035c7d92bb093b", "h", "", "7910000000"},
		{KindMTTCallback, "e031c89159fba8b80025cd6fb534a77", "start_side_A", "A", ""},
		{KindMTTCallback, "e031c89159fba8b80025cd6fb534a77", "pickup_side_A", "A", "79161234567"},
		{KindMTTCallback, "e031c89159fba8b80025cd6fb534a77", "end_side_A", "A", ""},
		{KindMTTFollowMe, "BC5F236C 5AD211E9 81BA5CB9 01FED6FC", "ep", "B", "79684881033"},
		{KindMTTFollowMe, "BC5F236C 5AD211E9 81BA5CB9 01FED6FC", "t", "", "79684881033"},
		{KindMTTFollowMe, "BC5F236C 5AD211E9 81BA5CB9 01FED6FC", "h", "B", "79684881033"},
	}
	if len(want) != len(sandbox.MTTEventExamples) {
		t.Fatalf("%d examples, %d expectations", len(sandbox.MTTEventExamples), len(want))
	}
	for i, ex := range sandbox.MTTEventExamples {
		ev, err := DecodeMTT("mtt", ex.ContentType, []byte(ex.Body), ex.Query, at)
		if err != nil {
			t.Errorf("example %d: %v", i, err)
			continue
		}
		r, _ := mttRow(&ev)
		w := want[i]
		if r.Kind != w.kind || r.CallID != w.call || r.Event != w.event || r.Side != w.side || r.Number != w.number {
			t.Errorf("example %d: got kind %s call %q event %s side %q number %q, want %+v", i, r.Kind, r.CallID, r.Event, r.Side, r.Number, w)
		}
	}
	// The h events carry cause and duration; the follow-me s event its cause in data.
	ev, _ := DecodeMTT("mtt", "application/json", []byte(sandbox.MTTEventExamples[8].Body), "", at)
	if r, _ := mttRow(&ev); r.Cause.V != 16 || r.Duration.V != 30 || r.DTMF != "2" || r.NotifyType != "transfer" ||
		!r.EventTime.Equal(time.Date(2019, 3, 29, 8, 38, 0, 0, time.UTC)) {
		t.Errorf("transfer h event: %+v", r)
	}
	ev, _ = DecodeMTT("mtt", "application/json", []byte(sandbox.MTTEventExamples[3].Body), "", at)
	if r, _ := mttRow(&ev); r.Cause.V != 16 || !r.EventTime.Equal(time.Unix(1558624521, 0)) {
		t.Errorf("follow-me s event: %+v", r)
	}
	// The hang-up's cause is read from the event object when data lacks it.
	ev, _ = DecodeMTT("mtt", "application/json", []byte(`{"date_time": 1558624559, "data": "event=h_79684881033_2019-05-23-15-16-59", "event": {"type": "h", "cause": "17", "side": "B"}, "h323_conf_id": " BC5F236C 5AD211E9 81BA5CB9 01FED6FC "}`), "", at)
	if r, _ := mttRow(&ev); r.Cause.V != 17 || !r.Cause.Valid || r.CallID != "BC5F236C 5AD211E9 81BA5CB9 01FED6FC" {
		t.Errorf("follow-me h event with its cause in the event object: cause %+v call %q", r.Cause, r.CallID)
	}
}

// Malformed events are refused with ErrBadEvent and a message that says
// what is wrong.
func TestDecodeRefuses(t *testing.T) {
	vb := []struct{ name, q, msg string }{
		{"no CALLID", "STATE=ENDCALL&DT=01.01.2012+10:00:40", "CALLID is missing"},
		{"no STATE", "CALLID=1&DT=01.01.2012+10:00:40", "STATE is missing"},
		{"bad DT", "CALLID=1&STATE=ENDCALL&DT=2012-01-01", "DT"},
		{"negative cost", "CALLID=1&STATE=ENDCALL&CALLPAY=-5", "CALLPAY"},
		{"cost finer than 1/100 kopeck", "CALLID=1&STATE=ENDCALL&CALLPAY=1.001", "CALLPAY"},
		{"text duration", "CALLID=1&STATE=ENDCALL&CALLDURATION=ten", "CALLDURATION"},
		{"conflicting repeat", "CALLID=1&STATE=ENDCALL&callid=2", "twice"},
		{"not a query", "CALLID=%zz", "URL-encoded"},
		{"control character", "CALLID=1%00&STATE=X", "control character"},
		{"empty", "", "CALLID is missing"},
	}
	for _, c := range vb {
		_, err := DecodeVotBox("votbox", c.q, at)
		if !errors.Is(err, ErrBadEvent) || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("votbox %s: err %v, want ErrBadEvent mentioning %q", c.name, err, c.msg)
		}
	}
	mtt := []struct{ name, ct, body, q, msg string }{
		{"broken JSON", "application/json", `{"CallID": "1", "event": `, "", "JSON"},
		{"JSON array", "application/json", `[1]`, "", "JSON object"},
		{"two values", "application/json", `{"CallID":"1","event":"o_7"} {}`, "", "more than one"},
		{"unknown shape", "application/json", `{"foo": "bar"}`, "", "not a documented MTT event"},
		{"bad event code", "application/json", `{"CallID": "1", "event": "x_1_2"}`, "", "want o_<number>"},
		{"h without duration", "application/json", `{"CallID": "1", "event": "h_791_16"}`, "", "want o_<number>"},
		{"bad smart-call time", "application/json", `{"CallID": "1", "event": "o_7", "date_time": "29.03.2019"}`, "", "date_time"},
		{"bad unix time", "application/json", `{"h323_conf_id": "A", "event": {"type": "o"}, "date_time": "x"}`, "", "unix"},
		{"follow-me without call", "application/json", `{"event": {"type": "o"}}`, "", "h323_conf_id"},
		{"callback without id", "", "", "event=start_side_A", "without id"},
		{"xml", "application/xml", `<e/>`, "", "Content-Type"},
		{"nothing", "", "", "", "no event"},
	}
	for _, c := range mtt {
		_, err := DecodeMTT("mtt", c.ct, []byte(c.body), c.q, at)
		if !errors.Is(err, ErrBadEvent) || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("mtt %s: err %v, want ErrBadEvent mentioning %q", c.name, err, c.msg)
		}
	}
	if _, err := DecodeMTT("mtt", "application/xml", []byte(`<e/>`), "", at); !errors.Is(err, ErrMediaType) {
		t.Errorf("xml body: %v, want ErrMediaType", err)
	}
}

// Encodings: windows-1251 text, keys in any case and with spaces, a form
// POST and a GET of the same event are one event (same id).
func TestDecodeEncodings(t *testing.T) {
	// "Иван" in windows-1251, percent-encoded as a PHP of VotBox's age would.
	ev, err := DecodeVotBox("votbox", "CALLID=7&STATE=REDIRECT&PHONE=89110000001&addinfo=%C8%E2%E0%ED", at)
	if err != nil {
		t.Fatal(err)
	}
	if r, _ := votboxRow(&ev); r.AddInfo != "Иван" {
		t.Errorf("windows-1251 addinfo: %q", r.AddInfo)
	}
	utf, err := DecodeVotBox("votbox", "CALLID=7&STATE=REDIRECT&PHONE=89110000001&ADDINFO=%D0%98%D0%B2%D0%B0%D0%BD", at)
	if err != nil || utf.ID != ev.ID {
		t.Errorf("UTF-8 and windows-1251 spellings of one event: ids %s and %s (%v)", utf.ID, ev.ID, err)
	}
	spaced, err := DecodeVotBox("votbox", "callid=7&+state=+REDIRECT+&PHONE+=89110000001&AddInfo=%C8%E2%E0%ED", at)
	if err != nil || spaced.ID != ev.ID {
		t.Errorf("case and spaces: id %s, want %s (%v)", spaced.ID, ev.ID, err)
	}
	other, _ := DecodeVotBox("votbox-2", "CALLID=7&STATE=REDIRECT&PHONE=89110000001&addinfo=%C8%E2%E0%ED", at)
	if other.ID == ev.ID {
		t.Error("the same event on two sources has one id")
	}
	later, _ := DecodeVotBox("votbox", "CALLID=7&STATE=REDIRECT&PHONE=89110000001&addinfo=%C8%E2%E0%ED", at.Add(time.Hour))
	if later.ID != ev.ID {
		t.Error("the arrival time changes the id: a retry would not be deduplicated")
	}
	// MTT smart-call: JSON and form of the same fields are one event.
	js, err := DecodeMTT("mtt", "application/json; charset=utf-8", []byte(`{"date_time": "2019-03-29-11-37-13", "id": "1255490", "CallID": "c1", "event": "o_79103880489"}`), "", at)
	if err != nil {
		t.Fatal(err)
	}
	form, err := DecodeMTT("mtt", "application/x-www-form-urlencoded", []byte("date_time=2019-03-29-11-37-13&id=1255490&CallID=c1&event=o_79103880489"), "", at)
	if err != nil || form.ID != js.ID {
		t.Errorf("form and JSON: ids %s, %s (%v)", form.ID, js.ID, err)
	}
	get, err := DecodeMTT("mtt", "", nil, "date_time=2019-03-29-11-37-13&id=1255490&CallID=c1&event=o_79103880489", at)
	if err != nil || get.ID != js.ID {
		t.Errorf("GET and JSON: ids %s, %s (%v)", get.ID, js.ID, err)
	}
	// Numbers keep their JSON text: 1558613711 is not 1.558613711e+09.
	fm, err := DecodeMTT("mtt", "", []byte(`{"date_time": 1558613711, "event": {"type": "h", "side": "B"}, "h323_conf_id": "X", "cause": 16}`), "", at)
	if err != nil || fm.Fields["date_time"] != "1558613711" || fm.Fields["event.side"] != "B" {
		t.Errorf("follow-me JSON without Content-Type: %v %v", fm.Fields, err)
	}
}

// FuzzDecodeVotBox: no input panics; what decodes has an id and maps to a
// row, and decoding is deterministic.
func FuzzDecodeVotBox(f *testing.F) {
	for _, ex := range sandbox.VotBoxNotifyExamples {
		f.Add(ex.Query)
	}
	f.Add("CALLID=1&STATE=X&addinfo=%C8%E2")
	f.Fuzz(func(t *testing.T, q string) {
		ev, err := DecodeVotBox("votbox", q, at)
		if err != nil {
			if !errors.Is(err, ErrBadEvent) {
				t.Fatalf("error without ErrBadEvent: %v", err)
			}
			return
		}
		if len(ev.ID) != 32 {
			t.Fatalf("id %q", ev.ID)
		}
		if _, err := votboxRow(&ev); err != nil {
			t.Fatalf("decoded but does not map: %v", err)
		}
		again, _ := DecodeVotBox("votbox", q, at)
		if again.ID != ev.ID {
			t.Fatal("not deterministic")
		}
	})
}

// FuzzDecodeMTT: the same for MTT bodies of any content type.
func FuzzDecodeMTT(f *testing.F) {
	for _, ex := range sandbox.MTTEventExamples {
		f.Add(ex.ContentType, ex.Body, ex.Query)
	}
	f.Fuzz(func(t *testing.T, ct, body, q string) {
		ev, err := DecodeMTT("mtt", ct, []byte(body), q, at)
		if err != nil {
			if !errors.Is(err, ErrBadEvent) {
				t.Fatalf("error without ErrBadEvent: %v", err)
			}
			return
		}
		if len(ev.ID) != 32 || ev.Kind == "" {
			t.Fatalf("id %q kind %q", ev.ID, ev.Kind)
		}
		if _, err := mttRow(&ev); err != nil {
			t.Fatalf("decoded but does not map: %v", err)
		}
	})
}
