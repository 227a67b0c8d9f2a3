package sandbox

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"
	"time"
)

// TestT2ManagersDocExample: without generated managers GET /managers
// answers the document's example, value for value.
func TestT2ManagersDocExample(t *testing.T) {
	e, _, tok := newT2Test(t)
	var got []any
	t2Get(t, e, "/managers", nil, tok, &got)
	b, err := os.ReadFile(filepath.Join("testdata", "t2", "managers.response.json"))
	if err != nil {
		t.Fatal(err)
	}
	var want []any
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("GET /managers:\n got %v\nwant %v", got, want)
	}
	if ms := e.ManagerList(); len(ms) != 1 || len(ms[0].Customers) != 3 || !ms[0].Customers[2].Bad {
		t.Errorf("ManagerList() = %+v, want the document's manager with its placeholder customer marked Bad", ms)
	}
}

// TestT2ManagersGenerated: generated managers follow the example, are
// employees, and their customers call: about a third of the calls and
// missed calls with an outside party, in mixed spellings.
func TestT2ManagersGenerated(t *testing.T) {
	clock := &t2Clock{now: time.Date(2024, 3, 4, 9, 0, 0, 0, time.UTC)}
	cfg := t2TestConfig(clock)
	cfg.Managers = 4
	e := NewT2(cfg)
	tok, _ := e.IssueTokens()
	var rows []map[string]any
	t2Get(t, e, "/managers", nil, tok, &rows)
	ms := e.ManagerList()
	if len(rows) != 5 || len(ms) != 5 {
		t.Fatalf("%d managers served, %d in the truth; want the example and 4", len(rows), len(ms))
	}
	emps := map[string]bool{}
	for _, em := range e.EmployeeList() {
		emps[em.EmployeeID] = true
	}
	customers := map[string]bool{}
	vip := 0
	for i, m := range ms[1:] {
		r := rows[i+1]
		if r["id"] != float64(m.ID) || r["name"] != m.Name || r["handleAllCustomers"] != m.HandleAllCustomers ||
			!emps[strconv.FormatInt(m.EmployeeID, 10)] || r["employeeId"] != float64(m.EmployeeID) {
			t.Errorf("manager %d: served %v, truth %+v", i, r, m)
		}
		cs, _ := r["customers"].([]any)
		if len(cs) != len(m.Customers) {
			t.Errorf("manager %d: %d customers served, %d in the truth", m.ID, len(cs), len(m.Customers))
		}
		if m.HandleAllCustomers != (i == 3) || m.HandleAllCustomers && len(m.Customers) != 0 {
			t.Errorf("manager %d: handleAllCustomers %v with %d customers", m.ID, m.HandleAllCustomers, len(m.Customers))
		}
		for _, c := range m.Customers {
			if customers[c.RealNumber] || !t2NumberFormat.MatchString(c.RealNumber) || c.Bad {
				t.Errorf("customer %+v: duplicate, bad or not 7XXXXXXXXXX", c)
			}
			customers[c.RealNumber] = true
			if c.IsVip {
				vip++
			}
		}
	}
	if vip == 0 || vip == len(customers) {
		t.Errorf("%d VIP of %d customers: want some of each", vip, len(customers))
	}
	calls, withCustomer, spelled := 0, 0, 0
	for _, c := range e.Calls() {
		for _, n := range []string{c.CallerNumber, c.CalleeNumber} {
			if customers[t2Norm(n)] {
				withCustomer++
				if n != t2Norm(n) {
					spelled++
				}
				break
			}
		}
		calls++
	}
	missedFrom := 0
	for _, m := range e.Missed() {
		if customers[t2Norm(m.CallerNumber)] {
			missedFrom++
		}
	}
	if withCustomer < calls/10 || withCustomer > calls/2 || spelled == 0 || missedFrom == 0 {
		t.Errorf("%d of %d calls with a customer (%d spelled otherwise), %d missed calls from one", withCustomer, calls, spelled, missedFrom)
	}
	// Without managers the traffic is what it was: customers draw from
	// their own stream.
	plain := NewT2(t2TestConfig(clock))
	if len(plain.Calls()) != len(e.Calls()) || len(plain.Missed()) != len(e.Missed()) {
		t.Errorf("managers changed the amount of traffic: %d/%d calls, %d/%d missed", len(plain.Calls()), len(e.Calls()), len(plain.Missed()), len(e.Missed()))
	}
	for i, c := range plain.Calls() {
		if g := e.Calls()[i]; g.Timestamp != c.Timestamp || g.CallType != c.CallType || g.CallStatus != c.CallStatus {
			t.Fatalf("call %d differs beyond its outside number: %+v vs %+v", i, g, c)
		}
	}
}

// TestT2Journal: statistics/journal counts the records involving the number
// in [start, end) and the answered ones; timestamps are Unix seconds.
func TestT2Journal(t *testing.T) {
	e, _, tok := newT2Test(t)
	start := time.Date(2024, 3, 1, 0, 0, 0, 0, t2TestZone)
	end := time.Date(2024, 3, 2, 0, 0, 0, 0, t2TestZone)
	for _, em := range e.EmployeeList()[:4] {
		var want t2JournalRow
		for _, c := range truthCalls(e, start, end) {
			if T2Involves(&c, em.FullNumber) {
				want.NumberOfCalls++
				if c.Answered() {
					want.NumberOfSuccessCalls++
				}
			}
		}
		var got map[string]any
		t2Get(t, e, "/statistics/journal", url.Values{"start": {iso(start)}, "end": {iso(end)}, "number": {em.FullNumber}}, tok, &got)
		if got["number"] != em.FullNumber || got["startTimestamp"] != float64(start.Unix()) || got["endTimestamp"] != float64(end.Unix()) ||
			got["numberOfCalls"] != float64(want.NumberOfCalls) || got["numberOfSuccessCalls"] != float64(want.NumberOfSuccessCalls) {
			t.Errorf("%s: got %v, want %+v", em.FullNumber, got, want)
		}
		if want.NumberOfCalls == 0 {
			t.Errorf("%s has no calls: the check means nothing", em.FullNumber)
		}
		doc := readT2Testdata(t, "statistics-journal.response.json")
		for k := range doc {
			if _, ok := got[k]; !ok {
				t.Errorf("no %q", k)
			}
		}
	}
}

// TestT2NumberParams: journal's number and common's subscriberNumber must
// be 7XXXXXXXXXX; start and end are required; both need an access token.
func TestT2NumberParams(t *testing.T) {
	e, _, tok := newT2Test(t)
	_, refresh := e.IssueTokens()
	day := url.Values{"start": {iso(testDay(1))}, "end": {iso(testDay(2))}}
	with := func(k, v string) string {
		q := url.Values{}
		for kk, vv := range day {
			q[kk] = vv
		}
		q.Set(k, v)
		return q.Encode()
	}
	for _, tc := range []struct {
		name, target, token string
		code                int
		file                string
	}{
		{"journal 8…", "/statistics/journal?" + with("number", "89161234567"), tok, 400, ""},
		{"journal +7…", "/statistics/journal?" + with("number", "+79161234567"), tok, 400, ""},
		{"journal extension", "/statistics/journal?" + with("number", "0001"), tok, 400, ""},
		{"common 8…", "/statistics/common?" + with("subscriberNumber", "89161234567"), tok, 400, ""},
		{"journal no start", "/statistics/journal?end=" + url.QueryEscape(iso(testDay(2))) + "&number=79161234567", tok, 400, "400-parameter-not-present.json"},
		{"journal ok", "/statistics/journal?" + with("number", "79161234567"), tok, 200, ""},
		{"journal no token", "/statistics/journal?" + with("number", "79161234567"), "", 403, "403-authorization-header-required.json"},
		{"managers refresh token", "/managers", refresh, 403, "403-invalid-token-type.json"},
		{"managers no token", "/managers", "", 403, "403-authorization-header-required.json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body := t2Do(t, e, http.MethodGet, tc.target, tc.token)
			if code != tc.code {
				t.Fatalf("HTTP %d %s, want %d", code, body, tc.code)
			}
			var got map[string]any
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatal(err)
			}
			if code == 400 && tc.file == "" && got["details"] != "Bad request" {
				t.Errorf("body %v, want Wrong parameter", got)
			}
			if tc.file != "" && tc.code == 403 && !reflect.DeepEqual(got, readT2Testdata(t, tc.file)) {
				t.Errorf("body %v, want %s", got, tc.file)
			}
		})
	}
	if code, _ := t2Do(t, e, http.MethodPost, "/managers", tok); code != http.StatusMethodNotAllowed {
		t.Errorf("POST /managers: HTTP %d, want 405 (the emulator serves reads only)", code)
	}
}
