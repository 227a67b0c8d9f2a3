package votbox

import (
	"testing"
	"time"

	"github.com/calletl/calletl/model"
)

func TestKopecks(t *testing.T) {
	tests := []struct {
		in   string
		want model.Money
		err  bool
	}{
		{"0", 0, false},
		{"1", 100, false},         // 0.0100 RUB
		{"150", 15000, false},     // 1.5000 RUB
		{"99999", 9999900, false}, // 999.9900 RUB
		{"12.5", 1250, false},     // 0.1250 RUB
		{"12.34", 1234, false},    // 0.1234 RUB
		{"12,34", 1234, false},    // comma separator
		{"12.345", 0, true},       // finer than 1/100 kopeck
		{"abc", 0, true},
		{"", 0, true},
	}
	for _, tt := range tests {
		got, err := Kopecks(tt.in)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("Kopecks(%q) = %v, %v; want %v, err %v", tt.in, got, err, tt.want, tt.err)
		}
	}
	if m, _ := Kopecks("150"); m.String() != "1.5000" {
		t.Errorf("150 kopecks = %s RUB", m)
	}
}

func TestMap(t *testing.T) {
	task := Task{ID: "77", Start: time.Date(2025, 1, 12, 20, 30, 0, 0, time.UTC)} // 23:30 Moscow, 12 Jan
	mc := MapContext{Business: Moscow, Account: "acme", RunID: "r", ExtractedAt: time.Unix(1, 0).UTC()}
	day := TaskDay(&task, &mc, testRun)
	if day != "2025-01-12" {
		t.Fatalf("task day %s", day)
	}
	it := Item{ID: "1001", PhoneNumber: "89161234567", JobStatus: "4", JobStatusStr: "Соединен с оператором", Attempts: "2",
		CallDate: "13.01.2025 00:30:00", CallDuration: "42", OperCallDuration: "61", CallPay: "150", OperCallPay: "233", RecFileName: "rec/1001.wav"}
	r, c, err := Map(&mc, &task, day, &it)
	if err != nil {
		t.Fatal(err)
	}
	wantTime := time.Date(2025, 1, 12, 21, 30, 0, 0, time.UTC)
	if !r.CallTime.Equal(wantTime) || r.Date != "2025-01-13" || c.Date != "2025-01-13" {
		t.Errorf("call time %v date %s/%s", r.CallTime, r.Date, c.Date)
	}
	if r.Phone != "79161234567" || r.PhoneRaw != "89161234567" || r.JobStatus != 4 || r.JobStatusLabel != "operator" ||
		r.Attempts.V != 2 || r.CallDuration.V != 42 || r.OperCallDuration.V != 61 ||
		r.CallPay.V != 15000 || r.OperCallPay.V != 23300 || r.Detail.Valid {
		t.Errorf("row %+v", r)
	}
	if c.Source != "votbox" || c.Account != "acme" || c.CallID != "1001" || c.Direction != model.Autocall ||
		c.Callee != "79161234567" || c.TalkS.V != 42 || !c.Cost.Valid || c.Cost.V.String() != "3.8300" ||
		c.Currency != "RUB" || c.Status != "operator" || !c.HasRecording || c.RecordingRef != "rec/1001.wav" || !c.StartedAt.Equal(wantTime) {
		t.Errorf("call %+v", c)
	}

	// Business zone UTC: the same call falls on the 12th.
	mcUTC := mc
	mcUTC.Business = time.UTC
	if r, _, _ := Map(&mcUTC, &task, "2025-01-12", &it); r.Date != "2025-01-12" {
		t.Errorf("UTC date %s", r.Date)
	}
	// No call time: the task's start day; no cost at all: NULL cost.
	q := Item{ID: "1002", JobStatus: "0"}
	r, c, err = Map(&mc, &task, day, &q)
	if err != nil || r.Date != day || c.Date != day || !c.StartedAt.IsZero() || c.Cost.Valid || c.Status != "queued" || r.Final() {
		t.Errorf("queued item: %+v %+v %v", r, c, err)
	}
	// Task without a start time: the run's day.
	if d := TaskDay(&Task{}, &mc, testRun); d != testRun.Day() {
		t.Errorf("no start: %s", d)
	}
	for _, bad := range []Item{
		{JobStatus: "3"},
		{ID: "1"},
		{ID: "1", JobStatus: "-1"},
		{ID: "1", JobStatus: "3", CallDate: "2025-01-13 00:30:00"},
		{ID: "1", JobStatus: "3", Attempts: "x"},
		{ID: "1", JobStatus: "3", CallPay: "1e"},
	} {
		if _, _, err := Map(&mc, &task, day, &bad); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
	labels := map[int]string{0: "queued", 1: "in_progress", 2: "error", 3: "success", 4: "operator", 5: "billing_error", 7: "expired", 11: "stopped_by_user", 6: "status_6"}
	for code, want := range labels {
		if JobLabel(code) != want || JobFinal(code) != (code > 1) {
			t.Errorf("status %d: %s final %v", code, JobLabel(code), JobFinal(code))
		}
	}
}
