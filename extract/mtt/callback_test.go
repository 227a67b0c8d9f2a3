package mtt

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/calletl/calletl/extract/httpx"
	"github.com/calletl/calletl/extract/registry"
	"github.com/calletl/calletl/load"
	"github.com/calletl/calletl/load/loadtest"
	"github.com/calletl/calletl/model"
	"github.com/calletl/calletl/pipeline"
	"github.com/calletl/calletl/sandbox"
	"github.com/calletl/calletl/secret"
)

// TestDecodeCallback: the document's answers, and every shape its table
// allows where the example shows another (an array of infos, record URLs
// as arrays or strings), decode to the same fields; record URLs never
// reach Raw.
func TestDecodeCallback(t *testing.T) {
	docInfo := CallbackInfo{DestinationA: "+79162795520", DestinationB: "+79852970306", WaitingA: "12", WaitingB: "9",
		ChargedA: "60", RealA: "15", ChargedB: "60", RealB: "5", Cost: "2.98", Currency: "RUB", Status: "ok",
		RecordA: []string{"http://fuds.mtt.ru/download/75GV5LxVNdQuohMge0NMFpS2Oxwc3jKTmhjWE3987oPTOhCJ7o"},
		RecordB: []string{"http://fuds.mtt.ru/download/0bbDerTSCQFVmqzOdFu6pNX1STQCh5dTrdQ3PdajN3ICHdWyyV"}}
	wrap := func(s string) []byte {
		return []byte(`{"jsonrpc":"2.0","id":"1","result":{"callBackFollowmeCallInfoStruct":` + s + `}}`)
	}
	tests := []struct {
		name      string
		body      []byte
		calls     int
		ended     string
		check     func(t *testing.T, a CallbackAnswer)
		wantErr   error
		errSubstr string
	}{
		{name: "document example", body: docExample(t, "getCallBackFollowmeCallInfo.response.json"), calls: 1,
			check: func(t *testing.T, a CallbackAnswer) {
				got := a.Calls[0]
				got.Raw, got.Extras = "", ""
				if !reflect.DeepEqual(got, docInfo) {
					t.Errorf("got %+v\nwant %+v", got, docInfo)
				}
				if strings.Contains(a.Calls[0].Raw, "fuds.mtt.ru") || !strings.Contains(a.Calls[0].Raw, `"call_back_cost":2.98`) {
					t.Errorf("raw %s", a.Calls[0].Raw)
				}
			}},
		{name: "timeout on side A", body: docExample(t, "getCallBackFollowmeCallInfo.error-timeout-a.json"), ended: "Call ended by timeout on side A"},
		{name: "cancel on side A", body: docExample(t, "getCallBackFollowmeCallInfo.error-cancel-a.json"), ended: "Call ended by cancel on side A"},
		{name: "cancel on side B", body: docExample(t, "getCallBackFollowmeCallInfo.error-cancel-b.json"), ended: "Call ended by cancel on side B"},
		{name: "other -32001 is no data", body: docExample(t, "error-32001.json"), wantErr: ErrNoData},
		{name: "-32001 without data", body: []byte(`{"jsonrpc":"2.0","id":"1","error":{"code":-32001,"message":"Data not found"}}`), wantErr: ErrNoData},
		{name: "array of two infos", body: wrap(`[{"call_back_status":"ok","call_back_cost":1},{"call_back_status":"ok","call_back_cost":"2.5"}]`), calls: 2,
			check: func(t *testing.T, a CallbackAnswer) {
				if a.Calls[1].Cost != "2.5" {
					t.Errorf("second cost %q", a.Calls[1].Cost)
				}
			}},
		{name: "record URLs as arrays and strings", calls: 1,
			body: wrap(`{"call_back_record_URL_A":["http://a/1","http://a/2"],"call_back_record_URL_B":[{"downloadURL":"http://b/1"},{"downloadURL":""}]}`),
			check: func(t *testing.T, a CallbackAnswer) {
				if got := a.Calls[0]; !reflect.DeepEqual(got.RecordA, []string{"http://a/1", "http://a/2"}) || !reflect.DeepEqual(got.RecordB, []string{"http://b/1"}) {
					t.Errorf("urls %q %q", got.RecordA, got.RecordB)
				}
			}},
		{name: "record URL a bare string, the other null", calls: 1,
			body: wrap(`{"call_back_record_URL_A":"http://a/1","call_back_record_URL_B":null}`),
			check: func(t *testing.T, a CallbackAnswer) {
				if got := a.Calls[0]; len(got.RecordA) != 1 || len(got.RecordB) != 0 {
					t.Errorf("urls %q %q", got.RecordA, got.RecordB)
				}
			}},
		{name: "unknown members kept, waiting_period_ is B", calls: 1,
			body: wrap(`{"waiting_period_":"7","call_back_leg_c":{"x":1},"call_back_status":"ok"}`),
			check: func(t *testing.T, a CallbackAnswer) {
				if got := a.Calls[0]; got.WaitingB != "7" || got.Extras != `{"call_back_leg_c":{"x":1}}` {
					t.Errorf("waiting B %q extras %q", got.WaitingB, got.Extras)
				}
			}},
		{name: "null struct", body: wrap(`null`)},
		{name: "element not an object", body: wrap(`[17]`), calls: 1,
			check: func(t *testing.T, a CallbackAnswer) {
				if !a.Calls[0].NotObject || a.Calls[0].Raw != "17" {
					t.Errorf("%+v", a.Calls[0])
				}
			}},
		{name: "error inside result", body: []byte(`{"jsonrpc":"2.0","id":"1","result":{"error":1,"message":"Incorrect id"}}`),
			wantErr: errResultError, errSubstr: "Incorrect id"},
		{name: "cut body", body: wrap(`{"call_back_status":"ok"`), errSubstr: "malformed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := DecodeCallback(tt.body)
			if tt.wantErr != nil || tt.errSubstr != "" {
				if err == nil || (tt.wantErr != nil && !errors.Is(err, tt.wantErr)) || !strings.Contains(err.Error(), tt.errSubstr) {
					t.Fatalf("err %v, want %v %q", err, tt.wantErr, tt.errSubstr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(a.Calls) != tt.calls || a.Ended != tt.ended {
				t.Fatalf("calls %d ended %q, want %d %q", len(a.Calls), a.Ended, tt.calls, tt.ended)
			}
			if tt.check != nil {
				tt.check(t, a)
			}
		})
	}
}

func TestEndedOutcome(t *testing.T) {
	for text, want := range map[string]string{
		"Call ended by timeout on side A": "timeout_a", "Call ended by cancel on side A": "cancel_a",
		"Call ended by cancel on side B": "cancel_b", " call ended by Timeout on side b. ": "timeout_b",
		"No data found": "", "": "", "Call ended by cancel": "", "Call ended by cancel on side C": "",
	} {
		got, ok := EndedOutcome(text)
		if got != want || ok != (want != "") {
			t.Errorf("%q: %q %v, want %q", text, got, ok, want)
		}
	}
}

// FuzzDecodeCallback feeds arbitrary bodies to the callback decoder and
// the mapper: errors are fine, panics are not, and a record URL never
// reaches Raw (which rejects store).
func FuzzDecodeCallback(f *testing.F) {
	f.Add(docExample(f, "getCallBackFollowmeCallInfo.response.json"))
	f.Add(docExample(f, "getCallBackFollowmeCallInfo.error-cancel-b.json"))
	f.Add([]byte(`{"result":{"callBackFollowmeCallInfoStruct":[{"call_back_record_URL_A":["u",{"downloadURL":{"url":"v"}}],"call_back_cost":"1,5","waiting_period_A":-1},null]}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		a, err := DecodeCallback(body)
		if err != nil {
			return
		}
		mc := callbackContext{customer: "1", id: "x", day: "2026-01-01"}
		for i := range a.Calls {
			info := &a.Calls[i]
			// The record URLs (signed download links) never reach Raw.
			if strings.Contains(info.Raw, `"call_back_record_URL_A"`) || strings.Contains(info.Raw, `"call_back_record_URL_B"`) {
				t.Fatalf("record URL member in raw %s", info.Raw)
			}
			_, _, _ = mc.mapInfo(info, int32(i+1), len(a.Calls))
		}
	})
}

// FuzzDecodeBalance: the balance decoder never panics, and Raw is the
// result's JSON.
func FuzzDecodeBalance(f *testing.F) {
	f.Add(docExample(f, "getCustomerBalance.response.json"))
	f.Add(docExample(f, "getCustomerBalance.error-32001.json"))
	f.Add([]byte(`{"result":{"balance":"1,5","pending_payment":{"sum":1},"x":[1]}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		b, err := DecodeBalance(body)
		if err == nil && (b.Raw == "" || b.Raw[0] != '{') {
			t.Fatalf("raw %q", b.Raw)
		}
	})
}

// TestDecodeBalanceKeepsEveryField: pending_payment and the raw answer
// are kept (pending_payment was dropped before).
func TestDecodeBalanceKeepsEveryField(t *testing.T) {
	for _, tt := range []struct {
		body           string
		pending, raw   string
		balance, realB string
	}{
		{`{"jsonrpc":"2.0","id":1,"result":{"balance":121.54,"real_balance":711.54,"pending_payment":15.5}}`, "15.5",
			`{"balance":121.54,"real_balance":711.54,"pending_payment":15.5}`, "121.54", "711.54"},
		{`{"jsonrpc":"2.0","id":1,"result":  {"balance":"1","pending_payment":{"sum":"3"}} }`, `{"sum":"3"}`,
			`{"balance":"1","pending_payment":{"sum":"3"}}`, "1", ""},
		{string(docExample(t, "getCustomerBalance.response.json")), "", "", "121.54", "711.54"},
	} {
		b, err := DecodeBalance([]byte(tt.body))
		if err != nil {
			t.Fatal(err)
		}
		if b.PendingPayment != tt.pending || b.Balance != tt.balance || b.RealBalance != tt.realB || (tt.raw != "" && b.Raw != tt.raw) {
			t.Errorf("%s: got %+v", tt.body, b)
		}
	}
}

// callbackEnv is an MTT emulator with callbacks and a client on it.
type callbackEnv struct {
	emu  *sandbox.MTT
	src  *Callbacks
	lake *load.Lake
	now  time.Time
	logs *bytes.Buffer
}

const cbCustomer = "883140500000000"

func newCallbackEnv(t *testing.T, perCustomer int, ids ...string) *callbackEnv {
	t.Helper()
	e := &callbackEnv{now: time.Date(2026, 10, 2, 9, 0, 0, 0, time.UTC), logs: &bytes.Buffer{}}
	e.emu = sandbox.NewMTT(sandbox.MTTConfig{Seed: 5, Customers: []string{cbCustomer}, CallbacksPerCustomer: perCustomer,
		Username: "u", Password: "p4ssw0rd", Now: func() time.Time { return e.now }})
	srv := httptest.NewServer(e.emu)
	t.Cleanup(srv.Close)
	if ids == nil {
		for _, c := range e.emu.Callbacks() {
			ids = append(ids, c.ID)
		}
	}
	c, err := New(Config{BaseURL: srv.URL, Username: "u", Password: secret.New("p4ssw0rd"), Customers: []string{cbCustomer},
		HTTP:      httpx.Config{MaxAttempts: 8, Sleep: func(ctx context.Context, d time.Duration) error { return ctx.Err() }},
		Callbacks: CallbackConfig{Customer: cbCustomer, IDs: ids}}, slog.New(slog.NewTextHandler(e.logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	is := NewSource(c).ItemSource()
	if is == nil {
		t.Fatal("no callback item source with callback ids configured")
	}
	e.src = is.(*Callbacks)
	e.lake = loadtest.OpenLake(t)
	return e
}

func (e *callbackEnv) run(id string) model.Run {
	return model.Run{ID: "r-" + e.now.Format("150405"), StartedAt: e.now, Location: moscow}
}

// TestCallbackItems: every generated callback lands as its truth says —
// an mtt_callbacks row and a calls row (direction callback) with both
// legs' lengths, the cost and a recording ref; ended calls with their
// outcome, no cost, final.
func TestCallbackItems(t *testing.T) {
	e := newCallbackEnv(t, 8)
	truth := e.emu.Callbacks()
	for _, c := range truth {
		_, final, err := loadtest.ExtractItem(t, e.src, e.lake, c.ID, e.run(c.ID))
		if err != nil || !final {
			t.Fatalf("%s: final %v err %v", c.ID, final, err)
		}
	}
	rows := loadtest.ReadRows(t, e.lake, CallbacksTable.Name, Name)
	calls := loadtest.ReadRows(t, e.lake, load.Calls.Name, Name)
	if len(rows) != len(truth) || len(calls) != len(truth) {
		t.Fatalf("%d mtt_callbacks rows, %d calls, want %d", len(rows), len(calls), len(truth))
	}
	byID := map[string]map[string]any{}
	for _, r := range rows {
		byID[r["callback_id"].(string)] = r
	}
	callByID := map[string]map[string]any{}
	for _, c := range calls {
		callByID[c["call_id"].(string)] = c
	}
	day := model.Day(e.now, moscow)
	for _, c := range truth {
		r, call := byID[c.ID], callByID[c.ID]
		if r == nil || call == nil {
			t.Fatalf("%s: missing", c.ID)
		}
		if r["date"] != day || call["direction"] != model.Callback || call["account"] != cbCustomer || r["final"] != true {
			t.Errorf("%s: row %v call %v", c.ID, r, call)
		}
		if c.Ended != "" {
			outcome, _ := EndedOutcome(c.Ended)
			if r["outcome"] != outcome || r["cost"] != nil || call["status"] != c.Ended || call["has_recording"] != false {
				t.Errorf("%s ended: row %v call %v", c.ID, r, call)
			}
			continue
		}
		wantCost := model.Money(c.CostE4).String()
		if r["outcome"] != OutcomeCompleted || decimalText(r["cost"]) != wantCost || decimalText(call["cost"]) != wantCost ||
			r["real_length_a_s"] != int32(c.RealA) || r["real_length_b_s"] != int32(c.RealB) ||
			r["charged_length_a_s"] != int32(c.ChargedA) || r["charged_length_b_s"] != int32(c.ChargedB) ||
			r["waiting_period_a_s"] != int32(c.WaitA) || r["waiting_period_b_s"] != int32(c.WaitB) ||
			call["duration_s"] != int32(c.RealA+c.RealB) || call["talk_s"] != int32(c.RealA+c.RealB) || call["billed_s"] != int32(c.ChargedA+c.ChargedB) ||
			call["caller_raw"] != c.DestinationA || call["callee_raw"] != c.DestinationB {
			t.Errorf("%s: row %v call %v truth %+v", c.ID, r, call, c)
		}
		if hasRec := c.RecordA+c.RecordB > 0; call["has_recording"] != hasRec ||
			(hasRec && call["recording_ref"] != CallbackRef(cbCustomer, c.ID, 1)) || r["records_a"] != int32(c.RecordA) {
			t.Errorf("%s: recording %v %v, truth %d+%d", c.ID, call["has_recording"], call["recording_ref"], c.RecordA, c.RecordB)
		}
	}
	for _, row := range rows {
		for k, v := range row {
			if s, ok := v.(string); ok && strings.Contains(s, "download") {
				t.Errorf("a download URL in mtt_callbacks.%s: %s", k, s)
			}
		}
	}
}

// TestCallbackInProgressIsAskedAgain: a callback still in progress (either
// form the emulator answers) writes nothing and is not final; once it
// ends, the next extraction writes it and is final. An id MTT does not
// know stays pending too (it cannot be told from one in progress).
func TestCallbackInProgressIsAskedAgain(t *testing.T) {
	e := newCallbackEnv(t, 0, "cb1", "cb2", "cb3", "cb4", "unknown0")
	var ids []string
	for i := 1; i <= 4; i++ {
		id := fmt.Sprintf("cb%d", i)
		ids = append(ids, id)
		e.emu.AddCallbacks(sandbox.MTTCallback{Customer: cbCustomer, ID: id, EndsAt: e.now.Add(time.Hour),
			DestinationA: "+79160000001", DestinationB: "+79850000002", RealA: 30, RealB: 20, ChargedA: 60, ChargedB: 60,
			CostE4: 29800, Currency: "RUB", RecordA: 1, RecordB: 1})
	}
	keys, err := e.src.Items(context.Background(), nil)
	if err != nil || len(keys) != 5 {
		t.Fatalf("items %v %v", keys, err)
	}
	// As the pipeline does: each extraction covers the dates the item's
	// previous one wrote.
	dates := map[string][]string{}
	extract := func(id string) bool {
		t.Helper()
		_, final, d, err := pipeline.ExtractItem(context.Background(), e.lake, e.src, id, e.run(id), dates[id]...)
		if err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		dates[id] = d
		return final
	}
	for _, id := range append(ids, "unknown0") {
		if extract(id) {
			t.Fatalf("%s in progress: final", id)
		}
	}
	// The "in progress" answers are written as they are, not final; the
	// -32001 ones write nothing.
	inProgress := loadtest.ReadRows(t, e.lake, CallbacksTable.Name, Name)
	if len(inProgress) == 0 || len(inProgress) == len(ids) {
		t.Fatalf("%d rows of in-progress answers: the emulator's two forms should both occur", len(inProgress))
	}
	for _, r := range inProgress {
		if r["final"] != false || r["outcome"] != OutcomeUnknown || r["status"] != "in progress" {
			t.Errorf("in-progress row %v", r)
		}
	}
	if !strings.Contains(e.logs.String(), "asked again next run") {
		t.Errorf("no log saying the callback is asked again: %s", e.logs)
	}
	e.now = e.now.Add(25 * time.Hour) // ended; the next day's run
	for _, id := range ids {
		if !extract(id) {
			t.Fatalf("%s ended: not final", id)
		}
	}
	rows := loadtest.ReadRows(t, e.lake, CallbacksTable.Name, Name)
	if len(rows) != 4 {
		t.Fatalf("%d rows after the calls ended, want 4", len(rows))
	}
	for _, r := range rows {
		if r["outcome"] != OutcomeCompleted || r["date"] != model.Day(e.now, moscow) {
			t.Errorf("row %v", r)
		}
	}
	if extract("unknown0") {
		t.Errorf("unknown id final; want pending")
	}
}

// TestCallbackRejects: an element failing validation is a reject without
// its record URLs, and keeps the callback pending.
func TestCallbackRejects(t *testing.T) {
	e := newCallbackEnv(t, 0, "cbbad")
	e.emu.AddCallbacks(sandbox.MTTCallback{Customer: cbCustomer, ID: "cbbad", RealA: 10, RecordA: 1, CostE4: -100})
	_, final, err := loadtest.ExtractItem(t, e.src, e.lake, "cbbad", e.run("cbbad"))
	if err != nil || final {
		t.Fatalf("final %v err %v", final, err)
	}
	rej := loadtest.ReadRows(t, e.lake, load.Rejects.Name, Name)
	if len(rej) != 1 || !strings.Contains(rej[0]["reason"].(string), "call_back_cost") ||
		strings.Contains(rej[0]["raw"].(string), "download") || rej[0]["account"] != cbCustomer {
		t.Fatalf("rejects %v", rej)
	}
}

// TestCallbackSettings: the callback customer defaults to the only
// customer, is required with several, and the ids file is resolved
// against the config's directory and read on every Items.
func TestCallbackSettings(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		name string
		s    CallbackSettings
		cust []string
		bad  string
	}{
		{"defaults to the only customer", CallbackSettings{CallbackIDs: []string{"a1"}}, []string{"110011256"}, ""},
		{"several customers need it", CallbackSettings{CallbackIDsFile: "ids.txt"}, []string{"1", "2"}, "callback_customer"},
		{"bad id", CallbackSettings{CallbackIDs: []string{"a b"}}, []string{"1"}, "callback_ids"},
		{"bad format", CallbackSettings{RecordingFormat: "ogg"}, []string{"1"}, "recording_format"},
		{"mp3", CallbackSettings{RecordingFormat: "mp3"}, []string{"1"}, ""},
		{"none configured needs nothing", CallbackSettings{}, []string{"1", "2"}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := &Settings{BaseURL: "http://x", Username: "u", Customers: tt.cust, CallbackSettings: tt.s}
			s.Password.Env = "X"
			err := validate(s)
			if (tt.bad == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.bad)) {
				t.Fatalf("err %v, want %q", err, tt.bad)
			}
			if err == nil && tt.s.CallbackIDs != nil && s.CallbackCustomer != tt.cust[0] {
				t.Errorf("callback_customer %q", s.CallbackCustomer)
			}
		})
	}
	// The ids file: comments, blanks and invalid ids, re-read each time.
	file := filepath.Join(dir, "cb.txt")
	c, _ := New(Config{BaseURL: "http://x", Customers: []string{"1"}, Callbacks: CallbackConfig{Customer: "1", IDs: []string{"c0"}, IDsFile: file}}, nil)
	cb := NewSource(c).ItemSource()
	keys, err := cb.Items(context.Background(), []string{"p1"})
	if err != nil || !reflect.DeepEqual(keys, []string{"c0", "p1"}) {
		t.Fatalf("missing file: %v %v", keys, err)
	}
	if err := os.WriteFile(file, []byte("\ufeffc2 # placed 10:00\n\nbad id\nc1\nc0\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	keys, err = cb.Items(context.Background(), nil)
	if err != nil || !reflect.DeepEqual(keys, []string{"c0", "c1", "c2"}) {
		t.Fatalf("file: %v %v", keys, err)
	}
	c2, _ := New(Config{BaseURL: "http://x", Customers: []string{"1"}}, nil)
	if NewSource(c2).ItemSource() != nil {
		t.Error("an item source without callback ids")
	}
}

// decimalText formats a DECIMAL(18,4) value read back from Parquet with
// four decimals, like model.Money.String; NULL is "NULL".
func decimalText(v any) string {
	if v == nil {
		return "NULL"
	}
	whole, frac, _ := strings.Cut(fmt.Sprint(v), ".")
	for len(frac) < 4 {
		frac += "0"
	}
	return whole + "." + frac
}

// validate runs Settings.Validate and returns its faults.
func validate(s *Settings) error {
	c := registry.NewCheck("sources.mtt", "")
	s.Validate(c)
	return c.Err()
}
