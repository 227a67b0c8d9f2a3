package sandbox

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

const mgKey = "mg-Test-Key-0123456789"

func mgConfig() MobilgroupConfig {
	return MobilgroupConfig{APIKey: mgKey, Seed: 3, Broadcasts: 4, SubscribersPerBroadcast: 30,
		Start: time.Date(2025, 3, 3, 23, 40, 0, 0, t2Moscow()), Days: 2}
}

// mgPost posts body to path with key as the Authorization header ("" for
// none) and returns the answer.
func mgPost(t *testing.T, h http.Handler, path, key, body string) (int, string) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Authorization", key)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code, rec.Body.String()
}

func TestMobilgroupDocExamples(t *testing.T) {
	doc, err := os.ReadFile("/work/shared/vendor-docs/mobilgroup-voice-api.txt")
	if err != nil {
		t.Skip("vendor document not available:", err)
	}
	for name, ex := range map[string]string{
		"state": MobilgroupDocStateMalformed, "state error": MobilgroupDocStateError, "balance": MobilgroupDocBalance,
		"scripts": MobilgroupDocScripts, "phrases": MobilgroupDocPhrases, "numbers": MobilgroupDocNumbers,
		"templates": MobilgroupDocTemplates, "auth error": MobilgroupDocAuthError, "send": MobilgroupDocSendAnswer,
	} {
		if !strings.Contains(string(doc), "```\n"+ex+"\n```") {
			t.Errorf("%s example is not verbatim from the document", name)
		}
		if valid := json.Valid([]byte(ex)); valid == (name == "state") {
			t.Errorf("%s example: json.Valid = %v", name, valid)
		}
	}
	if want := strings.Replace(MobilgroupDocStateMalformed, `, {"}`, "]", 1); MobilgroupDocState != want {
		t.Errorf("MobilgroupDocState is not the malformed example with `, {\"}` replaced by `]`")
	}
}

func TestMobilgroupProtocol(t *testing.T) {
	m := NewMobilgroup(mgConfig())
	id := m.IDs()[0]
	state := `{"request":"state","id":"` + id + `"}`
	mux := http.NewServeMux()
	mux.Handle("/mobilgroup/", http.StripPrefix("/mobilgroup", m))
	errAnswer := func(code string) string { return `{"result": "error", "error_code": "` + code + `"}` }
	cases := []struct {
		name, path, key, body string
		status                int
		want                  string // exact body; "" checks only that the answer is ok
	}{
		{"no key", "/api/get/", "", state, 200, MobilgroupDocAuthError},
		{"wrong key", "/api/get/", "nope", state, 200, MobilgroupDocAuthError},
		{"key in security", "/api/get/", "", `{"security":{"apiKey":"` + mgKey + `"},"request":"balance"}`, 200, MobilgroupDocBalance},
		{"balance", "/api/get/", mgKey, `{"request": "balance"}`, 200, MobilgroupDocBalance},
		{"no trailing slash", "/api/get", mgKey, `{"request": "balance"}`, 200, MobilgroupDocBalance},
		{"prefix", "/mobilgroup/api/get/", mgKey, `{"request": "balance"}`, 200, MobilgroupDocBalance},
		{"scripts", "/api/get/", mgKey, `{"request": "scripts"}`, 200, MobilgroupDocScripts},
		{"templates", "/api/get/", mgKey, `{"request": "templates", "account": "123"}`, 200, MobilgroupDocTemplates},
		{"unknown request", "/api/get/", mgKey, `{"request": "calls"}`, 200, errAnswer("Error_Unknown_Request")},
		{"not JSON", "/api/get/", mgKey, `request=state`, 200, errAnswer("Error_Unknown_Request")},
		{"unknown id", "/api/get/", mgKey, `{"request": "state", "id": "99"}`, 200, MobilgroupDocStateError},
		{"doc id", "/api/get/", mgKey, `{"request": "state", "id": "1234"}`, 200, MobilgroupDocState},
		{"numeric id", "/api/get/", mgKey, `{"request": "state", "id": ` + id + `}`, 200, ""},
		{"state", "/api/get/", mgKey, state, 200, ""},
		{"send is not emulated", "/api/send/", mgKey, state, 404, "<html>"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var h http.Handler = m
			if strings.HasPrefix(tc.path, "/mobilgroup/") {
				h = mux
			}
			code, body := mgPost(t, h, tc.path, tc.key, tc.body)
			if code != tc.status {
				t.Fatalf("HTTP %d, want %d: %s", code, tc.status, body)
			}
			switch {
			case tc.want == "":
				var a struct{ Result, ID string }
				if err := json.Unmarshal([]byte(body), &a); err != nil || a.Result != "ok" || a.ID != id {
					t.Errorf("answer %.200s (%v)", body, err)
				}
			case tc.status == 404:
				if !strings.HasPrefix(body, tc.want) {
					t.Errorf("body %q", body)
				}
			case body != tc.want:
				t.Errorf("body\n%s\nwant\n%s", body, tc.want)
			}
		})
	}
	m.SetDisabled(true)
	if _, body := mgPost(t, m, "/api/get/", mgKey, state); body != errAnswer("Error_User_Disabled") {
		t.Errorf("disabled: %s", body)
	}
	if _, body := mgPost(t, m, "/api/get/", "wrong", state); body != MobilgroupDocAuthError {
		t.Errorf("disabled, wrong key: %s", body)
	}
	m.SetDisabled(false)
	m.SetDocMalformed(true)
	if _, body := mgPost(t, m, "/api/get/", mgKey, `{"request":"state","id":"1234"}`); body != MobilgroupDocStateMalformed {
		t.Errorf("malformed doc example: %s", body)
	}
	if n := m.StateRequests(id); n != 3 {
		t.Errorf("StateRequests(%s) = %d, want 3 (authenticated ones only)", id, n)
	}
}

// mgAnswer is a state answer decoded with every value kept as JSON.
type mgAnswer struct {
	Result, ID  string
	Phones      json.RawMessage
	Budget      json.RawMessage
	Subscribers []map[string]json.RawMessage
}

func mgState(t *testing.T, m *Mobilgroup, id string) mgAnswer {
	t.Helper()
	_, body := mgPost(t, m, "/api/get/", mgKey, `{"request":"state","id":"`+id+`"}`)
	var a mgAnswer
	if err := json.Unmarshal([]byte(body), &a); err != nil {
		t.Fatalf("state %s: %v\n%s", id, err, body)
	}
	return a
}

// mgKopecks parses served money exactly: "0", "0,91", "3.41" (or a number).
func mgKopecks(t *testing.T, raw json.RawMessage) int64 {
	t.Helper()
	s := strings.Trim(string(raw), `"`)
	whole, frac, _ := strings.Cut(strings.Replace(s, ",", ".", 1), ".")
	for len(frac) < 2 {
		frac += "0"
	}
	n, err := strconv.ParseInt(whole+frac, 10, 64)
	if err != nil || len(frac) != 2 {
		t.Fatalf("money %s", raw)
	}
	return n
}

func TestMobilgroupStatesConverge(t *testing.T) {
	m := NewMobilgroup(mgConfig())
	if len(m.IDs()) != 4 {
		t.Fatalf("ids %v", m.IDs())
	}
	seps := map[string]int{}
	steps := 0
	for ; ; steps++ {
		truth := m.Broadcasts()
		for _, b := range truth {
			a := mgState(t, m, b.ID)
			if len(a.Subscribers) != len(b.Subscribers) || string(a.Phones) != `"`+strconv.Itoa(b.Phones)+`"` {
				t.Fatalf("broadcast %s: %d subscribers, phones %s, truth %d", b.ID, len(a.Subscribers), a.Phones, len(b.Subscribers))
			}
			if got := mgKopecks(t, a.Budget); got != b.BudgetKopecks {
				t.Errorf("broadcast %s: budget %s, truth %d", b.ID, a.Budget, b.BudgetKopecks)
			}
			var sum int64
			final := true
			for j, s := range a.Subscribers {
				ts := b.Subscribers[j]
				for k, v := range s {
					if k != "transfer" && k != "sms" && (len(v) == 0 || v[0] != '"') {
						t.Fatalf("%s is not a string: %s", k, v)
					}
				}
				p := string(s["price"])
				switch {
				case strings.Contains(p, ","):
					seps[","]++
				case strings.Contains(p, "."):
					seps["."]++
				}
				got := mgKopecks(t, s["price"])
				if got != ts.PriceKopecks {
					t.Errorf("%s/%d: price %s, truth %d", b.ID, j+1, p, ts.PriceKopecks)
				}
				var legs int64
				if ts.Transfer != nil {
					legs += ts.Transfer.PriceKopecks
				}
				if ts.SMS != nil {
					legs += ts.SMS.PriceKopecks
				}
				if ts.PriceKopecks != ts.CallKopecks+legs {
					t.Errorf("%s/%d: price %d is not call %d + legs %d", b.ID, j+1, ts.PriceKopecks, ts.CallKopecks, legs)
				}
				if (string(s["date"]) == `""`) != ts.Date.IsZero() {
					t.Errorf("%s/%d: date %s, truth %v", b.ID, j+1, s["date"], ts.Date)
				}
				if !ts.Date.IsZero() {
					want := `"` + ts.Date.In(t2Moscow()).Format(MobilgroupDateLayout) + `"`
					if string(s["date"]) != want {
						t.Errorf("%s/%d: date %s, want %s", b.ID, j+1, s["date"], want)
					}
				}
				if ts.Final != (ts.Code != "pending") || (ts.Final && ts.Date.IsZero()) {
					t.Errorf("%s/%d: final %v code %s date %v", b.ID, j+1, ts.Final, ts.Code, ts.Date)
				}
				final = final && ts.Final
				sum += ts.PriceKopecks
			}
			if final != b.Final || (final && sum != b.BudgetKopecks) {
				t.Errorf("broadcast %s: final %v (truth %v), Σ price %d, budget %d", b.ID, final, b.Final, sum, b.BudgetKopecks)
			}
		}
		if m.Final() {
			break
		}
		if steps > 20 {
			t.Fatal("not final after 20 steps")
		}
		m.Advance()
	}
	if seps[","] == 0 || seps["."] == 0 {
		t.Errorf("separators used: %v", seps)
	}
	for _, b := range m.Broadcasts() {
		if !b.Final {
			t.Errorf("broadcast %s not final after Final()", b.ID)
		}
	}
	before := m.Broadcasts()
	m.Advance()
	if !reflect.DeepEqual(before, m.Broadcasts()) {
		t.Error("Advance after Final changed the ground truth")
	}
	if !reflect.DeepEqual(NewMobilgroup(mgConfig()).IDs(), m.IDs()) {
		t.Error("ids depend on more than the seed")
	}
}

func TestMobilgroupNumbersAndBad(t *testing.T) {
	cfg := mgConfig()
	cfg.Numbers, cfg.BadEvery = true, 7
	m := NewMobilgroup(cfg)
	for m.Advance(); !m.Final(); m.Advance() {
	}
	bad := 0
	for _, b := range m.Broadcasts() {
		a := mgState(t, m, b.ID)
		if string(a.Phones) != strconv.Itoa(b.Phones) {
			t.Errorf("phones %s with Numbers", a.Phones)
		}
		for j, s := range a.Subscribers {
			if b.Subscribers[j].Bad {
				bad++
				if string(s["price"]) != `"—"` {
					t.Errorf("bad subscriber price %s", s["price"])
				}
				continue
			}
			if p := s["price"]; p[0] == '"' || strings.Contains(string(p), ",") {
				t.Errorf("price %s with Numbers", p)
			}
		}
	}
	if bad == 0 {
		t.Error("BadEvery served no bad subscriber")
	}
}

func TestMobilgroupFaults(t *testing.T) {
	m := NewMobilgroup(mgConfig())
	m.SetFaults(Faults{Error5xxEvery: 2})
	if code, _ := mgPost(t, m, "/api/get/", mgKey, `{"request":"balance"}`); code != 200 {
		t.Errorf("first request: HTTP %d", code)
	}
	if code, _ := mgPost(t, m, "/api/get/", mgKey, `{"request":"balance"}`); code != 503 {
		t.Errorf("second request: HTTP %d", code)
	}
	if m.Requests() != 1 || m.FaultInjector().Counts().Requests != 2 {
		t.Errorf("requests %d, injector %+v", m.Requests(), m.FaultInjector().Counts())
	}
}

// TestMobilgroupRedials: with Redials the emulator dials on its clock. A
// subscriber not answered on an attempt shows that attempt's result (a
// final-looking word) at price 0 until its redial, up to 3 attempts at most
// 60 minutes apart; one answered on a redial is charged then. The state
// answer always equals the ground truth, which is Final only once the last
// attempt is made.
func TestMobilgroupRedials(t *testing.T) {
	start := time.Date(2025, 3, 4, 10, 0, 0, 0, t2Moscow())
	clock := &t2Clock{now: start.Add(-time.Minute)}
	cfg := mgConfig()
	cfg.Start, cfg.Days, cfg.Redials, cfg.Now = start, 1, true, clock.Now
	m := NewMobilgroup(cfg)
	if m.Final() || m.LastAttempt().Before(start) {
		t.Fatalf("final %v before the first attempt; last attempt %v", m.Final(), m.LastAttempt())
	}
	before := m.Broadcasts()
	m.Advance()
	if !reflect.DeepEqual(before, m.Broadcasts()) {
		t.Error("Advance changed a clock-driven emulator")
	}
	type seen struct {
		attempts int
		date     time.Time
		retried  bool // seen not final with a final-looking code
	}
	subs := map[string]*seen{}
	var chargedOnRedial, looksDone int
	for ; !clock.Now().After(m.LastAttempt().Add(time.Minute)); clock.Advance(3 * time.Minute) {
		for _, b := range m.Broadcasts() {
			if b.MaxAttempts < 2 || b.MaxAttempts > 3 || b.Interval < 5*time.Minute || b.Interval > time.Hour {
				t.Fatalf("broadcast %s: %d attempts %v apart: outside the document's limits", b.ID, b.MaxAttempts, b.Interval)
			}
			a := mgState(t, m, b.ID)
			final, allCalled := true, true
			for j, s := range b.Subscribers {
				key := b.ID + "/" + strconv.Itoa(s.Seq)
				got := a.Subscribers[j]
				want := map[string]string{"status": s.Status, "attempts": strconv.Itoa(s.Attempts), "date": ""}
				if !s.Date.IsZero() {
					want["date"] = s.Date.In(t2Moscow()).Format(MobilgroupDateLayout)
				}
				for k, v := range want {
					if string(got[k]) != strconv.Quote(v) {
						t.Fatalf("%s at %v: %s %s, truth %q", key, clock.Now(), k, got[k], v)
					}
				}
				if p := mgKopecks(t, got["price"]); p != s.PriceKopecks {
					t.Fatalf("%s: price %d, truth %d", key, p, s.PriceKopecks)
				}
				if s.Date.After(clock.Now()) || s.Attempts > b.MaxAttempts {
					t.Fatalf("%s at %v: attempt %d of %d dated %v", key, clock.Now(), s.Attempts, b.MaxAttempts, s.Date)
				}
				prev := subs[key]
				if prev == nil {
					prev = &seen{}
					subs[key] = prev
				}
				if s.Attempts < prev.attempts || s.Attempts > prev.attempts && prev.attempts > 0 &&
					s.Date.Sub(prev.date) != time.Duration(s.Attempts-prev.attempts)*b.Interval {
					t.Fatalf("%s: attempt %d at %v after attempt %d at %v (interval %v)", key, s.Attempts, s.Date, prev.attempts, prev.date, b.Interval)
				}
				if !s.Final && s.Code != "pending" {
					if s.Code != "busy" && s.Code != "no_answer" || s.PriceKopecks != 0 {
						t.Fatalf("%s between attempts: %s %s, price %d", key, s.Status, s.Code, s.PriceKopecks)
					}
					prev.retried = true
				}
				if s.Final && s.Code == "answered" && s.Attempts > 1 && prev.retried && s.PriceKopecks > 0 && prev.attempts < s.Attempts {
					chargedOnRedial++
				}
				prev.attempts, prev.date = s.Attempts, s.Date
				final = final && s.Final
				allCalled = allCalled && s.Code != "pending"
			}
			if final != b.Final {
				t.Fatalf("broadcast %s: Final %v, subscribers final %v", b.ID, b.Final, final)
			}
			if allCalled && !final {
				looksDone++ // every status a result word, yet redials are due
			}
		}
		if m.Final() != !clock.Now().Before(m.LastAttempt()) {
			t.Fatalf("Final() %v at %v, last attempt %v", m.Final(), clock.Now(), m.LastAttempt())
		}
	}
	if !m.Final() {
		t.Fatal("not final after the last attempt")
	}
	for _, b := range m.Broadcasts() {
		if !b.Final {
			t.Errorf("broadcast %s not final after the last attempt", b.ID)
		}
	}
	if chargedOnRedial == 0 || looksDone == 0 {
		t.Errorf("%d subscribers busy first and charged on a redial, %d moments a broadcast only looked done: the scenario is missing", chargedOnRedial, looksDone)
	}
	// Without Redials the same seed draws the same subscribers.
	plain := mgConfig()
	plain.Start, plain.Days = start, 1
	p := NewMobilgroup(plain)
	for !p.Final() {
		p.Advance()
	}
	for i, b := range p.Broadcasts() {
		for j, s := range b.Subscribers {
			r := m.Broadcasts()[i].Subscribers[j]
			if s.Phone != r.Phone || s.Code != r.Code || s.PriceKopecks != r.PriceKopecks {
				t.Fatalf("%s/%d differs with Redials: %+v vs %+v", b.ID, s.Seq, s, r)
			}
		}
	}
}
