package voicebox

import (
	"errors"
	"net/http/httptest"
	"testing"

	"github.com/calletl/calletl/extract/httpx"
)

var errStopList = errors.New("stop")

// List keeps each page's body counted in the HTTP budget while fn runs and
// gives it back before the next request and on every return.
func TestListHoldsPageInBudgetDuringFn(t *testing.T) {
	for _, stopAt := range []int{-1, 1} {
		srv := httptest.NewServer(&pagingFake{n: 25})
		defer srv.Close()
		cfg := testConfig(srv.URL)
		cfg.Customers = []string{"1"}
		budget := httpx.NewBudget(1 << 20)
		cfg.HTTP.Budget = budget
		c := newClient(t, cfg, nil)
		var held []int64
		err := c.List(t.Context(), "1", ListCallHistory, func(p Page) error {
			held = append(held, budget.Held())
			if p.N == stopAt {
				return errStopList
			}
			return nil
		})
		if stopAt < 0 && err != nil || stopAt >= 0 && err != errStopList {
			t.Fatalf("stop at %d: err %v", stopAt, err)
		}
		want := 3
		if stopAt >= 0 {
			want = stopAt + 1
		}
		if len(held) != want {
			t.Errorf("stop at %d: %d pages, want %d", stopAt, len(held), want)
		}
		for i, h := range held {
			if h < 100 {
				t.Errorf("stop at %d: page %d: %d bytes held during fn, want its body", stopAt, i, h)
			}
		}
		if budget.Held() != 0 {
			t.Errorf("stop at %d: %d bytes still held after List", stopAt, budget.Held())
		}
	}
}
