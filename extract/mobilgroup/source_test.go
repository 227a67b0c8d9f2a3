package mobilgroup

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/calletl/calletl/extract/httpx"
	"github.com/calletl/calletl/model"
	"github.com/calletl/calletl/pipeline"
	"github.com/calletl/calletl/sandbox"
	"github.com/calletl/calletl/secret"
)

func TestNewValidates(t *testing.T) {
	cases := []struct {
		field string
		cfg   Config
	}{
		{"APIKey", Config{}},
		{"APIKey", Config{APIKey: secret.New("  ")}},
		{"BaseURL", Config{APIKey: secret.New(testKey), BaseURL: "voice.mobilgroup.ru"}},
		{"BaseURL", Config{APIKey: secret.New(testKey), BaseURL: "ftp://voice.mobilgroup.ru"}},
		{"BroadcastIDs", Config{APIKey: secret.New(testKey), BroadcastIDs: []string{"12", "a/b"}}},
		{"BroadcastIDs", Config{APIKey: secret.New(testKey), BroadcastIDs: []string{""}}},
	}
	for _, tc := range cases {
		_, err := New(tc.cfg, nil)
		var ce *ConfigError
		if !errors.As(err, &ce) || ce.Field != tc.field || strings.Contains(err.Error(), testKey) {
			t.Errorf("%+v: %v", tc.cfg.BroadcastIDs, err)
		}
	}
	c, err := New(Config{APIKey: secret.New(testKey)}, nil)
	if err != nil || c.url != DefaultBaseURL+"/api/get/" || c.Account() != "mobilgroup" || c.cfg.Vendor != Moscow {
		t.Fatalf("defaults: %v %+v", err, c)
	}
	c, err = New(Config{APIKey: secret.New(testKey), BaseURL: "http://127.0.0.1:8080/mobilgroup/", Account: "acme"}, nil)
	if err != nil || c.url != "http://127.0.0.1:8080/mobilgroup/api/get/" || c.Account() != "acme" {
		t.Fatalf("prefix: %v %+v", err, c)
	}
}

func TestErrorCodes(t *testing.T) {
	cases := []struct {
		code     string
		sentinel error
		text     string
	}{
		{"Error_Authorisation_Failed", ErrAuth, "authorisation failed: the API key was refused"},
		{"Error_User_Disabled", ErrAuth, "the Mobilgroup account is disabled"},
		{"Error_Unknown_Request", ErrUnknownRequest, "the request was not recognised"},
		{"Error_ID_Not_Found", ErrNotFound, `the broadcast id is not known to Mobilgroup; check the broadcast id "42" in the configured broadcast ids or the ids file /etc/mg-ids`},
	}
	for _, tc := range cases {
		t.Run(tc.code, func(t *testing.T) {
			f, srv := newFake(t)
			f.handlers["state"] = func(map[string]any) (int, string) {
				return 200, `{"result": "error", "error_code": "` + tc.code + `"}`
			}
			s := NewSource(testClient(t, srv.URL, func(c *Config) { c.IDsFile = "/etc/mg-ids" }, nil))
			_, final, err := extract(t, s, openLake(t), "42")
			want := "mobilgroup: api/get state 42: Mobilgroup error " + tc.code + ": " + tc.text
			if err == nil || !strings.HasPrefix(err.Error(), want) || final {
				t.Fatalf("got  %v\nwant %s…", err, want)
			}
			var apiErr *APIError
			if !errors.Is(err, tc.sentinel) || !errors.As(err, &apiErr) || apiErr.Code != tc.code {
				t.Errorf("%v: not %v / *APIError", err, tc.sentinel)
			}
			if n := f.count("state"); n != 1 {
				t.Errorf("an error answer was retried: %d requests", n)
			}
		})
	}
	t.Run("5xx with an error answer is retried", func(t *testing.T) {
		f, srv := newFake(t)
		f.handlers["balance"] = func(map[string]any) (int, string) {
			return 503, `{"result":"error","error_code":"Error_Authorisation_Failed"}`
		}
		err := testClient(t, srv.URL, nil, nil).Ping(context.Background())
		if !errors.Is(err, ErrAuth) || f.count("balance") != 2 {
			t.Errorf("%v after %d requests", err, f.count("balance"))
		}
	})
}

func TestUnreadableAnswers(t *testing.T) {
	for name, body := range map[string]string{
		"html":          "<html><head><title>Site is under maintenance</title></head></html>",
		"doc malformed": sandbox.MobilgroupDocStateMalformed,
		"empty":         "",
		"odd result":    `{"result":"wait"}`,
	} {
		t.Run(name, func(t *testing.T) {
			f, srv := newFake(t)
			f.handlers["state"] = func(map[string]any) (int, string) { return 200, body }
			s := NewSource(testClient(t, srv.URL, nil, nil))
			_, _, err := extract(t, s, openLake(t), "1234")
			if !errors.Is(err, ErrUnreadable) || !strings.HasPrefix(err.Error(), "mobilgroup: api/get state 1234: gave up after 2 attempts: unreadable answer") {
				t.Fatalf("got %v", err)
			}
			if quoted := fmt.Sprintf("%q", body); len(body) > 20 && !strings.Contains(err.Error(), quoted[:20]) {
				t.Errorf("error does not quote the body's start %s: %v", quoted[:20], err)
			}
			if n := f.count("state"); n != 2 {
				t.Errorf("%d requests, want 2 (MaxAttempts)", n)
			}
		})
	}
	t.Run("404 HTML", func(t *testing.T) {
		_, srv := newFake(t) // no handler: 404 page
		err := testClient(t, srv.URL, nil, nil).Ping(context.Background())
		var se *httpx.StatusError
		if !errors.As(err, &se) || se.StatusCode != 404 {
			t.Errorf("got %v", err)
		}
	})
}

// emulator starts the sandbox emulator and a source pointed at it.
func emulator(t *testing.T, cfg sandbox.MobilgroupConfig, mod func(*Config), log *slog.Logger) (*sandbox.Mobilgroup, *Source) {
	t.Helper()
	cfg.APIKey = testKey
	m := sandbox.NewMobilgroup(cfg)
	srv := sandboxServer(t, m)
	return m, NewSource(testClient(t, srv, mod, log))
}

func sandboxServer(t *testing.T, m *sandbox.Mobilgroup) string {
	t.Helper()
	base, stop, err := sandbox.Start(context.Background(), "127.0.0.1:0", m)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	return base
}

var emuStart = time.Date(2025, 3, 9, 23, 50, 0, 0, Moscow)

func TestFaultsRecover(t *testing.T) {
	var mu sync.Mutex
	var waits []time.Duration
	sleep := func(ctx context.Context, d time.Duration) error {
		mu.Lock()
		waits = append(waits, d)
		mu.Unlock()
		return ctx.Err()
	}
	m, s := emulator(t, sandbox.MobilgroupConfig{Seed: 5, Broadcasts: 10, SubscribersPerBroadcast: 20, Start: emuStart}, func(c *Config) {
		c.HTTP.MaxAttempts = 12
		c.HTTP.Sleep = sleep
	}, nil)
	m.SetFaults(sandbox.Faults{Error5xxEvery: 3, TooManyEvery: 5, RetryAfter: 7 * time.Second, TruncateEvery: 7, MalformedEvery: 11, MaxInARow: 3})
	for _, id := range m.IDs() {
		lake := openLake(t)
		if _, _, err := extract(t, s, lake, id); err != nil {
			t.Fatalf("broadcast %s: %v", id, err)
		}
		if got, want := len(readRows(t, lake, "mobilgroup_calls")), len(m.Broadcasts()[slices.Index(m.IDs(), id)].Subscribers); got != want {
			t.Errorf("broadcast %s: %d rows, want %d", id, got, want)
		}
	}
	if _, err := s.Snapshot(context.Background(), pipeline.LakeBegin(openLake(t), Name), testRun); err != nil {
		t.Fatal(err)
	}
	fc := m.FaultInjector().Counts()
	if fc.Error5xx == 0 || fc.TooMany == 0 || fc.Truncate == 0 || fc.Malformed == 0 {
		t.Errorf("faults not all injected: %+v", fc)
	}
	if !slices.Contains(waits, 7*time.Second) {
		t.Errorf("Retry-After not honoured: waits %v", waits)
	}
}

// TestDocBroadcast extracts the document's example broadcast: both
// subscribers carry placeholders, so both are rejected with their raw JSON,
// and the broadcast is not final. Served verbatim, the example fails.
func TestDocBroadcast(t *testing.T) {
	m, s := emulator(t, sandbox.MobilgroupConfig{Seed: 1, Broadcasts: 1}, nil, nil)
	lake := openLake(t)
	c, final, err := extract(t, s, lake, "1234")
	if err != nil || final || c.Rows != 0 || c.Rejects != 2 || c.Pages != 1 {
		t.Fatalf("counts %+v final %v err %v", c, final, err)
	}
	rej := readRows(t, lake, "rejects")
	if len(rej) != 2 {
		t.Fatalf("rejects %v", rej)
	}
	for i, r := range rej {
		if !strings.Contains(sandbox.MobilgroupDocState, r["raw"].(string)) || !strings.HasPrefix(r["raw"].(string), `{"phone": `) ||
			r["endpoint"] != "api/get state" || r["window"] != "broadcast 1234" || r["stream"] != "broadcast" ||
			r["account"] != "mobilgroup" || r["date"] != testRun.Day() || r["run_id"] != "run-1" ||
			!strings.HasPrefix(r["reason"].(string), fmt.Sprintf("subscriber %d: phone ", i+1)) {
			t.Errorf("reject %v", r)
		}
	}
	b := readRows(t, lake, "mobilgroup_broadcasts")
	if len(b) != 1 || b[0]["final"] != false || b[0]["subscribers"] != int64(2) || b[0]["rejected_subscribers"] != int64(2) ||
		decimal(b[0]["budget"]) != "3.4100" || b[0]["phones"] != int32(2) || decimal(b[0]["price_total"]) != "0.0000" {
		t.Errorf("broadcast row %v", b)
	}
	m.SetDocMalformed(true)
	if _, _, err := extract(t, s, lake, "1234"); !errors.Is(err, ErrUnreadable) || !strings.Contains(err.Error(), `body starts "{\"result\": \"ok\", \"id\": \"1234\"`) {
		t.Errorf("malformed example: %v", err)
	}
}

func TestRejectsCarryRaw(t *testing.T) {
	m, s := emulator(t, sandbox.MobilgroupConfig{Seed: 2, Broadcasts: 1, SubscribersPerBroadcast: 20, BadEvery: 6, Start: emuStart}, nil, nil)
	for !m.Final() {
		m.Advance()
	}
	id := m.IDs()[0]
	truth := m.Broadcasts()[0]
	lake := openLake(t)
	c, final, err := extract(t, s, lake, id)
	if err != nil || final {
		t.Fatalf("final %v err %v", final, err)
	}
	var bad []int
	for _, sb := range truth.Subscribers {
		if sb.Bad {
			bad = append(bad, sb.Seq)
		}
	}
	rej := readRows(t, lake, "rejects")
	if len(bad) == 0 || len(rej) != len(bad) || c.Rejects != int64(len(bad)) || c.Rows != int64(len(truth.Subscribers)-len(bad)) {
		t.Fatalf("bad %v, rejects %d, counts %+v", bad, len(rej), c)
	}
	for i, r := range rej {
		raw := r["raw"].(string)
		if !strings.Contains(raw, `"price": "—"`) || !strings.Contains(raw, `"phone": "`+truth.Subscribers[bad[i]-1].Phone+`"`) ||
			r["reason"] != fmt.Sprintf(`subscriber %d: price: bad money value "—": unexpected character`, bad[i]) {
			t.Errorf("reject %v", r)
		}
	}
}

func TestIDsFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ids.txt")
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	s := NewSource(testClient(t, "http://127.0.0.1:1", func(c *Config) {
		c.BroadcastIDs = []string{"300", "100"}
		c.IDsFile = path
	}, log))
	ctx := context.Background()
	got, err := s.Items(ctx, []string{"900", "bad key!"})
	if err != nil || !slices.Equal(got, []string{"100", "300", "900"}) {
		t.Fatalf("missing file: %v %v", got, err)
	}
	content := "\ufeff# broadcasts to follow\n\n  200  \n100\n200 # again\r\n#300\nabc def\nx/y\n\t\n4.5_a-Z\n"
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err = s.Items(ctx, nil)
	if want := []string{"100", "200", "300", "4.5_a-Z"}; err != nil || !slices.Equal(got, want) {
		t.Fatalf("items %v %v, want %v", got, err, want)
	}
	for _, w := range []string{`id="abc def"`, "id=x/y", `broadcast="bad key!"`} {
		if !strings.Contains(logs.String(), w) {
			t.Errorf("no warning for %s:\n%s", w, logs.String())
		}
	}
	// Read on every call: an appended id shows up at once.
	if err := os.WriteFile(path, []byte(content+"500\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Items(ctx, nil); !slices.Contains(got, "500") {
		t.Errorf("appended id not seen: %v", got)
	}
	if err := os.Mkdir(filepath.Join(dir, "d"), 0o755); err != nil {
		t.Fatal(err)
	}
	s2 := NewSource(testClient(t, "http://127.0.0.1:1", func(c *Config) { c.IDsFile = filepath.Join(dir, "d") }, nil))
	if _, err := s2.Items(ctx, nil); err == nil || !strings.HasPrefix(err.Error(), "mobilgroup: ids file: ") {
		t.Errorf("unreadable ids file: %v", err)
	}
	if s.Name() != "mobilgroup" || s.Kind() != "broadcast" || s.Concurrency() < 1 || len(s.Tables()) != 2 {
		t.Error("source identity")
	}
}

func TestSnapshotBalance(t *testing.T) {
	m, s := emulator(t, sandbox.MobilgroupConfig{Seed: 1}, func(c *Config) { c.Account = "acme" }, nil)
	lake := openLake(t)
	for _, id := range []string{"run-1", "run-2"} {
		run := testRun
		run.ID = id
		c, err := s.Snapshot(context.Background(), pipeline.LakeBegin(lake, Name), run)
		if err != nil || c.Rows != 1 || c.Pages != 1 {
			t.Fatalf("%+v %v", c, err)
		}
	}
	rows := readRows(t, lake, "balances")
	if len(rows) != 2 {
		t.Fatalf("rows %v", rows)
	}
	for _, r := range rows {
		if decimal(r["balance"]) != model.Money(m.Balance()*100).String() || r["currency"] != "RUB" || r["raw"] != "273,50" ||
			r["account"] != "acme" || r["date"] != testRun.Day() {
			t.Errorf("balance row %v", r)
		}
	}
	if err := s.Ping(context.Background()); err != nil {
		t.Error(err)
	}
	m.SetDisabled(true)
	if _, err := s.Snapshot(context.Background(), pipeline.LakeBegin(lake, Name), testRun); !errors.Is(err, ErrAuth) ||
		!strings.HasPrefix(err.Error(), "mobilgroup: api/get balance: Mobilgroup error Error_User_Disabled") {
		t.Errorf("disabled: %v", err)
	}
}

func TestSecretNeverLeaks(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	f, srv := newFake(t)
	f.handlers["state"] = func(req map[string]any) (int, string) {
		if req["id"] == "1" {
			return 500, "Internal error: key " + testKey // retried (logged), then reported
		}
		return 200, `{"result":"error","error_code":"Error_Authorisation_Failed","description":"key ` + testKey + ` refused"}`
	}
	f.handlers["balance"] = func(map[string]any) (int, string) { return 200, "<html>" + testKey }
	s := NewSource(testClient(t, srv.URL, nil, log))
	lake := openLake(t)
	var errs []error
	for _, id := range []string{"1", "2"} {
		_, _, err := extract(t, s, lake, id)
		errs = append(errs, err)
	}
	errs = append(errs, s.Ping(context.Background()))
	_, err := New(Config{BaseURL: "::bad", APIKey: secret.New(testKey)}, log)
	errs = append(errs, err)
	for i, err := range errs {
		if err == nil {
			t.Fatalf("error %d is nil", i)
		}
		if strings.Contains(err.Error(), testKey) {
			t.Errorf("key in error: %v", err)
		}
	}
	if !strings.Contains(errs[1].Error(), "[REDACTED]") {
		t.Errorf("the echoed key was not redacted: %v", errs[1])
	}
	if logs.Len() == 0 {
		t.Fatal("no retry was logged")
	}
	if strings.Contains(logs.String(), testKey) {
		t.Errorf("key in logs:\n%s", logs.String())
	}
	c := s.c
	for _, v := range []string{fmt.Sprintf("%v", c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", *c)} {
		if strings.Contains(v, testKey) {
			t.Errorf("key in a printed Client: %s", v)
		}
	}

	// A full extraction against the emulator: neither the lake's files nor
	// the values in it hold the key.
	logs.Reset()
	m, es := emulator(t, sandbox.MobilgroupConfig{Seed: 4, Broadcasts: 2, SubscribersPerBroadcast: 10}, nil, log)
	m.SetFaults(sandbox.Faults{Error5xxEvery: 3, MaxInARow: 3})
	for _, id := range append(m.IDs(), "1234") {
		if _, _, err := extract(t, es, lake, id); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := es.Snapshot(context.Background(), pipeline.LakeBegin(lake, Name), testRun); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(lakeBytes(t, lake.Root()), []byte(testKey)) || strings.Contains(logs.String(), testKey) {
		t.Error("key in the lake files or the logs")
	}
	for _, tb := range []string{"mobilgroup_broadcasts", "mobilgroup_calls", "calls", "rejects", "balances"} {
		rows := readRows(t, lake, tb)
		if len(rows) == 0 {
			t.Errorf("%s is empty", tb)
		}
		if strings.Contains(fmt.Sprint(rows), testKey) {
			t.Errorf("key in %s", tb)
		}
	}
}

func TestTablesValid(t *testing.T) {
	if err := BroadcastsTable.Validate(); err != nil {
		t.Error(err)
	}
	if err := CallsTable.Validate(); err != nil {
		t.Error(err)
	}
	if got := Tables(); len(got) != 2 || got[0].Name != "mobilgroup_broadcasts" || got[1].Name != "mobilgroup_calls" {
		t.Errorf("tables %v", got)
	}
}

func TestFinality(t *testing.T) {
	f, srv := newFake(t)
	body := ""
	f.handlers["state"] = func(map[string]any) (int, string) { return 200, body }
	var logs bytes.Buffer
	s := NewSource(testClient(t, srv.URL, nil, slog.New(slog.NewTextHandler(&logs, nil))))
	const d = "2025-03-09 23:59:59"
	// The run's clock is testRun.StartedAt, 06:00 Moscow on 10 March; the
	// redial window DefaultRedialWindow, 2h30m.
	const ago10m, ago2h, ago2h30, ago3h = "2025-03-10 05:50:00", "2025-03-10 04:00:00", "2025-03-10 03:30:00", "2025-03-10 03:00:00"
	cases := []struct {
		name    string
		subs    []string
		final   bool
		rejects int64
		day     string // the broadcast's partition; 2025-03-09 when empty
	}{
		// Not answered: final only when no redial can still come.
		{"busy 10 min ago, attempt 1: a redial may come", []string{subN("79161234567", ago10m, "Занято", "1", "0")}, false, 0, "2025-03-10"},
		{"answered, and busy 10 min ago", []string{sub("79161234567", d, "Успешно", "0,91", ""), subN("79161234568", ago10m, "Занято", "1", "0")}, false, 0, ""},
		{"no answer 2h ago, attempt 2 (the date may be the first attempt's)", []string{subN("79161234567", ago2h, "Нет ответа", "2", "0")}, false, 0, "2025-03-10"},
		{"failed 10 min ago: may be redialled too", []string{subN("79161234567", ago10m, "Ошибка", "1", "0")}, false, 0, "2025-03-10"},
		{"busy with no date", []string{subN("79161234567", "", "Занято", "1", "0")}, false, 0, testRun.Day()},
		{"busy exactly the window ago", []string{subN("79161234567", ago2h30, "Занято", "1", "0")}, true, 0, "2025-03-10"},
		{"rejected 3h ago", []string{subN("79161234567", ago3h, "Сброс", "2", "0")}, true, 0, "2025-03-10"},
		{"busy 10 min ago, attempt 3 of 3", []string{subN("79161234567", ago10m, "Занято", "3", "0")}, true, 0, "2025-03-10"},
		{"answered 10 min ago", []string{subN("79161234567", ago10m, "Успешно", "2", "0,91")}, true, 0, "2025-03-10"},
		{"sms pending, 3 attempts", []string{strings.TrimSuffix(subN("79161234567", ago3h, "Нет ответа", "3", "0"), "}") + `,"sms":{"status":"В очереди","price":"2,50"}}`}, false, 0, "2025-03-10"},
		{"all final", []string{sub("79161234567", d, "Успешно", "0,91", ""), sub("79161234567", d, "Занято", "0", "")}, true, 0, ""},
		{"empty", nil, false, 0, ""},
		{"pending", []string{sub("79161234567", d, "Успешно", "0,91", ""), sub("79161234568", "", "В очереди", "0", "")}, false, 0, ""},
		{"unknown status", []string{sub("79161234567", d, "Перезвонить", "0,91", "")}, false, 0, ""},
		{"sms pending", []string{sub("79161234567", d, "Нет ответа", "0", `,"sms":{"status":"В очереди","price":"2,50"}`)}, false, 0, ""},
		{"sms sent", []string{sub("79161234567", d, "Нет ответа", "2,50", `,"sms":{"status":"Отправлено","price":"2,50"}`)}, true, 0, ""},
		{"rejected", []string{sub("79161234567", d, "Успешно", "0,91", ""), sub("79161234567", "31.02.2025 10:00:00", "Успешно", "0,91", "")}, false, 1, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			body = stateBody("5", tc.subs...)
			lake := openLake(t)
			c, final, err := extract(t, s, lake, "5")
			if err != nil {
				t.Fatal(err)
			}
			if final != tc.final || c.Rejects != tc.rejects || c.Rows != int64(len(tc.subs))-tc.rejects {
				t.Fatalf("final %v counts %+v, want %v %d", final, c, tc.final, tc.rejects)
			}
			b := readRows(t, lake, "mobilgroup_broadcasts")
			// The broadcast's day: the earliest date's day in Moscow, else the run's.
			wantDay := "2025-03-09"
			if len(tc.subs) == 0 {
				wantDay = testRun.Day()
			}
			if tc.day != "" {
				wantDay = tc.day
			}
			if len(b) != 1 || b[0]["final"] != tc.final || b[0]["date"] != wantDay || b[0]["subscribers"] != int64(len(tc.subs)) {
				t.Errorf("broadcast row %v", b)
			}
		})
	}
	if !strings.Contains(logs.String(), "unknown subscriber status") || !strings.Contains(logs.String(), "status=Перезвонить") {
		t.Errorf("no warning for the unknown status:\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), "may still be redialled") || !strings.Contains(logs.String(), "until=2025-03-10T05:20:00Z") {
		t.Errorf("no note of the pending redials:\n%s", logs.String())
	}
	body = `{"result":"ok","id":"6","subscribers":[]}`
	if _, _, err := extract(t, s, openLake(t), "5"); err == nil || err.Error() != `mobilgroup: broadcast 5: the state answer is for broadcast "6"` {
		t.Errorf("id mismatch: %v", err)
	}
	body = `{"result":"ok","id":"5","budget":"n/a","subscribers":[]}`
	if _, _, err := extract(t, s, openLake(t), "5"); err == nil || !strings.HasPrefix(err.Error(), `mobilgroup: broadcast 5: budget: bad money value "n/a"`) {
		t.Errorf("bad budget: %v", err)
	}
}
