package sandbox

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// callbackAnswer asks getCallBackFollowmeCallInfo.
func callbackAnswer(t *testing.T, m *MTT, customer, id string) rpcAnswer {
	t.Helper()
	return call(t, m, "getCallBackFollowmeCallInfo", map[string]any{"customer_name": customer, "callBackCall_id": id})
}

// TestMTTCallbackAnswers: each generated callback answers by its truth —
// the document's struct for a call that talked, the documented -32001
// texts for one that ended — and params are checked as the other methods
// check theirs.
func TestMTTCallbackAnswers(t *testing.T) {
	cfg := testConfig()
	cfg.CallbacksPerCustomer = 8
	cfg.CallbackRecordBase = "http://files.test/"
	cfg.CallbackRecordParts = func(id string) int { // "…_A" 1 file, "…_B" 2
		if strings.HasSuffix(id, "_B") {
			return 2
		}
		return 1
	}
	m := NewMTT(cfg)
	cbs := m.Callbacks()
	if len(cbs) != 16 {
		t.Fatalf("%d callbacks, want 16", len(cbs))
	}
	ended := map[string]int{}
	forms := map[string]bool{}
	for _, c := range cbs {
		a := callbackAnswer(t, m, c.Customer, c.ID)
		if c.Ended != "" {
			ended[c.Ended]++
			if a.Error == nil || a.Error.Code != rpcDataNotFound || a.Error.Message != "Data not found" || a.Error.Data != c.Ended {
				t.Errorf("%s: ended %q: got %s", c.ID, c.Ended, a.Raw)
			}
			continue
		}
		if a.Error != nil {
			t.Fatalf("%s: %s", c.ID, a.Raw)
		}
		var r struct {
			S map[string]json.RawMessage `json:"callBackFollowmeCallInfoStruct"`
		}
		if err := json.Unmarshal(a.Result, &r); err != nil {
			// The array of one object its table types the member as.
			var ra struct {
				S []map[string]json.RawMessage `json:"callBackFollowmeCallInfoStruct"`
			}
			if err := json.Unmarshal(a.Result, &ra); err != nil || len(ra.S) != 1 {
				t.Fatalf("%s: %v: %s", c.ID, err, a.Result)
			}
			r.S = ra.S[0]
			forms["array"] = true
		} else {
			forms["object"] = true
		}
		var status, cost, realB string
		_ = json.Unmarshal(r.S["call_back_status"], &status)
		_ = json.Unmarshal(r.S["call_back_real_length_B"], &realB)
		cost = string(r.S["call_back_cost"])
		if status != "ok" || realB == "" || cost == "" {
			t.Errorf("%s: %s", c.ID, a.Raw)
		}
		if got, ok := parseE4(cost); !ok || got != c.CostE4 {
			t.Errorf("%s: cost %s, want %d e-4", c.ID, cost, c.CostE4)
		}
		recA, recB := string(r.S["call_back_record_URL_A"]), string(r.S["call_back_record_URL_B"])
		if c.RecordA == 0 {
			if recA != "[]" || recB != "[]" {
				t.Errorf("%s: no recording, got %s %s", c.ID, recA, recB)
			}
			continue
		}
		if want := `{"downloadURL":"http://files.test/download/` + c.ID + `_A_1.wav"}`; recA != want {
			t.Errorf("%s: URL A %s, want %s", c.ID, recA, want)
		}
		if !strings.HasPrefix(recB, "[{") || strings.Count(recB, "downloadURL") != 2 {
			t.Errorf("%s: URL B %s, want an array of two", c.ID, recB)
		}
	}
	if !forms["object"] || !forms["array"] {
		t.Errorf("answer forms %v: want both the example's object and the table's array", forms)
	}
	if ended[MTTCallbackTimeoutA] != 2 || ended[MTTCallbackCancelA] != 2 || ended[MTTCallbackCancelB] != 2 {
		t.Errorf("ended outcomes %v, want two of each", ended)
	}

	for _, tt := range []struct {
		name   string
		params any
		code   int
		data   string
	}{
		{"unknown id", map[string]any{"customer_name": custA, "callBackCall_id": "00000000000000000000000000000000"}, rpcDataNotFound, ""},
		{"another customer's id", map[string]any{"customer_name": custB, "callBackCall_id": cbs[0].ID}, rpcDataNotFound, ""},
		{"missing id", map[string]any{"customer_name": custA}, rpcInvalidParams, "Missing param 'callBackCall_id'"},
		{"unknown param", map[string]any{"customer_name": custA, "callBackCall_id": "x", "limit": 1}, rpcInvalidParams, "Unknown param 'limit'"},
		{"id not a string", map[string]any{"customer_name": custA, "callBackCall_id": []int{1}}, rpcInvalidParams, "Invalid param 'callBackCall_id' value"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a := call(t, m, "getCallBackFollowmeCallInfo", tt.params)
			if a.Error == nil || a.Error.Code != tt.code || a.Error.Data != tt.data {
				t.Errorf("got %s", a.Raw)
			}
		})
	}
}

// TestMTTCallbackInProgress: before EndsAt a callback is never answered as
// final — -32001 without data or call_back_status "in progress" — and
// after it, by its truth.
func TestMTTCallbackInProgress(t *testing.T) {
	now := time.Date(2024, 3, 2, 12, 0, 0, 0, time.UTC)
	cfg := testConfig()
	cfg.Now = func() time.Time { return now }
	m := NewMTT(cfg)
	var cbs []MTTCallback
	for i := range 8 { // both in-progress forms occur among 8 ids
		cbs = append(cbs, MTTCallback{Customer: custA, ID: "cb" + string(rune('a'+i)), EndsAt: now.Add(time.Minute),
			DestinationA: "+79160000000", DestinationB: "+79850000000", RealA: 20, RealB: 10, ChargedA: 60, ChargedB: 60,
			CostE4: 29800, Currency: "RUB", RecordA: 1, RecordB: 1})
	}
	m.AddCallbacks(cbs...)
	forms := map[string]bool{}
	for _, c := range cbs {
		a := callbackAnswer(t, m, c.Customer, c.ID)
		switch {
		case a.Error != nil && a.Error.Code == rpcDataNotFound && a.Error.Data == "":
			forms["-32001"] = true
		case a.Error == nil && strings.Contains(string(a.Result), `"call_back_status":"in progress"`) &&
			strings.Contains(string(a.Result), `"call_back_record_URL_A":[]`):
			forms["in progress"] = true
		default:
			t.Errorf("%s in progress: %s", c.ID, a.Raw)
		}
	}
	if len(forms) != 2 {
		t.Errorf("in-progress forms seen: %v, want both", forms)
	}
	now = now.Add(time.Minute)
	for _, c := range cbs {
		if a := callbackAnswer(t, m, c.Customer, c.ID); a.Error != nil || !strings.Contains(string(a.Result), `"call_back_status":"ok"`) {
			t.Errorf("%s ended: %s", c.ID, a.Raw)
		}
	}
}

// TestMTTCallbackFaults: the fault knobs apply to the new method as to the
// others (they wrap the whole handler), and MaxInARow lets a retried
// request through.
func TestMTTCallbackFaults(t *testing.T) {
	cfg := testConfig()
	cfg.CallbacksPerCustomer = 1
	m := NewMTT(cfg)
	m.SetFaults(Faults{Error5xxEvery: 1, MaxInARow: 2})
	c := m.Callbacks()[0]
	body := []byte(`{"jsonrpc":"2.0","id":"1","method":"getCallBackFollowmeCallInfo","params":{"customer_name":"` + c.Customer + `","callBackCall_id":"` + c.ID + `"}}`)
	var codes []int
	for range 3 {
		w := httptest.NewRecorder()
		m.ServeHTTP(w, httptest.NewRequest("POST", "/index.php", strings.NewReader(string(body))))
		codes = append(codes, w.Code)
	}
	if codes[0] != 503 || codes[1] != 503 || codes[2] != 200 {
		t.Errorf("status codes %v, want 503 503 200", codes)
	}
}

// TestMTTBalancePendingPayment: getCustomerBalance carries pending_payment.
func TestMTTBalancePendingPayment(t *testing.T) {
	m := NewMTT(testConfig())
	for _, cust := range []string{custA, custB} {
		a := call(t, m, "getCustomerBalance", []string{cust})
		var r map[string]json.RawMessage
		if err := json.Unmarshal(a.Result, &r); err != nil {
			t.Fatal(err)
		}
		got, ok := parseE4(string(r["pending_payment"]))
		if !ok || got != m.PendingPayment(cust) {
			t.Errorf("%s: pending_payment %s, want %d e-4", cust, r["pending_payment"], m.PendingPayment(cust))
		}
	}
}
