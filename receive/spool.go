package receive

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/calletl/calletl/storage"
)

// Spool layout, keys in the spool's store:
//
//	batches/<unix nanos>-<random>.jsonl   events stored, not landed yet (one JSON object a line)
//	units/<unit>.json                     a manifest: the batches sealed into one lake unit
//	landed/<unit>                         the unit is committed to the lake
const (
	batchPrefix  = "batches/"
	unitPrefix   = "units/"
	landedPrefix = "landed/"
)

// Defaults of [SpoolOptions].
const (
	DefaultMaxBatch     = 2000
	DefaultWriteTimeout = 30 * time.Second
)

// ErrClosed is returned by [Spool.Append] once the spool is closing.
var ErrClosed = errors.New("receive: spool closed")

// SpoolOptions tune a [Spool]. The zero value is valid.
type SpoolOptions struct {
	// MaxBatch bounds the events of one stored batch (default
	// DefaultMaxBatch).
	MaxBatch int
	// Writers is how many batches are written at once (default 1 for a
	// storage.Local, whose fsyncs do not overlap usefully, 4 otherwise).
	Writers int
	// WriteTimeout bounds one batch write (default DefaultWriteTimeout):
	// the events waiting for it are then refused with 503 and retried by
	// the vendor.
	WriteTimeout time.Duration
	Log          *slog.Logger
	Now          func() time.Time
}

// Spool stores events durably in a storage.Store, in batches (group
// commit), and keeps the index of the event ids it holds or landed within
// the retention. It is safe for concurrent use.
type Spool struct {
	store storage.Store
	opts  SpoolOptions

	mu      sync.Mutex
	cond    *sync.Cond
	seen    map[string]struct{} // keys of stored events (batches and retained manifests)
	pending map[string]*batch   // keys of events in a batch not stored yet
	queue   []*batch            // batches waiting for a writer, oldest first
	closed  bool
	wg      sync.WaitGroup
}

type batch struct {
	events []Event
	done   chan struct{}
	err    error
}

// OpenSpool opens the spool in store, rebuilding the id index from every
// batch and manifest it holds, and starts its writers. Close stops them.
func OpenSpool(ctx context.Context, store storage.Store, opts SpoolOptions) (*Spool, error) {
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = DefaultMaxBatch
	}
	if opts.Writers <= 0 {
		opts.Writers = 4
		if _, local := store.(*storage.Local); local {
			opts.Writers = 1
		}
	}
	if opts.WriteTimeout <= 0 {
		opts.WriteTimeout = DefaultWriteTimeout
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Spool{store: store, opts: opts, seen: map[string]struct{}{}, pending: map[string]*batch{}}
	s.cond = sync.NewCond(&s.mu)
	batches, err := s.listKeys(ctx, batchPrefix)
	if err != nil {
		return nil, err
	}
	for _, k := range batches {
		evs, err := s.readBatch(ctx, k)
		if err != nil {
			return nil, err
		}
		for i := range evs {
			s.seen[evs[i].key()] = struct{}{}
		}
	}
	units, err := s.listKeys(ctx, unitPrefix)
	if err != nil {
		return nil, err
	}
	for _, k := range units {
		m, err := s.readManifest(ctx, k)
		if err != nil {
			return nil, err
		}
		for _, key := range m.Keys {
			s.seen[key] = struct{}{}
		}
	}
	opts.Log.Info("receive: spool opened", "store", fmt.Sprint(store), "batches", len(batches), "units", len(units), "ids", len(s.seen))
	for range opts.Writers {
		s.wg.Add(1)
		go s.writer()
	}
	return s, nil
}

// Append stores ev and returns once it is durable: dup reports that an
// event with the same id was stored before (or is being stored by another
// request, whose outcome it shares). An error means ev may not be stored:
// the caller answers 503 and the vendor's retry is deduplicated. ctx ending
// returns ctx's error while the write goes on.
func (s *Spool) Append(ctx context.Context, ev Event) (dup bool, err error) {
	key := ev.key()
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return false, ErrClosed
	}
	if _, ok := s.seen[key]; ok {
		s.mu.Unlock()
		return true, nil
	}
	b, ok := s.pending[key]
	if ok {
		dup = true
	} else {
		if n := len(s.queue); n > 0 && len(s.queue[n-1].events) < s.opts.MaxBatch {
			b = s.queue[n-1]
		} else {
			b = &batch{done: make(chan struct{})}
			s.queue = append(s.queue, b)
		}
		b.events = append(b.events, ev)
		s.pending[key] = b
		s.cond.Signal()
	}
	s.mu.Unlock()
	select {
	case <-b.done:
		return dup, b.err
	case <-ctx.Done():
		return dup, ctx.Err()
	}
}

// writer stores queued batches until the spool is closed and drained.
func (s *Spool) writer() {
	defer s.wg.Done()
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		for len(s.queue) == 0 {
			if s.closed {
				return
			}
			s.cond.Wait()
		}
		b := s.queue[0]
		s.queue = s.queue[1:]
		s.mu.Unlock()
		err := s.writeBatch(b)
		s.mu.Lock()
		for i := range b.events {
			k := b.events[i].key()
			delete(s.pending, k)
			if err == nil {
				s.seen[k] = struct{}{}
			}
		}
		b.err = err
		close(b.done)
	}
}

func (s *Spool) writeBatch(b *batch) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	for i := range b.events {
		if err := enc.Encode(&b.events[i]); err != nil {
			return fmt.Errorf("receive: encode event: %w", err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.opts.WriteTimeout)
	defer cancel()
	key := batchPrefix + fmt.Sprintf("%020d-%s.jsonl", s.opts.Now().UnixNano(), randHex(4))
	if _, err := s.store.Put(ctx, key, &buf, "application/x-ndjson"); err != nil {
		// An upload can fail after the object was stored (a timeout on
		// the answer): then it is stored. The lander drops any event
		// stored twice all the same.
		if _, serr := s.store.Stat(ctx, key); serr == nil {
			return nil
		}
		s.opts.Log.Error("receive: storing a batch failed; its events are refused with 503 and retried by the vendor",
			"batch", key, "events", len(b.events), "err", err)
		return fmt.Errorf("receive: store batch %s: %w", key, err)
	}
	return nil
}

// Close stops accepting events, waits until every queued batch is written
// and stops the writers.
func (s *Spool) Close() {
	s.mu.Lock()
	s.closed = true
	s.cond.Broadcast()
	s.mu.Unlock()
	s.wg.Wait()
}

// Len returns how many event ids the index holds.
func (s *Spool) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.seen)
}

// forget drops keys from the index (their manifest left the retention).
func (s *Spool) forget(keys []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range keys {
		delete(s.seen, k)
	}
}

// listKeys returns the keys under prefix, in order.
func (s *Spool) listKeys(ctx context.Context, prefix string) ([]string, error) {
	var keys []string
	err := s.store.List(ctx, prefix, func(i storage.Info) error {
		keys = append(keys, i.Key)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("receive: list spool %s: %w", prefix, err)
	}
	return keys, nil
}

// readBatch reads the events of a stored batch.
func (s *Spool) readBatch(ctx context.Context, key string) ([]Event, error) {
	rc, err := s.store.Open(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("receive: read spool batch %s: %w", key, err)
	}
	defer rc.Close()
	var evs []Event
	sc := bufio.NewScanner(rc)
	sc.Buffer(make([]byte, 0, 64<<10), 4*MaxBodyBytes)
	for sc.Scan() {
		var ev Event
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil || ev.ID == "" {
			return nil, fmt.Errorf("receive: spool batch %s line %d is not an event (the spool was changed by hand? move the object away to go on): %v", key, len(evs)+1, err)
		}
		evs = append(evs, ev)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("receive: read spool batch %s: %w", key, err)
	}
	return evs, nil
}

// manifest is a sealed unit: the batches it lands and the keys of their
// events (kept for dedupe after the batches are deleted).
type manifest struct {
	Unit    string    `json:"unit"`
	Created time.Time `json:"created"`
	Batches []string  `json:"batches"`
	Keys    []string  `json:"keys"`
}

func (s *Spool) readManifest(ctx context.Context, key string) (manifest, error) {
	var m manifest
	rc, err := s.store.Open(ctx, key)
	if err != nil {
		return m, fmt.Errorf("receive: read spool manifest %s: %w", key, err)
	}
	defer rc.Close()
	if err := json.NewDecoder(rc).Decode(&m); err != nil || m.Unit == "" {
		return m, fmt.Errorf("receive: spool manifest %s is not a manifest (the spool was changed by hand?): %v", key, err)
	}
	return m, nil
}

func unitOf(key, prefix string) string {
	return strings.TrimSuffix(strings.TrimPrefix(key, prefix), ".json")
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
