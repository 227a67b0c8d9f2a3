package load

import (
	"math/bits"
	"sync"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Size classes of the recycler: powers of two from 64 B (Arrow's
// alignment) to 64 MiB; larger buffers go to the base allocator and back.
const (
	minClassShift = 6
	maxClassShift = 26
)

// recycler is the memory.Allocator of one partition: its record builder,
// the batches the encoder has not released yet and its Parquet writer all
// allocate from it. A freed buffer is kept, by power-of-two size class, and
// handed out again: the builder's next batch is built in the buffers of a
// batch already encoded, and the writer's page buffers are reused from page
// to page, instead of the Go allocator zeroing fresh memory and the
// collector reclaiming the old (about a gigabyte per million rows).
//
// held is what the partition holds of the base allocator: every buffer in
// use (by capacity, class-rounded) plus the free ones, which is what the
// transaction's byte bound counts. drain returns the free buffers.
//
// Reused buffers are zeroed like fresh ones from the Go allocator, so
// nothing can depend on which it got. The builder allocates in the
// transaction's goroutine and the encoder frees in its own: a mutex guards
// the lists.
type recycler struct {
	base memory.Allocator
	held atomic.Int64

	mu   sync.Mutex
	free [maxClassShift + 1][][]byte
}

func newRecycler(base memory.Allocator) *recycler { return &recycler{base: base} }

// class returns the size class of a buffer of size bytes, or -1 when it
// is larger than the largest class.
func class(size int) int {
	if size <= 1<<minClassShift {
		return minClassShift
	}
	c := bits.Len(uint(size - 1))
	if c > maxClassShift {
		return -1
	}
	return c
}

// Allocate returns a zeroed buffer of size bytes whose capacity is its
// size class.
func (r *recycler) Allocate(size int) []byte {
	c := class(size)
	if c < 0 {
		b := r.base.Allocate(size)
		r.held.Add(int64(cap(b)))
		return b
	}
	r.mu.Lock()
	list := r.free[c]
	if n := len(list); n > 0 {
		b := list[n-1]
		list[n-1] = nil
		r.free[c] = list[:n-1]
		r.mu.Unlock()
		b = b[:size]
		clear(b)
		return b
	}
	r.mu.Unlock()
	n := 1 << c
	b := r.base.Allocate(n)[:n:n]
	r.held.Add(int64(n))
	return b[:size]
}

// Reallocate resizes b, in place when its capacity allows.
func (r *recycler) Reallocate(size int, b []byte) []byte {
	if size <= cap(b) {
		old := len(b)
		b = b[:size]
		if size > old {
			clear(b[old:]) // as a fresh buffer would be
		}
		return b
	}
	nb := r.Allocate(size)
	copy(nb, b)
	r.Free(b)
	return nb
}

// Free keeps b for reuse, or returns it to the base allocator when it is
// larger than the largest class.
func (r *recycler) Free(b []byte) {
	n := cap(b)
	if n == 0 {
		return
	}
	if n > 1<<maxClassShift {
		r.held.Add(-int64(n))
		r.base.Free(b[:n])
		return
	}
	c := bits.Len(uint(n)) - 1
	r.mu.Lock()
	r.free[c] = append(r.free[c], b[:n])
	r.mu.Unlock()
}

// drain returns every free buffer to the base allocator.
func (r *recycler) drain() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for c, list := range r.free {
		for i, b := range list {
			r.held.Add(-int64(cap(b)))
			r.base.Free(b)
			list[i] = nil
		}
		r.free[c] = list[:0]
	}
}
