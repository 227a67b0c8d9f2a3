package mtt

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/calletl/calletl/extract/httpx"
	"github.com/calletl/calletl/sandbox"
	"github.com/calletl/calletl/secret"
)

// A History with idle request slots splits its range among up to
// Concurrency chains (the tail of a run, when other streams are done):
// every row still arrives exactly once, rows sharing a second across
// pages included, and the splits cost at most one request per chain added.
// With Concurrency 1 it never splits: the same rows, sequentially.
func TestHistorySplitsIntoIdleSlots(t *testing.T) {
	emu := sandbox.NewMTT(sandbox.MTTConfig{Seed: 1, Customers: []string{"1"}})
	day := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	var calls []sandbox.MTTCall
	for i := range 600 {
		at := day.Add(time.Duration(i*144) * time.Second)
		if i%50 == 7 {
			at = day.Add(time.Duration((i-1)*144) * time.Second) // shares the previous call's second
		}
		calls = append(calls, sandbox.MTTCall{Customer: "1", Type: "incoming", ConfID: fmt.Sprintf("%08X 00000000 00000000 00000000", i),
			ConnectTime: at, CLI: "74951234567", CLD: "74957654321"})
	}
	emu.AddCalls(calls...)

	type request struct{ from, to string }
	run := func(concurrency int) (rows map[string]int, reqs []request) {
		var mu sync.Mutex
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			var rpc struct {
				Params struct {
					From string `json:"date_from"`
					To   string `json:"date_to"`
				} `json:"params"`
			}
			_ = json.Unmarshal(body, &rpc)
			mu.Lock()
			reqs = append(reqs, request{rpc.Params.From, rpc.Params.To})
			mu.Unlock()
			r.Body = io.NopCloser(bytes.NewReader(body))
			emu.ServeHTTP(w, r)
		}))
		defer srv.Close()
		c, err := New(Config{BaseURL: srv.URL, Username: "u", Password: secret.New("p4ssw0rd"), Customers: []string{"1"}, PageSize: 10,
			HTTP: httpx.Config{Concurrency: concurrency}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		rows = map[string]int{}
		err = c.History(context.Background(), "1", "incoming", day, day.Add(24*time.Hour), func(p Page) error {
			for i := range p.Rows {
				rows[p.Rows[i].H323ConfID]++ // fn is never called by two chains at once
			}
			return nil
		})
		if err != nil {
			t.Fatalf("concurrency %d: %v", concurrency, err)
		}
		return rows, reqs
	}
	check := func(concurrency int, rows map[string]int) {
		if len(rows) != len(calls) {
			t.Errorf("concurrency %d: %d distinct calls, want %d", concurrency, len(rows), len(calls))
		}
		for id, n := range rows {
			if n != 1 {
				t.Errorf("concurrency %d: call %s delivered %d times", concurrency, id, n)
			}
		}
	}
	seqRows, seq := run(1)
	check(1, seqRows)
	last := day.Add(24*time.Hour - time.Second).Format(timeLayout)
	for _, r := range seq {
		if r.to != last {
			t.Fatalf("concurrency 1 split its range: a request up to %s", r.to)
		}
	}
	rows, reqs := run(4)
	check(4, rows)
	ends := map[string]bool{}
	for _, r := range reqs {
		ends[r.to] = true
	}
	if len(ends) < 2 {
		t.Fatalf("concurrency 4 never split: every request up to %v", ends)
	}
	if chains := len(ends); chains > 4 || len(reqs) > len(seq)+chains-1 {
		t.Errorf("%d chains took %d requests; sequentially %d: want at most one more per chain added (and at most 4 chains)", chains, len(reqs), len(seq))
	}
	t.Logf("sequential %d requests; split into %d chains: %d requests", len(seq), len(ends), len(reqs))
}
