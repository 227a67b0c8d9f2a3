package t2

import (
	"encoding/json"
	"fmt"
	"testing"
	"unsafe"

	"github.com/calletl/calletl/extract/httpx"
	"github.com/calletl/calletl/model"
)

// Paged answers keep their body counted in the HTTP budget while fn runs
// and give it back before the next request and when paging ends.
func TestPagedHoldsPageInBudgetDuringFn(t *testing.T) {
	f := newFake(t)
	for i := range 7 {
		f.records = append(f.records, record(i, "2022-07-15"))
	}
	budget := httpx.NewBudget(1 << 20)
	c, _ := newTestClient(t, f, serve(t, f), t.TempDir(), func(cfg *Config) { cfg.HTTP.Budget = budget })
	w, _ := model.DayWindow("2022-07-15", moscow())
	var held []int64
	err := c.CallRecords(t.Context(), w.From, w.To, moscow(), func(p Page) error {
		held = append(held, budget.Held())
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(held) != 3 {
		t.Fatalf("%d pages, want 3", len(held))
	}
	for i, h := range held {
		if h < 200 {
			t.Errorf("page %d: %d bytes held during fn, want its body", i, h)
		}
	}
	if budget.Held() != 0 {
		t.Errorf("%d bytes still held after paging", budget.Held())
	}
}

// splitArray returns the elements as slices of the body (no copy), nil for
// null, and an error for anything but one array.
func TestSplitArray(t *testing.T) {
	for _, tc := range []struct {
		body    string
		want    []string
		wantErr bool
	}{
		{`[]`, nil, false},
		{` null `, nil, false},
		{` [ {"a":1} , 2,"x" ,[3]] `, []string{`{"a":1}`, `2`, `"x"`, `[3]`}, false},
		{`{"a":1}`, nil, true},
		{`[1,2] [3]`, nil, true},
		{`[1,`, nil, true},
		{`null x`, nil, true},
	} {
		body := []byte(tc.body)
		rows, err := splitArray(body)
		if (err != nil) != tc.wantErr {
			t.Errorf("%q: err %v", tc.body, err)
			continue
		}
		if tc.wantErr {
			continue
		}
		if fmt.Sprintf("%q", rows) != fmt.Sprintf("%q", tc.want) {
			t.Errorf("%q: %q, want %q", tc.body, rows, tc.want)
		}
		for _, r := range rows {
			start := uintptr(unsafe.Pointer(unsafe.SliceData(body)))
			if p := uintptr(unsafe.Pointer(unsafe.SliceData(r))); p < start || p >= start+uintptr(len(body)) {
				t.Errorf("%q: element %s is a copy, not a slice of the body", tc.body, r)
			}
		}
		var std []json.RawMessage
		if json.Unmarshal(body, &std) == nil && len(std) != len(rows) {
			t.Errorf("%q: %d elements, encoding/json finds %d", tc.body, len(rows), len(std))
		}
	}
}
