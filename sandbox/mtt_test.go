package sandbox

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestMTTDocExamplesServedVerbatim(t *testing.T) {
	cfg := testConfig()
	cfg.IncludeDocExamples = true
	cfg.Customers = append(cfg.Customers, "110000000", "110011111")
	m := NewMTT(cfg)
	reqs, err := filepath.Glob("testdata/mtt/*.request.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(reqs) != 5 {
		t.Fatalf("%d documented requests, want 5: %v", len(reqs), reqs)
	}
	for _, reqFile := range reqs {
		name := strings.TrimSuffix(filepath.Base(reqFile), ".request.json")
		t.Run(name, func(t *testing.T) {
			req, err := os.ReadFile(reqFile)
			if err != nil {
				t.Fatal(err)
			}
			want, err := os.ReadFile(strings.TrimSuffix(reqFile, ".request.json") + ".response.json")
			if err != nil {
				t.Fatal(err)
			}
			if got := post(t, m, req).Raw; !bytes.Equal(got, want) {
				t.Errorf("answer differs from the document:\n got %s\nwant %s", got, want)
			}

			// The same request with another id: the documented result, our id.
			var r map[string]any
			if err := json.Unmarshal(req, &r); err != nil {
				t.Fatal(err)
			}
			r["id"] = "other-42"
			body, _ := json.Marshal(r)
			a := post(t, m, body)
			var doc rpcAnswer
			if err := json.Unmarshal(want, &doc); err != nil {
				t.Fatal(err)
			}
			if string(a.ID) != `"other-42"` || !jsonEqual(t, a.Result, doc.Result) {
				t.Errorf("with another id: %s", a.Raw)
			}
		})
	}
}

func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	va, err1 := decodeAny(a)
	vb, err2 := decodeAny(b)
	if err1 != nil || err2 != nil {
		t.Fatalf("not JSON: %v %v", err1, err2)
	}
	return reflect.DeepEqual(va, vb)
}

// TestMTTDocExamplesOptIn: without IncludeDocExamples the document's
// request is answered from generated traffic (none in 2017 here).
func TestMTTDocExamplesOptIn(t *testing.T) {
	m := NewMTT(testConfig())
	req, err := os.ReadFile("testdata/mtt/getServiceHistoryByCustomer.request.json")
	if err != nil {
		t.Fatal(err)
	}
	a := post(t, m, req)
	if a.Error == nil || a.Error.Code != rpcDataNotFound || a.Error.Data != "No data found" {
		t.Errorf("answer %s, want -32001 No data found", a.Raw)
	}
}

func TestMTTDocExampleFiles(t *testing.T) {
	readme, err := os.ReadFile("testdata/mtt/README.md")
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob("testdata/mtt/*.json")
	for _, want := range []string{
		"getServiceHistoryByCustomer.request.json", "getServiceHistoryByCustomer.response.json",
		"getCallHistory.request.json", "getCallHistory.response.json",
		"error-32602.json", "error-32001.json",
		"getCustomerBalance.request.json", "getCustomerBalance.response.json",
		"getPersonalAccountList.request.json", "getPersonalAccountList.response.json",
	} {
		if !slices.Contains(files, filepath.Join("testdata/mtt", want)) {
			t.Errorf("missing testdata/mtt/%s", want)
		}
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if !json.Valid(b) {
			t.Errorf("%s is not valid JSON", f)
		}
		if !bytes.Contains(readme, []byte("`"+filepath.Base(f)+"`")) {
			t.Errorf("README.md does not list %s", filepath.Base(f))
		}
	}
	// The quirks the extractor must cope with are in the document's rows.
	resp, _ := os.ReadFile("testdata/mtt/getServiceHistoryByCustomer.response.json")
	for _, s := range []string{`"clid": "79775133876"`, `"cld": "74959333223"`, `"charged": 2.48`,
		`"destination": "."`, `"destination": " ."`, `"charged_time": "119"`} {
		if !bytes.Contains(resp, []byte(s)) {
			t.Errorf("getServiceHistoryByCustomer.response.json lacks %s", s)
		}
	}
	exs, err := loadDocExamples(mttDocFiles)
	if err != nil || len(exs) != 5 {
		t.Fatalf("embedded examples: %d, %v", len(exs), err)
	}
}

func TestMTTHistoryOrderAndCap(t *testing.T) {
	m := NewMTT(testConfig())
	day := testDay(2)
	end := day.Add(24*time.Hour - time.Second)
	all := truthOf(m, onDay(custA, MTTDialed, day))
	if len(all) < 30 {
		t.Fatalf("only %d calls in the day", len(all))
	}
	tests := []struct {
		name  string
		count int
		order string
		want  []MTTCall
	}{
		{"asc all", 1000, "asc", all},
		{"desc all", 1000, "desc", reversed(all)},
		{"default is desc", 1000, "", reversed(all)},
		{"asc first 10", 10, "asc", all[:10]},
		{"desc last 10", 10, "desc", reversed(all[len(all)-10:])},
		{"one", 1, "asc", all[:1]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows, e := history(t, m, MTTDialed, custA, day, end, tt.count, tt.order)
			if e != nil {
				t.Fatalf("error %+v", e)
			}
			compareRows(t, rows, tt.want)
		})
	}
}

func TestMTTInclusiveBounds(t *testing.T) {
	m := NewMTT(testConfig())
	t1 := time.Date(2024, 4, 10, 10, 0, 0, 0, time.UTC)
	t2 := t1.Add(5 * time.Second)
	var calls []MTTCall
	for i, at := range []time.Time{t1.Add(-time.Second), t1, t2, t2.Add(time.Second)} {
		calls = append(calls, MTTCall{Customer: custA, Type: MTTIncoming, ConnectTime: at,
			ConfID: fmt.Sprintf("0000000%d 00000000 00000000 00000000", i), CLI: "79161234567", CLD: "74950000000"})
	}
	m.AddCalls(calls...)
	sec := time.Second
	tests := []struct {
		name     string
		from, to time.Time
		want     int // rows; 0 means -32001
	}{
		{"both bounds", t1, t2, 2},
		{"from excluded", t1.Add(sec), t2, 1},
		{"to excluded", t1, t2.Add(-sec), 1},
		{"both excluded", t1.Add(sec), t2.Add(-sec), 0},
		{"wider", t1.Add(-sec), t2.Add(sec), 4},
		{"one second", t1, t1, 1},
		{"from after to", t2, t1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows, e := history(t, m, MTTIncoming, custA, tt.from, tt.to, 100, "asc")
			if tt.want == 0 {
				if e == nil || e.Code != rpcDataNotFound || e.Message != "Data not found" || e.Data != "No data found" {
					t.Fatalf("got %d rows, error %+v; want -32001 No data found", len(rows), e)
				}
				return
			}
			if e != nil || len(rows) != tt.want {
				t.Fatalf("got %d rows, error %+v; want %d rows", len(rows), e, tt.want)
			}
		})
	}
}

// TestMTTSameSecondBurst: 1500 calls in one second, more than one page. The
// order within the second is stable (by h323_conf_id) and repeatable.
func TestMTTSameSecondBurst(t *testing.T) {
	m := NewMTT(testConfig())
	at := time.Date(2024, 4, 11, 12, 0, 0, 0, time.UTC)
	r := rng{7}
	var calls []MTTCall
	for range 1500 {
		calls = append(calls, MTTCall{Customer: custB, Type: MTTDialed, ConnectTime: at, ConfID: r.confID(),
			CLI: "74951111111", CLD: r.mobileNumber(), AccountID: "74951111111", CostE4: 12500})
	}
	calls = append(calls, MTTCall{Customer: custB, Type: MTTDialed, ConnectTime: at.Add(time.Second), ConfID: r.confID(),
		CLI: "74951111111", CLD: "0012"})
	m.AddCalls(calls...)
	truth := truthOf(m, onDay(custB, MTTDialed, at.Truncate(24*time.Hour)))
	if len(truth) != 1501 {
		t.Fatalf("truth has %d calls", len(truth))
	}
	if !slices.IsSortedFunc(truth[:1500], func(a, b MTTCall) int { return strings.Compare(a.ConfID, b.ConfID) }) {
		t.Error("truth is not ordered by h323_conf_id within the second")
	}
	end := at.Add(time.Hour)
	asc, e := history(t, m, MTTDialed, custB, at, end, 1000, "asc")
	if e != nil {
		t.Fatal(e)
	}
	compareRows(t, asc, truth[:1000])
	again, _ := history(t, m, MTTDialed, custB, at, end, 1000, "asc")
	if confIDs(t, asc) != confIDs(t, again) {
		t.Error("the same request gave another order")
	}
	desc, _ := history(t, m, MTTDialed, custB, at, end, 1000, "desc")
	compareRows(t, desc, reversed(truth[501:]))
	for _, c := range calls[:3] {
		if c.CostE4 != 12500 {
			t.Fatal("AddCalls changed the caller's slice")
		}
	}
}

func TestMTTFilter(t *testing.T) {
	m := NewMTT(testConfig())
	day := testDay(1)
	all := truthOf(m, onDay(custA, MTTIncoming, day))
	filter := all[len(all)/2].CLD[2:7] // part of an account number
	var want []MTTCall
	for _, c := range all {
		if strings.Contains(c.CLI, filter) || strings.Contains(c.CLD, filter) {
			want = append(want, c)
		}
	}
	a := call(t, m, "getServiceHistoryByCustomer", map[string]any{"type": MTTIncoming, "customer_name": custA,
		"date_from": dt(day), "date_to": dt(day.Add(24*time.Hour - time.Second)), "record_count": 1000,
		"order": "asc", "filter": filter})
	if len(want) == len(all) || len(want) == 0 {
		t.Fatalf("filter %q selects %d of %d: not a useful test", filter, len(want), len(all))
	}
	compareRows(t, rowsOf(t, a, MTTIncoming), want)
}

func TestMTTDefaultWindow(t *testing.T) {
	now := time.Date(2024, 4, 12, 12, 0, 0, 0, time.UTC)
	cfg := testConfig()
	cfg.Now = func() time.Time { return now.Add(300 * time.Millisecond) }
	m := NewMTT(cfg)
	var calls []MTTCall
	for i, ago := range []time.Duration{40 * time.Minute, 30*time.Minute + time.Second, 30 * time.Minute, 10 * time.Minute, 0, -time.Second} {
		calls = append(calls, MTTCall{Customer: custA, Type: MTTMissed, ConnectTime: now.Add(-ago),
			ConfID: fmt.Sprintf("0000000%d 00000000 00000000 00000000", i), CLI: "79160000000", CLD: "74950000000",
			Currency: "RUB"})
	}
	m.AddCalls(calls...)
	a := call(t, m, "getServiceHistoryByCustomer", map[string]any{"type": MTTMissed, "customer_name": custA,
		"record_count": 100, "order": "asc"})
	compareRows(t, rowsOf(t, a, MTTMissed), calls[2:5])
}

func TestMTTErrors(t *testing.T) {
	cfg := testConfig()
	m := NewMTT(cfg)
	acct := m.Accounts(custA)[0].Number
	hist := func(mod func(p map[string]any)) map[string]any {
		p := map[string]any{"type": MTTDialed, "customer_name": custA, "date_from": "2024-03-01 00:00:00",
			"date_to": "2024-03-01 23:59:59", "record_count": 20}
		mod(p)
		return p
	}
	tests := []struct {
		name     string
		method   string
		params   any
		code     int
		message  string
		data     string
		dataLike string // when data varies: a substring
	}{
		{"record_count 0", "getServiceHistoryByCustomer", hist(func(p map[string]any) { p["record_count"] = 0 }), -32602, "Invalid params", "Invalid param 'record_count' value", ""},
		{"record_count 1001", "getServiceHistoryByCustomer", hist(func(p map[string]any) { p["record_count"] = 1001 }), -32602, "Invalid params", "Invalid param 'record_count' value", ""},
		{"record_count abc", "getServiceHistoryByCustomer", hist(func(p map[string]any) { p["record_count"] = "abc" }), -32602, "Invalid params", "Invalid param 'record_count' value", ""},
		{"record_count 2.5", "getServiceHistoryByCustomer", hist(func(p map[string]any) { p["record_count"] = 2.5 }), -32602, "Invalid params", "Invalid param 'record_count' value", ""},
		{"record_count missing", "getServiceHistoryByCustomer", hist(func(p map[string]any) { delete(p, "record_count") }), -32602, "Invalid params", "Missing param 'record_count'", ""},
		{"bad begin date", "getServiceHistoryByCustomer", hist(func(p map[string]any) { p["date_from"] = "2024-13-45 99:00:00" }), -32602, "Invalid params", "Invalid begin date", ""},
		{"begin date in the other format", "getServiceHistoryByCustomer", hist(func(p map[string]any) { p["date_from"] = "01.03.2024 00:00:00" }), -32602, "Invalid params", "Invalid begin date", ""},
		{"bad end date", "getServiceHistoryByCustomer", hist(func(p map[string]any) { p["date_to"] = "2024-03-01" }), -32602, "Invalid params", "Invalid end date", ""},
		{"bad type", "getServiceHistoryByCustomer", hist(func(p map[string]any) { p["type"] = "callback" }), -32602, "Invalid params", "Invalid param 'type' value", ""},
		{"bad order", "getServiceHistoryByCustomer", hist(func(p map[string]any) { p["order"] = "up" }), -32602, "Invalid params", "Invalid param 'order' value", ""},
		{"unknown param", "getServiceHistoryByCustomer", hist(func(p map[string]any) { p["offset"] = 1000 }), -32602, "Invalid params", "Unknown param 'offset'", ""},
		{"params not an object", "getServiceHistoryByCustomer", []string{"dialed"}, -32602, "Invalid params", "", "object"},
		{"unknown customer", "getServiceHistoryByCustomer", hist(func(p map[string]any) { p["customer_name"] = "999" }), -32001, "Data not found", "This account does not exist", ""},
		{"empty selection", "getServiceHistoryByCustomer", hist(func(p map[string]any) { p["date_from"], p["date_to"] = "2020-01-01 00:00:00", "2020-01-01 23:59:59" }), -32001, "Data not found", "No data found", ""},
		{"accounts: offset past the end", "getPersonalAccountList", map[string]any{"customer_name": custA, "limit": 5, "offset": 7}, -32001, "Data not found", "No data found", ""},
		{"accounts: limit 0", "getPersonalAccountList", map[string]any{"customer_name": custA, "limit": 0}, -32602, "Invalid params", "Unknown param 'limit' value", ""},
		{"accounts: unknown customer", "getPersonalAccountList", map[string]any{"customer_name": "999"}, -32001, "Data not found", "This account does not exist", ""},
		{"balance: unknown customer", "getCustomerBalance", []string{"999"}, -32001, "Data not found", "", ""},
		{"balance: no customer", "getCustomerBalance", []string{}, -32602, "Invalid params", "Missing param 'customer_name'", ""},
		{"call history: unknown sip_id", "getCallHistory", map[string]any{"sip_id": "74990000000", "date_from": "01.03.2024 00:00:00", "date_to": "01.03.2024 23:59:59"}, -32001, "Data not found", "No data found", ""},
		{"call history: ISO date", "getCallHistory", map[string]any{"sip_id": acct, "date_from": "2024-03-01 00:00:00"}, -32602, "Invalid params", "Invalid begin date", ""},
		{"unknown method", "getEverything", map[string]any{}, -32601, "Method not found", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := call(t, m, tt.method, tt.params)
			e := a.Error
			if e == nil {
				t.Fatalf("no error: %s", a.Raw)
			}
			if e.Code != tt.code || e.Message != tt.message || (tt.dataLike == "" && e.Data != tt.data) ||
				!strings.Contains(e.Data, tt.dataLike) {
				t.Errorf("error %+v, want %d %q %q", *e, tt.code, tt.message, tt.data+tt.dataLike)
			}
			if string(a.ID) != `"1"` {
				t.Errorf("id = %s", a.ID)
			}
		})
	}
}

func TestMTTProtocolErrors(t *testing.T) {
	m := NewMTT(testConfig())
	tests := []struct {
		name, body string
		code       int
		id         string
	}{
		{"not JSON", `{"jsonrpc":"2.0","id":"1",`, -32700, "null"},
		{"not JSON at all", `<xml/>`, -32700, "null"},
		{"no method", `{"jsonrpc":"2.0","id":7}`, -32600, "7"},
		{"wrong version", `{"jsonrpc":"1.0","id":"x","method":"getCustomerBalance","params":["1"]}`, -32600, `"x"`},
		{"batch", `[{"jsonrpc":"2.0","id":1,"method":"getCustomerBalance"}]`, -32600, "null"},
		{"method not a string", `{"jsonrpc":"2.0","id":{"a":1},"method":5}`, -32600, `{"a":1}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := post(t, m, []byte(tt.body))
			if a.Error == nil || a.Error.Code != tt.code || string(a.ID) != tt.id {
				t.Errorf("answer %s, want code %d id %s", a.Raw, tt.code, tt.id)
			}
		})
	}
	w := httptest.NewRecorder()
	m.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
	if w.Code != http.StatusMethodNotAllowed {
		t.Errorf("GET: HTTP %d", w.Code)
	}
}

func TestMTTAuth(t *testing.T) {
	cfg := testConfig()
	cfg.Username, cfg.Password = "agent", "s3cret"
	m := NewMTT(cfg)
	srv := httptest.NewServer(m)
	defer srv.Close()
	body := `{"jsonrpc":"2.0","id":1,"method":"getCustomerBalance","params":["` + custA + `"]}`
	tests := []struct {
		name       string
		user, pass string
		noAuth     bool
		want       int
	}{
		{"missing", "", "", true, 401},
		{"wrong password", "agent", "secret", false, 401},
		{"wrong user", "Agent", "s3cret", false, 401},
		{"right", "agent", "s3cret", false, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, srv.URL+"/index.php", strings.NewReader(body))
			if !tt.noAuth {
				req.SetBasicAuth(tt.user, tt.pass)
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.want {
				t.Fatalf("HTTP %d, want %d: %s", resp.StatusCode, tt.want, b)
			}
			if tt.want == 401 && (len(b) == 0 || len(b) > 100 || resp.Header.Get("WWW-Authenticate") == "") {
				t.Errorf("401 body %q, WWW-Authenticate %q", b, resp.Header.Get("WWW-Authenticate"))
			}
		})
	}
	if m.Requests() != len(tests) {
		t.Errorf("Requests() = %d, want %d", m.Requests(), len(tests))
	}
}

// TestMTTFaults: the knobs act on the real answers; the emulator counts
// only requests that reached it.
func TestMTTFaults(t *testing.T) {
	m := NewMTT(testConfig())
	srv := httptest.NewServer(m)
	defer srv.Close()
	body := `{"jsonrpc":"2.0","id":"1","method":"getServiceHistoryByCustomer","params":{"type":"dialed",` +
		`"customer_name":"` + custA + `","date_from":"2024-03-01 00:00:00","date_to":"2024-03-01 23:59:59","record_count":1000}}`
	do := func() (int, []byte, error) {
		resp, err := srv.Client().Post(srv.URL, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp.StatusCode, b, err
	}
	m.SetFaults(Faults{TruncateEvery: 2, MalformedEvery: 3})
	_, full, err := do()
	if err != nil || !json.Valid(full) {
		t.Fatalf("request 1: %v", err)
	}
	if _, b, err := do(); !errors.Is(err, io.ErrUnexpectedEOF) || len(b) != len(full)/2 {
		t.Errorf("request 2: %d bytes, %v; want %d bytes and unexpected EOF", len(b), err, len(full)/2)
	}
	if code, b, err := do(); code != 200 || err != nil || json.Valid(b) || !bytes.HasPrefix(full, b[:len(b)-len("<html>")]) {
		t.Errorf("request 3: HTTP %d, %v, valid JSON %v", code, err, json.Valid(b))
	}
	m.SetFaults(Faults{Error5xxEvery: 1})
	if code, _, _ := do(); code != 503 {
		t.Errorf("request 4: HTTP %d", code)
	}
	m.SetFaults(Faults{})
	if _, b, err := do(); err != nil || !bytes.Equal(b, full) {
		t.Errorf("request 5: %v", err)
	}
	c := m.FaultInjector().Counts()
	if c != (FaultCounts{Requests: 5, Error5xx: 1, Truncate: 1, Malformed: 1}) {
		t.Errorf("Counts() = %+v", c)
	}
	if m.Requests() != 4 {
		t.Errorf("Requests() = %d, want 4 (the 503 never reached the emulator)", m.Requests())
	}
}

func TestMTTDeterminism(t *testing.T) {
	cfg := testConfig()
	m1, m2 := NewMTT(cfg), NewMTT(cfg)
	t1, t2 := m1.Truth(), m2.Truth()
	if len(t1) == 0 || !reflect.DeepEqual(t1, t2) {
		t.Fatal("two emulators with the same config have different truths")
	}
	body := []byte(`{"jsonrpc":"2.0","id":"1","method":"getServiceHistoryByCustomer","params":{"type":"incoming",` +
		`"customer_name":"` + custB + `","date_from":"2024-03-01 00:00:00","date_to":"2024-03-03 23:59:59","record_count":1000}}`)
	// m2 answers before generating anything else: the cache must not matter.
	m3 := NewMTT(cfg)
	if a, b := post(t, m1, body).Raw, post(t, m3, body).Raw; !bytes.Equal(a, b) {
		t.Error("same request, same seed, different bytes")
	}
	if !reflect.DeepEqual(m1.Accounts(custA), m2.Accounts(custA)) {
		t.Error("accounts differ")
	}

	other := cfg
	other.Seed++
	if reflect.DeepEqual(NewMTT(other).Truth(), t1) {
		t.Error("another seed gives the same traffic")
	}

	// A day's traffic does not depend on From/To.
	wide := cfg
	wide.From, wide.To = testDay(2), time.Date(2024, 3, 9, 0, 0, 0, 0, time.UTC)
	inBoth := func(c MTTCall) bool { return !c.ConnectTime.Before(testDay(2)) && c.ConnectTime.Before(testDay(4)) }
	if !reflect.DeepEqual(truthOf(m1, inBoth), truthOf(NewMTT(wide), inBoth)) {
		t.Error("changing From/To changed the traffic of the days in both ranges")
	}

	// BadRowsPerDay adds rows without changing the good ones.
	clean := cfg
	clean.BadRowsPerDay = 0
	good := truthOf(m1, func(c MTTCall) bool { return !c.Bad })
	if !reflect.DeepEqual(good, NewMTT(clean).Truth()) {
		t.Error("BadRowsPerDay changed the good rows")
	}
	if bad := len(t1) - len(good); bad != 2*2*4*3 {
		t.Errorf("%d bad rows, want 2 per customer per type per day = 48", bad)
	}
}

// TestMTTTruthMatchesAPI pages through every (customer, type, day) as the
// extractor does and finds exactly Truth.
func TestMTTTruthMatchesAPI(t *testing.T) {
	m := NewMTT(testConfig())
	total := 0
	for _, cust := range []string{custA, custB} {
		for _, typ := range mttTypes() {
			for d := 1; d <= 3; d++ {
				day := testDay(d)
				rows := pageAll(t, m, typ, cust, day, day.Add(24*time.Hour-time.Second), 50)
				compareRows(t, rows, truthOf(m, onDay(cust, typ, day)))
				total += len(rows)
			}
		}
	}
	if total != len(m.Truth()) {
		t.Errorf("served %d rows, truth has %d", total, len(m.Truth()))
	}
}

// TestMTTTrafficMix checks that the generated traffic has the documented
// quirks and a plausible mix.
func TestMTTTrafficMix(t *testing.T) {
	cfg := testConfig()
	cfg.Customers = []string{custA, custB, "110033445"}
	cfg.To = time.Date(2024, 3, 5, 0, 0, 0, 0, time.UTC)
	cfg.CallsPerDay = 150
	m := NewMTT(cfg)
	truth := m.Truth()

	var raws []json.RawMessage
	for _, cust := range cfg.Customers {
		for _, typ := range mttTypes() {
			for d := 1; d <= 5; d++ {
				rows, e := history(t, m, typ, cust, testDay(d), testDay(d+1).Add(-time.Second), 1000, "asc")
				if e != nil {
					t.Fatal(e)
				}
				raws = append(raws, rows...)
			}
		}
	}
	if len(raws) != len(truth) {
		t.Fatalf("%d rows served, %d in truth", len(raws), len(truth))
	}
	count := map[string]int{}
	charged := regexp.MustCompile(`"charged":(-?[0-9][^,}]*)`)
	upTo2Decimals := regexp.MustCompile(`^[0-9]+(\.[0-9]{1,2})?$`)
	oneDecimal := regexp.MustCompile(`\.[0-9]$`)
	twoDecimals := regexp.MustCompile(`\.[0-9]{2}$`)
	for _, raw := range raws {
		var f map[string]json.RawMessage
		_ = json.Unmarshal(raw, &f)
		if v, ok := f["charged_time"]; ok && v[0] == '"' {
			count["int as string"]++
		} else {
			count["int as number"]++
		}
		for _, k := range []string{"clid", "h323_incoming_conf_id", "setup_time_ms", "disconnect_cause", "voice_record_exist", "account_id", "h323_conf_id"} {
			if _, ok := f[k]; ok {
				count["has "+k]++
			} else {
				count["no "+k]++
			}
		}
		if _, ok := f["region"]; ok {
			count["extra field"]++
		}
		if mm := charged.FindSubmatch(raw); mm != nil {
			s := string(mm[1])
			switch {
			case strings.ContainsAny(s, "eE"):
				t.Errorf("charged in exponent form: %s", s)
			case !upTo2Decimals.MatchString(s):
				t.Errorf("charged %s has more than 2 decimals", s)
			case s == "0":
				count["charged 0"]++
			case oneDecimal.MatchString(s):
				count["charged 1 decimal"]++
			case twoDecimals.MatchString(s):
				count["charged 2 decimals"]++
			}
		}
	}
	for _, k := range []string{"int as string", "int as number", "has clid", "no h323_incoming_conf_id",
		"no setup_time_ms", "no disconnect_cause", "no voice_record_exist", "no account_id", "extra field",
		"charged 0", "charged 1 decimal", "charged 2 decimals"} {
		if count[k] == 0 {
			t.Errorf("no row with %q (counts %v)", k, count)
		}
	}

	confRE := regexp.MustCompile(`^[0-9A-F]{8} [0-9A-F]{8} [0-9A-F]{8} [0-9A-F]{8}$`)
	numRE := map[string]*regexp.Regexp{
		"7XXXXXXXXXX":  regexp.MustCompile(`^7[0-9]{10}$`),
		"8XXXXXXXXXX":  regexp.MustCompile(`^8[0-9]{10}$`),
		"+7XXXXXXXXXX": regexp.MustCompile(`^\+7[0-9]{10}$`),
		"extension":    regexp.MustCompile(`^0[0-9]{3}$`),
	}
	numbers := map[string]int{}
	causes := map[int]bool{}
	keys := map[string]bool{}
	perSecond := map[string]int{}
	emptyConf, answered, recorded := 0, 0, 0
	accountOf := map[string]string{}
	for _, cust := range cfg.Customers {
		for _, a := range m.Accounts(cust) {
			accountOf[a.Number] = cust
		}
	}
	for _, c := range truth {
		for _, n := range []string{c.CLI, c.CLD} {
			matched := false
			for name, re := range numRE {
				if re.MatchString(n) {
					numbers[name]++
					matched = true
				}
			}
			if !matched {
				t.Errorf("number %q has no known shape", n)
			}
		}
		if c.ConfID == "" {
			emptyConf++
		} else if !confRE.MatchString(c.ConfID) {
			t.Errorf("h323_conf_id %q", c.ConfID)
		}
		key := c.Customer + "|" + c.Type + "|" + c.ConfID
		if c.ConfID == "" {
			key += "|" + c.uniqueKey()
		}
		if keys[key] {
			t.Errorf("duplicate natural key %s", key)
		}
		keys[key] = true
		if c.DisconnectCause != 0 {
			causes[c.DisconnectCause] = true
		}
		perSecond[c.Customer+c.Type+c.ConnectTime.String()]++
		if c.Type == MTTMissed && (c.UsedQuantity != 0 || c.ChargedTime != 0 || c.CostE4 != 0 || c.VoiceRecord) {
			t.Errorf("missed call with a conversation: %+v", c)
		}
		if c.ChargedTime != 0 && c.ChargedTime < c.UsedQuantity {
			t.Errorf("charged_time %d < used_quantity %d", c.ChargedTime, c.UsedQuantity)
		}
		if c.CostE4%100 != 0 || c.CostE4 < 0 {
			t.Errorf("cost %d is not whole kopecks", c.CostE4)
		}
		if c.UsedQuantity > 0 {
			answered++
			if c.VoiceRecord {
				recorded++
			}
		} else if c.VoiceRecord {
			t.Errorf("unanswered call with a recording: %+v", c)
		}
		if c.AccountID != "" && accountOf[c.AccountID] != c.Customer {
			t.Errorf("account %s is not the customer's", c.AccountID)
		}
	}
	for name := range numRE {
		if numbers[name] == 0 {
			t.Errorf("no number shaped %s", name)
		}
	}
	for _, code := range []int{16, 17, 18, 19, 21, 31, 34} {
		if !causes[code] {
			t.Errorf("no disconnect cause %d", code)
		}
		delete(causes, code)
	}
	if len(causes) > 0 {
		t.Errorf("unexpected disconnect causes %v", causes)
	}
	if p := float64(emptyConf) / float64(len(truth)); p < 0.005 || p > 0.05 {
		t.Errorf("%.1f%% rows without h323_conf_id, want about 2%%", 100*p)
	}
	if p := float64(recorded) / float64(answered); p < 0.2 || p > 0.4 {
		t.Errorf("%.0f%% of answered calls recorded, want about 30%%", 100*p)
	}
	bursts := 0
	for _, n := range perSecond {
		if n >= 5 {
			bursts++
		}
	}
	if bursts < len(cfg.Customers)*4*5/2 {
		t.Errorf("only %d seconds with 5 or more calls", bursts)
	}
}

func TestMTTAccounts(t *testing.T) {
	m := NewMTT(testConfig())
	numRE := regexp.MustCompile(`^7495[0-9]{7}$`)
	seen := map[string]bool{}
	for _, cust := range []string{custA, custB} {
		accts := m.Accounts(cust)
		if len(accts) < 3 || len(accts) > 7 {
			t.Errorf("%s has %d accounts", cust, len(accts))
		}
		if accts[0].Status != "active" {
			t.Error("first account not active")
		}
		for _, a := range accts {
			if !numRE.MatchString(a.Number) || seen[a.Number] || (a.Status != "active" && a.Status != "blocked") {
				t.Errorf("account %+v", a)
			}
			seen[a.Number] = true
		}
		tests := []struct {
			limit, offset any
			want          []MTTAccount
		}{
			{nil, nil, accts},
			{2, 0, accts[:2]},
			{2, 1, accts[1:3]},
			{"100", "2", accts[2:]},
			{1, len(accts) - 1, accts[len(accts)-1:]},
		}
		for _, tt := range tests {
			p := map[string]any{"customer_name": cust}
			if tt.limit != nil {
				p["limit"], p["offset"] = tt.limit, tt.offset
			}
			a := call(t, m, "getPersonalAccountList", p)
			var got []struct {
				AccountNumber  string `json:"account_number"`
				ActivationDate string `json:"activation_date"`
				Status         string `json:"status"`
			}
			if err := json.Unmarshal(a.Result, &got); err != nil {
				t.Fatalf("%v: %s", err, a.Raw)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("limit %v offset %v: %d accounts, want %d", tt.limit, tt.offset, len(got), len(tt.want))
			}
			for i, g := range got {
				w := tt.want[i]
				if g.AccountNumber != w.Number || g.Status != w.Status || g.ActivationDate != w.ActivationDate.Format("02.01.2006 15:04:05") {
					t.Errorf("got %+v, want %+v", g, w)
				}
			}
		}
	}
	if m.Accounts("nobody") != nil {
		t.Error("accounts of an unknown customer")
	}
}

func TestMTTBalance(t *testing.T) {
	var now time.Time
	cfg := testConfig()
	cfg.Now = func() time.Time { return now }
	m := NewMTT(cfg)
	initial, _ := m.Balance(custA, testDay(1))
	t0, t1 := testDay(2), testDay(2).Add(12*time.Hour+30*time.Second)
	b0, r0 := m.Balance(custA, t0)
	b1, r1 := m.Balance(custA, t1)
	var spent, all int64
	for _, c := range truthOf(m, func(c MTTCall) bool { return c.Customer == custA }) {
		if !c.ConnectTime.Before(t0) && c.ConnectTime.Before(t1) {
			spent += c.CostE4
		}
		all += c.CostE4
	}
	if spent == 0 || b0-b1 != spent {
		t.Errorf("balance moved by %d between %s and %s, calls cost %d", b0-b1, t0, t1, spent)
	}
	if r0-b0 != 590_0000 || r1-b1 != 590_0000 {
		t.Errorf("real_balance - balance = %d, %d", r0-b0, r1-b1)
	}
	if end, _ := m.Balance(custA, testDay(10)); initial-end != all {
		t.Errorf("balance after all traffic moved by %d, all calls cost %d", initial-end, all)
	}

	now = t1
	body := []byte(`{"jsonrpc":"2.0","method":"getCustomerBalance","params":["` + custA + `"],"id":1}`)
	a := post(t, m, body)
	if string(a.ID) != "1" {
		t.Errorf("id %s: the numeric id must come back as a number", a.ID)
	}
	dec := json.NewDecoder(bytes.NewReader(a.Result))
	dec.UseNumber()
	var res struct {
		Balance     json.Number `json:"balance"`
		RealBalance json.Number `json:"real_balance"`
	}
	if err := dec.Decode(&res); err != nil {
		t.Fatal(err)
	}
	twoDecimals := regexp.MustCompile(`^-?[0-9]+\.[0-9]{2}$`)
	if !twoDecimals.MatchString(res.Balance.String()) || !twoDecimals.MatchString(res.RealBalance.String()) {
		t.Errorf("balance %s / %s: want 2 decimals", res.Balance, res.RealBalance)
	}
	if got, _ := parseE4(res.Balance.String()); got != b1 {
		t.Errorf("wire balance %s, Balance() %d", res.Balance, b1)
	}
	if got, _ := parseE4(res.RealBalance.String()); got != r1 {
		t.Errorf("wire real_balance %s, Balance() %d", res.RealBalance, r1)
	}
	named := call(t, m, "getCustomerBalance", map[string]any{"customer_name": custA})
	if !jsonEqual(t, named.Result, a.Result) {
		t.Errorf("named params: %s", named.Raw)
	}
}

func TestMTTCallHistory(t *testing.T) {
	m := NewMTT(testConfig())
	day := testDay(2)
	acct := truthOf(m, onDay(custB, MTTDialed, day))[0].AccountID
	if acct == "" {
		acct = m.Accounts(custB)[0].Number
	}
	a := call(t, m, "getCallHistory", map[string]any{"sip_id": acct,
		"date_from": day.Format("02.01.2006 15:04:05"), "date_to": day.Add(24*time.Hour - time.Second).Format("02.01.2006 15:04:05")})
	var res map[string]json.RawMessage
	if err := json.Unmarshal(a.Result, &res); err != nil {
		t.Fatalf("%v: %s", err, a.Raw)
	}
	if len(res) != 5 || string(res["callback"]) != "[]" || string(res["success"]) != "1" {
		t.Errorf("result keys: %s", a.Result)
	}
	n := 0
	for _, typ := range []string{MTTIncoming, MTTMissed, MTTDialed} {
		var rows []json.RawMessage
		if err := json.Unmarshal(res[typ], &rows); err != nil {
			t.Fatal(err)
		}
		on := onDay(custB, typ, day)
		want := truthOf(m, func(c MTTCall) bool { return on(c) && c.AccountID == acct })
		compareRows(t, rows, want)
		n += len(rows)
	}
	if n == 0 {
		t.Error("no calls on the account: not a useful test")
	}
}

// TestMTTCache: nothing is generated up front, and a cache much smaller
// than the traffic changes nothing that is served.
func TestMTTCache(t *testing.T) {
	huge := testConfig()
	huge.From, huge.To, huge.CallsPerDay = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2030, 12, 31, 0, 0, 0, 0, time.UTC), 5000
	start := time.Now()
	m := NewMTT(huge)
	if d := time.Since(start); d > time.Second || len(m.cache) != 0 {
		t.Errorf("NewMTT took %v and cached %d days", d, len(m.cache))
	}

	small := NewMTT(testConfig())
	small.cacheCalls, small.cacheDays = 100, 3
	want := NewMTT(testConfig()).Truth()
	for range 2 {
		if !reflect.DeepEqual(small.Truth(), want) {
			t.Fatal("a small cache changed the truth")
		}
	}
	if small.lru.Len() > 3 || len(small.cache) != small.lru.Len() {
		t.Errorf("cache holds %d days (%d in the index), bound 3", small.lru.Len(), len(small.cache))
	}
}

// TestMTTConcurrent runs requests, AddCalls and Truth at once (for -race).
func TestMTTConcurrent(t *testing.T) {
	m := NewMTT(testConfig())
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for d := 1; d <= 3; d++ {
				body := fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"getServiceHistoryByCustomer","params":`+
					`{"type":%q,"customer_name":%q,"date_from":%q,"date_to":%q,"record_count":50}}`,
					i, mttTypes()[i%4], custA, dt(testDay(d)), dt(testDay(d+1).Add(-time.Second)))
				w := httptest.NewRecorder()
				m.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body)))
				if w.Code != 200 || !bytes.Contains(w.Body.Bytes(), []byte(`"success":1`)) {
					t.Errorf("HTTP %d: %.200s", w.Code, w.Body)
				}
			}
		})
	}
	wg.Go(func() {
		for i := range 50 {
			m.AddCalls(MTTCall{Customer: custA, Type: MTTDialed, ConnectTime: testDay(2).Add(time.Duration(i) * time.Minute),
				ConfID: fmt.Sprintf("FFFFFFFF 00000000 00000000 %08d", i), CLI: "74950000000", CLD: "79160000000"})
		}
	})
	wg.Go(func() { _ = m.Truth() })
	wg.Wait()
	added := truthOf(m, func(c MTTCall) bool { return strings.HasPrefix(c.ConfID, "FFFFFFFF") })
	if len(added) != 50 {
		t.Errorf("%d added calls in the truth, want 50", len(added))
	}
	rows := pageAll(t, m, MTTDialed, custA, testDay(2), testDay(3).Add(-time.Second), 100)
	compareRows(t, rows, truthOf(m, onDay(custA, MTTDialed, testDay(2))))
}

func TestMTTAddCallsPanics(t *testing.T) {
	m := NewMTT(testConfig())
	for _, c := range []MTTCall{{Customer: "nobody", Type: MTTDialed}, {Customer: custA, Type: "callback"}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("AddCalls(%+v) did not panic", c)
				}
			}()
			m.AddCalls(c)
		}()
	}
}

// TestMTTPageIsFast: a 1000-row page from a cached day takes a few ms.
func TestMTTPageIsFast(t *testing.T) {
	cfg := testConfig()
	cfg.CallsPerDay = 3000
	m := NewMTT(cfg)
	body := []byte(`{"jsonrpc":"2.0","id":"1","method":"getServiceHistoryByCustomer","params":{"type":"dialed",` +
		`"customer_name":"` + custA + `","date_from":"2024-03-02 06:00:00","date_to":"2024-03-03 23:59:59","record_count":1000,"order":"asc"}}`)
	best := time.Hour
	for range 10 {
		start := time.Now()
		w := httptest.NewRecorder()
		m.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body)))
		best = min(best, time.Since(start))
		if w.Code != 200 || bytes.Count(w.Body.Bytes(), []byte(`"cli"`)) != 1000 {
			t.Fatalf("HTTP %d, %d rows", w.Code, bytes.Count(w.Body.Bytes(), []byte(`"cli"`)))
		}
	}
	if best > 100*time.Millisecond {
		t.Errorf("a 1000-row page takes %v", best)
	}
}

func BenchmarkMTTPage1000(b *testing.B) {
	cfg := testConfig()
	cfg.CallsPerDay = 3000
	m := NewMTT(cfg)
	body := []byte(`{"jsonrpc":"2.0","id":"1","method":"getServiceHistoryByCustomer","params":{"type":"dialed",` +
		`"customer_name":"` + custA + `","date_from":"2024-03-02 06:00:00","date_to":"2024-03-03 23:59:59","record_count":1000,"order":"asc"}}`)
	w := &countingWriter{header: http.Header{}}
	for b.Loop() {
		m.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body)))
	}
	b.ReportMetric(float64(w.n)/float64(b.N), "B/answer")
}

// countingWriter is a ResponseWriter that only counts, like a network
// connection that costs nothing.
type countingWriter struct {
	header http.Header
	n      int
}

func (w *countingWriter) Header() http.Header         { return w.header }
func (w *countingWriter) WriteHeader(int)             {}
func (w *countingWriter) Write(p []byte) (int, error) { w.n += len(p); return len(p), nil }

func BenchmarkMTTGenerateDay(b *testing.B) {
	cfg := testConfig()
	cfg.CallsPerDay = 1000
	m := NewMTT(cfg)
	c := m.customers[custA]
	for b.Loop() {
		_ = m.generateDay(c, MTTDialed, dayOf(testDay(2).Unix()))
	}
}

// A customer with no data answers -32001 to every method, the balance
// included (the document's getCustomerBalance error example), while the
// other customers answer as usual.
func TestMTTEmptyCustomer(t *testing.T) {
	cfg := testConfig()
	const empty = "110099999"
	cfg.EmptyCustomers = []string{empty}
	m := NewMTT(cfg)
	tests := []struct {
		method string
		params any
		data   string
	}{
		{"getServiceHistoryByCustomer", map[string]any{"type": "dialed", "customer_name": empty,
			"date_from": "2024-03-01 00:00:00", "date_to": "2024-03-03 23:59:59", "record_count": 1000}, "No data found"},
		{"getPersonalAccountList", map[string]any{"customer_name": empty}, "No data found"},
		{"getCustomerBalance", []string{empty}, ""},
		{"getCustomerBalance", map[string]any{"customer_name": empty}, ""},
	}
	for _, tt := range tests {
		a := call(t, m, tt.method, tt.params)
		if e := a.Error; e == nil || e.Code != -32001 || e.Message != "Data not found" || e.Data != tt.data {
			t.Errorf("%s %v: answer %s, want -32001 Data not found %q", tt.method, tt.params, a.Raw, tt.data)
		}
	}
	if a := call(t, m, "getCustomerBalance", []string{custA}); a.Error != nil {
		t.Errorf("balance of %s: %s", custA, a.Raw)
	}
	for _, c := range m.Truth() {
		if c.Customer == empty {
			t.Fatalf("the empty customer has a call: %+v", c)
		}
	}
}

// A quiet day: the customer has no call of any type that UTC day (the API
// answers -32001 "No data found", as for any day without calls), the days
// around it and the other customer keep their traffic, and the ground
// truth agrees with the API.
func TestMTTQuietDays(t *testing.T) {
	cfg := testConfig()
	cfg.QuietDays = []MTTQuietDay{{Customer: custA, Day: testDay(2).Add(13 * time.Hour)}}
	m := NewMTT(cfg)
	end := func(d time.Time) time.Time { return d.Add(24*time.Hour - time.Second) }
	tests := []struct {
		customer string
		day      time.Time
		quiet    bool
	}{
		{custA, testDay(1), false},
		{custA, testDay(2), true},
		{custA, testDay(3), false},
		{custB, testDay(2), false},
	}
	for _, tt := range tests {
		for _, typ := range []string{MTTIncoming, MTTMissed, MTTDialed, MTTForwarded} {
			rows, e := history(t, m, typ, tt.customer, tt.day, end(tt.day), 1000, "asc")
			truth := truthOf(m, onDay(tt.customer, typ, tt.day))
			switch {
			case tt.quiet && (e == nil || e.Code != -32001 || len(truth) != 0):
				t.Errorf("%s %s %s: quiet day answered %d rows, error %+v; truth %d calls", tt.customer, typ, tt.day.Format("01-02"), len(rows), e, len(truth))
			case !tt.quiet && (e != nil || len(rows) == 0 || len(rows) != len(truth)):
				t.Errorf("%s %s %s: %d rows, error %+v; truth %d calls", tt.customer, typ, tt.day.Format("01-02"), len(rows), e, len(truth))
			}
		}
	}
}
