package state

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/calletl/calletl/storage"
)

// openLease opens a Store on sh's object store with a short lease (ttl,
// a clock skew of 1ms) and a named holder.
func openLease(t *testing.T, sh *shared, holder string, ttl time.Duration) *Store {
	t.Helper()
	s, err := OpenStorage(t.Context(), sh.obj, ObjectOptions{Name: "test", Holder: holder, LeaseTTL: ttl, ClockSkew: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func mustAcquire(t *testing.T, s *Store, label string) (context.Context, func()) {
	t.Helper()
	ctx, release, err := s.Acquire(t.Context(), label)
	if err != nil {
		t.Fatalf("acquire %q: %v", label, err)
	}
	t.Cleanup(release)
	return ctx, release
}

func wantLocked(t *testing.T, s *Store, label, what string) {
	t.Helper()
	_, release, err := s.Acquire(t.Context(), label)
	if err == nil {
		release()
		t.Errorf("%s: acquired, want ErrLocked", what)
		return
	}
	if !errors.Is(err, ErrLocked) {
		t.Errorf("%s: %v, want ErrLocked", what, err)
	}
}

// TestAcquireExcludes: on every backend, the same shard cannot run twice,
// a whole run excludes the shards and the shards a whole run, and a
// release lets the next one in. Two Stores stand for two processes.
func TestAcquireExcludes(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			sh := b.new(t)
			var p1, p2 *Store
			if b.obj {
				p1, p2 = openLease(t, sh, "p1", time.Minute), openLease(t, sh, "p2", time.Minute)
			} else {
				p1, p2 = mustOpen(t, sh), mustOpen(t, sh)
			}
			_, u0 := mustAcquire(t, p1, "s0of2")
			_, u1 := mustAcquire(t, p2, "s1of2")
			wantLocked(t, p2, "s0of2", "the same shard in another process")
			wantLocked(t, p1, "s1of2", "the same shard again")
			wantLocked(t, p2, "", "a whole run alongside shards")
			u0()
			wantLocked(t, p2, "", "a whole run alongside one shard")
			_, u0 = mustAcquire(t, p2, "s0of2") // released: the next one takes it
			u0()
			u1()
			_, u := mustAcquire(t, p1, "")
			wantLocked(t, p2, "", "a second whole run")
			wantLocked(t, p2, "s0of2", "a shard alongside a whole run")
			u()
			_, u = mustAcquire(t, p2, "s0of2")
			u()
			if _, _, err := p1.Acquire(t.Context(), "../x"); err == nil || errors.Is(err, ErrLocked) {
				t.Errorf("a label with a path in it: %v", err)
			}
		})
	}
}

// TestLeaseLeftByACrashedHolder: a lease whose holder stopped renewing it
// (crashed) is taken over once expired; a live one is not.
func TestLeaseLeftByACrashedHolder(t *testing.T) {
	tests := []struct {
		name    string
		doc     leaseDoc
		label   string // acquired
		wantErr bool
	}{
		{"expired shard lease", leaseDoc{Holder: "dead", Expires: time.Now().Add(-time.Minute)}, "s0of2", false},
		{"expired whole-run lease", leaseDoc{Holder: "dead", Expires: time.Now().Add(-time.Minute)}, "", false},
		{"released lease", leaseDoc{Holder: "gone", Expires: time.Now().Add(time.Hour), Released: true}, "s0of2", false},
		{"live shard lease", leaseDoc{Holder: "alive", Expires: time.Now().Add(time.Hour)}, "s0of2", true},
		{"live whole-run lease", leaseDoc{Holder: "alive", Expires: time.Now().Add(time.Hour)}, "", true},
	}
	for _, b := range backends(t) {
		if !b.obj {
			continue
		}
		t.Run(b.name, func(t *testing.T) {
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					sh := b.new(t)
					key := "lock"
					if tt.label != "" {
						key += "." + tt.label
					}
					raw, _ := json.Marshal(tt.doc)
					if _, err := sh.obj.Put(t.Context(), key, bytes.NewReader(raw), ""); err != nil {
						t.Fatal(err)
					}
					s := openLease(t, sh, "me", time.Minute)
					_, release, err := s.Acquire(t.Context(), tt.label)
					if tt.wantErr {
						if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), tt.doc.Holder) {
							t.Errorf("acquire: %v, want ErrLocked naming %s", err, tt.doc.Holder)
						}
						return
					}
					if err != nil {
						t.Fatalf("acquire: %v", err)
					}
					defer release()
					wantLocked(t, openLease(t, sh, "other", time.Minute), tt.label, "after the takeover")
				})
			}
		})
	}
}

// TestLeaseRenewalKeepsIt: a holder's lease, renewed every TTL/3, stays
// its own well past the TTL.
func TestLeaseRenewalKeepsIt(t *testing.T) {
	for _, b := range backends(t) {
		if !b.obj {
			continue
		}
		t.Run(b.name, func(t *testing.T) {
			sh := b.new(t)
			// A TTL well above a loaded CI machine's scheduling stalls: a
			// renewal late by more than TTL/3·2 would lose the lease.
			s := openLease(t, sh, "holder", 1200*time.Millisecond)
			renewals := make(chan struct{}, 100)
			s.obj.beforeRenew = func() { renewals <- struct{}{} }
			ctx, release := mustAcquire(t, s, "s0of1")
			for range 5 { // the 5th renewal starts after the 4th is done: past the TTL
				select {
				case <-renewals:
				case <-ctx.Done():
					t.Fatalf("lease lost while renewing: %v", context.Cause(ctx))
				}
			}
			wantLocked(t, openLease(t, sh, "other", 1200*time.Millisecond), "s0of1", "after renewals past the TTL")
			if err := context.Cause(ctx); err != nil {
				t.Errorf("the holder's context: %v", err)
			}
			release()
			if ctx.Err() == nil {
				t.Error("release did not cancel the lease's context")
			}
		})
	}
}

// TestLeaseLost: a holder whose renewal is paused past the expiry, or
// whose lease another process replaced, has its context cancelled with
// ErrLeaseLost; the process that took the lease keeps it, also after the
// old holder's release.
func TestLeaseLost(t *testing.T) {
	tests := []struct {
		name string
		ttl  time.Duration
		// steal takes the lease while the holder's renewal is paused.
		steal func(t *testing.T, sh *shared) (release func())
		want  string
	}{
		{"expired and taken over", 100 * time.Millisecond, func(t *testing.T, sh *shared) func() {
			thief := openLease(t, sh, "thief", time.Minute)
			for {
				_, release, err := thief.Acquire(t.Context(), "s0of2")
				if err == nil {
					return release
				}
				if !errors.Is(err, ErrLocked) {
					t.Fatal(err)
				}
				time.Sleep(10 * time.Millisecond)
			}
		}, "not renewed before it expired"},
		// A TTL long enough that the holder resumes before its expiry.
		{"replaced by a process whose clock runs ahead", 3 * time.Second, func(t *testing.T, sh *shared) func() {
			raw, _ := json.Marshal(leaseDoc{Holder: "thief", Expires: time.Now().Add(time.Hour)})
			if _, err := sh.obj.Replace(t.Context(), "lock.s0of2", bytes.NewReader(raw), storage.Unconditional()); err != nil {
				t.Fatal(err)
			}
			return func() {}
		}, "was replaced by another process"},
	}
	for _, b := range backends(t) {
		if !b.obj {
			continue
		}
		t.Run(b.name, func(t *testing.T) {
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					sh := b.new(t)
					s := openLease(t, sh, "holder", tt.ttl)
					paused, resume := make(chan struct{}), make(chan struct{})
					var once atomic.Bool
					s.obj.beforeRenew = func() {
						if once.CompareAndSwap(false, true) {
							close(paused)
							<-resume
						}
					}
					ctx, release := mustAcquire(t, s, "s0of2")
					<-paused
					thiefRelease := tt.steal(t, sh)
					defer thiefRelease()
					if ctx.Err() != nil {
						t.Fatalf("cancelled while the renewal was paused: %v", context.Cause(ctx))
					}
					close(resume)
					<-ctx.Done()
					cause := context.Cause(ctx)
					if !errors.Is(cause, ErrLeaseLost) || !strings.Contains(cause.Error(), tt.want) {
						t.Errorf("holder's context cause: %v, want ErrLeaseLost saying %q", cause, tt.want)
					}
					release() // must not release the thief's lease
					wantLocked(t, openLease(t, sh, "third", time.Minute), "s0of2", "the thief's lease after the old holder's release")
				})
			}
		})
	}
}

// TestAcquireRaceWholeAgainstShard: a whole run and a shard starting at
// the same moment, round after round: never do both get in (both may be
// refused). Before the exclusion checks after taking the lease, both ran.
func TestAcquireRaceWholeAgainstShard(t *testing.T) {
	for _, b := range backends(t) {
		if !b.obj {
			continue
		}
		t.Run(b.name, func(t *testing.T) {
			sh := b.new(t)
			whole, shard := openLease(t, sh, "whole", time.Minute), openLease(t, sh, "shard", time.Minute)
			both := 0
			for range 15 {
				var wg sync.WaitGroup
				var errW, errS error
				var relW, relS func()
				start := make(chan struct{})
				wg.Go(func() { <-start; _, relW, errW = whole.Acquire(t.Context(), "") })
				wg.Go(func() { <-start; _, relS, errS = shard.Acquire(t.Context(), "s1of3") })
				close(start)
				wg.Wait()
				for _, err := range []error{errW, errS} {
					if err != nil && !errors.Is(err, ErrLocked) {
						t.Fatal(err)
					}
				}
				if errW == nil && errS == nil {
					both++
				}
				if relW != nil {
					relW()
				}
				if relS != nil {
					relS()
				}
			}
			if both > 0 {
				t.Errorf("a whole run and a shard both got in %d times of 15", both)
			}
		})
	}
}

// unreachable is a store whose writes fail while down is set, as an S3
// endpoint cut off from the holder.
type unreachable struct {
	storage.Store
	down atomic.Bool
}

func (u *unreachable) Replace(ctx context.Context, key string, r io.Reader, cond storage.Cond) (storage.Info, error) {
	if u.down.Load() {
		return storage.Info{}, errors.New("connection refused")
	}
	return u.Store.Replace(ctx, key, r, cond)
}

// TestLeaseNotRenewableUntilExpiry: a holder that cannot reach the store
// retries its renewal and, at the expiry, has its context cancelled with
// ErrLeaseLost.
func TestLeaseNotRenewableUntilExpiry(t *testing.T) {
	l, err := storage.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	u := &unreachable{Store: l}
	s, err := OpenStorage(t.Context(), u, ObjectOptions{Name: "test", LeaseTTL: 100 * time.Millisecond, ClockSkew: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, _ := mustAcquire(t, s, "")
	u.down.Store(true)
	<-ctx.Done()
	if cause := context.Cause(ctx); !errors.Is(cause, ErrLeaseLost) || !strings.Contains(cause.Error(), "not renewed before it expired") {
		t.Errorf("cause: %v, want ErrLeaseLost at the expiry", cause)
	}
}

// TestExclusiveTakesTurns: processes waiting for one exclusive lock
// (recording_days) hold it one at a time, on every backend; on an object
// store a waiter gives up when its context ends.
func TestExclusiveTakesTurns(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			sh := b.new(t)
			var stores [2]*Store
			for i := range stores {
				if b.obj {
					stores[i] = openLease(t, sh, fmt.Sprint("p", i), time.Minute)
				} else {
					stores[i] = mustOpen(t, sh)
				}
			}
			var in, most atomic.Int64
			var wg sync.WaitGroup
			for g := range 4 {
				wg.Go(func() {
					for range 3 {
						_, unlock, err := stores[g%2].ExclusiveContext(t.Context(), "recording_days")
						if err != nil {
							t.Error(err)
							return
						}
						n := in.Add(1)
						for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
						}
						time.Sleep(time.Millisecond)
						in.Add(-1)
						unlock()
					}
				})
			}
			wg.Wait()
			if most.Load() != 1 {
				t.Errorf("at most %d holders at once, want 1", most.Load())
			}
			if !b.obj {
				return
			}
			_, unlock, err := stores[0].ExclusiveContext(t.Context(), "recording_days")
			if err != nil {
				t.Fatal(err)
			}
			defer unlock()
			ctx, cancel := context.WithCancel(t.Context())
			cancel()
			if _, _, err := stores[1].ExclusiveContext(ctx, "recording_days"); !errors.Is(err, context.Canceled) {
				t.Errorf("waiting with an ended context: %v, want context.Canceled", err)
			}
		})
	}
}
