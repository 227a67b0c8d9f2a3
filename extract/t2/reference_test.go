package t2

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/calletl/calletl/extract/registry"
	"github.com/calletl/calletl/model"
	"github.com/calletl/calletl/pipeline"
	"github.com/calletl/calletl/report"
	"github.com/calletl/calletl/sandbox"
	"github.com/calletl/calletl/transform"
)

// docManagers is the document's example answer of GET /managers (the
// fence lines inside it removed).
func docManagers(t testing.TB) []json.RawMessage {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "sandbox", "testdata", "t2", "managers.response.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rows []json.RawMessage
	if err := json.Unmarshal(b, &rows); err != nil {
		t.Fatal(err)
	}
	return rows
}

// The document's manager: two customers kept, the placeholder one
// (realNumber "string") rejected with its own bytes.
func TestDecodeManagerDocExample(t *testing.T) {
	rows := docManagers(t)
	if len(rows) != 1 {
		t.Fatalf("%d managers in the example", len(rows))
	}
	ms, rejects, err := DecodeManager(rows[0])
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 2 || len(rejects) != 1 {
		t.Fatalf("%d rows, %d rejects; want 2 and 1", len(ms), len(rejects))
	}
	m := ms[0]
	if m.ManagerID != 26 || m.ManagerName != "r" || m.EmployeeID.V != 440 || m.CompanyID.V != 391 || !m.HandleAllCustomers.Valid ||
		m.HandleAllCustomers.V || m.CustomerID.V != 92 || m.RealNumber != "79081581621" || m.CustomerNumber != "79081581621" ||
		m.CompanyName != "ММММ" || m.Info != "специалист" || !m.IsVip.Valid || m.IsVip.V || m.ManagerExtras != "" || m.CustomerExtras != "" {
		t.Errorf("row 0: %+v", m)
	}
	if ms[1].CustomerID.V != 73 || ms[1].Info != "" || ms[1].CompanyName != "P&G" || !json.Valid([]byte(ms[1].Raw)) || !strings.Contains(ms[1].Raw, `"id": 73`) {
		t.Errorf("row 1: %+v", ms[1])
	}
	r := rejects[0]
	if !strings.Contains(r.Reason, `manager 26 customer: realNumber "string" is not a phone number`) || !bytes.Contains(r.Raw, []byte(`"id": 449`)) ||
		!bytes.Contains(rows[0], r.Raw) {
		t.Errorf("reject %q %s", r.Reason, r.Raw)
	}
}

func TestDecodeManager(t *testing.T) {
	for _, tc := range []struct {
		name, raw     string
		rows, rejects int
		err           string // the whole manager rejected
		reject        string // a customer reject's reason
		check         func(t *testing.T, ms []ManagerRow)
	}{
		{name: "no customers", raw: `{"id":5,"employeeId":7,"name":"Все","handleAllCustomers":true,"customers":[]}`, rows: 1,
			check: func(t *testing.T, ms []ManagerRow) {
				if m := ms[0]; m.CustomerID.Valid || m.CustomerNumber != "" || !m.HandleAllCustomers.V || m.IsVip.Valid || !strings.Contains(m.Raw, `"id":5`) {
					t.Errorf("%+v", m)
				}
			}},
		{name: "customers absent", raw: `{"id":5}`, rows: 1},
		{name: "customers null", raw: `{"id":5,"customers":null}`, rows: 1},
		{name: "isVIP spelling", raw: `{"id":5,"customers":[{"id":1,"realNumber":"8 (916) 123-45-67","isVIP":true}]}`, rows: 1,
			check: func(t *testing.T, ms []ManagerRow) {
				if m := ms[0]; !m.IsVip.V || m.CustomerNumber != "79161234567" || m.RealNumber != "8 (916) 123-45-67" {
					t.Errorf("%+v", m)
				}
			}},
		{name: "unknown fields kept", raw: `{"id":5,"extra":1,"customers":[{"id":1,"realNumber":"79161234567","clientId":3,"companyId":9,"name":"Иванов"}]}`, rows: 1,
			check: func(t *testing.T, ms []ManagerRow) {
				if m := ms[0]; m.ManagerExtras != `{"extra":1}` || m.CustomerExtras != `{"clientId":3,"companyId":9}` || m.CustomerName != "Иванов" {
					t.Errorf("%+v", m)
				}
			}},
		{name: "duplicate customer", raw: `{"id":5,"customers":[{"id":1,"realNumber":"79161234567"},{"id":1,"realNumber":"79161234567"}]}`, rows: 1},
		{name: "not an object", raw: `[1]`, err: "not a JSON object"},
		{name: "null", raw: `null`, err: "not a JSON object"},
		{name: "no id", raw: `{"name":"x","customers":[]}`, err: "id is missing"},
		{name: "id not integer", raw: `{"id":"x"}`, err: `id "x" is not an integer`},
		{name: "employeeId not integer", raw: `{"id":1,"employeeId":1.5}`, err: "employeeId"},
		{name: "handleAllCustomers string", raw: `{"id":1,"handleAllCustomers":"false"}`, err: "handleAllCustomers"},
		{name: "customers object", raw: `{"id":1,"customers":{"id":2}}`, err: "customers is not an array"},
		{name: "name object", raw: `{"id":1,"name":{"a":1}}`, err: "name"},
		{name: "isVip string", raw: `{"id":1,"customers":[{"id":2,"realNumber":"79161234567","isVip":"true"},{"id":3,"realNumber":"79161234568"}]}`,
			rows: 1, rejects: 1, reject: "isVip"},
		{name: "customer not object", raw: `{"id":1,"customers":[7]}`, rejects: 1, reject: "not a JSON object"},
		{name: "realNumber missing", raw: `{"id":1,"customers":[{"id":2}]}`, rejects: 1, reject: "realNumber is missing"},
		{name: "realNumber letters", raw: `{"id":1,"customers":[{"id":2,"realNumber":"string"}]}`, rejects: 1, reject: "not a phone number"},
		{name: "customer id not integer", raw: `{"id":1,"customers":[{"id":"a","realNumber":"79161234567"}]}`, rejects: 1, reject: "id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ms, rejects, err := DecodeManager([]byte(tc.raw))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(ms) != tc.rows || len(rejects) != tc.rejects {
				t.Fatalf("%d rows, %d rejects; want %d, %d: %+v %+v", len(ms), len(rejects), tc.rows, tc.rejects, ms, rejects)
			}
			for _, r := range rejects {
				if !strings.Contains(r.Reason, tc.reject) || !strings.Contains(r.Reason, "manager 1 customer") || len(r.Raw) == 0 {
					t.Errorf("reject %q %s, want %q", r.Reason, r.Raw, tc.reject)
				}
			}
			if tc.check != nil {
				tc.check(t, ms)
			}
		})
	}
}

// The document's journal example, verbatim.
const docJournal = "{  \n  \"number\": \"7XXXXXXXXXX\",  \n  \"startTimestamp\": 1486975130,  \n  \"endTimestamp\": 1487061531,  \n  \"numberOfCalls\": 6,  \n  \"numberOfSuccessCalls\": 3  \n}\n"

func TestDecodeJournal(t *testing.T) {
	const n = "79535548834" // the document's example request
	real := strings.Replace(docJournal, "7XXXXXXXXXX", n, 1)
	for _, tc := range []struct {
		name, raw, err string
	}{
		{"doc example for the number asked", real, ""},
		{"answered spelled otherwise", `{"number":"+7 953 554-88-34","numberOfCalls":1,"numberOfSuccessCalls":1}`, ""},
		{"no number, no timestamps", `{"numberOfCalls":0,"numberOfSuccessCalls":0}`, ""},
		{"integral float", `{"numberOfCalls":6.0,"numberOfSuccessCalls":3}`, ""},
		{"doc placeholder number", docJournal, `number "7XXXXXXXXXX" is not the number asked for`},
		{"another number", `{"number":"79000000000","numberOfCalls":1,"numberOfSuccessCalls":0}`, "not the number asked for"},
		{"no count", `{"number":"79535548834","numberOfSuccessCalls":0}`, "numberOfCalls is missing"},
		{"negative", `{"numberOfCalls":-1,"numberOfSuccessCalls":0}`, "numberOfCalls"},
		{"fraction", `{"numberOfCalls":6.5,"numberOfSuccessCalls":0}`, "numberOfCalls"},
		{"text", `{"numberOfCalls":"six","numberOfSuccessCalls":0}`, "numberOfCalls"},
		{"more successes", `{"numberOfCalls":2,"numberOfSuccessCalls":3}`, "more than numberOfCalls"},
		{"milliseconds", `{"numberOfCalls":2,"numberOfSuccessCalls":1,"startTimestamp":1486975130000}`, "startTimestamp"},
		{"iso time", `{"numberOfCalls":2,"numberOfSuccessCalls":1,"endTimestamp":"2023-03-23T10:15:30+03:00"}`, "endTimestamp"},
		{"array", `[{"numberOfCalls":2}]`, "not a JSON object"},
		{"object field", `{"numberOfCalls":{"a":1}}`, "numberOfCalls"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := DecodeJournal([]byte(tc.raw), n)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.Number != n || r.Raw != tc.raw || r.NumberOfSuccessCalls > r.NumberOfCalls {
				t.Errorf("%+v", r)
			}
			if tc.raw == real && (r.NumberOfCalls != 6 || r.NumberOfSuccessCalls != 3 ||
				!r.StartTimestamp.Equal(time.Date(2017, 2, 13, 8, 38, 50, 0, time.UTC)) || r.EndTimestamp.Sub(r.StartTimestamp) != 86401*time.Second) {
				t.Errorf("doc example: %+v", r)
			}
		})
	}
}

func FuzzDecodeManager(f *testing.F) {
	for _, r := range docManagers(f) {
		f.Add([]byte(r))
	}
	f.Add([]byte(`{"id":5,"customers":[{"id":1,"realNumber":"+7 916","isVIP":true},7,null],"handleAllCustomers":null}`))
	f.Add([]byte(`{"id":1e30}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		ms, rejects, err := DecodeManager(b)
		if err != nil {
			if len(ms) != 0 || len(rejects) != 0 {
				t.Fatal("rows or rejects with an error")
			}
			return
		}
		if len(ms) == 0 && len(rejects) == 0 {
			t.Fatal("a valid manager yields no row and no reject")
		}
		for _, m := range ms {
			if m.ManagerID != ms[0].ManagerID || m.Raw == "" {
				t.Fatalf("inconsistent row %+v", m)
			}
			if m.CustomerID.Valid && m.CustomerNumber == "" || m.CustomerNumber != "" && transform.Phone(m.RealNumber) != m.CustomerNumber {
				t.Fatalf("customer without its number %+v", m)
			}
		}
		for _, r := range rejects {
			if r.Reason == "" || !bytes.Contains(b, bytes.TrimSpace(r.Raw)) {
				t.Fatalf("reject %q %q is not part of the input", r.Reason, r.Raw)
			}
		}
	})
}

func FuzzDecodeJournal(f *testing.F) {
	f.Add([]byte(docJournal), "79535548834")
	f.Add([]byte(strings.Replace(docJournal, "7XXXXXXXXXX", "79535548834", 1)), "79535548834")
	f.Add([]byte(`{"numberOfCalls":1e400,"numberOfSuccessCalls":-0,"startTimestamp":253402300800}`), "79000000000")
	f.Fuzz(func(t *testing.T, b []byte, number string) {
		r, err := DecodeJournal(b, number)
		if err != nil {
			return
		}
		if r.Raw != string(b) || r.Number != number || r.NumberOfCalls < 0 || r.NumberOfSuccessCalls < 0 || r.NumberOfSuccessCalls > r.NumberOfCalls {
			t.Fatalf("inconsistent %+v", r)
		}
	})
}

func FuzzParseStats(f *testing.F) {
	f.Add([]byte(`{"allCallCount": 22, "successCallCount": 8, "callCountPerDay": 4.333333333333333}`))
	f.Add([]byte(`{"allCallCount": "x"}`))
	f.Add([]byte(`{"allCallCount": 1e400, "lostCallCount": null}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		vals, err := parseStats(b)
		if err != nil {
			return
		}
		// Every value is of a key the input has (decoded: a key may be
		// written with escapes).
		var in map[string]json.RawMessage
		_ = json.Unmarshal(b, &in)
		for k := range vals {
			if _, ok := in[k]; !ok {
				t.Fatalf("value for %s, a key not in the input %s", k, b)
			}
		}
	})
}

// lakeRows runs q on e's lake and returns the first column of each row as
// text keyed by the second.
func lakeRows(t *testing.T, e *e2e, q string) map[string]string {
	t.Helper()
	res, err := e.engine(t).Query(context.Background(), report.Report{Name: "adhoc", SQL: q}, nil)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	out := map[string]string{}
	for _, row := range res.Rows {
		out[fmt.Sprint(row[0])] = fmt.Sprint(row[1:]...)
	}
	return out
}

// The journal and employee_stats streams ask for every employee's number
// and day; their rows equal the counts computed from the emulator's call
// records; the managers snapshot holds every valid customer.
func TestPerNumberStreams(t *testing.T) {
	days := []string{"2026-03-02", "2026-03-03"}
	var mu = make(chan struct{}, 1)
	paths := map[string]int{}
	e := newE2EWrapped(t, days, func(c *sandbox.T2Config) { c.Managers = 4 }, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu <- struct{}{}
			paths[strings.TrimPrefix(r.URL.Path, "/crm/openapi")]++
			<-mu
			h.ServeHTTP(w, r)
		})
	})
	e.extract(t, days)
	emps := e.emu.EmployeeList()
	want := map[string]string{}
	for _, day := range days {
		w, _ := model.DayWindow(day, time.UTC)
		for _, em := range emps {
			var calls, ok int
			for _, c := range e.emu.Calls() {
				if !c.Timestamp.Before(w.From) && c.Timestamp.Before(w.To) && sandbox.T2Involves(&c, em.FullNumber) {
					calls++
					if c.Answered() {
						ok++
					}
				}
			}
			want[day+" "+em.FullNumber] = fmt.Sprintf("%s %d %d %d", em.EmployeeID, calls, ok, calls)
		}
	}
	got := lakeRows(t, e, `SELECT strftime(j.date, '%Y-%m-%d') || ' ' || j.number, j.employee_id, j.number_of_calls, j.number_of_success_calls, s.all_call_count
		FROM t2_journal j JOIN t2_employee_stats s USING (date, number)`)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("journal and employee stats per day and number:\n got %v\nwant %v", got, want)
	}
	if paths["/statistics/journal"] != len(days)*len(emps) || paths["/statistics/common"] != len(days)*(len(emps)+1) {
		t.Errorf("requests %v: want one journal and one common per number and day, plus the company's", paths)
	}
	// The helper runs the streams before the snapshot (the pipeline runs the
	// snapshot first): one GET /employees for all the windows, one for the
	// snapshot.
	if paths["/employees"] != 2 {
		t.Errorf("%d GET /employees, want 2", paths["/employees"])
	}
	var wantManagers, wantVIP int
	for _, m := range e.emu.ManagerList() {
		wantManagers += max(1, len(m.Customers))
		for _, c := range m.Customers {
			if c.Bad {
				wantManagers--
			} else if c.IsVip {
				wantVIP++
			}
		}
	}
	m := lakeRows(t, e, `SELECT count(*), count(*) FILTER (WHERE is_vip) FROM t2_managers`)
	if fmt.Sprint(m) != fmt.Sprint(map[string]string{fmt.Sprint(wantManagers): fmt.Sprint(wantVIP)}) {
		t.Errorf("t2_managers rows and VIP rows %v, want %d and %d", m, wantManagers, wantVIP)
	}
	rj := lakeRows(t, e, `SELECT endpoint, count(*) FROM rejects GROUP BY ALL`)
	if rj["managers"] != "1" {
		t.Errorf("rejects by endpoint %v, want the document's placeholder customer from managers", rj)
	}
}

// Answers that fail validation are rejects naming the number, with the raw
// answer; a request that fails fails the window with an error naming the
// source, the endpoint, the number and the window, without a token.
func TestPerNumberRejectsAndErrors(t *testing.T) {
	days := []string{"2026-03-02"}
	var bad string // the number whose answers the wrapper breaks
	broken := `{"number":"%s","numberOfCalls":2,"numberOfSuccessCalls":5}`
	brokenStats := `{"allCallCount":"many"}`
	fail := false
	e := newE2EWrapped(t, days, nil, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			q := r.URL.Query()
			switch {
			case bad != "" && strings.HasSuffix(r.URL.Path, "/statistics/journal") && q.Get("number") == bad:
				if fail {
					w.WriteHeader(http.StatusBadRequest)
					_, _ = w.Write([]byte(`{"details":"Bad request","message":"Wrong parameter number"}`))
					return
				}
				_, _ = fmt.Fprintf(w, broken, bad)
			case bad != "" && strings.HasSuffix(r.URL.Path, "/statistics/common") && q.Get("subscriberNumber") == bad:
				_, _ = w.Write([]byte(brokenStats))
			default:
				h.ServeHTTP(w, r)
			}
		})
	})
	bad = e.emu.EmployeeList()[1].FullNumber
	e.extract(t, days)
	rj := lakeRows(t, e, `SELECT endpoint || ' ' || reason, raw FROM rejects WHERE endpoint LIKE 'statistics/%'`)
	want := map[string]string{
		"statistics/journal number " + bad + ": numberOfSuccessCalls 5 is more than numberOfCalls 2": fmt.Sprintf(broken, bad),
		"statistics/common subscriberNumber " + bad + `: allCallCount "many" is not a number`:        brokenStats,
	}
	if fmt.Sprint(rj) != fmt.Sprint(want) {
		t.Errorf("rejects:\n got %v\nwant %v", rj, want)
	}
	n := lakeRows(t, e, `SELECT count(*), count(*) FROM t2_journal`)
	if k := fmt.Sprint(len(e.emu.EmployeeList()) - 1); n[k] == "" {
		t.Errorf("t2_journal rows %v, want %s (every number but the broken one)", n, k)
	}

	fail = true
	w, _ := model.DayWindow(days[0], time.UTC)
	key := model.StreamKey{Source: Name, Stream: StreamJournal, Account: Account}
	_, err := pipeline.ExtractWindow(context.Background(), e.lake, e.src, key, w, e.run)
	if err == nil {
		t.Fatal("a refused journal request did not fail the window")
	}
	msg := err.Error()
	for _, want := range []string{"t2: journal window " + days[0], "statistics/journal " + bad, "HTTP 400", "Wrong parameter number"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q lacks %q", msg, want)
		}
	}
	if a, _, err := e.src.c.tokens.access(context.Background()); err != nil || strings.Contains(msg, a) {
		t.Errorf("the error holds the access token (%v)", err)
	}
}

// per_number_stats off drops the two per-number streams; stats_numbers
// keeps only the listed employee numbers; both are checked in the config.
func TestPerNumberStatsSettings(t *testing.T) {
	on := (&Source{c: &Client{cfg: Config{PerNumberStats: true}}}).Streams()
	off := (&Source{c: &Client{cfg: Config{}}}).Streams()
	if len(on) != 5 || len(off) != 3 {
		t.Fatalf("streams: %d on, %d off; want 5 and 3", len(on), len(off))
	}
	for _, k := range off {
		if k.Stream == StreamJournal || k.Stream == StreamEmployeeStats {
			t.Fatalf("per_number_stats off still lists %s", k.Stream)
		}
	}
	emps := []EmployeeRow{{FullNumber: "+7 (916) 000-00-01"}, {FullNumber: "89160000002"}, {FullNumber: "101"}}
	if got := numbersOf(emps, nil); len(got) != 2 {
		t.Fatalf("every employee: %v", got)
	}
	if got := numbersOf(emps, []string{"79160000002"}); len(got) != 1 || got[0].number != "79160000002" {
		t.Fatalf("stats_numbers: %v", got)
	}
	for _, tc := range []struct {
		numbers []string
		bad     bool
	}{{nil, false}, {[]string{"79160000001"}, false}, {[]string{"89160000001"}, true}, {[]string{"7916"}, true},
		{[]string{"79160000001", "79160000001"}, true}} {
		s := Settings{StatsNumbers: tc.numbers}
		c := registry.NewCheck("sources.t2", t.TempDir())
		s.Validate(c)
		bad := false
		for _, f := range c.Faults() {
			bad = bad || strings.HasPrefix(f.Field, "sources.t2.stats_numbers")
		}
		if bad != tc.bad {
			t.Errorf("stats_numbers %v: faults %v, want bad=%v", tc.numbers, c.Err(), tc.bad)
		}
		if s.PerNumberStats == nil || !*s.PerNumberStats {
			t.Errorf("per_number_stats does not default to true")
		}
	}
}
