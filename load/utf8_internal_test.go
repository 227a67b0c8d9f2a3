package load

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/calletl/calletl/model"
)

// callsBatch returns one batch of n canonical calls; bad makes every 100th
// caller_raw invalid UTF-8.
func callsBatch(n int, bad bool) *array.RecordBuilder {
	b := array.NewRecordBuilder(memory.DefaultAllocator, Calls.Schema)
	start := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	for i := range n {
		c := model.Call{Account: "110011256", CallID: fmt.Sprintf("2B23D937 BD9BCF86 E89D407D %08X", i), Direction: model.Outgoing,
			StartedAt: start.Add(time.Duration(i) * time.Second), Caller: fmt.Sprintf("7495%07d", i), CallerRaw: fmt.Sprintf("8495%07d", i),
			Callee: "74950000000", CalleeRaw: "74950000000", Currency: "RUB", Status: "answered", DisconnectLabel: "normal clearing",
			RecordingRef: fmt.Sprintf("rec/%d", i), RunID: "20261120T030000Z-abcd", ExtractedAt: start}
		if bad && i%100 == 0 {
			c.CallerRaw += "\xff"
		}
		Calls.Append(b, &c)
	}
	return b
}

// BenchmarkRepairStrings measures the lake writer's UTF-8 rule on one batch
// of DefaultBatchRows calls: all valid (the check alone: what every batch
// pays) and with 1% invalid values (the column is rebuilt).
func BenchmarkRepairStrings(b *testing.B) {
	for _, bad := range []bool{false, true} {
		b.Run(fmt.Sprintf("invalid=%v", bad), func(b *testing.B) {
			rb := callsBatch(DefaultBatchRows, bad)
			defer rb.Release()
			rec := rb.NewRecordBatch()
			defer rec.Release()
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				rec.Retain()
				out, repairs := repairStrings(memory.DefaultAllocator, rec, 0, nil)
				if bad != (len(repairs) > 0) {
					b.Fatalf("%d repairs", len(repairs))
				}
				out.Release()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/DefaultBatchRows, "ns/row")
		})
	}
}

// TestValidStrings: the one-pass check agrees with checking every value on
// its own, also where valid characters are cut between values (the bytes
// of the column are valid, its values are not) and on sliced arrays.
func TestValidStrings(t *testing.T) {
	frags := []string{"", "a", "П", "\xd0", "\x9f", "\xe2\x82", "\xac", "12345678901234567890123456789012345", "ё\x00", "\xff", "\xf0\x9f\x98\x80"}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		n := 1 + rng.IntN(6)
		vals := make([]string, n)
		for i := range vals {
			for range rng.IntN(3) {
				vals[i] += frags[rng.IntN(len(frags))]
			}
		}
		b := array.NewStringBuilder(memory.DefaultAllocator)
		b.AppendValues(vals, nil)
		arr := b.NewStringArray()
		b.Release()
		lo := rng.IntN(n)
		hi := lo + rng.IntN(n-lo+1)
		sl := array.NewSlice(arr, int64(lo), int64(hi)).(*array.String)
		want := true
		for _, v := range vals[lo:hi] {
			want = want && utf8.ValidString(v)
		}
		if got := validStrings(sl); got != want {
			t.Fatalf("validStrings(%q) = %v, want %v", vals[lo:hi], got, want)
		}
		sl.Release()
		arr.Release()
	}
}
