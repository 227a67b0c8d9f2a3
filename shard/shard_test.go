package shard

import (
	"fmt"
	"testing"
)

// TestOfGolden pins the assignment (values checked against an independent
// FNV-1a-64 in Python: offset 0xcbf29ce484222325, prime 0x100000001b3): it is an on-disk contract (a change
// would move every stream to another shard for no reason).
func TestOfGolden(t *testing.T) {
	for _, tc := range []struct {
		key  string
		n    int
		want int
	}{
		{"mtt/dialed/110011256", 3, 2},
		{"mtt/received/110011256", 3, 2},
		{"mtt/dialed/110011257", 4, 3},
		{"votbox/task/1001", 2, 0},
		{"mtt/snapshot", 5, 3},
		{"t2", 3, 1},
		{"mtt/call/abc-123", 7, 2},
		{"anything", 1, 0},
	} {
		if got := Of(tc.key, tc.n); got != tc.want {
			t.Errorf("Of(%q, %d) = %d, want %d", tc.key, tc.n, got, tc.want)
		}
	}
}

// TestEveryKeyOnExactlyOneShard: for n = 1..7 every key is owned by
// exactly one of the n shards.
func TestEveryKeyOnExactlyOneShard(t *testing.T) {
	var keys [][]string
	for i := range 200 {
		keys = append(keys, []string{"mtt", "dialed", fmt.Sprint(110011000 + i)})
		keys = append(keys, []string{"votbox", "task", fmt.Sprint(i)})
		keys = append(keys, []string{"t2", "call_records", fmt.Sprint(i)})
	}
	for n := 1; n <= 7; n++ {
		counts := make([]int, n)
		for _, k := range keys {
			owners := 0
			for i := range n {
				a := Assigner{Shard: Shard{Index: i, Count: n}, Pinned: map[string]bool{"t2": true}}
				if a.Owns(k[0], k[1:]...) {
					owners++
					counts[i]++
				}
			}
			if owners != 1 {
				t.Fatalf("n=%d: key %v owned by %d shards, want 1", n, k, owners)
			}
		}
		if n > 1 {
			for i, c := range counts {
				if c == 0 {
					t.Errorf("n=%d: shard %d owns nothing of %d keys", n, i, len(keys))
				}
			}
		}
	}
}

// TestPinnedSourceOnOneShard: every key of a pinned source (T2) lands on
// the shard of its name.
func TestPinnedSourceOnOneShard(t *testing.T) {
	pinned := map[string]bool{"t2": true}
	for n := 2; n <= 7; n++ {
		want := Of("t2", n)
		for _, parts := range [][]string{{"call_records", "pbx"}, {"missed", "pbx"}, {"daily_stats", "pbx"}, {"snapshot"}, {"call", "c-1"}, {"call", "c-2"}} {
			for i := range n {
				a := Assigner{Shard: Shard{Index: i, Count: n}, Pinned: pinned}
				if a.Owns("t2", parts...) != (i == want) {
					t.Errorf("n=%d shard %d: t2 %v owned=%v, want shard %d", n, i, parts, !(i == want), want)
				}
			}
		}
	}
}

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Shard
		bad  bool
	}{
		{"0/1", Shard{0, 1}, false},
		{"2/3", Shard{2, 3}, false},
		{" 1/2 ", Shard{1, 2}, false},
		{"3/3", Shard{}, true},
		{"-1/3", Shard{}, true},
		{"1/0", Shard{}, true},
		{"1", Shard{}, true},
		{"a/b", Shard{}, true},
		{"", Shard{}, true},
	} {
		got, err := Parse(tc.in)
		if (err != nil) != tc.bad || got != tc.want {
			t.Errorf("Parse(%q) = %v, %v; want %v, bad=%v", tc.in, got, err, tc.want, tc.bad)
		}
	}
}
