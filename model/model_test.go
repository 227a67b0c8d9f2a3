package model

import (
	"testing"
	"time"
)

func TestNewReject(t *testing.T) {
	moscow := time.FixedZone("MSK", 3*3600)
	run := Run{ID: "20261121T021500Z-3f9a", Mode: "run", StartedAt: time.Date(2026, 11, 21, 5, 15, 0, 0, moscow), Location: moscow}
	at := time.Date(2026, 11, 21, 2, 15, 0, 0, time.UTC)
	w, err := DayWindow("2026-11-20", moscow)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		origin Origin
		day    string
		want   Reject
	}{
		{"window", Origin{Key: StreamKey{Source: "mtt", Stream: "dialed", Account: "110011256"}, Window: w.String(), Endpoint: "getServiceHistoryByCustomer"}, w.Day,
			Reject{Source: "mtt", Date: "2026-11-20", Stream: "dialed", Account: "110011256", Endpoint: "getServiceHistoryByCustomer",
				Window: "2026-11-20 [2026-11-19T21:00:00Z, 2026-11-20T21:00:00Z)", Reason: "bad row", Raw: `{"a":1}`, RunID: run.ID, RejectedAt: at}},
		{"item", Origin{Key: StreamKey{Source: "votbox", Stream: "task", Account: "user"}, Window: "task 7", Endpoint: "autocall.check"}, "2026-11-18",
			Reject{Source: "votbox", Date: "2026-11-18", Stream: "task", Account: "user", Endpoint: "autocall.check",
				Window: "task 7", Reason: "bad row", Raw: `{"a":1}`, RunID: run.ID, RejectedAt: at}},
		{"snapshot", Origin{Key: StreamKey{Source: "t2", Stream: "employees", Account: "t2"}, Endpoint: "employees"}, run.Day(),
			Reject{Source: "t2", Date: "2026-11-21", Stream: "employees", Account: "t2", Endpoint: "employees",
				Reason: "bad row", Raw: `{"a":1}`, RunID: run.ID, RejectedAt: at}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := NewReject(run, tc.origin, tc.day, "bad row", `{"a":1}`)
			if *got != tc.want {
				t.Errorf("NewReject:\n got %+v\nwant %+v", *got, tc.want)
			}
			if got.RejectedAt.Location() != time.UTC {
				t.Errorf("RejectedAt in %v, want UTC", got.RejectedAt.Location())
			}
		})
	}
}
