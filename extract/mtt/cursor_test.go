package mtt

import (
	"slices"
	"testing"
	"time"
)

// historyCursor drops the rows of the previous cursor's second, wherever
// they are on the page, keeps the others in order, and remembers the rows
// at the next cursor's second.
func TestHistoryCursorFreshRows(t *testing.T) {
	row := func(id, at string) Row { return Row{H323ConfID: id, ConnectTime: "2026-10-01 " + at} }
	for _, tc := range []struct {
		name     string
		seen     []string
		rows     []Row
		want     []string // fresh ids
		wantSeen []string
	}{
		{"first page", nil,
			[]Row{row("a", "10:00:00"), row("b", "10:00:01"), row("c", "10:00:01")},
			[]string{"a", "b", "c"}, []string{"b", "c"}},
		{"seen rows first", []string{"b", "c"},
			[]Row{row("b", "10:00:01"), row("c", "10:00:01"), row("d", "10:00:02")},
			[]string{"d"}, []string{"d"}},
		{"seen rows not first", []string{"b", "c"},
			[]Row{row("x", "10:00:01"), row("c", "10:00:01"), row("b", "10:00:01"), row("d", "10:00:02")},
			[]string{"x", "d"}, []string{"d"}},
		{"a seen row among new ones", []string{"b"},
			[]Row{row("b", "10:00:01"), row("y", "10:00:01"), row("b", "10:00:01"), row("e", "10:00:03")},
			[]string{"y", "e"}, []string{"e"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &Client{cfg: Config{PageSize: len(tc.rows), Vendor: time.UTC}}
			seen := map[string]struct{}{}
			for _, id := range tc.seen {
				seen[id] = struct{}{}
			}
			rows := slices.Clone(tc.rows)
			fresh, next, err := c.historyCursor(historyAnswer{rows: rows, op: "test"}, seen)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range fresh {
				got = append(got, r.H323ConfID)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("fresh %v, want %v", got, tc.want)
			}
			if want, _ := parseTime(tc.rows[len(tc.rows)-1].ConnectTime, time.UTC); !next.Equal(want) {
				t.Errorf("next cursor %v, want %v", next, want)
			}
			var gotSeen []string
			for id := range seen {
				gotSeen = append(gotSeen, id)
			}
			slices.Sort(gotSeen)
			if !slices.Equal(gotSeen, tc.wantSeen) {
				t.Errorf("seen %v, want %v", gotSeen, tc.wantSeen)
			}
			for i := range rows {
				if rows[i].H323ConfID != tc.rows[i].H323ConfID || rows[i].ConnectTime != tc.rows[i].ConnectTime {
					t.Errorf("row %d of the page modified: %+v", i, rows[i])
				}
			}
		})
	}
}
