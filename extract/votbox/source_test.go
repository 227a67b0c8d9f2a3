package votbox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/calletl/calletl/pipeline"
	"github.com/calletl/calletl/secret"
)

func TestPaging(t *testing.T) {
	for _, n := range []int{0, 3, PageSize - 1, PageSize, PageSize + 1, 2 * PageSize} {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			f, srv := newFake(t)
			var pages []string
			f.scripts["autocall.check.api.php"] = func(form map[string]string) (int, []byte) {
				pages = append(pages, form["page"])
				if form["taskid"] != "42" {
					t.Errorf("taskid %q", form["taskid"])
				}
				p, _ := strconv.Atoi(form["page"])
				var b strings.Builder
				b.WriteString(`<task id="42" taskname="t" taskstarttime="1736748000" taskstatus="2" taskstatusstr="done"/>`)
				for i := (p - 1) * PageSize; i < min(p*PageSize, n); i++ {
					b.WriteString(itemAttr(i+1, 3, ` calldate="13.01.2025 09:05:00"`))
				}
				return 200, xmlDoc(b.String())
			}
			s := NewSource(testClient(t, srv.URL, nil, nil))
			lake := openLake(t)
			c, final, err := extract(t, s, lake, "42")
			if err != nil {
				t.Fatal(err)
			}
			want := []string{"1"}
			for p := 2; (p-1)*PageSize <= n && n >= PageSize; p++ {
				want = append(want, strconv.Itoa(p))
			}
			if !slices.Equal(pages, want) {
				t.Errorf("pages %v, want %v", pages, want)
			}
			if c.Rows != int64(n) || c.Pages != int64(len(want)) || c.Rejects != 0 {
				t.Errorf("counts %+v", c)
			}
			if final != (n > 0) {
				t.Errorf("final %v with %d items", final, n)
			}
		})
	}
}

func TestFinalAndRejects(t *testing.T) {
	f, srv := newFake(t)
	items := ""
	f.scripts["autocall.check.api.php"] = func(map[string]string) (int, []byte) {
		return 200, xmlDoc(`<task id="7" taskstarttime="1736748000"/>` + items)
	}
	s := NewSource(testClient(t, srv.URL, nil, nil))
	cases := []struct {
		name    string
		items   string
		final   bool
		rejects int64
	}{
		{"all final", itemAttr(1, 3, "") + itemAttr(2, 11, "") + itemAttr(3, 6, ""), true, 0},
		{"queued", itemAttr(1, 3, "") + itemAttr(2, 0, ""), false, 0},
		{"in progress", itemAttr(1, 1, ""), false, 0},
		{"rejected", itemAttr(1, 3, "") + `<item id="2" jobstatus="x"/>`, false, 1},
		{"duplicate", itemAttr(1, 3, "") + itemAttr(1, 3, ""), false, 1},
		{"bad callpay", itemAttr(1, 3, ` callpay="1.234"`), false, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			items = tc.items
			lake := openLake(t)
			c, final, err := extract(t, s, lake, "7")
			if err != nil {
				t.Fatal(err)
			}
			if final != tc.final || c.Rejects != tc.rejects {
				t.Fatalf("final %v rejects %d, want %v %d", final, c.Rejects, tc.final, tc.rejects)
			}
			rej := readRows(t, lake, "rejects")
			if len(rej) != int(tc.rejects) {
				t.Fatalf("%d reject rows", len(rej))
			}
			for _, r := range rej {
				if !strings.HasPrefix(r["raw"].(string), "<item") || r["date"] != "2025-01-13" || r["endpoint"] != "autocall.check" {
					t.Errorf("reject %v", r)
				}
			}
			tasks := readRows(t, lake, "votbox_tasks")
			if len(tasks) != 1 || tasks[0]["final"] != tc.final || tasks[0]["rejected_items"] != tc.rejects {
				t.Errorf("tasks %v", tasks)
			}
		})
	}
}

func TestAPIErrorText(t *testing.T) {
	f, srv := newFake(t)
	f.scripts["autocall.check.api.php"] = func(map[string]string) (int, []byte) {
		return 200, xmlDoc(`<error code="4">Задача не найдена</error>`)
	}
	s := NewSource(testClient(t, srv.URL, nil, nil))
	_, final, err := extract(t, s, openLake(t), "123")
	want := `votbox: autocall.check taskid 123: VotBox error 4 "Задача не найдена" (the vendor does not know this item: it is not polled again)`
	if err == nil || err.Error() != want || final || !errors.Is(err, pipeline.ErrItemGone) {
		t.Fatalf("got %v, want %s", err, want)
	}
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Code != "4" {
		t.Fatalf("not an *APIError: %#v", err)
	}
	if n := f.count("autocall.check.api.php"); n != 1 {
		t.Errorf("an API error was retried: %d requests", n)
	}
}

func TestUnreadableRetriedThenReported(t *testing.T) {
	f, srv := newFake(t)
	f.scripts["autocall.get.task.api.php"] = func(map[string]string) (int, []byte) {
		return 200, []byte("<html><title>Site is under maintenance</title>")
	}
	c := testClient(t, srv.URL, nil, nil)
	err := c.Ping(context.Background())
	if err == nil || !errors.Is(err, ErrUnreadable) || !strings.Contains(err.Error(), "Site is under maintenance") {
		t.Fatalf("got %v", err)
	}
	if n := f.count("autocall.get.task.api.php"); n != 2 {
		t.Errorf("%d requests, want 2 (MaxAttempts)", n)
	}
}

func TestHashNeverLeaks(t *testing.T) {
	hash := testHash()
	f, srv := newFake(t)
	echo := func(form map[string]string) string {
		return fmt.Sprintf("login %s password %s", form["username"], form["password"])
	}
	f.scripts["autocall.get.task.api.php"] = func(form map[string]string) (int, []byte) {
		return 500, []byte("Internal error: " + echo(form)) // retried (logged), then reported
	}
	f.scripts["autocall.check.api.php"] = func(form map[string]string) (int, []byte) {
		return 200, xmlDoc(`<error code="1">` + echo(form) + `</error>`)
	}
	f.scripts["autocall.detail.api.php"] = func(form map[string]string) (int, []byte) {
		return 200, []byte("garbage " + echo(form))
	}
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c := testClient(t, srv.URL, nil, log)
	var errs []error
	_, err := c.ActiveTasks(context.Background())
	errs = append(errs, err)
	_, err = c.Check(context.Background(), "5", 1)
	errs = append(errs, err)
	_, err = c.Detail(context.Background(), "9")
	errs = append(errs, err)
	_, err = New(Config{BaseURL: "::bad", Username: "u", Password: secret.New(testPassword)}, log)
	errs = append(errs, err)
	for _, err := range errs {
		if err == nil {
			t.Fatal("no error")
		}
		if strings.Contains(err.Error(), hash) || strings.Contains(err.Error(), testPassword) {
			t.Errorf("secret in error: %v", err)
		}
	}
	if !strings.Contains(errs[1].Error(), "[REDACTED]") {
		t.Errorf("the echoed hash was not redacted: %v", errs[1])
	}
	if logs.Len() == 0 {
		t.Fatal("no retry was logged")
	}
	if strings.Contains(logs.String(), hash) || strings.Contains(logs.String(), testPassword) {
		t.Errorf("secret in logs:\n%s", logs.String())
	}
	for _, v := range []string{fmt.Sprintf("%v", c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", *c)} {
		if strings.Contains(v, hash) || strings.Contains(v, testPassword) {
			t.Errorf("secret in a printed Client: %s", v)
		}
	}
}

func TestItems(t *testing.T) {
	f, srv := newFake(t)
	f.scripts["autocall.get.task.api.php"] = func(map[string]string) (int, []byte) {
		return 200, xmlDoc(`<task id="5" taskname="a"/><task><ID>3</ID></task><task id="5"/>`)
	}
	s := NewSource(testClient(t, srv.URL, func(c *Config) { c.TaskIDs = []string{"9", "3"} }, nil))
	got, err := s.Items(context.Background(), []string{"7", "bad key!", "5"})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"3", "5", "7", "9"}; !slices.Equal(got, want) {
		t.Fatalf("items %v, want %v", got, want)
	}
	if s.Name() != "votbox" || s.Kind() != "task" || s.Concurrency() < 1 || len(s.Tables()) != 2 {
		t.Error("source identity")
	}
	if _, err := New(Config{Username: "u", Password: secret.New("p"), TaskIDs: []string{"a/b"}}, nil); err == nil {
		t.Error("a bad configured task id was accepted")
	}
}

func TestDetailMerge(t *testing.T) {
	for _, on := range []bool{false, true} {
		t.Run(fmt.Sprintf("detail=%v", on), func(t *testing.T) {
			f, srv := newFake(t)
			f.scripts["autocall.check.api.php"] = func(map[string]string) (int, []byte) {
				return 200, xmlDoc(`<task id="8" taskstarttime="1736748000"/>` +
					itemAttr(1, 3, ` calldate="13.01.2025 09:05:00" callpay="150"`) + // no callduration: detail adds it
					itemAttr(2, 0, "") + // queued: no detail
					itemAttr(3, 4, ` calldate="13.01.2025 23:59:59" callduration="5" callpay="100" opercallpay="250"`))
			}
			var mu = make(chan struct{}, 1)
			f.scripts["autocall.detail.api.php"] = func(form map[string]string) (int, []byte) {
				mu <- struct{}{}
				defer func() { <-mu }()
				if form["itemid"] == "3" {
					return 200, xmlDoc(`<error code="5">Звонок не найден</error>`)
				}
				return 200, xmlDoc(`<item><id>` + form["itemid"] + `</id><callduration>42</callduration><HangupCause>16</HangupCause></item>`)
			}
			s := NewSource(testClient(t, srv.URL, func(c *Config) { c.Detail = on; c.DetailConcurrency = 2 }, nil))
			lake := openLake(t)
			if _, _, err := extract(t, s, lake, "8"); err != nil {
				t.Fatal(err)
			}
			wantReq := 0
			if on {
				wantReq = 2 // items 1 and 3; 2 is not final
			}
			if n := f.count("autocall.detail.api.php"); n != wantReq {
				t.Errorf("%d detail requests, want %d", n, wantReq)
			}
			rows := readRows(t, lake, "votbox_calls")
			byID := map[string]map[string]any{}
			for _, r := range rows {
				byID[r["item_id"].(string)] = r
			}
			if len(byID) != 3 {
				t.Fatalf("rows %v", rows)
			}
			r1 := byID["1"]
			if on {
				var d map[string]string
				if err := json.Unmarshal([]byte(r1["detail"].(string)), &d); err != nil || d["HangupCause"] != "16" {
					t.Errorf("detail %v (%v)", r1["detail"], err)
				}
				if r1["call_duration"] != int32(42) {
					t.Errorf("call_duration %v, want 42 from detail", r1["call_duration"])
				}
			} else if r1["detail"] != nil || r1["call_duration"] != nil {
				t.Errorf("detail off: detail %v call_duration %v", r1["detail"], r1["call_duration"])
			}
			if byID["2"]["detail"] != nil || byID["3"]["detail"] != nil {
				t.Errorf("detail for queued or failed item: %v %v", byID["2"]["detail"], byID["3"]["detail"])
			}
			// Partition rule: call day in Moscow; no call time → the task's start day.
			if byID["1"]["date"] != "2025-01-13" || byID["2"]["date"] != "2025-01-13" || byID["3"]["date"] != "2025-01-13" {
				t.Errorf("dates %v %v %v", byID["1"]["date"], byID["2"]["date"], byID["3"]["date"])
			}
			if fmt.Sprint(byID["3"]["oper_call_pay"]) != "2.5" && fmt.Sprint(byID["3"]["oper_call_pay"]) != "2.5000" {
				t.Errorf("oper_call_pay %v", byID["3"]["oper_call_pay"])
			}
			calls := readRows(t, lake, "calls")
			if len(calls) != 3 {
				t.Fatalf("calls %d", len(calls))
			}
			for _, c := range calls {
				if c["call_id"] == "3" && (c["status"] != "operator" || c["direction"] != "autocall" || c["account"] != testUser ||
					(fmt.Sprint(c["cost"]) != "3.5" && fmt.Sprint(c["cost"]) != "3.5000")) {
					t.Errorf("calls row %v", c)
				}
			}
		})
	}
}
