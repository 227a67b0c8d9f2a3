package state

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"os"
	"sync"
	"time"

	"github.com/calletl/calletl/storage"
)

// Defaults of ObjectOptions.
const (
	DefaultLeaseTTL  = 60 * time.Second
	DefaultClockSkew = 10 * time.Second
)

// ObjectOptions configure a state kept in an object store (OpenStorage).
type ObjectOptions struct {
	// Name names the state in messages and errors, e.g.
	// "s3://bucket/prefix"; default the store's String().
	Name string
	// LeaseTTL is how long a lease (Acquire) lasts without renewal; the
	// holder renews it every LeaseTTL/3. Default DefaultLeaseTTL.
	LeaseTTL time.Duration
	// ClockSkew is the most by which the clocks of two processes sharing
	// the state may differ: an expired lease is taken over only
	// ClockSkew after the expiry its holder wrote, by the taker's clock.
	// Default DefaultClockSkew.
	ClockSkew time.Duration
	// Holder identifies this process in leases; default
	// host/pid/random (in Kubernetes the host name is the pod's).
	Holder string
	// WriteAttempts bounds the attempts of one state write that keeps
	// losing the race to other writers (default 40).
	WriteAttempts int
	Logger        *slog.Logger
}

// objectState is what a Store on an object store needs beyond its
// backend: the leases.
type objectState struct {
	st     storage.Store
	name   string
	ttl    time.Duration
	skew   time.Duration
	holder string
	log    *slog.Logger
	// beforeRenew, when set (tests), is called before every renewal;
	// blocking in it pauses the renewal.
	beforeRenew func()
}

// OpenStorage opens the state kept in st: the document state.json (the
// same format, and the same *FileError checks, as a directory's
// state.json), written by conditional read-modify-writes so that
// processes sharing it (the shards of a run, on several machines) never
// lose one another's changes, and the leases lock and lock.<label> in
// place of a directory's flocks (see Acquire).
func OpenStorage(ctx context.Context, st storage.Store, o ObjectOptions) (*Store, error) {
	if o.Name == "" {
		o.Name = fmt.Sprint(st)
	}
	if o.LeaseTTL <= 0 {
		o.LeaseTTL = DefaultLeaseTTL
	}
	if o.ClockSkew <= 0 {
		o.ClockSkew = DefaultClockSkew
	}
	if o.WriteAttempts <= 0 {
		o.WriteAttempts = defaultAttempts
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Holder == "" {
		host, _ := os.Hostname()
		var r [6]byte
		rand.Read(r[:])
		o.Holder = fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(r[:]))
	}
	s := &Store{
		dir: o.Name,
		b:   &objectBackend{st: st, name: o.Name, attempts: o.WriteAttempts, backoff: defaultBackoff},
		obj: &objectState{st: st, name: o.Name, ttl: o.LeaseTTL, skew: o.ClockSkew, holder: o.Holder, log: o.Logger},
	}
	if err := s.load(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// ErrLeaseLost is the cause of the cancellation of an Acquire's context
// when the lease is lost: another process took it over, or it could not be
// renewed before it expired.
var ErrLeaseLost = errors.New("state: lease lost")

// Acquire takes the lock of a run: the whole run's (label "") or one
// shard's (label names it, e.g. s1of3), as Lock and LockShard do, and
// fails at once with an error wrapping ErrLocked when it is held. The same
// shard cannot run twice, and a whole run excludes every shard and every
// shard a whole run. It returns a context derived from ctx that is
// cancelled, with a cause wrapping ErrLeaseLost, if the lock is lost, and
// the function that releases the lock (and cancels that context).
//
// In a directory the lock is the flock of Lock or LockShard, held until
// release and never lost. In an object store it is a lease: the object
// lock or lock.<label> holding this process's Holder and an expiry
// LeaseTTL ahead, renewed every LeaseTTL/3 by a conditional replace
// (If-Match on the ETag of the lease as last written). A lease is taken by
// creating its object (If-None-Match), or by replacing (If-Match) one
// that is released or expired more than ClockSkew ago by this process's
// clock. A renewal refused (the lease was replaced meanwhile) or not done
// before the expiry cancels the context: the holder stops by its own
// clock at the expiry, and another takes over only ClockSkew later by its
// clock, which is safe while the clocks differ by less than ClockSkew.
// Cancellation is cooperative: a write already in flight when it happens
// may still land (state writes are conditional, so they lose nothing;
// lake objects are replaced whole by either holder).
//
// Whole run against shards, with create-only writes: a whole run first
// takes lock, then lists lock.* and backs off (releasing lock) if any
// shard lease there is live; a shard first takes lock.<label>, then reads
// lock and backs off if it is live. Of a whole run and a shard starting
// together, each writes before it reads, and the store reads after writes
// (S3 is strongly consistent), so at least one sees the other: both may
// back off (both exit 3, and a retry settles it), never both run. Released
// leases are not deleted but replaced by a released marker (If-Match), as
// storage.Store has no conditional delete: an unconditional delete could
// remove a lease another process had just taken over.
func (s *Store) Acquire(ctx context.Context, label string) (context.Context, func(), error) {
	if label != "" {
		if err := checkLabel(label); err != nil {
			return nil, nil, err
		}
	}
	if s.obj == nil {
		var unlock func()
		var err error
		if label == "" {
			unlock, err = s.Lock()
		} else {
			unlock, err = s.LockShard(label)
		}
		if err != nil {
			return nil, nil, err
		}
		return flockContext(ctx, unlock)
	}
	o := s.obj
	key := "lock"
	if label != "" {
		key = "lock." + label
	}
	l, err := o.take(ctx, key)
	if err != nil {
		return nil, nil, err
	}
	if err := o.exclude(ctx, label); err != nil {
		l.release()
		return nil, nil, err
	}
	lctx, release := l.hold(ctx)
	return lctx, release, nil
}

// flockContext is a lock held by flock as Acquire returns it: a context
// never cancelled by the lock (a flock is not lost), and its release.
func flockContext(ctx context.Context, unlock func()) (context.Context, func(), error) {
	lctx, cancel := context.WithCancelCause(ctx)
	return lctx, func() { cancel(nil); unlock() }, nil
}

// hold starts renewing l and returns a context derived from ctx that is
// cancelled (cause ErrLeaseLost) if l is lost, and the function that
// stops the renewal, releases l and cancels that context, once.
func (l *lease) hold(ctx context.Context) (context.Context, func()) {
	lctx, cancel := context.WithCancelCause(ctx)
	l.start(cancel)
	var once sync.Once
	return lctx, func() {
		once.Do(func() {
			l.stop()
			l.release()
			cancel(nil)
		})
	}
}

// leaseDoc is a lease object's content.
type leaseDoc struct {
	Holder   string    `json:"holder"`
	Expires  time.Time `json:"expires"`
	Released bool      `json:"released,omitempty"`
}

// live reports whether d still excludes others at now: not released, and
// not expired more than the clock skew ago.
func (o *objectState) live(d leaseDoc, now time.Time) bool {
	return !d.Released && now.Before(d.Expires.Add(o.skew))
}

func (o *objectState) lockedErr(key string, d leaseDoc) error {
	return fmt.Errorf("%w (%s/%s: held by %s until %s, renewed while it runs)", ErrLocked, o.name, key, d.Holder, d.Expires.UTC().Format(time.RFC3339))
}

func (o *objectState) put(ctx context.Context, key string, d leaseDoc, cond storage.Cond) (storage.Info, error) {
	b, err := json.Marshal(d)
	if err != nil {
		return storage.Info{}, err
	}
	return o.st.Replace(ctx, key, bytes.NewReader(b), cond)
}

// read returns the lease in key and its ETag, or an error wrapping
// storage.ErrNotFound.
func (o *objectState) read(ctx context.Context, key string) (leaseDoc, string, error) {
	b, etag, err := storage.ReadVersion(ctx, o.st, key)
	if err != nil {
		return leaseDoc{}, "", fmt.Errorf("state: lease %s/%s: %w", o.name, key, err)
	}
	var d leaseDoc
	if err := json.Unmarshal(b, &d); err != nil || d.Holder == "" || d.Expires.IsZero() {
		return leaseDoc{}, "", fmt.Errorf("state: lease %s/%s: not a lease {\"holder\": …, \"expires\": …} (%v): delete it once no etl process runs on this state", o.name, key, err)
	}
	return d, etag, nil
}

// take creates the lease key, or takes it over if it is released or
// expired.
func (o *objectState) take(ctx context.Context, key string) (*lease, error) {
	for range 3 {
		now := time.Now()
		d := leaseDoc{Holder: o.holder, Expires: now.Add(o.ttl)}
		info, err := o.put(ctx, key, d, storage.IfNoneMatch())
		if err == nil {
			return &lease{o: o, key: key, etag: info.ETag, expires: d.Expires}, nil
		}
		if !errors.Is(err, storage.ErrExists) {
			return nil, fmt.Errorf("state: lease %s/%s: %w", o.name, key, err)
		}
		cur, etag, err := o.read(ctx, key)
		if errors.Is(err, storage.ErrNotFound) {
			continue // deleted meanwhile: create it again
		}
		if err != nil {
			return nil, err
		}
		if o.live(cur, now) {
			return nil, o.lockedErr(key, cur)
		}
		info, err = o.put(ctx, key, d, storage.IfMatch(etag))
		switch {
		case err == nil:
			if !cur.Released {
				o.log.Warn("state: took over an expired lease (its holder stopped renewing it: crashed, or cut off)", "lease", key, "holder", cur.Holder, "expired", cur.Expires)
			}
			return &lease{o: o, key: key, etag: info.ETag, expires: d.Expires}, nil
		case errors.Is(err, storage.ErrPrecondition):
			return nil, fmt.Errorf("%w (%s/%s: another process took the lease at the same moment)", ErrLocked, o.name, key)
		default:
			return nil, fmt.Errorf("state: lease %s/%s: %w", o.name, key, err)
		}
	}
	return nil, fmt.Errorf("%w (%s/%s: the lease was created and removed again on every attempt)", ErrLocked, o.name, key)
}

// exclude checks, after the lease of label was taken, that no lease of
// the other kind is live: for a shard the whole run's lock, for the whole
// run any shard's lock.*.
func (o *objectState) exclude(ctx context.Context, label string) error {
	now := time.Now()
	check := func(key string) error {
		d, _, err := o.read(ctx, key)
		switch {
		case errors.Is(err, storage.ErrNotFound):
			return nil
		case err != nil:
			return err
		case o.live(d, now):
			return o.lockedErr(key, d)
		}
		return nil
	}
	if label != "" {
		return check("lock")
	}
	return o.st.List(ctx, "lock.", func(info storage.Info) error { return check(info.Key) })
}

// lease is a held lease.
type lease struct {
	o       *objectState
	key     string
	etag    string    // of the lease as last written; owned by the renewal goroutine once started
	expires time.Time // likewise
	done    chan struct{}
	wg      sync.WaitGroup
}

// start renews the lease every TTL/3 until stop; when it is lost it calls
// cancel with the cause.
func (l *lease) start(cancel context.CancelCauseFunc) {
	l.done = make(chan struct{})
	l.wg.Go(func() {
		t := time.NewTicker(l.o.ttl / 3)
		defer t.Stop()
		for {
			select {
			case <-l.done:
				return
			case <-t.C:
			}
			if h := l.o.beforeRenew; h != nil {
				h()
			}
			select {
			case <-l.done:
				return
			default:
			}
			if err := l.renew(); err != nil {
				l.o.log.Error("state: lost the lease: stopping the run", "lease", l.key, "err", err)
				cancel(err)
				return
			}
		}
	})
}

// renew extends the lease; it returns an error wrapping ErrLeaseLost when
// the lease is lost. A renewal that fails otherwise is retried (every
// TTL/20, at least 10ms) until the expiry, so a holder that cannot renew
// stops at its expiry by its own clock, before anyone may take it over
// (ClockSkew later). It returns nil early when stop is called.
func (l *lease) renew() error {
	ctx, cancel := context.WithDeadline(context.Background(), l.expires)
	defer cancel()
	pause := max(l.o.ttl/20, 10*time.Millisecond)
	for {
		now := time.Now()
		if !now.Before(l.expires) {
			return fmt.Errorf("%w: %s/%s was not renewed before it expired at %s (the store did not answer, or the process was paused); another process may hold it now", ErrLeaseLost, l.o.name, l.key, l.expires.UTC().Format(time.RFC3339Nano))
		}
		d := leaseDoc{Holder: l.o.holder, Expires: now.Add(l.o.ttl)}
		info, err := l.o.put(ctx, l.key, d, storage.IfMatch(l.etag))
		switch {
		case err == nil:
			l.etag, l.expires = info.ETag, d.Expires
			return nil
		case errors.Is(err, storage.ErrPrecondition):
			return fmt.Errorf("%w: %s/%s was replaced by another process (it took the lease over as expired, or it was removed)", ErrLeaseLost, l.o.name, l.key)
		}
		l.o.log.Warn("state: lease renewal failed; retrying until it expires", "lease", l.key, "expires", l.expires, "err", err)
		select {
		case <-l.done:
			return nil
		case <-ctx.Done():
			// the loop reports the expiry
		case <-time.After(pause):
		}
	}
}

// stop ends the renewal.
func (l *lease) stop() {
	if l.done != nil {
		close(l.done)
		l.wg.Wait()
	}
}

// release marks the lease released, if it is still this process's (If-Match).
func (l *lease) release() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	d := leaseDoc{Holder: l.o.holder, Expires: time.Now(), Released: true}
	if _, err := l.o.put(ctx, l.key, d, storage.IfMatch(l.etag)); err != nil {
		l.o.log.Warn("state: could not release the lease; it expires by itself", "lease", l.key, "expires", l.expires, "err", err)
	}
}

// ExclusiveContext is Exclusive with a context: it waits, until ctx ends,
// for the exclusive lock <name>.lock and returns a context derived from
// ctx that is cancelled, with a cause wrapping ErrLeaseLost, if the lock
// is lost (object store only), and the function that releases it. In an
// object store the lock is a lease (see Acquire) that the waiter polls
// for, every LeaseTTL/20 (at least 10ms, at most a second) with jitter.
func (s *Store) ExclusiveContext(ctx context.Context, name string) (context.Context, func(), error) {
	if err := checkLabel(name); err != nil {
		return nil, nil, err
	}
	if s.obj == nil {
		unlock, err := s.Exclusive(name)
		if err != nil {
			return nil, nil, err
		}
		return flockContext(ctx, unlock)
	}
	pause := min(max(s.obj.ttl/20, 10*time.Millisecond), time.Second)
	for {
		l, err := s.obj.take(ctx, name+".lock")
		if err == nil {
			lctx, release := l.hold(ctx)
			return lctx, release, nil
		}
		if !errors.Is(err, ErrLocked) {
			return nil, nil, err
		}
		select {
		case <-ctx.Done():
			return nil, nil, fmt.Errorf("state: waiting for %s/%s.lock: %w", s.obj.name, name, context.Cause(ctx))
		case <-time.After(pause/2 + mrand.N(pause/2+1)):
		}
	}
}
