package mtt

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/calletl/calletl/extract/httpx"
	"github.com/calletl/calletl/sandbox"
)

// History keeps each page's body counted in the HTTP budget while fn runs
// (its rows share the body's memory) and gives it back before the next
// request and on every return.
func TestHistoryHoldsPageInBudgetDuringFn(t *testing.T) {
	emu := sandbox.NewMTT(sandbox.MTTConfig{Seed: 1, Customers: []string{"1"}})
	day := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	var calls []sandbox.MTTCall
	for i := range 25 {
		calls = append(calls, sandbox.MTTCall{Customer: "1", Type: "incoming", ConfID: fmt.Sprintf("%08X 00000000 00000000 00000000", i),
			ConnectTime: day.Add(time.Duration(i) * time.Minute), CLI: "74951234567", CLD: "74957654321"})
	}
	emu.AddCalls(calls...)
	for _, stop := range []bool{false, true} {
		c := testClient(t, emu, 10, "1")
		budget := httpx.NewBudget(1 << 20)
		c.http = httpx.New(httpx.Config{Budget: budget})
		var held []int64
		errStop := errors.New("stop")
		err := c.History(context.Background(), "1", "incoming", day, day.Add(24*time.Hour), func(p Page) error {
			held = append(held, budget.Held())
			if stop && p.N == 2 {
				return errStop
			}
			return nil
		})
		if stop != errors.Is(err, errStop) || !stop && err != nil {
			t.Fatalf("stop %v: err %v", stop, err)
		}
		for i, h := range held {
			if h < 1000 { // a 10-row page is well over 1000 bytes
				t.Errorf("stop %v: page %d: %d bytes held during fn, want its body", stop, i+1, h)
			}
		}
		if want := map[bool]int{false: 3, true: 2}[stop]; len(held) != want {
			t.Errorf("stop %v: %d pages, want %d", stop, len(held), want)
		}
		if budget.Held() != 0 {
			t.Errorf("stop %v: %d bytes still held after History returned", stop, budget.Held())
		}
	}
}
