package sandbox

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

func newVoiceBoxTest(t *testing.T, mod func(*VoiceBoxConfig)) (*VoiceBox, *httptest.Server) {
	t.Helper()
	cfg := VoiceBoxConfig{
		Customers: []string{"1001", "1002"}, CallsPerDay: 30, Days: 3, BadRowsPerDay: 2, Seed: 5,
		Start: time.Date(2026, 11, 18, 12, 0, 0, 0, time.UTC),
		Now:   func() time.Time { return time.Date(2026, 11, 21, 6, 0, 0, 0, time.UTC) },
	}
	if mod != nil {
		mod(&cfg)
	}
	v := NewVoiceBox(cfg)
	srv := httptest.NewServer(v)
	t.Cleanup(srv.Close)
	return v, srv
}

type vbTokenAnswer struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	RefreshToken string `json:"refresh_token"`
	Error        string `json:"error"`
}

// vbPostToken posts form to /oauth/token, with Basic auth when basic.
func vbPostToken(t *testing.T, srv *httptest.Server, form url.Values, basic bool, id, secret string) (int, vbTokenAnswer) {
	t.Helper()
	if !basic {
		form.Set("client_id", id)
		form.Set("client_secret", secret)
	}
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/oauth/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basic {
		req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var a vbTokenAnswer
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, a
}

func vbPassword(t *testing.T, srv *httptest.Server) vbTokenAnswer {
	t.Helper()
	code, a := vbPostToken(t, srv, url.Values{"grant_type": {"password"}, "username": {VoiceBoxDefaultUsername},
		"password": {VoiceBoxDefaultPassword}}, true, VoiceBoxDefaultClientID, VoiceBoxDefaultClientSecret)
	if code != 200 || a.AccessToken == "" || a.RefreshToken == "" || a.TokenType != "Bearer" || a.ExpiresIn != 3600 {
		t.Fatalf("password grant: %d %+v", code, a)
	}
	return a
}

// vbGet sends GET path with a bearer token and an optional Range.
func vbGet(t *testing.T, srv *httptest.Server, path, token, rng string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if rng != "" {
		req.Header.Set("Range", rng)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func TestVoiceBoxTokens(t *testing.T) {
	v, srv := newVoiceBoxTest(t, nil)
	for _, tc := range []struct {
		name       string
		form       url.Values
		basic      bool
		id, secret string
		code       int
		err        string
	}{
		{"password basic", url.Values{"grant_type": {"password"}, "username": {VoiceBoxDefaultUsername}, "password": {VoiceBoxDefaultPassword}}, true, VoiceBoxDefaultClientID, VoiceBoxDefaultClientSecret, 200, ""},
		{"password form", url.Values{"grant_type": {"password"}, "username": {VoiceBoxDefaultUsername}, "password": {VoiceBoxDefaultPassword}}, false, VoiceBoxDefaultClientID, VoiceBoxDefaultClientSecret, 200, ""},
		{"bad secret", url.Values{"grant_type": {"password"}, "username": {VoiceBoxDefaultUsername}, "password": {VoiceBoxDefaultPassword}}, true, VoiceBoxDefaultClientID, "wrong", 401, "invalid_client"},
		{"bad password", url.Values{"grant_type": {"password"}, "username": {VoiceBoxDefaultUsername}, "password": {"nope"}}, false, VoiceBoxDefaultClientID, VoiceBoxDefaultClientSecret, 400, "invalid_grant"},
		{"bad refresh", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"vbrt_x"}}, true, VoiceBoxDefaultClientID, VoiceBoxDefaultClientSecret, 400, "invalid_grant"},
		{"bad grant", url.Values{"grant_type": {"client_credentials"}}, true, VoiceBoxDefaultClientID, VoiceBoxDefaultClientSecret, 400, "unsupported_grant_type"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, a := vbPostToken(t, srv, tc.form, tc.basic, tc.id, tc.secret)
			if code != tc.code || a.Error != tc.err {
				t.Fatalf("got %d %q, want %d %q", code, a.Error, tc.code, tc.err)
			}
		})
	}
	if v.PasswordGrants() != 2 {
		t.Fatalf("%d password grants", v.PasswordGrants())
	}

	a := vbPassword(t, srv)
	if resp, _ := vbGet(t, srv, "/customers/1001/balance", a.AccessToken, ""); resp.StatusCode != 200 {
		t.Fatalf("balance: %d", resp.StatusCode)
	}
	// Refresh rotates: the old refresh token dies, the new pair works.
	code, b := vbPostToken(t, srv, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {a.RefreshToken}}, true, VoiceBoxDefaultClientID, VoiceBoxDefaultClientSecret)
	if code != 200 || b.AccessToken == a.AccessToken {
		t.Fatalf("refresh: %d %+v", code, b)
	}
	if code, _ := vbPostToken(t, srv, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {a.RefreshToken}}, true, VoiceBoxDefaultClientID, VoiceBoxDefaultClientSecret); code != 400 {
		t.Fatalf("reused refresh token: %d", code)
	}
	// Expiry on the emulator's clock.
	v.Advance(time.Hour)
	resp, body := vbGet(t, srv, "/customers/1001/balance", b.AccessToken, "")
	if resp.StatusCode != 401 || !strings.Contains(string(body), "invalid_token") || resp.Header.Get("WWW-Authenticate") == "" {
		t.Fatalf("expired token: %d %s", resp.StatusCode, body)
	}
	code, c := vbPostToken(t, srv, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {b.RefreshToken}}, true, VoiceBoxDefaultClientID, VoiceBoxDefaultClientSecret)
	if code != 200 {
		t.Fatalf("refresh after access expiry: %d", code)
	}
	// Revocation kills both tokens.
	v.RevokeTokens()
	if resp, _ := vbGet(t, srv, "/customers/1001/balance", c.AccessToken, ""); resp.StatusCode != 401 {
		t.Fatalf("revoked: %d", resp.StatusCode)
	}
	if code, _ := vbPostToken(t, srv, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {c.RefreshToken}}, true, VoiceBoxDefaultClientID, VoiceBoxDefaultClientSecret); code != 400 {
		t.Fatalf("revoked refresh: %d", code)
	}
	if resp, _ := vbGet(t, srv, "/customers/1001/balance", "", ""); resp.StatusCode != 401 {
		t.Fatalf("no token: %d", resp.StatusCode)
	}
	if v.TokenIssues() != 5 || v.RefreshGrants() != 2 || v.Unauthorized() != 3 {
		t.Fatalf("issues %d refreshes %d 401s %d", v.TokenIssues(), v.RefreshGrants(), v.Unauthorized())
	}
	tok := vbPassword(t, srv).AccessToken
	if resp, _ := vbGet(t, srv, "/customers/999/balance", tok, ""); resp.StatusCode != 404 {
		t.Fatalf("unknown customer: %d", resp.StatusCode)
	}
}

func TestVoiceBoxRange(t *testing.T) {
	v, srv := newVoiceBoxTest(t, func(c *VoiceBoxConfig) { c.MaxPageSize, c.CallsPerDay = 50, 50 })
	tok := vbPassword(t, srv).AccessToken
	total := len(v.Calls("1001")) + len(v.BadRows("1001"))
	if total < 100 {
		t.Fatalf("only %d rows", total)
	}
	tot := strconv.Itoa(total)
	campaigns := 0
	for _, c := range v.Campaigns("1001") {
		if !c.Deleted {
			campaigns++
		}
	}
	for _, tc := range []struct {
		name, path, rng string
		code            int
		cr              string
		rows            int
	}{
		{"first page", "/customers/1001/callhistory", "numbers=0-9", 206, "numbers 0-9/" + tot, 10},
		{"middle", "/customers/1001/callhistory", "numbers=10-19", 206, "numbers 10-19/" + tot, 10},
		{"capped", "/customers/1001/callhistory", "numbers=0-99", 206, "numbers 0-49/" + tot, 50},
		{"tail", "/customers/1001/callhistory", "numbers=" + strconv.Itoa(total-3) + "-", 206, "numbers " + strconv.Itoa(total-3) + "-" + strconv.Itoa(total-1) + "/" + tot, 3},
		{"past end", "/customers/1001/callhistory", "numbers=" + tot + "-" + strconv.Itoa(total+9), 416, "numbers */" + tot, -1},
		{"no range", "/customers/1001/callhistory", "", 200, "", total},
		{"bad range", "/customers/1001/callhistory", "bytes=0-9", 200, "", total},
		{"covers all", "/customers/1001/campaigns", "numbers=0-99", 200, "", campaigns},
		{"history campaigns", "/customers/1001/callhistory/campaigns", "numbers=0-99", 200, "", len(v.Campaigns("1001"))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := vbGet(t, srv, tc.path, tok, tc.rng)
			if resp.StatusCode != tc.code || resp.Header.Get("Content-Range") != tc.cr {
				t.Fatalf("got %d %q, want %d %q", resp.StatusCode, resp.Header.Get("Content-Range"), tc.code, tc.cr)
			}
			if tc.rows < 0 {
				return
			}
			var rows []json.RawMessage
			if err := json.Unmarshal(body, &rows); err != nil || len(rows) != tc.rows {
				t.Fatalf("%d rows (%v), want %d", len(rows), err, tc.rows)
			}
		})
	}

	v.SetIgnoreRange(true)
	if resp, _ := vbGet(t, srv, "/customers/1001/callhistory", tok, "numbers=10-19"); resp.StatusCode != 200 {
		t.Fatalf("ignore range: %d", resp.StatusCode)
	}
	v.SetIgnoreRange(false)
	v.SetRepeatPages(true)
	_, p1 := vbGet(t, srv, "/customers/1001/callhistory", tok, "numbers=0-9")
	resp, p2 := vbGet(t, srv, "/customers/1001/callhistory", tok, "numbers=10-19")
	if resp.StatusCode != 206 || string(p1) != string(p2) || resp.Header.Get("Content-Range") != "numbers 10-19/*" {
		t.Fatalf("repeat pages: %d %q", resp.StatusCode, resp.Header.Get("Content-Range"))
	}
}

// TestVoiceBoxUnknownTotal: pages capped below the asked size with total
// "*", never a 200 to a Range, a 416 without a total past the end; the
// pages put together are the whole list.
func TestVoiceBoxUnknownTotal(t *testing.T) {
	v, srv := newVoiceBoxTest(t, func(c *VoiceBoxConfig) { c.MaxPageSize, c.UnknownTotal = 7, true })
	tok := vbPassword(t, srv).AccessToken
	_, all := vbGet(t, srv, "/customers/1001/callhistory", tok, "")
	var want []json.RawMessage
	if err := json.Unmarshal(all, &want); err != nil || len(want) < 30 {
		t.Fatalf("whole list: %d rows, %v", len(want), err)
	}
	total := len(want)
	campaigns := 0
	for _, c := range v.Campaigns("1001") {
		if !c.Deleted {
			campaigns++
		}
	}
	last := strconv.Itoa(total - 1)
	for _, tc := range []struct {
		name, path, rng string
		code            int
		cr              string
		rows            int
	}{
		{"capped first page", "/customers/1001/callhistory", "numbers=0-24", 206, "numbers 0-6/*", 7},
		{"small range", "/customers/1001/callhistory", "numbers=7-9", 206, "numbers 7-9/*", 3},
		{"tail", "/customers/1001/callhistory", "numbers=" + strconv.Itoa(total-2) + "-" + strconv.Itoa(total+20), 206, "numbers " + strconv.Itoa(total-2) + "-" + last + "/*", 2},
		{"past end", "/customers/1001/callhistory", "numbers=" + strconv.Itoa(total) + "-" + strconv.Itoa(total+24), 416, "", -1},
		{"covers a short list: still 206", "/customers/1001/campaigns", "numbers=0-999", 206, "numbers 0-" + strconv.Itoa(min(campaigns, 7)-1) + "/*", min(campaigns, 7)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := vbGet(t, srv, tc.path, tok, tc.rng)
			if resp.StatusCode != tc.code || resp.Header.Get("Content-Range") != tc.cr {
				t.Fatalf("got %d %q, want %d %q", resp.StatusCode, resp.Header.Get("Content-Range"), tc.code, tc.cr)
			}
			if tc.rows < 0 {
				return
			}
			var rows []json.RawMessage
			if err := json.Unmarshal(body, &rows); err != nil || len(rows) != tc.rows {
				t.Fatalf("%d rows (%v), want %d", len(rows), err, tc.rows)
			}
		})
	}
	var got []json.RawMessage
	for first := 0; ; {
		resp, body := vbGet(t, srv, "/customers/1001/callhistory", tok, "numbers="+strconv.Itoa(first)+"-"+strconv.Itoa(first+24))
		if resp.StatusCode == http.StatusRequestedRangeNotSatisfiable {
			break
		}
		var rows []json.RawMessage
		if err := json.Unmarshal(body, &rows); err != nil || resp.StatusCode != 206 || len(rows) == 0 || len(rows) > 7 {
			t.Fatalf("at %d: %d, %d rows, %v", first, resp.StatusCode, len(rows), err)
		}
		got = append(got, rows...)
		first += len(rows)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("the pages hold %d rows, the list %d", len(got), len(want))
	}
	v.SetUnknownTotal(false)
	if resp, _ := vbGet(t, srv, "/customers/1001/callhistory", tok, "numbers=0-24"); resp.Header.Get("Content-Range") != "numbers 0-6/"+strconv.Itoa(total) {
		t.Errorf("SetUnknownTotal(false): Content-Range %q", resp.Header.Get("Content-Range"))
	}
}

func TestVoiceBoxEmptyList(t *testing.T) {
	_, srv := newVoiceBoxTest(t, func(c *VoiceBoxConfig) { c.CallsPerDay, c.BadRowsPerDay = 0, 0 })
	tok := vbPassword(t, srv).AccessToken
	if resp, body := vbGet(t, srv, "/customers/1001/callhistory", tok, "numbers=0-99"); resp.StatusCode != 200 || string(body) != "[]" {
		t.Fatalf("empty at 0: %d %s", resp.StatusCode, body)
	}
	if resp, _ := vbGet(t, srv, "/customers/1001/callhistory", tok, "numbers=100-199"); resp.StatusCode != 416 {
		t.Fatalf("empty past 0: %d", resp.StatusCode)
	}
}

// TestVoiceBoxTruth: the rows served are the ground truth, newest first,
// with both cost spellings, rows without id and unknown fields.
func TestVoiceBoxTruth(t *testing.T) {
	v, srv := newVoiceBoxTest(t, nil)
	tok := vbPassword(t, srv).AccessToken
	_, body := vbGet(t, srv, "/customers/1002/callhistory", tok, "")
	var rows []json.RawMessage
	if err := json.Unmarshal(body, &rows); err != nil {
		t.Fatal(err)
	}
	calls, bad := v.Calls("1002"), v.BadRows("1002")
	if len(rows) != len(calls)+len(bad) || len(bad) != 6 {
		t.Fatalf("%d rows, %d calls, %d bad", len(rows), len(calls), len(bad))
	}
	raws := map[string]bool{}
	for _, r := range rows {
		raws[string(r)] = true
	}
	var noID, numCost, strCost, extras, incoming int
	for i, c := range calls {
		if !raws[c.Raw] {
			t.Fatalf("call %d not served: %s", i, c.Raw)
		}
		if i > 0 && c.Start.After(calls[i-1].Start) {
			t.Fatal("calls not newest first")
		}
		if c.ID == "" {
			noID++
		}
		switch {
		case strings.Contains(c.Raw, `"cost":"`):
			strCost++
			if !strings.Contains(c.CostWire, ",") {
				t.Fatalf("string cost %q without comma", c.CostWire)
			}
		case strings.Contains(c.Raw, `"cost":`):
			numCost++
		}
		if strings.Contains(c.Raw, `"dtmf"`) {
			extras++
		}
		if c.Direction == VoiceBoxIncoming {
			incoming++
			if c.HasCost {
				t.Fatal("incoming call with cost")
			}
		}
		if want := c.Start.Add(time.Duration(c.DurationS) * time.Second); !c.End.Equal(want) {
			t.Fatal("end != start + duration")
		}
	}
	if noID == 0 || numCost == 0 || strCost == 0 || extras == 0 || incoming == 0 {
		t.Fatalf("noID %d numCost %d strCost %d extras %d incoming %d", noID, numCost, strCost, extras, incoming)
	}
	for _, b := range bad {
		if !raws[b.Raw] || (b.Reason == "start") != (b.Day == "") {
			t.Fatalf("bad row %+v", b)
		}
	}
	// Deterministic: a second emulator with the same seed serves the same bytes.
	v2 := NewVoiceBox(v.Config())
	if c2 := v2.Calls("1002"); len(c2) != len(calls) || c2[0].Raw != calls[0].Raw || v2.Balance("1002") != v.Balance("1002") {
		t.Fatal("not deterministic")
	}
	if v.Requests()["callhistory"] != 1 || v.Requests()["token"] != 1 {
		t.Fatalf("requests %v", v.Requests())
	}
}

func TestVoiceBoxMoney(t *testing.T) {
	for kop, want := range map[int64]string{0: "0.00", 5: "0.05", 120: "1.20", 123456: "1234.56", -250: "-2.50"} {
		if got := vbMoney(kop, '.'); got != want {
			t.Errorf("%d: %q, want %q", kop, got, want)
		}
	}
	if got := vbMoney(120, ','); got != "1,20" {
		t.Errorf("comma: %q", got)
	}
}

// The customer, numbers and price endpoints: the document's fields, the
// same bearer auth and 404 answers as every endpoint, Range paging of the
// numbers list, and data independent of the call traffic.
func TestVoiceBoxNumbers(t *testing.T) {
	v, srv := newVoiceBoxTest(t, nil)
	tok := vbPassword(t, srv).AccessToken
	nums := v.Numbers("1001")
	if len(nums) < 3 {
		t.Fatalf("only %d numbers", len(nums))
	}
	var spare, gotComma, gotNumber bool
	for i, n := range nums {
		resp, body := vbGet(t, srv, "/customers/1001/numbers/"+n.Number+"/price", tok, "")
		if resp.StatusCode != 200 || string(body) != n.PriceRaw {
			t.Fatalf("price of %s: %d %s", n.Number, resp.StatusCode, body)
		}
		var p map[string]any
		d := json.NewDecoder(strings.NewReader(n.PriceRaw))
		d.UseNumber()
		if err := d.Decode(&p); err != nil {
			t.Fatal(err)
		}
		// Every price in its shape: even numbers a JSON number, odd ones a
		// string with a decimal comma.
		switch x := p["price"].(type) {
		case json.Number:
			if i%2 != 0 || x.String() != vbMoney(n.FeeKopecks, '.') {
				t.Errorf("number %d: price %s", i, n.PriceRaw)
			}
			gotNumber = true
		case string:
			if i%2 != 1 || x != vbMoney(n.FeeKopecks, ',') {
				t.Errorf("number %d: price %s", i, n.PriceRaw)
			}
			gotComma = true
		default:
			t.Errorf("number %d: price %s", i, n.PriceRaw)
		}
		if p["currency"] != "RUB" || p["period"] != "month" || n.FeeKopecks <= 0 {
			t.Errorf("price %s", n.PriceRaw)
		}
		var row map[string]any
		if err := json.Unmarshal([]byte(n.Raw), &row); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"type", "owner", "number", "regionName", "regionCode", "category", "description", "campaigns"} {
			if _, ok := row[k]; !ok {
				t.Errorf("row %s lacks %s", n.Raw, k)
			}
		}
		if _, ok := row["id"]; ok {
			t.Errorf("row %s has an id the document does not list", n.Raw)
		}
		spare = spare || len(n.Campaigns) == 0
	}
	if !spare || !gotComma || !gotNumber {
		t.Errorf("spare %v, comma price %v, number price %v: every shape must be served", spare, gotComma, gotNumber)
	}
	resp, body := vbGet(t, srv, "/customers/1001/numbers", tok, "numbers=0-0")
	if resp.StatusCode != 206 || resp.Header.Get("Content-Range") != "numbers 0-0/"+strconv.Itoa(len(nums)) || string(body) != "["+nums[0].Raw+"]" {
		t.Errorf("numbers page: %d %q %s", resp.StatusCode, resp.Header.Get("Content-Range"), body)
	}
	if resp, body := vbGet(t, srv, "/customers/1001/numbers", tok, ""); resp.StatusCode != 200 || !strings.HasPrefix(string(body), "["+nums[0].Raw) {
		t.Errorf("numbers: %d %s", resp.StatusCode, body)
	}
	c := v.Customer("1001")
	resp, body = vbGet(t, srv, "/customers/1001", tok, "")
	if resp.StatusCode != 200 || string(body) != c.Raw || !strings.Contains(c.Raw, `"password":"`+c.Password+`"`) ||
		!strings.Contains(c.Raw, `"personalAccount":"`+c.PersonalAccount+`"`) {
		t.Errorf("customer: %d %s", resp.StatusCode, body)
	}
	if sec := v.CustomerSecrets(); len(sec) != 4 || sec[0] == sec[2] {
		t.Errorf("secrets %v", sec)
	}
	for _, tc := range []struct {
		name, path, token string
		code              int
		errCode           string
	}{
		{"no token", "/customers/1001", "", 401, "invalid_token"},
		{"bad token", "/customers/1001/numbers", "nope", 401, "invalid_token"},
		{"bad token price", "/customers/1001/numbers/" + nums[0].Number + "/price", "nope", 401, "invalid_token"},
		{"unknown customer", "/customers/9", tok, 404, "not_found"},
		{"unknown customer numbers", "/customers/9/numbers", tok, 404, "not_found"},
		{"unknown number", "/customers/1001/numbers/70000000000/price", tok, 404, "not_found"},
		{"another customer's number", "/customers/1002/numbers/" + nums[len(nums)-1].Number + "/price", tok, 404, "not_found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := vbGet(t, srv, tc.path, tc.token, "")
			var e struct{ Error string }
			_ = json.Unmarshal(body, &e)
			if resp.StatusCode != tc.code || e.Error != tc.errCode {
				t.Errorf("got %d %s, want %d %s", resp.StatusCode, body, tc.code, tc.errCode)
			}
		})
	}
	if r := v.Requests(); r["customer"] < 2 || r["numbers"] < 2 || r["price"] < len(nums) {
		t.Errorf("requests %v", r)
	}
	// Numbers do not move the traffic: the same seed without them would
	// generate the same calls (their generator is separate), and the
	// same seed generates the same numbers.
	w := NewVoiceBox(VoiceBoxConfig{Customers: []string{"1001", "1002"}, CallsPerDay: 30, Days: 3, BadRowsPerDay: 2, Seed: 5,
		Start: time.Date(2026, 11, 18, 12, 0, 0, 0, time.UTC)})
	if fmt.Sprint(w.Numbers("1001")) != fmt.Sprint(nums) || w.Customer("1002").Raw != v.Customer("1002").Raw {
		t.Error("numbers are not deterministic")
	}
}
