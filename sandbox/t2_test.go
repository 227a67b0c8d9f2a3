package sandbox

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// t2Clock is a controllable clock, safe for concurrent use.
type t2Clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *t2Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *t2Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

var t2TestZone = time.FixedZone("+03", 3*3600)

func t2TestConfig(clock *t2Clock) T2Config {
	return T2Config{
		Seed:         7,
		From:         testDay(1),
		To:           testDay(3),
		CallsPerDay:  80,
		MissedPerDay: 30,
		Now:          clock.Now,
	}
}

// newT2Test returns an emulator over 1–3 March 2024, its clock and a valid
// access token.
func newT2Test(t *testing.T) (*T2, *t2Clock, string) {
	t.Helper()
	clock := &t2Clock{now: time.Date(2024, 3, 4, 9, 0, 0, 0, time.UTC)}
	e := NewT2(t2TestConfig(clock))
	access, _ := e.IssueTokens()
	return e, clock, access
}

// t2Do sends one request and returns the status and body.
func t2Do(t *testing.T, h http.Handler, method, target, token string) (int, []byte) {
	t.Helper()
	r := httptest.NewRequest(method, target, nil)
	if token != "" {
		r.Header.Set("Authorization", token)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Code, w.Body.Bytes()
}

// t2Get GETs path?q with the token and decodes a 200 JSON answer into v.
func t2Get(t *testing.T, h http.Handler, path string, q url.Values, token string, v any) {
	t.Helper()
	target := path
	if len(q) > 0 {
		target += "?" + q.Encode()
	}
	code, body := t2Do(t, h, http.MethodGet, target, token)
	if code != http.StatusOK {
		t.Fatalf("GET %s: HTTP %d %s", target, code, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("GET %s: %v: %s", target, err, body)
	}
}

// iso writes a query time as the extractor does: an offset date-time.
func iso(tm time.Time) string { return tm.In(t2TestZone).Format(time.RFC3339Nano) }

// wireCall decodes a call-records row; Conv is nil when absent.
type wireCall struct {
	CallTimestamp     string `json:"callTimestamp"`
	CallType          string `json:"callType"`
	DestinationNumber string `json:"destinationNumber"`
	CallerNumber      string `json:"callerNumber"`
	CallerName        string `json:"callerName"`
	CalleeNumber      string `json:"calleeNumber"`
	CalleeName        string `json:"calleeName"`
	CallDuration      int    `json:"callDuration"`
	Conv              *int   `json:"conversationDuration"`
	CallStatus        string `json:"callStatus"`
	RecordFileName    string `json:"recordFileName"`
}

// truth converts a wire row back into a T2Call (MissedID is not on the wire
// and stays 0).
func (w wireCall) truth(t *testing.T) T2Call {
	t.Helper()
	ts, err := time.Parse(time.RFC3339Nano, w.CallTimestamp)
	if err != nil {
		t.Fatalf("callTimestamp %q: %v", w.CallTimestamp, err)
	}
	c := T2Call{Timestamp: ts.UTC(), CallType: w.CallType, CallStatus: w.CallStatus,
		CallerNumber: w.CallerNumber, CallerName: w.CallerName, CalleeNumber: w.CalleeNumber,
		CalleeName: w.CalleeName, DestinationNumber: w.DestinationNumber, CallDuration: w.CallDuration,
		ConversationDuration: -1, RecordFileName: w.RecordFileName}
	if w.Conv != nil {
		c.ConversationDuration = *w.Conv
	}
	return c
}

// pageCalls pages through /call-records/info as the extractor does and
// returns every row.
func pageCalls(t *testing.T, h http.Handler, token string, q url.Values, size int) []T2Call {
	t.Helper()
	var out []T2Call
	q.Set("size", strconv.Itoa(size))
	for page := 0; ; page++ {
		q.Set("page", strconv.Itoa(page))
		var rows []wireCall
		t2Get(t, h, "/call-records/info", q, token, &rows)
		for _, r := range rows {
			out = append(out, r.truth(t))
		}
		if len(rows) < size {
			return out
		}
		if page > 10000 {
			t.Fatal("paging does not end")
		}
	}
}

// truthCalls returns Calls() with start <= Timestamp < end and MissedID
// cleared (it is not on the wire).
func truthCalls(e *T2, start, end time.Time) []T2Call {
	var out []T2Call
	for _, c := range e.Calls() {
		if !c.Timestamp.Before(start) && c.Timestamp.Before(end) {
			c.MissedID = 0
			out = append(out, c)
		}
	}
	return out
}

func readT2Testdata(t *testing.T, name string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "t2", name))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return m
}

func TestT2Forbidden(t *testing.T) {
	e, clock, _ := newT2Test(t)
	expAccess, _ := e.IssueTokens()
	staleAccess, staleRefresh := e.IssueTokens()
	e.ExpireAccessTokens()
	// staleAccess is now expired and, once its pair is refreshed, superseded
	// too: "already updated" wins over "expired".
	if code, body := t2Do(t, e, http.MethodPut, "/authorization/refresh/token", staleRefresh); code != http.StatusOK {
		t.Fatalf("refresh: HTTP %d %s", code, body)
	}
	access, refresh := e.IssueTokens() // issued after the expiry: valid
	oldAccess, oldRefresh := e.IssueTokens()
	code, _ := t2Do(t, e, http.MethodPut, "/authorization/refresh/token", oldRefresh)
	if code != http.StatusOK {
		t.Fatalf("refresh: HTTP %d", code)
	}
	// A well-formed token signed with another key.
	forged := NewT2(T2Config{Seed: 99, Now: clock.Now})
	foreign, _ := forged.IssueTokens()

	const info = "/call-records/info?start=2024-03-01T00%3A00%3A00%2B03%3A00&end=2024-03-02T00%3A00%3A00%2B03%3A00"
	tests := []struct {
		name, method, path, token, file string
	}{
		{"no header", http.MethodGet, info, "", "403-authorization-header-required.json"},
		{"no header on refresh", http.MethodPut, "/authorization/refresh/token", "", "403-authorization-header-required.json"},
		{"garbage", http.MethodGet, info, "QwErTy", "403-bad-token.json"},
		{"foreign signature", http.MethodGet, "/employees", foreign, "403-bad-token.json"},
		{"Bearer prefix", http.MethodGet, "/employees", "Bearer " + access, "403-bad-token.json"},
		{"expired access", http.MethodGet, info, expAccess, "403-expired.json"},
		{"refresh on data", http.MethodGet, "/employees", refresh, "403-invalid-token-type.json"},
		{"access on refresh", http.MethodPut, "/authorization/refresh/token", access, "403-invalid-token-type.json"},
		{"rotated access", http.MethodGet, info, oldAccess, "403-already-updated.json"},
		{"rotated refresh", http.MethodPut, "/authorization/refresh/token", oldRefresh, "403-already-updated.json"},
		{"rotated and expired access", http.MethodGet, info, staleAccess, "403-already-updated.json"},
		{"rotated and expired access on refresh", http.MethodPut, "/authorization/refresh/token", staleAccess, "403-already-updated.json"},
		{"rotated refresh on data", http.MethodGet, "/employees", staleRefresh, "403-already-updated.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := t2Do(t, e, tt.method, tt.path, tt.token)
			if code != http.StatusForbidden {
				t.Fatalf("HTTP %d %s", code, body)
			}
			var got map[string]any
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatal(err)
			}
			if want := readT2Testdata(t, tt.file); !reflect.DeepEqual(got, want) {
				t.Errorf("body %v, want %v", got, want)
			}
		})
	}
	if code, body := t2Do(t, e, http.MethodGet, info, access); code != http.StatusOK {
		t.Errorf("valid token: HTTP %d %s", code, body)
	}
}

func TestT2TokenShape(t *testing.T) {
	e, clock, _ := newT2Test(t)
	access, refresh := e.IssueTokens()
	for _, tc := range []struct {
		tok, typ string
		ttl      time.Duration
	}{{access, "access", 24 * time.Hour}, {refresh, "refresh", 7 * 24 * time.Hour}} {
		parts := strings.Split(tc.tok, ".")
		if len(parts) != 3 {
			t.Fatalf("%s token %q is not header.payload.signature", tc.typ, tc.tok)
		}
		payload, err := base64.RawURLEncoding.DecodeString(parts[1])
		if err != nil {
			t.Fatal(err)
		}
		var claims struct {
			Typ string `json:"typ"`
			Exp int64  `json:"exp"`
		}
		if err := json.Unmarshal(payload, &claims); err != nil {
			t.Fatal(err)
		}
		if claims.Typ != tc.typ || claims.Exp != clock.Now().Add(tc.ttl).Unix() {
			t.Errorf("claims %+v, want typ %s exp %d", claims, tc.typ, clock.Now().Add(tc.ttl).Unix())
		}
	}
	if access == refresh {
		t.Error("access == refresh")
	}
	if a2, _ := e.IssueTokens(); a2 == access {
		t.Error("two issues gave the same access token")
	}
}

func TestT2RefreshRotation(t *testing.T) {
	e, _, _ := newT2Test(t)
	a1, r1 := e.IssueTokens()
	other, _ := e.IssueTokens() // another pair, from the web UI
	code, body := t2Do(t, e, http.MethodPut, "/authorization/refresh/token", r1)
	if code != http.StatusOK {
		t.Fatalf("HTTP %d %s", code, body)
	}
	var pair struct{ AccessToken, RefreshToken string }
	if err := json.Unmarshal(body, &pair); err != nil || pair.AccessToken == "" || pair.RefreshToken == "" {
		t.Fatalf("%v: %s", err, body)
	}
	if pair.AccessToken == a1 || pair.RefreshToken == r1 {
		t.Fatal("refresh returned the old tokens")
	}
	steps := []struct {
		name, method, path, token string
		want                      int
	}{
		{"old access dies", http.MethodGet, "/employees", a1, 403},
		{"old refresh dies", http.MethodPut, "/authorization/refresh/token", r1, 403},
		{"new access works", http.MethodGet, "/employees", pair.AccessToken, 200},
		{"other pair unaffected", http.MethodGet, "/employees", other, 200},
		{"new refresh works", http.MethodPut, "/authorization/refresh/token", pair.RefreshToken, 200},
		{"second-generation access dies", http.MethodGet, "/employees", pair.AccessToken, 403},
	}
	for _, s := range steps {
		if code, body := t2Do(t, e, s.method, s.path, s.token); code != s.want {
			t.Errorf("%s: HTTP %d, want %d: %s", s.name, code, s.want, body)
		}
	}
	if e.Refreshes() != 2 {
		t.Errorf("Refreshes() = %d, want 2", e.Refreshes())
	}
}

func TestT2ExpiryOnClock(t *testing.T) {
	e, clock, _ := newT2Test(t)
	access, refresh := e.IssueTokens()
	check := func(what, method, path, tok string, want int) {
		t.Helper()
		if code, body := t2Do(t, e, method, path, tok); code != want {
			t.Errorf("%s: HTTP %d, want %d: %s", what, code, want, body)
		}
	}
	clock.Advance(24*time.Hour - time.Second)
	check("access at 24h−1s", http.MethodGet, "/employees", access, 200)
	clock.Advance(time.Second)
	check("access at 24h", http.MethodGet, "/employees", access, 403)
	_, body := t2Do(t, e, http.MethodGet, "/employees", access)
	if !bytes.Contains(body, []byte("The token is expired")) {
		t.Errorf("body %s", body)
	}
	// The refresh token lives 7 days.
	_, refresh2 := e.IssueTokens()
	check("refresh at 24h", http.MethodPut, "/authorization/refresh/token", refresh, 200)
	clock.Advance(7 * 24 * time.Hour)
	code, body := t2Do(t, e, http.MethodPut, "/authorization/refresh/token", refresh2)
	if code != 403 || !bytes.Contains(body, []byte("The token is expired")) {
		t.Errorf("refresh after 7 days: HTTP %d %s", code, body)
	}
	if e.Refreshes() != 1 {
		t.Errorf("Refreshes() = %d, want 1", e.Refreshes())
	}
}

func TestT2ExpireAccessTokens(t *testing.T) {
	e, _, access := newT2Test(t)
	_, refresh := e.IssueTokens()
	e.ExpireAccessTokens()
	code, body := t2Do(t, e, http.MethodGet, "/employees", access)
	if code != 403 || !bytes.Contains(body, []byte("The token is expired")) {
		t.Fatalf("HTTP %d %s", code, body)
	}
	// The extractor's recovery: refresh once and retry.
	code, body = t2Do(t, e, http.MethodPut, "/authorization/refresh/token", refresh)
	if code != 200 {
		t.Fatalf("refresh: HTTP %d %s", code, body)
	}
	var pair struct{ AccessToken string }
	_ = json.Unmarshal(body, &pair)
	if code, body := t2Do(t, e, http.MethodGet, "/employees", pair.AccessToken); code != 200 {
		t.Errorf("new access: HTTP %d %s", code, body)
	}
}

func TestT2CallRecordsPaging(t *testing.T) {
	e, _, tok := newT2Test(t)
	// 2 March 00:00 to 3 March 12:00 Moscow time.
	start := time.Date(2024, 3, 2, 0, 0, 0, 0, t2TestZone)
	end := time.Date(2024, 3, 3, 12, 0, 0, 0, t2TestZone)
	want := truthCalls(e, start, end)
	if len(want) < 50 {
		t.Fatalf("only %d calls in the window", len(want))
	}
	for _, size := range []int{7, 10, len(want), 1000} {
		q := url.Values{"start": {iso(start)}, "end": {iso(end)}, "sort": {"date,ASC"}}
		if got := pageCalls(t, e, tok, q, size); !reflect.DeepEqual(got, want) {
			t.Errorf("size %d: %d rows differ from the %d of Calls()", size, len(got), len(want))
		}
	}
	q := url.Values{"start": {iso(start)}, "end": {iso(end)}, "sort": {"date,DESC"}}
	if got := pageCalls(t, e, tok, q, 9); !reflect.DeepEqual(got, reversed(want)) {
		t.Error("date,DESC is not the reverse of date,ASC")
	}
	// Default size 10, default sort ascending.
	var rows []wireCall
	t2Get(t, e, "/call-records/info", url.Values{"start": {iso(start)}, "end": {iso(end)}}, tok, &rows)
	if len(rows) != 10 || rows[0].truth(t) != want[0] {
		t.Errorf("defaults: %d rows", len(rows))
	}
	// start is inclusive, end exclusive, to the millisecond.
	first, last := want[0], want[len(want)-1]
	q = url.Values{"start": {iso(first.Timestamp)}, "end": {iso(last.Timestamp)}}
	got := pageCalls(t, e, tok, q, 500)
	if len(got) == 0 || got[0] != first || slices.Contains(got, last) {
		t.Errorf("bounds: start row kept %v, end row excluded %v", len(got) > 0 && got[0] == first, !slices.Contains(got, last))
	}
}

func TestT2CallRecordsFilters(t *testing.T) {
	e, _, tok := newT2Test(t)
	start, end := testDay(1), testDay(4)
	all := truthCalls(e, start, end)
	var recorded []T2Call
	for _, c := range all {
		if c.RecordFileName != "" {
			recorded = append(recorded, c)
		}
	}
	q := url.Values{"start": {iso(start)}, "end": {iso(end)}, "is_recorded": {"true"}}
	if got := pageCalls(t, e, tok, q, 100); !reflect.DeepEqual(got, recorded) {
		t.Errorf("is_recorded: %d rows, want %d", len(got), len(recorded))
	}
	// caller matches whatever spelling: 8…, +7…, 7….
	var spelled T2Call
	for _, c := range all {
		if strings.HasPrefix(c.CallerNumber, "8") && len(c.CallerNumber) == 11 {
			spelled = c
			break
		}
	}
	if spelled.CallerNumber == "" {
		t.Fatal("no caller spelled 8XXXXXXXXXX")
	}
	q = url.Values{"start": {iso(start)}, "end": {iso(end)}, "caller": {"+7" + spelled.CallerNumber[1:]}}
	got := pageCalls(t, e, tok, q, 100)
	if !slices.Contains(got, spelled) {
		t.Errorf("caller filter lost %v", spelled)
	}
	for _, c := range got {
		if t2Norm(c.CallerNumber) != t2Norm(spelled.CallerNumber) {
			t.Errorf("caller filter kept %q", c.CallerNumber)
		}
	}
}

func TestT2BadParams(t *testing.T) {
	e, _, tok := newT2Test(t)
	tests := []struct {
		name, target, details, message string
	}{
		{"no start", "/call-records/info?end=2024-03-02T00%3A00%3A00%2B03%3A00",
			"Required request parameter 'start' for method parameter type OffsetDateTime is not present", "Some of fields empty"},
		{"empty end", "/statistics/missing?start=2024-03-02T00%3A00%3A00%2B03%3A00&end=",
			"Required request parameter 'end' for method parameter type OffsetDateTime is present but converted to null", "Some of fields empty"},
		{"unencoded plus", "/call-records/info?start=2024-03-01T00:00:00+03:00&end=2024-03-02T00%3A00%3A00%2B03%3A00",
			"Bad request", "Wrong parameter start"},
		{"not a time", "/statistics/common?start=yesterday&end=2024-03-02T00%3A00%3A00Z", "Bad request", "Wrong parameter start"},
		{"bad page", "/call-records/info?start=2024-03-01T00%3A00%3A00Z&end=2024-03-02T00%3A00%3A00Z&page=-1", "Bad request", "Wrong parameter page"},
		{"bad size", "/statistics/missing?start=2024-03-01T00%3A00%3A00Z&end=2024-03-02T00%3A00%3A00Z&size=0", "Bad request", "Wrong parameter size"},
		{"bad sort", "/call-records/info?start=2024-03-01T00%3A00%3A00Z&end=2024-03-02T00%3A00%3A00Z&sort=date,UP", "Bad request", "Wrong parameter sort"},
		{"bad is_recorded", "/call-records/info?start=2024-03-01T00%3A00%3A00Z&end=2024-03-02T00%3A00%3A00Z&is_recorded=yes", "Bad request", "Wrong parameter is_recorded"},
		{"no filename", "/call-records/file", "Required request parameter 'filename' for method parameter type String is not present", "Some of fields empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := t2Do(t, e, http.MethodGet, tt.target, tok)
			var got t2Error
			if err := json.Unmarshal(body, &got); code != 400 || err != nil || got != (t2Error{tt.details, tt.message}) {
				t.Errorf("HTTP %d %s", code, body)
			}
		})
	}
}

// wireMissed decodes a statistics/missing row.
type wireMissed struct {
	ID                int64       `json:"id"`
	StartDate         string      `json:"startDate"`
	WaitDuration      int         `json:"waitDuration"`
	CallerNumber      string      `json:"callerNumber"`
	DestinationNumber string      `json:"destinationNumber"`
	CalleeCompanyID   json.Number `json:"calleeCompanyId"`
	CalleeNumber      string      `json:"calleeNumber"`
	CalleeName        string      `json:"calleeName"`
}

func pageMissed(t *testing.T, h http.Handler, tok string, q url.Values, size int) []T2Missed {
	t.Helper()
	var out []T2Missed
	q.Set("size", strconv.Itoa(size))
	for page := 0; ; page++ {
		q.Set("page", strconv.Itoa(page))
		var rows []wireMissed
		t2Get(t, h, "/statistics/missing", q, tok, &rows)
		for _, r := range rows {
			ts, err := time.Parse(time.RFC3339Nano, r.StartDate)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, T2Missed{ID: r.ID, StartDate: ts.UTC(), WaitDuration: r.WaitDuration,
				CallerNumber: r.CallerNumber, DestinationNumber: r.DestinationNumber,
				CalleeNumber: r.CalleeNumber, CalleeName: r.CalleeName, CalleeCompanyID: r.CalleeCompanyID.String()})
		}
		if len(rows) < size {
			return out
		}
	}
}

func TestT2MissingPaging(t *testing.T) {
	e, _, tok := newT2Test(t)
	start := time.Date(2024, 3, 1, 12, 0, 0, 0, t2TestZone)
	end := time.Date(2024, 3, 3, 12, 0, 0, 0, t2TestZone)
	var want, onMCN2 []T2Missed
	for _, m := range e.Missed() {
		if !m.StartDate.Before(start) && m.StartDate.Before(end) {
			m.AlsoInCallRecords = false // not on the wire
			want = append(want, m)
			if m.DestinationNumber == t2DefaultMCN2 {
				onMCN2 = append(onMCN2, m)
			}
		}
	}
	if len(want) < 20 || len(onMCN2) == 0 || len(onMCN2) == len(want) {
		t.Fatalf("%d rows, %d on the second MCN", len(want), len(onMCN2))
	}
	for _, size := range []int{1, 6, 100} {
		q := url.Values{"start": {iso(start)}, "end": {iso(end)}, "sort": {"startDate"}}
		if got := pageMissed(t, e, tok, q, size); !reflect.DeepEqual(got, want) {
			t.Errorf("size %d: %d rows, want %d", size, len(got), len(want))
		}
	}
	q := url.Values{"start": {iso(start)}, "end": {iso(end)}, "sort": {"startDate,DESC"}}
	if got := pageMissed(t, e, tok, q, 7); !reflect.DeepEqual(got, reversed(want)) {
		t.Error("startDate,DESC is not the reverse")
	}
	q = url.Values{"start": {iso(start)}, "end": {iso(end)}, "mcn_numbers": {t2DefaultMCN2}}
	if got := pageMissed(t, e, tok, q, 5); !reflect.DeepEqual(got, onMCN2) {
		t.Errorf("mcn_numbers: %d rows, want %d", len(got), len(onMCN2))
	}
	q = url.Values{"start": {iso(start)}, "end": {iso(end)}, "mcn_numbers": {t2DefaultMCN1, "+" + t2DefaultMCN2}}
	if got := pageMissed(t, e, tok, q, 50); !reflect.DeepEqual(got, want) {
		t.Errorf("both mcn_numbers: %d rows, want %d", len(got), len(want))
	}
	var rows []wireMissed
	t2Get(t, e, "/statistics/missing", url.Values{"start": {iso(start)}, "end": {iso(end)}}, tok, &rows)
	if len(rows) != min(100, len(want)) {
		t.Errorf("default size: %d rows", len(rows))
	}
	// start inclusive, end exclusive.
	q = url.Values{"start": {iso(want[0].StartDate)}, "end": {iso(want[len(want)-1].StartDate)}}
	got := pageMissed(t, e, tok, q, 100)
	if len(got) != len(want)-1 || got[0] != want[0] {
		t.Errorf("bounds: %d rows, want %d", len(got), len(want)-1)
	}
}

func TestT2MissedAlsoInCallRecords(t *testing.T) {
	e, _, _ := newT2Test(t)
	byID := make(map[int64][]T2Call)
	for _, c := range e.Calls() {
		if c.MissedID != 0 {
			byID[c.MissedID] = append(byID[c.MissedID], c)
		}
	}
	also, ids := 0, make(map[int64]bool)
	for _, m := range e.Missed() {
		if ids[m.ID] {
			t.Errorf("duplicate id %d", m.ID)
		}
		ids[m.ID] = true
		if !slices.Contains([]string{t2DefaultMCN1, t2DefaultMCN2}, m.DestinationNumber) {
			t.Errorf("destination %q is not an MCN", m.DestinationNumber)
		}
		cs := byID[m.ID]
		if !m.AlsoInCallRecords {
			if len(cs) != 0 {
				t.Errorf("missed %d not flagged but in call-records", m.ID)
			}
			continue
		}
		also++
		if len(cs) != 1 {
			t.Fatalf("missed %d: %d call records", m.ID, len(cs))
		}
		c := cs[0]
		if !c.Timestamp.Equal(m.StartDate) || c.CallerNumber != m.CallerNumber || c.CallStatus != T2NotAnsweredCommon ||
			c.DestinationNumber != m.DestinationNumber || c.CallType != T2MultiChannel || c.Answered() {
			t.Errorf("missed %+v vs call %+v", m, c)
		}
	}
	if n := len(e.Missed()); also == 0 || also == n {
		t.Errorf("%d of %d missed calls also in call-records; want some, not all", also, n)
	}
	if len(byID) != also {
		t.Errorf("%d calls carry a MissedID, %d missed calls are flagged", len(byID), also)
	}
}

func TestT2TrafficMix(t *testing.T) {
	e, _, tok := newT2Test(t)
	documentedTypes := []string{T2SingleChannel, T2MultiChannel, T2UnknownCall, T2Internal, T2Himself,
		T2InternalQueue, T2CRMOutgoing, T2Voicemail, T2Conference, T2Callback, T2PickupCall, T2Fax,
		T2Outgoing, T2CRMCallback}
	types, statuses := make(map[string]int), make(map[string]int)
	spellings := make(map[string]int)
	for _, c := range e.Calls() {
		types[c.CallType]++
		statuses[c.CallStatus]++
		switch n := c.CallerNumber; {
		case len(n) == 4:
			spellings["ext"]++
		case n[0] == '+':
			spellings["+7"]++
		default:
			spellings[n[:1]]++
		}
		if !c.Answered() && c.RecordFileName != "" {
			t.Errorf("unanswered call with a recording: %+v", c)
		}
		if c.RecordFileName != "" && !strings.Contains(c.RecordFileName, "/") {
			t.Errorf("recordFileName %q", c.RecordFileName)
		}
		if c.Answered() && c.CallDuration < c.ConversationDuration {
			t.Errorf("callDuration < conversationDuration: %+v", c)
		}
	}
	if types[T2CallTransfer] != 3 || statuses[T2StatusQueueTimeout] != 3 {
		t.Errorf("undocumented values: %d CALL_TRANSFER, %d %s; want one a day", types[T2CallTransfer],
			statuses[T2StatusQueueTimeout], T2StatusQueueTimeout)
	}
	for _, typ := range []string{T2SingleChannel, T2MultiChannel, T2Outgoing, T2Internal} {
		if types[typ] < 10 {
			t.Errorf("only %d %s calls", types[typ], typ)
		}
	}
	for typ := range types {
		if typ != T2CallTransfer && !slices.Contains(documentedTypes, typ) {
			t.Errorf("unexpected callType %q", typ)
		}
	}
	for _, s := range []string{T2AnsweredCommon, T2AnsweredByOriginalClient, T2NotAnsweredCommon, T2CancelledByCaller} {
		if statuses[s] == 0 {
			t.Errorf("no %s", s)
		}
	}
	for _, s := range []string{"7", "8", "+7", "ext"} {
		if spellings[s] == 0 {
			t.Errorf("no caller spelled %s: %v", s, spellings)
		}
	}

	// On the wire: unknown values present, conversationDuration absent
	// exactly for unanswered calls, offsets in Moscow time.
	code, body := t2Do(t, e, http.MethodGet, "/call-records/info?"+url.Values{
		"start": {iso(testDay(1))}, "end": {iso(testDay(4))}, "size": {"10000"}}.Encode(), tok)
	if code != 200 {
		t.Fatalf("HTTP %d", code)
	}
	var raw []map[string]any
	if err := json.Unmarshal(body, &raw); err != nil {
		t.Fatal(err)
	}
	if len(raw) != len(e.Calls()) || !bytes.Contains(body, []byte(`"CALL_TRANSFER"`)) {
		t.Fatalf("%d rows, CALL_TRANSFER on the wire: %v", len(raw), bytes.Contains(body, []byte(`"CALL_TRANSFER"`)))
	}
	docKeys := docExampleKeys(t)
	for _, row := range raw {
		_, hasConv := row["conversationDuration"]
		answered := strings.HasPrefix(row["callStatus"].(string), "ANSWERED") || row["callType"] == T2CallTransfer
		if hasConv != answered {
			t.Errorf("conversationDuration present %v for %v", hasConv, row["callStatus"])
		}
		if !hasConv && row["recordFileName"] != "" {
			t.Errorf("unanswered row with a recording: %v", row)
		}
		if !strings.HasSuffix(row["callTimestamp"].(string), "+03:00") {
			t.Errorf("callTimestamp %v", row["callTimestamp"])
		}
		for k := range row {
			if !docKeys[k] {
				t.Errorf("key %q is not in the document's example", k)
			}
		}
	}
}

// docExampleKeys returns the keys of the document's call-records example.
func docExampleKeys(t *testing.T) map[string]bool {
	b, err := os.ReadFile("testdata/t2/call-records-info.response.json")
	if err != nil {
		t.Fatal(err)
	}
	var rows []map[string]any
	if err := json.Unmarshal(b, &rows); err != nil {
		t.Fatal(err)
	}
	keys := make(map[string]bool)
	for _, r := range rows {
		for k := range r {
			keys[k] = true
		}
	}
	return keys
}

func TestT2Common(t *testing.T) {
	e, _, tok := newT2Test(t)
	start := time.Date(2024, 3, 1, 6, 0, 0, 0, t2TestZone)
	end := time.Date(2024, 3, 3, 6, 0, 0, 0, t2TestZone)
	calls := truthCalls(e, start, end)
	internal := e.EmployeeList()[0].FullNumber
	tests := []struct {
		name, subscriber string
	}{{"company", ""}, {"one employee", internal}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var want t2Common
			callers := make(map[string]bool)
			for _, c := range calls {
				if tt.subscriber != "" && t2Norm(c.CallerNumber) != tt.subscriber && t2Norm(c.CalleeNumber) != tt.subscriber &&
					t2Norm(c.DestinationNumber) != tt.subscriber {
					continue
				}
				want.AllCallCount++
				if c.ConversationDuration >= 0 {
					want.SuccessCallCount++
				} else {
					want.LostCallCount++
				}
				want.CommonCallDuration += c.CallDuration
				if c.CallType == T2Internal {
					want.InternalCallCount++
				}
				callers[t2Norm(c.CallerNumber)] = true
			}
			q := url.Values{"start": {iso(start)}, "end": {iso(end)}}
			if tt.subscriber != "" {
				q.Set("subscriberNumber", tt.subscriber)
			}
			var got t2Common
			t2Get(t, e, "/statistics/common", q, tok, &got)
			if want.AllCallCount == 0 {
				t.Fatal("no calls")
			}
			if got.AllCallCount != want.AllCallCount || got.SuccessCallCount != want.SuccessCallCount ||
				got.LostCallCount != want.LostCallCount || got.CommonCallDuration != want.CommonCallDuration ||
				got.InternalCallCount != want.InternalCallCount || got.UniqueCallCount != len(callers) ||
				got.CallCountPerDay != float64(want.AllCallCount)/2 {
				t.Errorf("got %+v\nwant %+v, %d unique", got, want, len(callers))
			}
		})
	}
	// Same keys as the document's example.
	code, body := t2Do(t, e, http.MethodGet, "/statistics/common?"+url.Values{"start": {iso(start)}, "end": {iso(end)}}.Encode(), tok)
	var got map[string]any
	if err := json.Unmarshal(body, &got); code != 200 || err != nil {
		t.Fatalf("HTTP %d %v", code, err)
	}
	doc := readT2Testdata(t, "statistics-common.response.json")
	if len(got) != len(doc) {
		t.Errorf("%d keys, the document has %d", len(got), len(doc))
	}
	for k := range doc {
		if _, ok := got[k]; !ok {
			t.Errorf("no %q", k)
		}
	}
}

func TestT2Employees(t *testing.T) {
	e, _, tok := newT2Test(t)
	var rows []map[string]any
	t2Get(t, e, "/employees", nil, tok, &rows)
	want := e.EmployeeList()
	if len(rows) != 12 || len(want) != 12 {
		t.Fatalf("%d rows, %d employees; want 12", len(rows), len(want))
	}
	for i, r := range rows {
		w := want[i]
		if id, ok := r["employeeId"].(float64); !ok || strconv.Itoa(int(id)) != w.EmployeeID {
			t.Errorf("employeeId %v (%T), want number %s", r["employeeId"], r["employeeId"], w.EmployeeID)
		}
		if r["fullNumber"] != w.FullNumber || r["shortNumber"] != w.ShortNumber || r["name"] != w.Name {
			t.Errorf("row %v, want %+v", r, w)
		}
		if _, ok := r["email"]; ok != (w.Email != "") {
			t.Errorf("email present %v for %+v", ok, w)
		}
	}
}

func TestT2Files(t *testing.T) {
	e, _, tok := newT2Test(t)
	var withSTT, withoutSTT string
	for _, c := range e.Calls() {
		if c.RecordFileName == "" {
			continue
		}
		code, body := t2Do(t, e, http.MethodGet, "/call-records/file?filename="+url.QueryEscape(c.RecordFileName), tok)
		if code != 200 || !bytes.HasPrefix(body, []byte("ID3")) || !bytes.Contains(body, []byte{0xFF, 0xFB}) {
			t.Fatalf("%s: HTTP %d, %d bytes", c.RecordFileName, code, len(body))
		}
		code, body = t2Do(t, e, http.MethodGet, "/call-records/file/stt?filename="+url.QueryEscape(c.RecordFileName), tok)
		switch code {
		case 200:
			var words []t2Word
			if err := json.Unmarshal(body, &words); err != nil || len(words) == 0 || words[0].Word == "" {
				t.Errorf("stt: %v %s", err, body)
			}
			withSTT = c.RecordFileName
		case 404:
			withoutSTT = c.RecordFileName
		default:
			t.Fatalf("stt: HTTP %d", code)
		}
	}
	if withSTT == "" || withoutSTT == "" {
		t.Errorf("transcripts: with %q, without %q; want both kinds", withSTT, withoutSTT)
	}
	_, a := t2Do(t, e, http.MethodGet, "/call-records/file?filename="+url.QueryEscape(withSTT), tok)
	_, b := t2Do(t, e, http.MethodGet, "/crm/openapi/call-records/file?filename="+url.QueryEscape(withSTT), tok)
	if !bytes.Equal(a, b) {
		t.Error("same file, different bytes")
	}
	for _, tt := range []struct{ path, file string }{
		{"/call-records/file?filename=", "call-records-file.404.json"},
		{"/call-records/file/stt?filename=", "call-records-file-stt.404.json"},
	} {
		// The document's double-encoded %252F names no file.
		for _, name := range []string{"2022-07-15%2F165787002922476116", "2022-08-19%252F166243421852679930"} {
			code, body := t2Do(t, e, http.MethodGet, tt.path+name, tok)
			var got map[string]any
			_ = json.Unmarshal(body, &got)
			if code != 404 || !reflect.DeepEqual(got, readT2Testdata(t, tt.file)) {
				t.Errorf("%s%s: HTTP %d %s", tt.path, name, code, body)
			}
		}
	}
}

func TestT2Determinism(t *testing.T) {
	c1 := &t2Clock{now: time.Date(2024, 3, 4, 9, 0, 0, 0, time.UTC)}
	c2 := &t2Clock{now: c1.now}
	e1, e2 := NewT2(t2TestConfig(c1)), NewT2(t2TestConfig(c2))
	if len(e1.Calls()) == 0 || !reflect.DeepEqual(e1.Calls(), e2.Calls()) ||
		!reflect.DeepEqual(e1.Missed(), e2.Missed()) || !reflect.DeepEqual(e1.EmployeeList(), e2.EmployeeList()) {
		t.Fatal("same config, different truth")
	}
	a1, r1 := e1.IssueTokens()
	a2, r2 := e2.IssueTokens()
	if a1 != a2 || r1 != r2 {
		t.Error("same seed and clock, different tokens")
	}
	target := "/call-records/info?" + url.Values{"start": {iso(testDay(2))}, "end": {iso(testDay(3))}, "size": {"500"}}.Encode()
	_, b1 := t2Do(t, e1, http.MethodGet, target, a1)
	_, b2 := t2Do(t, e2, http.MethodGet, target, a2)
	if !bytes.Equal(b1, b2) {
		t.Error("same request, different bytes")
	}
	other := t2TestConfig(c1)
	other.Seed++
	if reflect.DeepEqual(NewT2(other).Calls(), e1.Calls()) {
		t.Error("another seed, same calls")
	}
	// A day's traffic does not depend on From/To.
	wide := t2TestConfig(c1)
	wide.From, wide.To = testDay(2), testDay(9)
	ew := NewT2(wide)
	if !reflect.DeepEqual(truthCalls(e1, testDay(2), testDay(4)), truthCalls(ew, testDay(2), testDay(4))) {
		t.Error("changing From/To changed the calls of the common days")
	}
}

func TestT2Faults(t *testing.T) {
	e, _, tok := newT2Test(t)
	srv := httptest.NewServer(e)
	defer srv.Close()
	target := srv.URL + "/call-records/info?" + url.Values{"start": {iso(testDay(1))}, "end": {iso(testDay(2))}, "size": {"50"}}.Encode()
	do := func() (int, []byte, error) {
		req, _ := http.NewRequest(http.MethodGet, target, nil)
		req.Header.Set("Authorization", tok)
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp.StatusCode, b, err
	}
	e.SetFaults(Faults{TruncateEvery: 2, MalformedEvery: 3, TooManyEvery: 4, RetryAfter: time.Second})
	_, full, err := do()
	if err != nil || !json.Valid(full) {
		t.Fatalf("request 1: %v", err)
	}
	if _, b, err := do(); !errors.Is(err, io.ErrUnexpectedEOF) || len(b) != len(full)/2 {
		t.Errorf("request 2: %d bytes, %v", len(b), err)
	}
	if code, b, _ := do(); code != 200 || json.Valid(b) {
		t.Errorf("request 3: HTTP %d, valid JSON %v", code, json.Valid(b))
	}
	if code, _, _ := do(); code != 429 {
		t.Errorf("request 4: HTTP %d", code)
	}
	e.SetFaults(Faults{})
	if _, b, err := do(); err != nil || !bytes.Equal(b, full) {
		t.Errorf("request 5: %v", err)
	}
	if c := e.FaultInjector().Counts(); c != (FaultCounts{Requests: 5, Truncate: 1, Malformed: 1, TooMany: 1}) {
		t.Errorf("Counts() = %+v", c)
	}
}

func TestT2Concurrent(t *testing.T) {
	e, _, _ := newT2Test(t)
	_, refresh := e.IssueTokens()
	// Many clients refresh the same pair at once: exactly one wins.
	var wg sync.WaitGroup
	codes := make([]int, 16)
	for i := range codes {
		wg.Go(func() {
			codes[i], _ = t2Do(t, e, http.MethodPut, "/authorization/refresh/token", refresh)
		})
	}
	wg.Wait()
	if n := slices.Index(codes, 200); n < 0 || slices.Index(codes[n+1:], 200) >= 0 || e.Refreshes() != 1 {
		t.Errorf("codes %v, Refreshes %d; want one success", codes, e.Refreshes())
	}
}

func TestT2DocExampleFiles(t *testing.T) {
	doc, err := os.ReadFile("/work/shared/vendor-docs/t2-ats-crm-openapi.txt")
	if err != nil {
		t.Skip("vendor document not available:", err)
	}
	names, _ := filepath.Glob("testdata/t2/*")
	n := 0
	for _, name := range names {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case strings.HasSuffix(name, ".doc.txt"):
			n++
			if !bytes.Contains(doc, b) {
				t.Errorf("%s is not verbatim from the document", name)
			}
			if _, err := os.Stat(strings.TrimSuffix(name, ".doc.txt") + ".json"); err != nil && !strings.Contains(name, "refresh-token") {
				t.Errorf("%s has no corrected .json: %v", name, err)
			}
		case strings.HasSuffix(name, ".json"):
			n++
			if !json.Valid(b) {
				t.Errorf("%s is not valid JSON", name)
			}
		}
	}
	if n < 15 {
		t.Errorf("%d example files", n)
	}
}
