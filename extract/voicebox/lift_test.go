package voicebox

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/calletl/calletl/model"
)

func TestLiftRow(t *testing.T) {
	msk := Moscow
	at := func(y int, mo time.Month, d, h, mi, s int) time.Time { return time.Date(y, mo, d, h, mi, s, 0, msk) }
	type want struct {
		id, idField         string
		start, end          time.Time
		caller, callee      string
		dir, dirRaw         string
		dur, talk           int32 // -1 = NULL
		status              string
		cost                int64 // -1 = NULL, else model.Money
		currency            string
		campaign, campName  string
		err                 string // "" = no error
		startKnownDespiteEr bool
	}
	base := want{dur: -1, talk: -1, cost: -1, currency: "RUB", dir: model.Autocall}
	with := func(f func(*want)) want { w := base; f(&w); return w }
	for _, tc := range []struct {
		name string
		row  string
		want want
	}{
		{"emulator shape, string cost", `{"id":2000100017,"campaignId":10017,"campaignName":"Опрос NPS","direction":"Исходящая","callerNumber":"74951234567","calledNumber":"89161234567","startTime":"2026-11-20T10:00:00+03:00","endTime":"2026-11-20T10:00:37+03:00","duration":37,"status":"ANSWERED","cost":"1,20","currency":"RUB"}`,
			with(func(w *want) {
				w.id, w.idField, w.start, w.end = "2000100017", "id", at(2026, 11, 20, 10, 0, 0), at(2026, 11, 20, 10, 0, 37)
				w.caller, w.callee, w.dirRaw, w.dur, w.talk, w.status, w.cost = "74951234567", "89161234567", "Исходящая", 37, 37, "ANSWERED", 12000
				w.campaign, w.campName = "10017", "Опрос NPS"
			})},
		{"number cost with dot", `{"id":"a1","startTime":"2026-11-20T10:00:00+03:00","cost":1.2}`,
			with(func(w *want) { w.id, w.idField, w.start, w.cost = "a1", "id", at(2026, 11, 20, 10, 0, 0), 12000 })},
		{"exact cost beyond float", `{"id":1,"startTime":"2026-11-20T10:00:00Z","cost":0.1234}`,
			with(func(w *want) {
				w.id, w.idField, w.start, w.cost = "1", "id", time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC), 1234
			})},
		{"string cost with dot and spaces", `{"id":1,"startTime":"2026-11-20T10:00:00Z","price":"1 234.50","currency":"rub"}`,
			with(func(w *want) {
				w.id, w.idField, w.start, w.cost = "1", "id", time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC), 12345000
			})},
		{"snake case, unix ms, incoming", `{"call_id":"c-9","start_time":1763622000000,"finished_at":1763622060000,"a_number":"+7 (916) 123-45-67","b_number":"0012","type":"inbound","talk_time":55,"disposition":"ANSWER","amount":"0,50","currency":"USD","campaign_id":4}`,
			with(func(w *want) {
				w.id, w.idField, w.start, w.end = "c-9", "call_id", time.UnixMilli(1763622000000), time.UnixMilli(1763622060000)
				w.caller, w.callee, w.dir, w.dirRaw, w.dur, w.talk = "+7 (916) 123-45-67", "0012", model.Incoming, "inbound", 55, 55
				w.status, w.cost, w.currency, w.campaign = "ANSWER", 5000, "USD", "4"
			})},
		{"unix seconds, duration ms", `{"uuid":"u1","callStart":1763622000,"durationMs":1500,"from":"8916","to":"8495"}`,
			with(func(w *want) {
				w.id, w.idField, w.start, w.caller, w.callee, w.dur, w.talk = "u1", "uuid", time.Unix(1763622000, 0), "8916", "8495", 2, 2
			})},
		{"vendor zone local time", `{"sessionId":"s","date":"2026-11-20 23:30:00","campaignType":"Входящая"}`,
			with(func(w *want) {
				w.id, w.idField, w.start, w.dir, w.dirRaw = "s", "sessionId", at(2026, 11, 20, 23, 30, 0), model.Incoming, "Входящая"
			})},
		{"dotted local time, hh:mm:ss duration", `{"id":5,"dateTime":"20.11.2026 08:05:09","billsec":"00:01:05","callDuration":"70"}`,
			with(func(w *want) {
				w.id, w.idField, w.start, w.dur, w.talk = "5", "id", at(2026, 11, 20, 8, 5, 9), 70, 65
			})},
		{"duration from end - start", `{"id":5,"startTime":"2026-11-20T10:00:00Z","endTime":"2026-11-20T10:02:00Z"}`,
			with(func(w *want) {
				w.id, w.idField, w.start, w.end, w.dur = "5", "id", time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC), time.Date(2026, 11, 20, 10, 2, 0, 0, time.UTC), 120
			})},
		{"nested campaign and caller object", `{"id":7,"created":"2026-11-20T10:00:00+03:00","campaign":{"id":33,"name":"Акция"},"callerNumber":{"number":"74950000000"},"phone":"79160000000","direction":"out"}`,
			with(func(w *want) {
				w.id, w.idField, w.start, w.campaign, w.campName = "7", "id", at(2026, 11, 20, 10, 0, 0), "33", "Акция"
				w.caller, w.callee, w.dirRaw = "74950000000", "79160000000", "out"
			})},
		{"upper case names, unknown direction word", `{"ID":8,"STARTTIME":"2026-11-20T10:00:00+03:00","TYPE":"robot","Status":"OK"}`,
			with(func(w *want) {
				w.id, w.idField, w.start, w.dirRaw, w.status = "8", "ID", at(2026, 11, 20, 10, 0, 0), "robot", "OK"
			})},
		{"missing id gets hash", `{"startTime":"2026-11-20T10:00:00+03:00","duration":3}`,
			with(func(w *want) {
				w.id, w.start, w.dur, w.talk = HashID([]byte(`{"duration":3,"startTime":"2026-11-20T10:00:00+03:00"}`)), at(2026, 11, 20, 10, 0, 0), 3, 3
			})},
		{"empty id gets hash", `{"id":"","startTime":"2026-11-20T10:00:00+03:00"}`,
			with(func(w *want) {
				w.id, w.start = HashID([]byte(`{"id":"","startTime":"2026-11-20T10:00:00+03:00"}`)), at(2026, 11, 20, 10, 0, 0)
			})},
		{"null cost is no cost", `{"id":1,"startTime":"2026-11-20T10:00:00+03:00","cost":null}`,
			with(func(w *want) { w.id, w.idField, w.start = "1", "id", at(2026, 11, 20, 10, 0, 0) })},

		{"unparseable time", `{"id":1,"startTime":"31.11.2026 25:61"}`, with(func(w *want) { w.err = "startTime" })},
		{"implausible year", `{"id":1,"startTime":0}`, with(func(w *want) { w.err = "not plausible" })},
		{"no start", `{"id":1,"duration":3}`, with(func(w *want) { w.err = "no recognisable start time" })},
		{"not an object", `[1,2]`, with(func(w *want) { w.err = "not a JSON object" })},
		{"null row", `null`, with(func(w *want) { w.err = "not a JSON object" })},
		{"bad cost keeps start", `{"id":1,"startTime":"2026-11-20T10:00:00+03:00","cost":"1,2,3"}`,
			with(func(w *want) { w.err, w.start, w.startKnownDespiteEr = "cost", at(2026, 11, 20, 10, 0, 0), true })},
		{"negative duration", `{"id":1,"startTime":"2026-11-20T10:00:00+03:00","duration":-4}`,
			with(func(w *want) { w.err, w.start, w.startKnownDespiteEr = "negative", at(2026, 11, 20, 10, 0, 0), true })},
		{"object id", `{"id":{"x":1},"startTime":"2026-11-20T10:00:00+03:00"}`,
			with(func(w *want) {
				w.err, w.start, w.startKnownDespiteEr = "id: is a JSON object", at(2026, 11, 20, 10, 0, 0), true
			})},
		{"bad end time", `{"id":1,"startTime":"2026-11-20T10:00:00+03:00","endTime":"soon"}`,
			with(func(w *want) { w.err, w.start, w.startKnownDespiteEr = "endTime", at(2026, 11, 20, 10, 0, 0), true })},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := LiftRow([]byte(tc.row), msk)
			w := tc.want
			if string(r.Raw) != tc.row {
				t.Fatal("Raw is not the row")
			}
			if w.err != "" {
				if err == nil || !strings.Contains(err.Error(), w.err) {
					t.Fatalf("err = %v, want %q", err, w.err)
				}
				if w.startKnownDespiteEr != !r.Start.IsZero() || (w.startKnownDespiteEr && !r.Start.Equal(w.start)) {
					t.Fatalf("start %v with the error, want %v", r.Start, w.start)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			null32 := func(v int32) (int32, bool) { return v, v >= 0 }
			dur, durOK := null32(w.dur)
			talk, talkOK := null32(w.talk)
			if r.ID != w.id || r.IDField != w.idField || !r.Start.Equal(w.start) || !r.End.Equal(w.end) ||
				r.CallerRaw != w.caller || r.CalleeRaw != w.callee || r.Direction != w.dir || r.DirectionRaw != w.dirRaw ||
				r.DurationS.Valid != durOK || (durOK && r.DurationS.V != dur) || r.TalkS.Valid != talkOK || (talkOK && r.TalkS.V != talk) ||
				r.Status != w.status || r.Cost.Valid != (w.cost >= 0) || (w.cost >= 0 && r.Cost.V != model.Money(w.cost)) ||
				r.Currency != w.currency || r.CampaignID != w.campaign || r.CampaignName != w.campName {
				t.Fatalf("lifted %+v\nwant %+v", r, w)
			}
			if r.Start.Location() != time.UTC {
				t.Fatal("start not in UTC")
			}
		})
	}
}

func TestHashID(t *testing.T) {
	a := HashID([]byte(`{"b": 1, "a": "x"}`))
	b := HashID([]byte(`{"a":"x","b":1}`))
	c := HashID([]byte(`{"a":"x","b":1.0}`)) // numbers as sent: a different row text
	if a != b || a == c || len(a) != 17 || a[0] != 'h' {
		t.Fatalf("%s %s %s", a, b, c)
	}
	if HashID([]byte(`not json`)) == HashID([]byte(`not json `)) {
		t.Fatal("invalid JSON is hashed as it is")
	}
}

func TestDirection(t *testing.T) {
	for word, want := range map[string]string{
		"Входящая": model.Incoming, "входящий": model.Incoming, "INBOUND": model.Incoming, "in": model.Incoming,
		"Исходящая": model.Autocall, "исходящие": model.Autocall, "outbound": model.Autocall, "Out": model.Autocall,
		"": "", "robot": "", "incoming call": "",
	} {
		got, ok := Direction(word)
		if got != want || ok != (want != "") {
			t.Errorf("%q: %q %v, want %q", word, got, ok, want)
		}
	}
}

func TestParseTime(t *testing.T) {
	utc := func(s string) time.Time { v, _ := time.Parse(time.RFC3339Nano, s); return v }
	for _, tc := range []struct {
		in   string
		want time.Time // zero = error
	}{
		{"2026-11-20T10:00:00+03:00", utc("2026-11-20T07:00:00Z")},
		{"2026-11-20T10:00:00.5Z", utc("2026-11-20T10:00:00.5Z")},
		{"2026-11-20T10:00:00+0300", utc("2026-11-20T07:00:00Z")},
		{"2026-11-20 10:00:00+03:00", utc("2026-11-20T07:00:00Z")},
		{"2026-11-20 10:00:00", utc("2026-11-20T07:00:00Z")},
		{"2026-11-20 10:00:00.250", utc("2026-11-20T07:00:00.25Z")},
		{"2026-11-20T10:00:00", utc("2026-11-20T07:00:00Z")},
		{"20.11.2026 10:00:00", utc("2026-11-20T07:00:00Z")},
		{"20.11.2026 10:00", utc("2026-11-20T07:00:00Z")},
		{"1763622000", utc("2025-11-20T07:00:00Z")},
		{"1763622000123", utc("2025-11-20T07:00:00.123Z")},
		{"1763622000.5", utc("2025-11-20T07:00:00.5Z")},
		{" 2026-11-20T10:00:00Z ", utc("2026-11-20T10:00:00Z")},
		{"", time.Time{}},
		{"0", time.Time{}},
		{"-1", time.Time{}},
		{"1e9", time.Time{}},
		{"99999999999999999", time.Time{}},
		{"2026-11-20", time.Time{}},
		{"31.11.2026 25:61", time.Time{}},
		{"1899-01-01T00:00:00Z", time.Time{}},
		{"вчера", time.Time{}},
	} {
		got, err := ParseTime(tc.in, Moscow)
		if tc.want.IsZero() {
			if err == nil {
				t.Errorf("%q: %v, want an error", tc.in, got)
			}
			continue
		}
		if err != nil || !got.Equal(tc.want) || got.Location() != time.UTC {
			t.Errorf("%q: %v %v, want %v", tc.in, got, err, tc.want)
		}
	}
}

func TestParseContentRange(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want ContentRange
		err  bool
	}{
		{"numbers 0-99/1234", ContentRange{Unit: "numbers", First: 0, Last: 99, HasRange: true, Total: 1234}, false},
		{"numbers 100-199/*", ContentRange{Unit: "numbers", First: 100, Last: 199, HasRange: true, Total: -1}, false},
		{"numbers */0", ContentRange{Unit: "numbers", Total: 0}, false},
		{"items 5-5/6", ContentRange{Unit: "items", First: 5, Last: 5, HasRange: true, Total: 6}, false},
		{" numbers  0-9/10 ", ContentRange{Unit: "numbers", First: 0, Last: 9, HasRange: true, Total: 10}, false},
		{"numbers 0-9/9", ContentRange{}, true},
		{"numbers 9-0/10", ContentRange{}, true},
		{"numbers */*", ContentRange{}, true},
		{"numbers 0-9", ContentRange{}, true},
		{"numbers=0-9/10", ContentRange{}, true},
		{"numbers -1-9/10", ContentRange{}, true},
		{"numbers 0-99999999999999999999/*", ContentRange{}, true},
		{"", ContentRange{}, true},
	} {
		got, err := ParseContentRange(tc.in)
		if (err != nil) != tc.err || (!tc.err && got != tc.want) {
			t.Errorf("%q: %+v %v", tc.in, got, err)
		}
	}
}

func TestDecodeList(t *testing.T) {
	for _, tc := range []struct {
		body string
		rows int
		err  string
	}{
		{`[{"id":1},{"id":2}]`, 2, ""},
		{` [] `, 0, ""},
		{`null`, 0, ""},
		{`{"data":[{"id":1}],"total":1}`, 1, ""},
		{`{"Items":[{"id":1},{"id":2},3]}`, 3, ""},
		{`{"content":[],"totalElements":0}`, 0, ""},
		{`{"data":{"calls":[{"id":1}]}}`, 1, ""},
		{`{"error":"boom"}`, 0, `without a list under data/items`},
		{`{"data":"x"}`, 0, `without a list`},
		{`<html>502 Bad Gateway</html>`, 0, `not a JSON array: "<html>502`},
		{`"text"`, 0, "not a JSON array"},
		{``, 0, "empty answer"},
	} {
		rows, err := DecodeList([]byte(tc.body))
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: err %v, want %q", tc.body, err, tc.err)
			}
			continue
		}
		if err != nil || len(rows) != tc.rows {
			t.Errorf("%s: %d rows, %v", tc.body, len(rows), err)
		}
	}
}

func TestLiftBalance(t *testing.T) {
	for _, tc := range []struct {
		body          string
		amount        model.Money
		raw, currency string
		err           bool
	}{
		{`{"balance": 123.45, "currency":"RUB"}`, 1234500, "123.45", "RUB", false},
		{`{"balance":"273,50","currency":"Rub"}`, 2735000, "273,50", "RUB", false},
		{`{"amount":-12.5}`, -125000, "-12.5", "RUB", false},
		{`{"data":{"value":"1 000,01"},"currency":"USD"}`, 10000100, "1 000,01", "USD", false},
		{`{"balance":{"amount":5,"currency":"EUR"}}`, 50000, "5", "EUR", false},
		{`42.1`, 421000, "42.1", "RUB", false},
		{`"0,91"`, 9100, "0,91", "RUB", false},
		{`{"balance":"много"}`, 0, "", "", true},
		{`{"status":"ok"}`, 0, "", "", true},
		{`[1]`, 0, "", "", true},
		{``, 0, "", "", true},
	} {
		m, raw, cur, err := LiftBalance([]byte(tc.body))
		if (err != nil) != tc.err || (!tc.err && (m != tc.amount || raw != tc.raw || cur != tc.currency)) {
			t.Errorf("%s: %v %q %q %v", tc.body, m, raw, cur, err)
		}
	}
}

func TestLiftCampaign(t *testing.T) {
	r, err := LiftCampaign([]byte(`{"id":10017,"name":"Опрос","campaignType":"Исходящая","status":"Active","scenario":{"id":5}}`))
	if err != nil || r.CampaignID != "10017" || r.Name != "Опрос" || r.CampaignType != "Исходящая" || r.Status != "Active" {
		t.Fatalf("%+v %v", r, err)
	}
	r, err = LiftCampaign([]byte(`{"campaignId":3,"campaignName":"x","campaignType":"Входящая","callsCount":4}`))
	if err != nil || r.CampaignID != "3" || r.Name != "x" || r.Status != "" {
		t.Fatalf("%+v %v", r, err)
	}
	r, err = LiftCampaign([]byte(`{"title":"no id"}`))
	if err != nil || r.CampaignID != HashID([]byte(`{"title":"no id"}`)) || r.Name != "no id" {
		t.Fatalf("%+v %v", r, err)
	}
	if _, err := LiftCampaign([]byte(`7`)); !errors.Is(err, ErrNotObject) {
		t.Fatal(err)
	}
}
