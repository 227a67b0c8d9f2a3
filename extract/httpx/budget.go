package httpx

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	"golang.org/x/sync/semaphore"
)

// Budget bounds the bytes of response bodies that every Client sharing it
// holds at once: one Budget per process, set as Config.Budget on every
// source's client, makes memory depend on the budget, not on page sizes or
// how many streams run.
//
// A Do body holds its bytes from the first byte read until Do returns (so
// a CheckFunc that decodes runs under the budget), or, with DoHeld, until
// the caller releases it after decoding the page and handing it to the lake
// writer. A body whose Content-Length is known takes its whole size before
// reading; one without (chunked, gzip) takes the client's recent largest
// body and grows as it is read. A body larger than the whole budget takes
// all of it and so is read alone. Stream bodies are not counted: their
// readers bound their own buffers.
//
// No holder waits for more while holding: a body that must grow and cannot
// at once gives back what it holds and waits for the larger amount. While
// it waits, the bytes it has read are not counted, so the bound can be
// passed by the bodies that outgrow their estimate at the same moment (a
// run's first pages of chunked answers); bodies with a Content-Length never
// pass it.
type Budget struct {
	size    int64
	sem     *semaphore.Weighted
	held    atomic.Int64 // bytes taken now
	peak    atomic.Int64 // most bytes taken at once
	waiting atomic.Int64 // goroutines waiting in Acquire
}

// NewBudget returns a budget of size bytes; nil (no bound) when size <= 0.
func NewBudget(size int64) *Budget {
	if size <= 0 {
		return nil
	}
	return &Budget{size: size, sem: semaphore.NewWeighted(size)}
}

// Size is the budget in bytes.
func (b *Budget) Size() int64 { return b.size }

// Held is the number of bytes taken now.
func (b *Budget) Held() int64 { return b.held.Load() }

// Peak is the largest number of bytes taken at once so far.
func (b *Budget) Peak() int64 { return b.peak.Load() }

// Waiting is the number of goroutines waiting for bytes now.
func (b *Budget) Waiting() int64 { return b.waiting.Load() }

// acquire waits until n bytes (1 <= n <= Size) are free and takes them. It
// returns ctx.Err() when ctx is done first, having taken nothing.
func (b *Budget) acquire(ctx context.Context, n int64) error {
	b.waiting.Add(1)
	err := b.sem.Acquire(ctx, n)
	b.waiting.Add(-1)
	if err != nil {
		return err
	}
	b.took(n)
	return nil
}

// tryAcquire takes n bytes if they are free and nobody waits for bytes.
func (b *Budget) tryAcquire(n int64) bool {
	if !b.sem.TryAcquire(n) {
		return false
	}
	b.took(n)
	return true
}

func (b *Budget) took(n int64) {
	now := b.held.Add(n)
	for {
		p := b.peak.Load()
		if now <= p || b.peak.CompareAndSwap(p, now) {
			return
		}
	}
}

func (b *Budget) release(n int64) {
	b.held.Add(-n)
	b.sem.Release(n)
}

// hold is the share of a Budget that one body holds. Its methods are called
// by one goroutine at a time; Release may be called any number of times.
type hold struct {
	b *Budget // nil: no budget, nothing to count
	n int64
}

// growTo makes h hold min(total, Size) bytes. It never waits while holding:
// when the extra bytes are not free at once it gives back what it holds and
// waits for the whole amount.
func (h *hold) growTo(ctx context.Context, total int64) error {
	if h == nil || h.b == nil {
		return nil
	}
	want := min(total, h.b.size)
	if want <= h.n {
		return nil
	}
	if h.n > 0 && h.b.tryAcquire(want-h.n) {
		h.n = want
		return nil
	}
	h.Release()
	if err := h.b.acquire(ctx, want); err != nil {
		return fmt.Errorf("waiting for %d bytes of the response body budget (%d bytes shared by every source): %w", want, h.b.size, err)
	}
	h.n = want
	return nil
}

// shrinkTo gives back what h holds beyond total bytes.
func (h *hold) shrinkTo(total int64) {
	if h == nil || h.b == nil || total >= h.n {
		return
	}
	h.b.release(h.n - total)
	h.n = total
}

// Release gives back everything h holds.
func (h *hold) Release() {
	if h == nil || h.b == nil || h.n == 0 {
		return
	}
	h.b.release(h.n)
	h.n = 0
}

// Estimates for bodies without a Content-Length.
const (
	minBodyEstimate = 64 << 10 // first reservation of a client's first body
	bodyProbe       = 512      // read when the buffer is full, to find EOF without growing
)

// bodyEstimate is a client's recent largest body size: the reservation for
// a body without Content-Length. Each body sets it to max(its size, 7/8 of
// the estimate), so one large answer is forgotten after some smaller ones.
type bodyEstimate struct{ v atomic.Int64 }

func (e *bodyEstimate) get() int64 { return max(e.v.Load(), minBodyEstimate) }

func (e *bodyEstimate) observe(n int64) {
	for {
		old := e.v.Load()
		next := max(n, old-old/8)
		if next == old || e.v.CompareAndSwap(old, next) {
			return
		}
	}
}

// readBody reads r, of length bytes (-1: unknown), up to limit+1 bytes, and
// returns it with the budget share it holds (the buffer's capacity, at most
// the budget's size). The caller releases it. A known length takes its
// bytes before reading; an unknown one reserves the client's estimate and
// grows as it reads. On error nothing is held.
func (c *Client) readBody(ctx context.Context, r io.Reader, length, limit int64) ([]byte, *hold, error) {
	h := &hold{b: c.cfg.Budget}
	var buf []byte
	if length >= 0 {
		length = min(length, limit+1)
		if err := h.growTo(ctx, length); err != nil {
			return nil, nil, err
		}
		buf = make([]byte, 0, length)
	} else if err := h.growTo(ctx, min(c.estimate.get(), limit+1)); err != nil {
		return nil, nil, err
	}
	var probe [bodyProbe]byte
	for {
		if len(buf) == cap(buf) {
			if int64(len(buf)) > limit {
				break // too large: the caller says so
			}
			// Full: read a little aside first, so that a body ending
			// exactly here (a Content-Length, a good estimate) needs no
			// larger buffer.
			n, err := r.Read(probe[:min(bodyProbe, int(limit+1)-len(buf))])
			if n > 0 {
				next := min(max(2*int64(cap(buf)), 4096), limit+1)
				if err := h.growTo(ctx, next); err != nil {
					return nil, nil, err
				}
				// make, not append: append would round the capacity up,
				// and the budget counts capacity.
				grown := make([]byte, len(buf), next)
				copy(grown, buf)
				buf = append(grown, probe[:n]...)
			}
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				h.Release()
				return nil, nil, err
			}
			continue
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			h.Release()
			return nil, nil, err
		}
	}
	h.shrinkTo(int64(cap(buf)))
	c.estimate.observe(int64(len(buf)))
	return buf, h, nil
}

// DoHeld is Do for a caller that keeps the body, or what it decoded from
// it, after Do returns: the body's bytes stay counted in Config.Budget
// until the caller calls release (once the page is decoded and handed to
// the lake writer). release is never nil, may be called more than once,
// and must be called on every path. Between DoHeld and release the caller
// must not send another request through a client sharing the Budget: a
// holder that waits for more could wait for itself. Without a Budget it is
// Do with a release that does nothing.
func (c *Client) DoHeld(ctx context.Context, op string, newReq NewRequestFunc, check CheckFunc) (body []byte, release func(), err error) {
	if check == nil {
		check = defaultCheck
	}
	var h *hold
	err = c.retry(ctx, op, func(ctx context.Context) attempt {
		var a attempt
		body, a = c.doOnce(ctx, op, newReq, check)
		h = a.hold
		return a
	})
	if err != nil {
		return nil, func() {}, err
	}
	return body, sync.OnceFunc(h.Release), nil
}
