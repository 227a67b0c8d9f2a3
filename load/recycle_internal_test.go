package load

import (
	"testing"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

// The recycler hands a freed buffer out again (same memory, zeroed like a
// fresh one), counts by class capacity what it holds of the base
// allocator, in use or free, and returns everything on drain.
func TestRecycler(t *testing.T) {
	base := memory.NewCheckedAllocator(memory.NewGoAllocator())
	r := newRecycler(base)

	tests := []struct {
		name       string
		size, next int   // first allocation, then one of the same class after Free
		class      int64 // what the recycler holds for it
		reused     bool
	}{
		{"tiny", 1, 64, 64, true},
		{"class boundary", 1024, 513, 1024, true},
		{"just over a class", 1025, 2048, 2048, true},
		{"next class is not reused", 1000, 1025, 1024, false},
		{"beyond the largest class", 1<<maxClassShift + 1, 1<<maxClassShift + 1, 1<<maxClassShift + 1, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := r.Allocate(tc.size)
			if len(b) != tc.size {
				t.Fatalf("len = %d, want %d", len(b), tc.size)
			}
			if got := r.held.Load(); got != tc.class {
				t.Errorf("held %d in use, want %d", got, tc.class)
			}
			for i := range b {
				b[i] = 0xAA
			}
			r.Free(b)
			if got := r.held.Load(); got != tc.class && tc.size <= 1<<maxClassShift {
				t.Errorf("held %d once free, want %d (kept for reuse)", got, tc.class)
			}
			c := r.Allocate(tc.next)
			if same := unsafe.SliceData(c) == unsafe.SliceData(b); same != tc.reused {
				t.Errorf("reused = %v, want %v", same, tc.reused)
			}
			for i, v := range c {
				if v != 0 {
					t.Fatalf("byte %d of a reused buffer is %#x, want 0", i, v)
				}
			}
			r.Free(c)
			r.drain()
			if got := r.held.Load(); got != 0 {
				t.Errorf("held %d after drain, want 0", got)
			}
			base.AssertSize(t, 0)
		})
	}
}

// Reallocate grows in place within the class, zeroing what it adds, and
// moves to a larger class (copying) beyond it.
func TestRecyclerReallocate(t *testing.T) {
	base := memory.NewCheckedAllocator(memory.NewGoAllocator())
	r := newRecycler(base)
	b := r.Allocate(100)
	for i := range b {
		b[i] = byte(i)
	}
	b = r.Reallocate(60, b) // shrink
	b = r.Reallocate(128, b)
	for i, v := range b[60:] {
		if v != 0 {
			t.Fatalf("byte %d after growing in place is %#x, want 0", 60+i, v)
		}
	}
	if r.held.Load() != 128 {
		t.Errorf("held %d, want 128", r.held.Load())
	}
	b = r.Reallocate(129, b)
	if b[59] != 59 || len(b) != 129 || cap(b) != 256 {
		t.Errorf("moved buffer: b[59] = %d, len %d, cap %d; want 59, 129, 256", b[59], len(b), cap(b))
	}
	if r.held.Load() != 128+256 {
		t.Errorf("held %d, want %d (the old buffer is kept free)", r.held.Load(), 128+256)
	}
	r.Free(b)
	r.drain()
	base.AssertSize(t, 0)
}
