package mobilgroup

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/calletl/calletl/model"
	"github.com/calletl/calletl/sandbox"
)

func TestDecodeDocStateExample(t *testing.T) {
	st, err := DecodeState([]byte(sandbox.MobilgroupDocState))
	if err != nil {
		t.Fatal(err)
	}
	if st.ID != "1234" || st.Phones != "2" || st.Budget != "3.41" || len(st.Subscribers) != 2 || len(st.Extras) != 0 {
		t.Fatalf("state %+v", st)
	}
	s1, s2 := st.Subscribers[0], st.Subscribers[1]
	want1 := Subscriber{Seq: 1, Phone: " Телефон", Date: "Дата", Status: "Успешно", Attempts: "1", Duration: "13", Price: "0.91",
		Raw: `{"phone": " Телефон", "date": "Дата", "status": "Успешно", "attempts": "1", "duration": "13", "price": "0.91"}`}
	if !reflect.DeepEqual(s1, want1) {
		t.Errorf("subscriber 1\n got %+v\nwant %+v", s1, want1)
	}
	if s2.Seq != 2 || s2.Status != "Занято" || s2.Price != "2.50" || s2.Err != nil ||
		!reflect.DeepEqual(s2.Transfer, &Transfer{Number: " Телефон", Duration: "0", Price: "0", Status: "Нет ответа"}) ||
		!reflect.DeepEqual(s2.SMS, &SMS{Date: "Дата", Message: "Текст", Partition: "1", Price: "2.50", Status: "Доставлено"}) {
		t.Errorf("subscriber 2 %+v transfer %+v sms %+v", s2, s2.Transfer, s2.SMS)
	}
	if !strings.HasPrefix(s2.Raw, `{"phone": "Телефон"`) || !strings.HasSuffix(s2.Raw, `"status": "Доставлено"}}`) {
		t.Errorf("raw %s", s2.Raw)
	}
	// The example's placeholders are not a phone number or a date.
	mc := &MapContext{Vendor: Moscow, Business: Moscow, Account: "a", RunID: "r"}
	for i := range st.Subscribers {
		if _, _, err := Map(mc, "1234", &st.Subscribers[i]); err == nil || !strings.Contains(err.Error(), `phone " Телефон"`) && !strings.Contains(err.Error(), `phone "Телефон"`) {
			t.Errorf("subscriber %d: %v", i+1, err)
		}
	}
}

// TestDocExampleAccounting maps the document's example with its
// placeholders filled: the budget 3.41 is the sum of the prices, so the
// second subscriber's 2.50 already includes its 2.50 SMS.
func TestDocExampleAccounting(t *testing.T) {
	body := strings.NewReplacer("Телефон", "79161234567", "Дата", "2025-03-03 23:59:30").Replace(sandbox.MobilgroupDocState)
	st, err := DecodeState([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	mc := &MapContext{Vendor: Moscow, Business: time.UTC, Account: "acc", RunID: "r"}
	var sum model.Money
	var rows []CallRow
	for i := range st.Subscribers {
		r, c, err := Map(mc, "1234", &st.Subscribers[i])
		if err != nil {
			t.Fatal(err)
		}
		if c == nil || c.Cost != r.Price || c.CallID != fmt.Sprintf("1234-%d", i+1) || c.Direction != model.Autocall ||
			c.Callee != "79161234567" || c.CalleeRaw != " 79161234567" && c.CalleeRaw != "79161234567" || c.Account != "acc" ||
			c.Currency != "RUB" || c.Status != st.Subscribers[i].Status || c.Caller != "" || c.TalkS != r.DurationS {
			t.Errorf("calls row %+v", c)
		}
		sum += r.Price.V
		rows = append(rows, r)
	}
	budget, _ := ParseMoney(st.Budget)
	if sum != budget.V || sum != 34100 {
		t.Errorf("Σ price %s, budget %s", sum, budget.V)
	}
	r1, r2 := rows[0], rows[1]
	if r1.Status != StatusAnswered || r1.Price.V != 9100 || r1.TransferNumber.Valid || r1.SMSPrice.Valid || !r1.Final {
		t.Errorf("row 1 %+v", r1)
	}
	if r2.Status != StatusBusy || r2.Price.V != 25000 || r2.SMSPrice.V != 25000 || r2.TransferPrice.V != 0 || !r2.TransferPrice.Valid ||
		r2.TransferStatus.V != StatusNoAnswer || r2.SMSStatus.V != SMSDelivered || r2.SMSParts.V != 1 || r2.SMSMessage.V != "Текст" ||
		r2.Attempts.V != 2 || r2.DurationS.V != 0 || r2.TransferNumber.V != "79161234567" || r2.TransferNumberRaw.V != " 79161234567" {
		t.Errorf("row 2 %+v", r2)
	}
	// 23:59:30 Moscow is 20:59:30 UTC: the UTC business day stays the 3rd.
	if want := time.Date(2025, 3, 3, 20, 59, 30, 0, time.UTC); !r1.CalledAt.Equal(want) || r1.Date != "2025-03-03" || !r2.SMSDate.Equal(want) {
		t.Errorf("called_at %v date %s sms %v", r1.CalledAt, r1.Date, r2.SMSDate)
	}
}

func TestDecodeMalformedDocExample(t *testing.T) {
	_, err := DecodeState([]byte(sandbox.MobilgroupDocStateMalformed))
	if !errors.Is(err, ErrUnreadable) {
		t.Fatalf("got %v", err)
	}
	for _, want := range []string{"not a JSON answer", "control character in string", `body starts "{\"result\": \"ok\", \"id\": \"1234\", \"phones\": \"2\"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

func TestDecodeBalance(t *testing.T) {
	b, err := DecodeBalance([]byte(sandbox.MobilgroupDocBalance))
	if err != nil {
		t.Fatal(err)
	}
	m, err := ParseMoney(b.Balance)
	if err != nil || b.Balance != "273,50" || b.Currency != "Rub" || m.V != 2735000 || CurrencyCode(b.Currency) != "RUB" {
		t.Fatalf("%+v %v %v", b, m, err)
	}
	for body, want := range map[string]string{
		`{"result":"ok","balance":-12.5,"currency":"RUB"}`: "-12.5",
		`{"balance":"0,00"}`:             "0,00", // no result member: accepted for the balance it carries
		`{"result":"OK","balance":null}`: "",
	} {
		b, err := DecodeBalance([]byte(body))
		if err != nil || b.Balance != want {
			t.Errorf("%s: %+v %v", body, b, err)
		}
	}
	for _, body := range []string{`{"result":"ok"}`, `{"result":"ok","balance":{"v":1}}`, `{"result":"maybe","balance":"1"}`, `[]`, ``, `<html>`} {
		if _, err := DecodeBalance([]byte(body)); !errors.Is(err, ErrUnreadable) {
			t.Errorf("%s: %v", body, err)
		}
	}
}

func TestDecodeErrorAnswers(t *testing.T) {
	cases := []struct {
		body     string
		sentinel error
		text     string
	}{
		{sandbox.MobilgroupDocStateError, ErrNotFound, "Mobilgroup error Error_ID_Not_Found: the broadcast id is not known to Mobilgroup"},
		{sandbox.MobilgroupDocAuthError, ErrAuth, "Mobilgroup error Error_Authorisation_Failed: authorisation failed"},
		{`{"result":"error","error_code":"Error_User_Disabled"}`, ErrAuth, "account is disabled"},
		{`{"result":"error","error_code":"Error_Unknown_Request"}`, ErrUnknownRequest, "not recognised"},
		{`{"result":"error","error_code":"Error_Not_Enough_Credits"}`, nil, "not enough money"},
		{`{"result":"error","error_code":"Error_Brand_New","description":"Что-то"}`, nil, `does not know ("Что-то")`},
		{`{"error_code":"Error_ID_Not_Found"}`, ErrNotFound, "Error_ID_Not_Found"},
		{`{"result":"error"}`, nil, "without error_code"},
	}
	for _, tc := range cases {
		for name, dec := range map[string]func([]byte) error{
			"state":   func(b []byte) error { _, err := DecodeState(b); return err },
			"balance": func(b []byte) error { _, err := DecodeBalance(b); return err },
		} {
			err := dec([]byte(tc.body))
			var apiErr *APIError
			if !errors.As(err, &apiErr) || !strings.Contains(err.Error(), tc.text) {
				t.Errorf("%s %s: %v", name, tc.body, err)
			}
			if tc.sentinel != nil && !errors.Is(err, tc.sentinel) {
				t.Errorf("%s %s: %v is not %v", name, tc.body, err, tc.sentinel)
			}
			for _, s := range []error{ErrAuth, ErrNotFound, ErrUnknownRequest, ErrUnreadable} {
				if s != tc.sentinel && errors.Is(err, s) {
					t.Errorf("%s %s: %v is also %v", name, tc.body, err, s)
				}
			}
		}
	}
}

func TestDecodeStringsOrNumbers(t *testing.T) {
	body := `{"result":"ok","id":1234,"phones":2,"budget":3.41,"subscribers":[
		{"phone":79161234567,"date":"03.03.2025 10:00:00","status":"Успешно","attempts":1,"duration":13,"price":0.91,"new":{"x":[1]}},
		{"PHONE":"89161234567","date":null,"status":"В очереди","attempts":"0","duration":"0","price":"0","transfer":[],"sms":""},
		"garbage",
		{"phone":{"n":1}},
		{"phone":"79161234567","transfer":{"number":"84951234567","price":"1,5","note":"x"},"sms":{"price":"2.5","partition":2,"status":"Отправлено"}}
	],"extra":true}`
	st, err := DecodeState([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if st.ID != "1234" || st.Phones != "2" || st.Budget != "3.41" || len(st.Subscribers) != 5 || fieldsJSON(st.Extras) != `{"extra":true}` {
		t.Fatalf("%+v", st)
	}
	s := st.Subscribers
	if s[0].Phone != "79161234567" || s[0].Price != "0.91" || s[0].Attempts != "1" || extrasJSON(&s[0]) != `{"new":{"x":[1]}}` {
		t.Errorf("numbers: %+v", s[0])
	}
	if s[1].Phone != "89161234567" || s[1].Date != "" || s[1].Transfer != nil || s[1].SMS != nil || s[1].Err != nil {
		t.Errorf("empty legs: %+v", s[1])
	}
	if s[2].Err == nil || s[2].Raw != `"garbage"` || s[3].Err == nil || !strings.Contains(s[3].Err.Error(), "phone: want a string or a number, got object") {
		t.Errorf("bad elements: %v / %v", s[2].Err, s[3].Err)
	}
	if s[4].Transfer == nil || s[4].Transfer.Price != "1,5" || s[4].SMS == nil || s[4].SMS.Partition != "2" ||
		extrasJSON(&s[4]) != `{"transfer.note":"x"}` {
		t.Errorf("legs: %+v %+v %+v", s[4], s[4].Transfer, s[4].SMS)
	}
	mc := &MapContext{Vendor: Moscow, Business: Moscow}
	r, c, err := Map(mc, "1234", &s[1])
	if err != nil || c != nil || !r.CalledAt.IsZero() || r.Status != StatusPending || r.Final || r.Date != "" {
		t.Errorf("pending subscriber: %+v %v %v", r, c, err)
	}
	if r, _, err := Map(mc, "1234", &s[4]); err != nil || r.TransferPrice.V != 15000 || r.SMSPrice.V != 25000 || r.SMSStatus.V != SMSSent ||
		r.Status != StatusPending || r.Price.Valid || r.LegsPrice() != 40000 {
		t.Errorf("legs row %+v %v", r, err)
	}
}

func TestMoneyExact(t *testing.T) {
	for s, want := range map[string]model.Money{
		"0,91": 9100, "3.41": 34100, "273,50": 2735000, "0": 0, " 1,5 ": 15000, "2.50": 25000, "0.01": 100,
		"1234567,89": 12345678900, "-12,5": -125000, "7": 70000,
	} {
		m, err := ParseMoney(s)
		if err != nil || !m.Valid || m.V != want {
			t.Errorf("%q: %v %v, want %s", s, m, err, want)
		}
	}
	if m, err := ParseMoney(""); err != nil || m.Valid {
		t.Errorf("empty: %v %v", m, err)
	}
	for _, s := range []string{"1 000,00", "—", "1,2,3", "0,91 руб", "abc", ","} {
		if _, err := ParseMoney(s); err == nil {
			t.Errorf("%q accepted", s)
		}
	}
}

func TestParseDate(t *testing.T) {
	want := time.Date(2025, 3, 3, 7, 5, 9, 0, time.UTC)
	for _, s := range []string{"2025-03-03 10:05:09", "03.03.2025 10:05:09", " 2025-03-03 10:05:09 "} {
		if got, err := ParseDate(s, Moscow); err != nil || !got.Equal(want) {
			t.Errorf("%q: %v %v", s, got, err)
		}
	}
	if got, err := ParseDate("2025-03-03 10:05", Moscow); err != nil || !got.Equal(want.Add(-9*time.Second)) {
		t.Errorf("minutes: %v %v", got, err)
	}
	if got, err := ParseDate("", Moscow); err != nil || !got.IsZero() {
		t.Errorf("empty: %v %v", got, err)
	}
	for _, s := range []string{"Дата", "2025-03-03T10:05:09", "2025-02-30 10:00:00", "3.3.2025 10:05:09", "1741000000"} {
		if _, err := ParseDate(s, Moscow); err == nil {
			t.Errorf("%q accepted", s)
		}
	}
}

func TestStatuses(t *testing.T) {
	for text, want := range map[string]string{
		"Успешно": StatusAnswered, "успешно": StatusAnswered, "Занято": StatusBusy, "Нет ответа": StatusNoAnswer,
		"нет  ответа.": StatusNoAnswer, "Недоступен": StatusUnavailable, "Абонент недоступен": StatusUnavailable,
		"Ошибка": StatusFailed, "В очереди": StatusPending, "Ожидает": StatusPending, "": StatusPending,
		"Сброс": StatusRejected, "Отклонен": StatusRejected, "Отклонён": StatusRejected, "Перезвонить": StatusUnknown,
	} {
		if got := CallStatus(text); got != want {
			t.Errorf("CallStatus(%q) = %s, want %s", text, got, want)
		}
	}
	for s, final := range map[string]bool{StatusAnswered: true, StatusBusy: true, StatusNoAnswer: true, StatusUnavailable: true,
		StatusFailed: true, StatusRejected: true, StatusPending: false, StatusUnknown: false} {
		if FinalStatus(s) != final {
			t.Errorf("FinalStatus(%s) = %v", s, !final)
		}
	}
	for text, want := range map[string]string{"Доставлено": SMSDelivered, "Не доставлено": SMSUndelivered,
		"Отправлено": SMSSent, "В очереди": SMSPending, "": SMSUnknown, "Просрочено": SMSUnknown} {
		if got := SMSStatus(text); got != want {
			t.Errorf("SMSStatus(%q) = %s, want %s", text, got, want)
		}
	}
}

func TestMapRejects(t *testing.T) {
	mc := &MapContext{Vendor: Moscow, Business: Moscow}
	for name, el := range map[string]string{
		"no phone":        `{"date":"","status":"В очереди"}`,
		"letters":         `{"phone":"anonymous"}`,
		"bad date":        `{"phone":"79161234567","date":"вчера"}`,
		"bad attempts":    `{"phone":"79161234567","attempts":"1.5"}`,
		"neg duration":    `{"phone":"79161234567","duration":"-3"}`,
		"bad price":       `{"phone":"79161234567","price":"—"}`,
		"bad transfer":    `{"phone":"79161234567","transfer":{"price":"x"}}`,
		"bad sms date":    `{"phone":"79161234567","sms":{"date":"x"}}`,
		"bad sms parts":   `{"phone":"79161234567","sms":{"partition":"one"}}`,
		"transfer text":   `{"phone":"79161234567","transfer":"yes"}`,
		"not an object":   `[1]`,
		"bool attempts":   `{"phone":"79161234567","attempts":true}`,
		"status an array": `{"phone":"79161234567","status":[]}`,
	} {
		st, err := DecodeState([]byte(`{"result":"ok","subscribers":[` + el + `]}`))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if _, _, err := Map(mc, "9", &st.Subscribers[0]); err == nil || !strings.HasPrefix(err.Error(), "subscriber 1: ") {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// encodeState writes st back as JSON, every scalar a string.
func encodeState(st *State) []byte {
	q := func(s string) string { b, _ := json.Marshal(s); return string(b) }
	obj := func(pairs [][2]string, extras []Field) string {
		var parts []string
		for _, p := range pairs {
			parts = append(parts, q(p[0])+":"+p[1])
		}
		for _, f := range extras {
			parts = append(parts, q(f.Name)+":"+f.Raw)
		}
		return "{" + strings.Join(parts, ",") + "}"
	}
	var subs []string
	for _, s := range st.Subscribers {
		if s.Err != nil {
			subs = append(subs, s.Raw)
			continue
		}
		pairs := [][2]string{{"phone", q(s.Phone)}, {"date", q(s.Date)}, {"status", q(s.Status)},
			{"attempts", q(s.Attempts)}, {"duration", q(s.Duration)}, {"price", q(s.Price)}}
		if t := s.Transfer; t != nil {
			pairs = append(pairs, [2]string{"transfer", obj([][2]string{{"number", q(t.Number)}, {"duration", q(t.Duration)},
				{"price", q(t.Price)}, {"status", q(t.Status)}}, t.Extras)})
		}
		if m := s.SMS; m != nil {
			pairs = append(pairs, [2]string{"sms", obj([][2]string{{"date", q(m.Date)}, {"message", q(m.Message)},
				{"partition", q(m.Partition)}, {"price", q(m.Price)}, {"status", q(m.Status)}}, m.Extras)})
		}
		subs = append(subs, obj(pairs, s.Extras))
	}
	return []byte(obj([][2]string{{"result", `"ok"`}, {"id", q(st.ID)}, {"phones", q(st.Phones)}, {"budget", q(st.Budget)},
		{"subscribers", "[" + strings.Join(subs, ",") + "]"}}, st.Extras))
}

// comparable strips what re-encoding legitimately changes (Raw, error
// texts) from a decoded state.
func comparable(st *State) *State {
	out := *st
	out.Subscribers = nil
	for _, s := range st.Subscribers {
		s.Raw = ""
		if s.Err != nil {
			s = Subscriber{Seq: s.Seq, Err: errors.New("bad")}
		}
		out.Subscribers = append(out.Subscribers, s)
	}
	return &out
}

func FuzzDecodeState(f *testing.F) {
	f.Add([]byte(sandbox.MobilgroupDocState))
	f.Add([]byte(sandbox.MobilgroupDocStateMalformed))
	f.Add([]byte(sandbox.MobilgroupDocStateError))
	f.Add([]byte(`{"result":"ok","id":1,"phones":1,"budget":0.5,"subscribers":[{"phone":7916,"transfer":{"x":1},"sms":[]},"s",null]}`))
	f.Add([]byte(`{"result":"ok","subscribers":[{"phone":"\u0442\ud800","Phone":"2","status":"\u00e9"}],"a":{"b":[1,2]}}`))
	f.Add([]byte("<html><body>502 Bad Gateway</body></html>"))
	f.Fuzz(func(t *testing.T, body []byte) {
		st, err := DecodeState(body)
		if err != nil {
			var apiErr *APIError
			if !errors.As(err, &apiErr) && !errors.Is(err, ErrUnreadable) {
				t.Fatalf("error neither APIError nor ErrUnreadable: %v", err)
			}
			return
		}
		mc := &MapContext{Vendor: Moscow, Business: time.UTC}
		for i := range st.Subscribers {
			s := &st.Subscribers[i]
			if s.Seq != i+1 || !utf8.ValidString(s.Raw) || !json.Valid([]byte(s.Raw)) {
				t.Fatalf("subscriber %d: seq %d raw %q", i+1, s.Seq, s.Raw)
			}
			if x := extrasJSON(s); x != "" && !json.Valid([]byte(x)) {
				t.Fatalf("extras not JSON: %q", x)
			}
			r, c, err := Map(mc, "k", s)
			if err == nil && (c == nil) != r.CalledAt.IsZero() {
				t.Fatalf("calls row %v for called_at %v", c, r.CalledAt)
			}
		}
		again, err := DecodeState(encodeState(st))
		if err != nil {
			t.Fatalf("re-decoding %s: %v", encodeState(st), err)
		}
		if got, want := comparable(again), comparable(st); !reflect.DeepEqual(got, want) {
			t.Fatalf("re-decoding changed the state:\n got %+v\nwant %+v", got, want)
		}
	})
}

func FuzzDecodeBalance(f *testing.F) {
	f.Add([]byte(sandbox.MobilgroupDocBalance))
	f.Add([]byte(sandbox.MobilgroupDocAuthError))
	f.Add([]byte(`{"result":"ok","balance":-1e2,"currency":null}`))
	f.Add([]byte(`{"balance":"1,5"`))
	f.Fuzz(func(t *testing.T, body []byte) {
		b, err := DecodeBalance(body)
		if err != nil {
			var apiErr *APIError
			if !errors.As(err, &apiErr) && !errors.Is(err, ErrUnreadable) {
				t.Fatalf("error neither APIError nor ErrUnreadable: %v", err)
			}
			return
		}
		q := func(s string) string { x, _ := json.Marshal(s); return string(x) }
		again, err := DecodeBalance([]byte(`{"result":"ok","balance":` + q(b.Balance) + `,"currency":` + q(b.Currency) + `}`))
		if err != nil || again.Balance != b.Balance || again.Currency != b.Currency {
			t.Fatalf("re-decoding %+v: %+v %v", b, again, err)
		}
		if c := CurrencyCode(b.Currency); c != strings.ToUpper(c) {
			t.Fatalf("currency %q", c)
		}
	})
}

// FuzzParseValues checks the value parsers: they never panic, money is
// exact (re-formatting and re-parsing gives the same amount), dates
// round-trip through the emulator's layout, statuses stay in their sets.
func FuzzParseValues(f *testing.F) {
	for _, s := range []string{"0,91", "3.41", "273,50", "1e2", "-0,005", "2025-03-03 10:05:09", "03.03.2025 10:05:09",
		"2025-03-03 10:05", "Успешно", "Нет ответа", "Доставлено", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if m, err := ParseMoney(s); err == nil && m.Valid {
			again, err := ParseMoney(strings.Replace(m.V.String(), ".", ",", 1))
			if err != nil || again.V != m.V {
				t.Fatalf("money %q = %s, re-parsed %v %v", s, m.V, again, err)
			}
		}
		if d, err := ParseDate(s, Moscow); err == nil && !d.IsZero() {
			again, err := ParseDate(d.In(Moscow).Format(DateLayouts[0]), Moscow)
			if err != nil || !again.Equal(d.Truncate(time.Second)) {
				t.Fatalf("date %q = %v, re-parsed %v %v", s, d, again, err)
			}
		}
		found := false
		for _, st := range Statuses {
			found = found || CallStatus(s) == st
		}
		if !found {
			t.Fatalf("CallStatus(%q) = %q", s, CallStatus(s))
		}
		switch SMSStatus(s) {
		case SMSDelivered, SMSUndelivered, SMSSent, SMSPending, SMSUnknown:
		default:
			t.Fatalf("SMSStatus(%q) = %q", s, SMSStatus(s))
		}
	})
}
