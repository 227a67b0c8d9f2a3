package mtt

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/calletl/calletl/extract/httpx"
	"github.com/calletl/calletl/model"
	"github.com/calletl/calletl/sandbox"
	"github.com/calletl/calletl/secret"
)

var moscow = mustLoc("Europe/Moscow")

func mustLoc(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

func docExample(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "sandbox", "testdata", "mtt", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The vendor document's getServiceHistoryByCustomer example parses to the
// records it shows, including the "clid" spelling and integers as strings.
func TestDocExampleHistory(t *testing.T) {
	rows, broken, err := DecodeHistory(docExample(t, "getServiceHistoryByCustomer.response.json"), "dialed", nil)
	if err != nil || len(broken) != 0 || len(rows) != 3 {
		t.Fatalf("rows %d broken %d err %v", len(rows), len(broken), err)
	}
	at := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
	mc := &MapContext{Customer: "110011256", Type: "dialed", Vendor: time.UTC, Business: moscow, RunID: "r", ExtractedAt: at}
	type want struct {
		callID, caller, callee, account string
		start                           time.Time
		billed, talk                    int32
		cost                            model.Money
		cause                           int16
		status, label                   string
	}
	wants := []want{
		{"2B23D937 BD9BCF86 E89D407D 44DA0162", "79066899000", "74959333223", "74951349387",
			time.Date(2017, 9, 14, 16, 1, 9, 0, time.UTC), 119, 119, 24800, 16, "answered", "normal clearing"},
		{"C2D68D0D 584EEE9A 2697A64B 9A0A0F53", "79262049647", "79775133876", "883140584982783",
			time.Date(2017, 9, 14, 16, 1, 8, 0, time.UTC), 60, 35, 0, 16, "answered", "normal clearing"},
		{"7EFDAECB 8A53BF45 63F48E8E 273A7F83", "74993018267", "79104080307", "883140587615452",
			time.Date(2017, 9, 14, 16, 1, 7, 0, time.UTC), 0, 0, 0, 17, "not_answered", "user busy"},
	}
	for i, w := range wants {
		c, d, err := Map(mc, &rows[i])
		if err != nil {
			t.Fatalf("row %d: %v", i, err)
		}
		got := want{c.CallID, c.Caller, c.Callee, d.AccountID, c.StartedAt, c.BilledS.V, c.TalkS.V, c.Cost.V,
			c.DisconnectCause.V, c.Status, c.DisconnectLabel}
		if got != w {
			t.Errorf("row %d:\n got %+v\nwant %+v", i, got, w)
		}
		if c.Direction != model.Outgoing || c.Date != "2017-09-14" || c.Currency != "RUB" || !c.Cost.Valid || c.HasRecording {
			t.Errorf("row %d: %+v", i, c)
		}
		if d.SetupTimeMs.V == 0 || !d.VoiceRecordExist.Valid || d.H323IncomingConfID == "" || d.Extras != "" {
			t.Errorf("row %d detail: %+v", i, d)
		}
	}
}

// The document's error examples map to the documented sentinels.
func TestDocExampleErrors(t *testing.T) {
	for file, want := range map[string]error{
		"error-32602.json":                        ErrInvalidParams,
		"error-32001.json":                        ErrNoData,
		"getCustomerBalance.error-32001.json":     ErrNoData,
		"getPersonalAccountList.error-32602.json": ErrInvalidParams,
	} {
		_, _, err := DecodeHistory(docExample(t, file), "dialed", nil)
		var re *RPCError
		if !errors.Is(err, want) || !errors.As(err, &re) || re.Message == "" {
			t.Errorf("%s: %v, want %v", file, err, want)
		}
	}
}

func TestUnknownFieldsAreKept(t *testing.T) {
	body := `{"jsonrpc":"2.0","id":"1","result":{"missed":[{"cli":"8 916 123-45-67","cld":"0012","connect_time":"2026-11-20 10:00:00","region":"77","legs":[1,2],"h323_conf_id":""}, 5],"success":1}}`
	rows, broken, err := DecodeHistory([]byte(body), "missed", nil)
	if err != nil || len(rows) != 1 || len(broken) != 1 {
		t.Fatalf("rows %d broken %d err %v", len(rows), len(broken), err)
	}
	if got, want := rows[0].Extras(), `{"region":"77","legs":[1,2]}`; got != want {
		t.Errorf("extras %s, want %s", got, want)
	}
	mc := &MapContext{Customer: "1", Type: "missed", Vendor: time.UTC, Business: moscow}
	c, _, err := Map(mc, &rows[0])
	if err != nil {
		t.Fatal(err)
	}
	if c.Caller != "79161234567" || c.Callee != "0012" || c.Direction != model.Missed || c.CallID[:7] != "sha256:" || c.TalkS != (sql.Null[int32]{Valid: true}) {
		t.Errorf("%+v", c)
	}
}

func TestMapRejects(t *testing.T) {
	mc := &MapContext{Customer: "1", Type: "dialed", Vendor: time.UTC, Business: moscow}
	for name, r := range map[string]Row{
		"no time":    {CLI: "1"},
		"bad time":   {ConnectTime: "2024-13-45 99:00:00"},
		"bad money":  {ConnectTime: "2024-01-01 00:00:00", Charged: "abc"},
		"bad int":    {ConnectTime: "2024-01-01 00:00:00", UsedQuantity: "1.5"},
		"negative":   {ConnectTime: "2024-01-01 00:00:00", ChargedTime: "-1"},
		"bad bool":   {ConnectTime: "2024-01-01 00:00:00", VoiceRecordExist: "maybe"},
		"bad cause":  {ConnectTime: "2024-01-01 00:00:00", DisconnectCause: "sixteen"},
		"bad localt": {ConnectTime: "2024-01-01 00:00:00", CustomerLocalTime: "yesterday"},
	} {
		if _, _, err := Map(mc, &r); err == nil {
			t.Errorf("%s: want an error", name)
		}
	}
}

// testClient serves emu over httptest and returns a client without real
// sleeps between retries.
func testClient(t *testing.T, emu *sandbox.MTT, pageSize int, customers ...string) *Client {
	t.Helper()
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	c, err := New(Config{
		BaseURL: srv.URL, Username: "u", Password: secret.New("p4ssw0rd"), Customers: customers, PageSize: pageSize,
		HTTP: httpx.Config{MaxAttempts: 8, Sleep: func(ctx context.Context, d time.Duration) error { return ctx.Err() }},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func newEmu(days int, callsPerDay int) (*sandbox.MTT, time.Time) {
	from := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	return sandbox.NewMTT(sandbox.MTTConfig{
		Seed: 7, Customers: []string{"110011256", "110022512"}, From: from, To: from.AddDate(0, 0, days-1),
		CallsPerDay: callsPerDay, Username: "u", Password: "p4ssw0rd",
	}), from
}

// collect pages through one window and returns the keys of the rows.
func collect(t *testing.T, c *Client, customer, typ string, w model.Window) (keys []string, pages int, err error) {
	t.Helper()
	err = c.History(context.Background(), customer, typ, w.From, w.To, func(p Page) error {
		pages++
		for i := range p.Rows {
			keys = append(keys, Key(&p.Rows[i]))
		}
		return nil
	})
	sort.Strings(keys)
	return keys, pages, err
}

// truthKeys lists the ground truth's natural keys of one stream and window.
func truthKeys(emu *sandbox.MTT, customer, typ string, w model.Window) []string {
	var keys []string
	for _, c := range emu.Truth() {
		if c.Customer == customer && c.Type == typ && !c.ConnectTime.Before(w.From) && c.ConnectTime.Before(w.To) {
			if c.ConfID == "" {
				keys = append(keys, "hash")
				continue
			}
			keys = append(keys, c.ConfID)
		}
	}
	sort.Strings(keys)
	return keys
}

func hashless(keys []string) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		if len(k) > 7 && k[:7] == "sha256:" {
			k = "hash"
		}
		out[i] = k
	}
	sort.Strings(out)
	return out
}

// Paging past the 1000-row cap and across same-second bursts loses and
// doubles nothing, whatever the page size.
func TestHistoryPaging(t *testing.T) {
	emu, from := newEmu(3, 3000)
	w, _ := model.DayWindow(from.AddDate(0, 0, 1).Format(model.DayLayout), moscow)
	want := truthKeys(emu, "110011256", "dialed", w)
	if len(want) < 1000 {
		t.Fatalf("ground truth too small to page: %d", len(want))
	}
	for _, size := range []int{1000, 333, 41} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			got, pages, err := collect(t, testClient(t, emu, size, "110011256"), "110011256", "dialed", w)
			if err != nil {
				t.Fatal(err)
			}
			if pages < len(want)/size {
				t.Errorf("%d pages for %d rows of page size %d", pages, len(want), size)
			}
			if g := hashless(got); fmt.Sprint(g) != fmt.Sprint(want) {
				t.Fatalf("got %d rows, want %d (same keys: %v)", len(g), len(want), fmt.Sprint(g) == fmt.Sprint(want))
			}
		})
	}
}

// Many calls in one second straddling a page boundary: every one arrives
// once. More calls in one second than a page holds: the window fails loudly.
func TestHistorySameSecond(t *testing.T) {
	emu, from := newEmu(1, 0)
	at := from.Add(10 * time.Hour)
	var burst []sandbox.MTTCall
	for i := range 60 {
		burst = append(burst, sandbox.MTTCall{Customer: "110011256", Type: "incoming", ConfID: fmt.Sprintf("BURST%03d 00000000 00000000 00000000", i),
			ConnectTime: at, CLI: "79161234567", CLD: "74951234567", CostE4: 100, UsedQuantity: 5, ChargedTime: 60})
	}
	for i := range 30 { // calls before the burst, so the burst straddles pages
		burst = append(burst, sandbox.MTTCall{Customer: "110011256", Type: "incoming", ConfID: fmt.Sprintf("EARLY%03d 00000000 00000000 00000000", i),
			ConnectTime: at.Add(-time.Duration(i+1) * time.Minute), CLI: "79161234567", CLD: "74951234567"})
	}
	emu.AddCalls(burst...)
	w, _ := model.DayWindow(from.Format(model.DayLayout), time.UTC)

	got, _, err := collect(t, testClient(t, emu, 70, "110011256"), "110011256", "incoming", w)
	if err != nil || len(got) != 90 {
		t.Fatalf("page size 70: %d rows, err %v; want 90", len(got), err)
	}
	_, _, err = collect(t, testClient(t, emu, 50, "110011256"), "110011256", "incoming", w)
	if !errors.Is(err, ErrSameSecond) {
		t.Fatalf("page size 50 with 60 calls in one second: err %v, want ErrSameSecond", err)
	}
	if msg := err.Error(); !contains(msg, "110011256") || !contains(msg, "incoming") || !contains(msg, "page") {
		t.Errorf("error does not name customer, type and page: %s", msg)
	}
}

func contains(s, sub string) bool {
	return len(s) >= len(sub) && (s == sub || len(sub) == 0 || indexOf(s, sub) >= 0)
}
func indexOf(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}

// 5xx, 429, truncated and malformed bodies are retried and the window still
// comes out exact.
func TestHistoryRetriesFaults(t *testing.T) {
	emu, from := newEmu(1, 600)
	emu.SetFaults(sandbox.Faults{Error5xxEvery: 4, TooManyEvery: 7, RetryAfter: time.Second, TruncateEvery: 9, MalformedEvery: 11, MaxInARow: 3})
	w, _ := model.DayWindow(from.Format(model.DayLayout), time.UTC)
	got, _, err := collect(t, testClient(t, emu, 100, "110011256"), "110011256", "missed", w)
	if err != nil {
		t.Fatal(err)
	}
	if want := truthKeys(emu, "110011256", "missed", w); fmt.Sprint(hashless(got)) != fmt.Sprint(want) {
		t.Fatalf("with faults: %d rows, want %d", len(got), len(want))
	}
	if n := emu.FaultInjector().Counts(); n.Error5xx == 0 || n.TooMany == 0 || n.Truncate == 0 || n.Malformed == 0 {
		t.Errorf("faults not all exercised: %+v", n)
	}
}

func TestAccountsAndBalance(t *testing.T) {
	emu, _ := newEmu(1, 10)
	c := testClient(t, emu, 1000, "110011256")
	accts, err := c.Accounts(context.Background(), "110011256")
	if err != nil || len(accts) != len(emu.Accounts("110011256")) || len(accts) < 3 {
		t.Fatalf("accounts %d (emulator %d), err %v", len(accts), len(emu.Accounts("110011256")), err)
	}
	b, err := c.Balance(context.Background(), "110011256")
	if err != nil || b.Balance == "" || b.RealBalance == "" {
		t.Fatalf("balance %+v err %v", b, err)
	}
	if _, err := c.Balance(context.Background(), "999"); !errors.Is(err, ErrNoData) {
		t.Fatalf("unknown customer: %v, want ErrNoData", err)
	}
}

// FuzzHistoryPage feeds arbitrary bodies to the page decoder and the row
// mapper: errors are fine, panics are not, and every accepted row keeps its
// exact bytes.
func FuzzHistoryPage(f *testing.F) {
	f.Add(docExample(f, "getServiceHistoryByCustomer.response.json"))
	f.Add(docExample(f, "error-32001.json"))
	f.Add([]byte(`{"result":{"dialed":[{"connect_time":"2026-01-01 00:00:00","charged":"1,5","x":{"y":[]}},null]}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		rows, _, err := DecodeHistory(body, "dialed", nil)
		if err != nil {
			return
		}
		mc := &MapContext{Customer: "1", Type: "dialed", Vendor: time.UTC, Business: moscow}
		for i := range rows {
			if len(rows[i].Raw) == 0 || rows[i].Raw[0] != '{' {
				t.Fatalf("row %d raw %q", i, rows[i].Raw)
			}
			_, _, _ = Map(mc, &rows[i])
		}
	})
}
