package voicebox

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/calletl/calletl/extract/httpx"
	"github.com/calletl/calletl/extract/sourcetest"
	"github.com/calletl/calletl/load/loadtest"
	"github.com/calletl/calletl/model"
	"github.com/calletl/calletl/pipeline"
	"github.com/calletl/calletl/sandbox"
)

func TestLiftNumber(t *testing.T) {
	cases := []struct {
		name, raw                 string
		id, number, typ, campaign string
		err                       bool
	}{
		{"document fields", `{"type":"ABC","owner":"MTT","number":74951234567,"regionName":"Москва","regionCode":"MOW","category":"REGULAR","description":"d","campaigns":[{"name":"x"}]}`,
			"74951234567", "74951234567", "ABC", `[{"name":"x"}]`, false},
		{"an id wins", `{"id":17,"number":"8 (495) 123-45-67"}`, "17", "74951234567", "", "", false},
		{"number object", `{"number":{"number":"74950000000"},"numberType":"DEF"}`, "74950000000", "74950000000", "DEF", "", false},
		{"no number", `{"type":"ABC"}`, "", "", "ABC", "", false},
		{"not an object", `[1]`, "", "", "", "", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := LiftNumber([]byte(c.raw))
			if (err != nil) != c.err {
				t.Fatalf("err %v", err)
			}
			if r.NumberID != c.id || r.Number != c.number || r.Type != c.typ || r.Campaigns != c.campaign || r.Raw != c.raw {
				t.Errorf("got %+v", r)
			}
		})
	}
}

func TestLiftPrice(t *testing.T) {
	cases := []struct {
		name, body string
		fee        model.Money
		raw, cur   string
		err        string
	}{
		{"emulator number", `{"numberId":74951234567,"price":350.4,"setupPrice":0,"currency":"RUB","period":"month"}`, 3504000, "350.4", "RUB", ""},
		{"emulator comma", `{"numberId":74951234567,"price":"1 500,00","setupPrice":0,"currency":"RUB","period":"month"}`, 15000000, "1 500,00", "RUB", ""},
		{"monthly fee wrapped", `{"data":{"monthlyFee":"200","currency":"usd"}}`, 2000000, "200", "USD", ""},
		{"bare", `"99,90"`, 999000, "99,90", "RUB", ""},
		{"setup price only", `{"setupPrice":100}`, 0, "", "", "no price under price/"},
		{"not money", `{"price":"free"}`, 0, "", "", `price: bad money value "free"`},
		{"empty", ``, 0, "", "", "empty answer"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fee, raw, cur, err := LiftPrice([]byte(c.body))
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("error %v, want %q", err, c.err)
				}
				return
			}
			if err != nil || fee != c.fee || raw != c.raw || cur != c.cur {
				t.Errorf("got %v %q %q %v", fee, raw, cur, err)
			}
		})
	}
}

func TestLiftCustomer(t *testing.T) {
	body := `{"id":1001,"name":"ООО \"Ромашка\" <Опт> & Ко","status":"ACTIVE","login":"cust","password":"pw-one-123456",
		"personalAccount":"110012345","passwordRL":"pw-two-654321","tarifficationParams":{"tariff":"T","apiToken":"tok-abcdef-99",
		"nested":[{"clientSecret":"sec-xyz-000111"}]},"managerEmail":"m@x"}`
	r, secrets, err := LiftCustomer([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(secrets)
	if want := []string{"pw-one-123456", "pw-two-654321", "sec-xyz-000111", "tok-abcdef-99"}; !slices.Equal(secrets, want) {
		t.Errorf("secrets %v, want %v", secrets, want)
	}
	for _, s := range secrets {
		if strings.Contains(r.Raw, s) || strings.Contains(r.Tariffication, s) {
			t.Errorf("%q kept in %s", s, r.Raw)
		}
	}
	if r.CustomerID != "1001" || r.Name != `ООО "Ромашка" <Опт> & Ко` || r.PersonalAccount != "110012345" || r.Status != "ACTIVE" ||
		r.ManagerEmail != "m@x" || !strings.Contains(r.Raw, `"login":"cust"`) || !strings.Contains(r.Raw, `<Опт> & Ко`) ||
		r.Tariffication != `{"nested":[{}],"tariff":"T"}` {
		t.Errorf("got %+v", r)
	}
	for _, bad := range []string{`{"password":"cut-in-the-midd`, `[1]`, `{"a":1} {"b":2}`, ``} {
		_, _, err := LiftCustomer([]byte(bad))
		if err == nil || strings.Contains(err.Error(), "cut-in") {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

// FuzzLiftPrice: never panics; a fee read has an upper-case currency and
// its raw text parses to the same amount.
func FuzzLiftPrice(f *testing.F) {
	for _, s := range []string{`{"numberId":74951234567,"price":350.4,"currency":"RUB","period":"month"}`, `"0,91"`,
		`{"data":{"monthlyFee":"1 000,5"}}`, `{"price":{"value":3}}`, `{}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, raw, cur, err := LiftPrice(b)
		if err != nil {
			return
		}
		if cur == "" || cur != strings.ToUpper(cur) {
			t.Fatalf("currency %q", cur)
		}
		if again, err := parseMoney(raw); err != nil || again != m {
			t.Fatalf("raw %q → %v %v, fee %v", raw, again, err, m)
		}
	})
}

// FuzzLiftNumber: never panics; a row keeps its bytes, and a number id
// comes from the row.
func FuzzLiftNumber(f *testing.F) {
	for _, s := range []string{`{"type":"ABC","number":74951234567,"campaigns":[]}`, `{"id":{"a":1}}`, `{"number":{"phone":"8495"}}`, `[]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := LiftNumber(b)
		if r.Raw != string(b) {
			t.Fatal("raw not kept")
		}
		if err != nil && (r.NumberID != "" || r.Number != "") {
			t.Fatalf("error %v with fields %+v", err, r)
		}
	})
}

// FuzzLiftCustomer: never panics; no member named like a credential
// survives into raw, and an error never quotes the body.
func FuzzLiftCustomer(f *testing.F) {
	for _, s := range []string{`{"id":1,"password":"abcdefgh","x":{"Pass_Word":"ijklmnop"}}`, `{"name":"a"}`, `[{"token":"t"}]`, `{`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, _, err := LiftCustomer(b)
		if err != nil {
			if len(b) > 8 && strings.Contains(err.Error(), string(b)) {
				t.Fatalf("error quotes the body: %v", err)
			}
			return
		}
		var v any
		if err := json.Unmarshal([]byte(r.Raw), &v); err != nil {
			t.Fatalf("raw %q is not JSON: %v", r.Raw, err)
		}
		var walk func(any)
		walk = func(v any) {
			switch x := v.(type) {
			case map[string]any:
				for k, e := range x {
					if credentialName(k) {
						t.Fatalf("credential member %q kept in %s", k, r.Raw)
					}
					walk(e)
				}
			case []any:
				for _, e := range x {
					walk(e)
				}
			}
		}
		walk(v)
	})
}

// A number whose price answers 404 keeps a NULL fee; any other price
// failure leaves the day's earlier numbers snapshot in place and is
// reported; the customer's secrets never reach the logs.
func TestSnapshotNumbersFailures(t *testing.T) {
	emu := sandbox.NewVoiceBox(sandbox.VoiceBoxConfig{Customers: []string{"1001"}, Seed: 3})
	nums := emu.Numbers("1001")
	var fail atomic.Value // "404" or "500" for the second number's price
	fail.Store("")
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if f := fail.Load().(string); r.URL.Path == "/customers/1001/numbers/"+nums[1].Number+"/price" && f != "" {
			code := map[string]int{"404": 404, "500": 500}[f]
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(code)
			_, _ = w.Write([]byte(`{"error":"x","error_description":"y"}`))
			return
		}
		emu.ServeHTTP(w, r)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	var logs sourcetest.SyncBuffer
	cfg := testConfig(srv.URL)
	cfg.Customers = []string{"1001"}
	cfg.HTTP = httpx.Config{MaxAttempts: 2, Sleep: noSleep}
	s := NewSource(newClient(t, cfg, slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	lake := loadtest.OpenLake(t)
	run := model.Run{ID: "r1", Mode: "run", StartedAt: contractNow, Location: Moscow}
	if _, err := s.Snapshot(context.Background(), pipeline.LakeBegin(lake, Name), run); err != nil {
		t.Fatal(err)
	}
	fail.Store("404")
	run.ID = "r2"
	if _, err := s.Snapshot(context.Background(), pipeline.LakeBegin(lake, Name), run); err != nil {
		t.Fatal(err)
	}
	fees := func() map[string]any {
		out := map[string]any{}
		for _, r := range loadtest.ReadRows(t, lake, NumbersTable.Name, Name) {
			out[r["number_id"].(string)+"/"+r["run_id"].(string)] = r["monthly_fee"]
		}
		return out
	}
	got := fees()
	if len(got) != len(nums) || got[nums[1].Number+"/r2"] != nil || got[nums[0].Number+"/r2"] == nil {
		t.Fatalf("after a 404: %v", got)
	}
	fail.Store("500")
	run.ID = "r3"
	_, err := s.Snapshot(context.Background(), pipeline.LakeBegin(lake, Name), run)
	if err == nil || !strings.Contains(err.Error(), "voicebox: price of number "+nums[1].Number+" of 1001") {
		t.Fatalf("500: %v", err)
	}
	if after := fees(); len(after) != len(nums) || after[nums[0].Number+"/r2"] == nil {
		t.Errorf("the failed snapshot replaced the earlier one: %v", after)
	}
	if !strings.Contains(logs.String(), "its fee stays NULL") {
		t.Error("the 404 was not logged")
	}
	for _, sec := range emu.CustomerSecrets() {
		if strings.Contains(logs.String()+err.Error(), sec) {
			t.Error("a customer's password in the logs")
		}
	}
}
