package votbox

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/calletl/calletl/model"
	"github.com/calletl/calletl/pipeline"
	"github.com/calletl/calletl/sandbox"
)

func TestLiftBalance(t *testing.T) {
	cases := []struct {
		name, body string
		amount     model.Money
		raw, cur   string
		err        string // substring of the error; "" = no error
	}{
		{"emulator attr", `<response><balance value="49873.40" currency="RUB"/></response>`, 498734000, "49873.40", "RUB", ""},
		{"emulator elem", `<response><balance>49873.40</balance><currency>RUB</currency></response>`, 498734000, "49873.40", "RUB", ""},
		{"decimal comma", `<response><balance value="273,50"/></response>`, 2735000, "273,50", "RUB", ""},
		{"attribute of the root", `<response balance="12.5" currency="usd"/>`, 125000, "12.5", "USD", ""},
		{"CamelCase", `<response><Balance>7</Balance><Currency>RUR</Currency></response>`, 70000, "7", "RUB", ""},
		{"root is the balance", `<balance>-15.25</balance>`, -152500, "-15.25", "RUB", ""},
		{"group spaces", "<response><sum>1\u00a0234 567,89</sum></response>", 12345678900, "1\u00a0234 567,89", "RUB", ""},
		{"wrapped twice", `<response><account id="acme"><balance amount="10,01" currency="руб."/></account></response>`, 100100, "10,01", "RUB", ""},
		{"currency beside the wrapper", `<response><currency>EUR</currency><data><value>3</value></data></response>`, 30000, "3", "EUR", ""},
		{"first name wins", `<response><amount>2</amount><balance>1</balance></response>`, 10000, "1", "RUB", ""},
		{"no balance", `<response><status>ok</status></response>`, 0, "", "", `no balance/sum/amount/value/money/summa in the answer "<response><status>ok</status></response>"`},
		{"empty balance", `<response><balance/></response>`, 0, "", "", "no balance/"},
		{"unit word", `<response><balance>100 руб.</balance></response>`, 0, "", "", `balance "100 руб."`},
		{"too deep", `<response><data><result><user balance="1"/></result></data></response>`, 0, "", "", "no balance/"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, err := Decode([]byte(c.body), "")
			if err != nil {
				t.Fatal(err)
			}
			b, err := LiftBalance(a)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("error %v, want one containing %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if b.Amount != c.amount || b.Raw != c.raw || b.Currency != c.cur {
				t.Errorf("got %+v, want %v %q %q", b, c.amount, c.raw, c.cur)
			}
		})
	}
}

func FuzzLiftBalance(f *testing.F) {
	f.Add([]byte(`<response><balance value="49873.40" currency="RUB"/></response>`))
	f.Add([]byte(`<response><balance>49873,40</balance><currency>RUB</currency></response>`))
	f.Add([]byte(`<balance>-1</balance>`))
	f.Add([]byte(`<response><account><balance sum="1 234,5"/></account></response>`))
	f.Fuzz(func(t *testing.T, body []byte) {
		a, err := Decode(body, "")
		if err != nil {
			return
		}
		b, err := LiftBalance(a)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "check.balance: ") {
				t.Fatalf("error without its prefix: %v", err)
			}
			return
		}
		if b.Raw == "" || b.Currency == "" || b.Currency != strings.ToUpper(b.Currency) {
			t.Fatalf("lifted %+v from %q", b, body)
		}
		// The amount is the raw text's value: parsing it again agrees.
		if m, err := parseRoubles(b.Raw); err != nil || m != b.Amount {
			t.Fatalf("raw %q parses to %v, %v; lifted %v", b.Raw, m, err, b.Amount)
		}
	})
}

// Snapshot writes one canonical balances row per run equal to the
// emulator's balance, in every form and charset; a refused login is fatal
// and leaks neither the password nor its hash.
func TestSnapshotBalance(t *testing.T) {
	for _, tc := range []struct{ form, charset, raw string }{
		{sandbox.VotBoxAttr, sandbox.VotBoxUTF8, "."}, {sandbox.VotBoxElem, sandbox.VotBoxUTF8, "."}, {sandbox.VotBoxAttr, sandbox.VotBoxCP1251, ","},
	} {
		t.Run(tc.form+"-"+tc.charset, func(t *testing.T) {
			v := sandbox.NewVotBox(sandbox.VotBoxConfig{Seed: 3, Username: testUser, Password: testPassword, Tasks: 2,
				ItemsPerTask: 20, Form: tc.form, Charset: tc.charset})
			v.SetFaults(sandbox.Faults{MalformedEvery: 2, MaxInARow: 1})
			srv := httptest.NewServer(v)
			defer srv.Close()
			var logs bytes.Buffer
			log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			s := NewSource(testClient(t, srv.URL+"/api", nil, log))
			lake := openLake(t)
			want := map[string]int64{}
			for i, id := range []string{"run-1", "run-2"} {
				if i == 1 {
					for range 5 { // an odd step: the element form's amount as a PHP float, no currency
						v.Advance()
					}
				}
				run := testRun
				run.ID = id
				want[id] = v.Balance()
				c, err := s.Snapshot(context.Background(), pipeline.LakeBegin(lake, Name), run)
				if err != nil || c.Rows != 1 || c.Pages != 1 {
					t.Fatalf("%s: %+v %v", id, c, err)
				}
			}
			if want["run-1"] == want["run-2"] {
				t.Fatal("the balance did not move between the runs: the test means little")
			}
			rows := readRows(t, lake, "balances")
			if len(rows) != 2 {
				t.Fatalf("rows %v", rows)
			}
			for _, r := range rows {
				kop := want[fmt.Sprint(r["run_id"])]
				wantRaw := fmt.Sprintf("%d%s%02d", kop/100, tc.raw, kop%100)
				if tc.form == sandbox.VotBoxElem && r["run_id"] == "run-2" {
					wantRaw = strings.TrimSuffix(strings.TrimRight(wantRaw, "0"), tc.raw)
				}
				if decimal(r["balance"]) != model.Money(kop*100).String() || r["currency"] != "RUB" || r["raw"] != wantRaw ||
					r["account"] != testUser || r["date"] != testRun.Day() {
					t.Errorf("balance row %v, want %d kopecks", r, kop)
				}
			}
			v.Revoke()
			_, err := s.Snapshot(context.Background(), pipeline.LakeBegin(lake, Name), testRun)
			if !errors.Is(err, ErrAuth) || !strings.HasPrefix(err.Error(), "votbox: check.balance: ") ||
				!strings.Contains(err.Error(), `VotBox error 1 "Неверный логин или пароль"`) {
				t.Errorf("revoked: %v", err)
			}
			if strings.Contains(logs.String()+err.Error(), testPassword) || strings.Contains(logs.String()+err.Error(), testHash()) {
				t.Error("a secret in the logs or the error")
			}
			if logs.Len() == 0 {
				t.Error("no retry was logged: the malformed answers were not served")
			}
		})
	}
}
