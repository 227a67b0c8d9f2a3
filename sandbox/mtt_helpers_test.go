package sandbox

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Test fixtures: two customers, three days of traffic in March 2024.
const (
	custA = "110011256"
	custB = "110022334"
)

func testDay(n int) time.Time { return time.Date(2024, 3, n, 0, 0, 0, 0, time.UTC) }

func testConfig() MTTConfig {
	return MTTConfig{
		Seed:          42,
		Customers:     []string{custA, custB},
		From:          testDay(1),
		To:            testDay(3),
		CallsPerDay:   60,
		BadRowsPerDay: 2,
	}
}

func dt(t time.Time) string { return t.Format(mttTimeLayout) }

// rpcErr is a decoded JSON-RPC error.
type rpcErr struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Data    string `json:"data"`
}

// rpcAnswer is a decoded JSON-RPC answer with its raw bytes.
type rpcAnswer struct {
	Raw     []byte          `json:"-"`
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Result  json.RawMessage `json:"result"`
	Error   *rpcErr         `json:"error"`
}

// post sends body to h and returns the answer, which must be HTTP 200 JSON.
func post(t *testing.T, h http.Handler, body []byte) rpcAnswer {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/index.php", bytes.NewReader(body)))
	if w.Code != http.StatusOK {
		t.Fatalf("HTTP %d: %s", w.Code, w.Body)
	}
	a := rpcAnswer{Raw: w.Body.Bytes()}
	if err := json.Unmarshal(a.Raw, &a); err != nil {
		t.Fatalf("answer is not JSON: %v: %s", err, a.Raw)
	}
	if a.JSONRPC != "2.0" {
		t.Errorf("jsonrpc = %q", a.JSONRPC)
	}
	if (a.Result == nil) == (a.Error == nil) {
		t.Errorf("answer must have exactly one of result and error: %s", a.Raw)
	}
	return a
}

// call sends a JSON-RPC request with id "1".
func call(t *testing.T, h http.Handler, method string, params any) rpcAnswer {
	t.Helper()
	body, err := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": "1", "method": method, "params": params})
	if err != nil {
		t.Fatal(err)
	}
	return post(t, h, body)
}

// history calls getServiceHistoryByCustomer and returns the raw rows, or
// the error.
func history(t *testing.T, h http.Handler, typ, customer string, from, to time.Time, count int, order string) ([]json.RawMessage, *rpcErr) {
	t.Helper()
	p := map[string]any{"type": typ, "customer_name": customer, "date_from": dt(from), "date_to": dt(to), "record_count": count}
	if order != "" {
		p["order"] = order
	}
	a := call(t, h, "getServiceHistoryByCustomer", p)
	if a.Error != nil {
		return nil, a.Error
	}
	var res map[string]json.RawMessage
	if err := json.Unmarshal(a.Result, &res); err != nil {
		t.Fatal(err)
	}
	if string(res["success"]) != "1" || len(res) != 2 {
		t.Fatalf("result keys: %s", a.Result)
	}
	var rows []json.RawMessage
	if err := json.Unmarshal(res[typ], &rows); err != nil {
		t.Fatalf("result[%q]: %v", typ, err)
	}
	if len(rows) > count {
		t.Fatalf("%d rows for record_count %d", len(rows), count)
	}
	return rows, nil
}

// rowsOf returns the rows under key of a successful answer.
func rowsOf(t *testing.T, a rpcAnswer, key string) []json.RawMessage {
	t.Helper()
	var res map[string]json.RawMessage
	if err := json.Unmarshal(a.Result, &res); err != nil {
		t.Fatalf("%v: %s", err, a.Raw)
	}
	var rows []json.RawMessage
	if err := json.Unmarshal(res[key], &rows); err != nil {
		t.Fatalf("result[%q]: %v: %s", key, err, a.Raw)
	}
	return rows
}

// pageAll pages through [from, to] as the extractor does: ascending, each
// next request from the last row's connect_time (inclusive), dropping rows
// already seen (by their bytes, which identify a row even without
// h323_conf_id).
func pageAll(t *testing.T, h http.Handler, typ, customer string, from, to time.Time, count int) []json.RawMessage {
	t.Helper()
	seen := map[string]bool{}
	var out []json.RawMessage
	for cur := from; ; {
		rows, e := history(t, h, typ, customer, cur, to, count, "asc")
		if e != nil {
			if e.Code == rpcDataNotFound && e.Data == "No data found" {
				return out
			}
			t.Fatalf("history: %+v", e)
		}
		for _, r := range rows {
			if !seen[string(r)] {
				seen[string(r)] = true
				out = append(out, r)
			}
		}
		if len(rows) < count {
			return out
		}
		var last time.Time
		for i := len(rows) - 1; i >= 0 && last.IsZero(); i-- {
			var f struct {
				ConnectTime string `json:"connect_time"`
			}
			_ = json.Unmarshal(rows[i], &f)
			last, _ = parseMTTTime(mttTimeLayout, f.ConnectTime)
		}
		if !last.After(cur) {
			t.Fatalf("paging cannot advance past %s", cur)
		}
		cur = last
	}
}

// knownKeys are the row keys of the document.
func knownKeys() map[string]bool {
	return map[string]bool{"cli": true, "cld": true, "clid": true, "customer_local_time": true,
		"connect_time": true, "charged_time": true, "charged": true, "destination": true,
		"h323_conf_id": true, "h323_incoming_conf_id": true, "curr": true, "setup_time_ms": true,
		"disconnect_cause": true, "account_id": true, "used_quantity": true, "voice_record_exist": true}
}

// decodeRow reads a wire row the way an extractor would, independently of
// the emulator's encoder. badField names the malformed field of a bad row.
// Customer and Type are left empty.
func decodeRow(t *testing.T, raw json.RawMessage) (c MTTCall, badField string) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var f map[string]any
	if err := dec.Decode(&f); err != nil {
		t.Fatalf("row %s: %v", raw, err)
	}
	str := func(k string) string {
		v, ok := f[k]
		if !ok {
			return ""
		}
		s, ok := v.(string)
		if !ok {
			t.Fatalf("row %s: %s is %T", raw, k, v)
		}
		return s
	}
	integer := func(k string) int {
		v, ok := f[k]
		if !ok {
			return 0
		}
		var s string
		switch v := v.(type) {
		case string:
			s = v
		case json.Number:
			s = v.String()
		default:
			t.Fatalf("row %s: %s is %T", raw, k, v)
		}
		n, err := strconv.Atoi(s)
		if err != nil {
			t.Fatalf("row %s: %s: %v", raw, k, err)
		}
		return n
	}
	c.CLI = str("cli")
	_, hasCLD := f["cld"]
	_, hasCLID := f["clid"]
	if hasCLD == hasCLID {
		t.Fatalf("row %s: want exactly one of cld and clid", raw)
	}
	c.CLD = str("cld") + str("clid")
	local, ok := parseMTTTime(mttTimeLayout, str("customer_local_time"))
	if !ok {
		t.Fatalf("row %s: customer_local_time", raw)
	}
	c.ConnectTime = local
	if ct, ok := parseMTTTime(mttTimeLayout, str("connect_time")); !ok {
		badField = "connect_time"
	} else if !ct.Equal(local) {
		t.Errorf("row %s: connect_time != customer_local_time", raw)
	}
	c.ChargedTime = integer("charged_time")
	switch v := f["charged"].(type) {
	case json.Number:
		e4, ok := parseE4(v.String())
		if !ok {
			t.Fatalf("row %s: charged %s", raw, v)
		}
		c.CostE4 = e4
	case string:
		if v != "abc" {
			t.Fatalf("row %s: charged %q", raw, v)
		}
		if badField != "" {
			t.Fatalf("row %s: two bad fields", raw)
		}
		badField = "charged"
	default:
		t.Fatalf("row %s: charged is %T", raw, v)
	}
	c.Destination = str("destination")
	c.ConfID = str("h323_conf_id")
	c.IncomingConfID = str("h323_incoming_conf_id")
	c.Currency = str("curr")
	c.SetupTimeMs = integer("setup_time_ms")
	c.DisconnectCause = integer("disconnect_cause")
	c.AccountID = str("account_id")
	c.UsedQuantity = integer("used_quantity")
	if v, ok := f["voice_record_exist"]; ok {
		b, isBool := v.(bool)
		if !isBool {
			t.Fatalf("row %s: voice_record_exist is %T", raw, v)
		}
		c.VoiceRecord = b
	}
	known := knownKeys()
	for k := range f {
		if !known[k] {
			if c.Extra == nil {
				c.Extra = map[string]string{}
			}
			c.Extra[k] = str(k)
		}
	}
	c.Bad = badField != ""
	return c, badField
}

// parseE4 parses a decimal JSON number text into ten-thousandths.
func parseE4(s string) (int64, bool) {
	m := regexp.MustCompile(`^(-?)(\d+)(?:\.(\d{1,4}))?$`).FindStringSubmatch(s)
	if m == nil {
		return 0, false
	}
	whole, _ := strconv.ParseInt(m[2], 10, 64)
	frac, _ := strconv.ParseInt((m[3] + "0000")[:4], 10, 64)
	v := whole*10_000 + frac
	if m[1] == "-" {
		v = -v
	}
	return v, true
}

// compareRows checks that the wire rows are exactly want, in order.
func compareRows(t *testing.T, rows []json.RawMessage, want []MTTCall) {
	t.Helper()
	if len(rows) != len(want) {
		t.Fatalf("%d rows, want %d", len(rows), len(want))
	}
	for i, raw := range rows {
		got, bad := decodeRow(t, raw)
		w := want[i]
		got.Customer, got.Type = w.Customer, w.Type
		if bad == "charged" {
			got.CostE4 = w.CostE4 // not on the wire
		}
		if !reflect.DeepEqual(got, w) {
			t.Fatalf("row %d:\n got %+v\nwant %+v\nwire %s", i, got, w, raw)
		}
	}
}

// truthOf selects Truth rows.
func truthOf(m *MTT, keep func(c MTTCall) bool) []MTTCall {
	var out []MTTCall
	for _, c := range m.Truth() {
		if keep(c) {
			out = append(out, c)
		}
	}
	return out
}

func onDay(customer, typ string, day time.Time) func(MTTCall) bool {
	return func(c MTTCall) bool {
		return c.Customer == customer && c.Type == typ &&
			!c.ConnectTime.Before(day) && c.ConnectTime.Before(day.AddDate(0, 0, 1))
	}
}

func reversed[T any](s []T) []T {
	out := make([]T, len(s))
	for i, v := range s {
		out[len(s)-1-i] = v
	}
	return out
}

func confIDs(t *testing.T, rows []json.RawMessage) string {
	t.Helper()
	var ids []string
	for _, r := range rows {
		c, _ := decodeRow(t, r)
		ids = append(ids, c.ConfID)
	}
	return strings.Join(ids, ",")
}
