package recordings

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/calletl/calletl/load"
	"github.com/calletl/calletl/model"
	"github.com/calletl/calletl/storage"
)

// Defaults of [Config].
const (
	DefaultConcurrency     = 8
	DefaultPerHost         = 4
	DefaultMaxAttempts     = 5
	DefaultRetryBase       = 30 * time.Minute
	DefaultCheckpointEvery = 500
)

// Progress receives progress reports. Methods may be called from several
// goroutines at once.
type Progress interface {
	// Pending is called once with the number of calls to fetch.
	Pending(calls int)
	// Bytes reports n more bytes downloaded.
	Bytes(n int64)
	// Done reports that a call ended with status (ok, missing, failed).
	Done(call Call, status string)
}

// NopProgress ignores every report.
type NopProgress struct{}

func (NopProgress) Pending(int)       {}
func (NopProgress) Bytes(int64)       {}
func (NopProgress) Done(Call, string) {}

// Config configures [Run]. Store, Lake and LakeDir are required.
type Config struct {
	Store   storage.Store
	Lake    *load.Lake // where the manifest is written
	LakeDir string     // where calls and the manifest are read (normally Lake.Root())
	// Sync, when set, brings LakeDir up to date with Lake before each read
	// of it (the work list, then recording_days after the run's manifest
	// commits): LakeDir is then a mirror of a lake in an object store.
	Sync func(ctx context.Context) error
	// Concurrency bounds the calls in flight (default 8); PerHost bounds
	// the downloads in flight to one host (default 4). Memory is about
	// Concurrency × the store's per-Put buffer (S3: (its Concurrency+1) ×
	// PartSize), whatever the recordings' sizes.
	Concurrency, PerHost int
	// MaxAttempts is how often a failing call is tried in all (default 5);
	// attempt n+1 is not made before the n-th's fetched_at + RetryBase·2ⁿ.
	MaxAttempts int
	RetryBase   time.Duration // default 30m
	// CheckpointEvery commits the manifest after this many calls (default
	// 500), besides at the end of the run.
	CheckpointEvery int
	// Owns, when set, says which calls this process fetches (the calls of
	// its shard, see package shard); the others are left to their shard.
	Owns func(source, callID string) bool
	// DaysLock, when set, is held while recording_days is recomputed and
	// written: processes writing one lake at once (the shards of a run)
	// take turns, so the last writer of a date is the last to read its
	// manifest. It blocks until the lock is free.
	DaysLock func() (unlock func(), err error)
	Now      func() time.Time // default time.Now
	Logger   *slog.Logger     // default discards
	Progress Progress         // default NopProgress
}

// Summary is what a run did. Parts are counted in Stored and Reused, calls
// in the others.
type Summary struct {
	Calls    int   // calls attempted
	Stored   int   // parts uploaded
	Reused   int   // parts already in the store, recorded without downloading
	Missing  int   // calls the vendor has no recording of
	Failed   int   // calls that failed (retried on a later run)
	Deferred int   // failed calls skipped because their backoff has not elapsed
	Bytes    int64 // bytes uploaded

	// Transcripts (T2): stored by this run (their words written), missing
	// at the vendor, failed (the call is retried on a later run). A
	// transcript an earlier attempt stored is counted in none of them.
	Transcripts, TranscriptsMissing, TranscriptsFailed int
	// Backfilled: calls whose recording an earlier attempt resolved,
	// attempted only for their transcript (Call.Backfill). They are not
	// counted in Calls, Missing or Failed; their transcripts are.
	Backfilled int
}

// ErrStore is wrapped by Run's error when the blob store failed (S3
// unreachable or answering errors, a local disk full or unwritable): Run
// then stops fetching, and records nothing for the call that met the
// failure nor for the calls in flight or not started, so no call uses up
// an attempt on an outage of the store.
var ErrStore = errors.New("recordings: the blob store failed")

// storeError marks an error of the blob store, as opposed to the vendor's.
type storeError struct{ err error }

func (e *storeError) Error() string { return e.err.Error() }
func (e *storeError) Unwrap() error { return e.err }

// Run fetches every pending recording of the fetchers' sources (the whole
// backlog, see the package documentation) and records the outcome in the
// manifest; then, even when there was nothing to fetch, it recomputes the
// recording_days rows the manifest outdated (see Recording days). A call
// that fails at the vendor is counted in Summary.Failed and logged, not
// returned: Run returns an error only when it could not read the work list
// or write the manifest or recording_days, when the blob store failed
// (wrapping ErrStore), or when ctx ended. In the last two cases the calls in
// flight leave no row and are pending again next time, their attempts
// unchanged; completed ones are committed.
func Run(ctx context.Context, cfg Config, run model.Run, fetchers ...Fetcher) (Summary, error) {
	if cfg.Store == nil || cfg.Lake == nil {
		return Summary{}, errors.New("recordings: run: Store and Lake are required")
	}
	if cfg.LakeDir == "" {
		cfg.LakeDir = cfg.Lake.Root()
	}
	setDefault(&cfg.Concurrency, DefaultConcurrency)
	setDefault(&cfg.PerHost, DefaultPerHost)
	setDefault(&cfg.MaxAttempts, DefaultMaxAttempts)
	setDefault(&cfg.RetryBase, DefaultRetryBase)
	setDefault(&cfg.CheckpointEvery, DefaultCheckpointEvery)
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Progress == nil {
		cfg.Progress = NopProgress{}
	}
	if run.ID == "" {
		return Summary{}, errors.New("recordings: run: empty run id")
	}

	bySource := make(map[string]Fetcher, len(fetchers))
	for _, f := range fetchers {
		if _, dup := bySource[f.Source()]; dup {
			return Summary{}, fmt.Errorf("recordings: run: two fetchers for source %q", f.Source())
		}
		bySource[f.Source()] = f
	}
	sources := make([]string, 0, len(bySource))
	for s := range bySource {
		sources = append(sources, s)
	}
	sort.Strings(sources)

	var transcripts []string
	for _, s := range sources {
		if _, ok := bySource[s].(TranscriptFetcher); ok {
			transcripts = append(transcripts, s)
		}
	}

	if cfg.Sync != nil {
		if err := cfg.Sync(ctx); err != nil {
			return Summary{}, fmt.Errorf("recordings: read the lake: %w", err)
		}
	}
	calls, err := pending(ctx, cfg.LakeDir, sources, transcripts, cfg.MaxAttempts)
	if err != nil {
		return Summary{}, err
	}
	if cfg.Owns != nil {
		calls = slices.DeleteFunc(calls, func(c Call) bool { return !cfg.Owns(c.Source, c.CallID) })
	}
	fctx, stop := context.WithCancel(ctx)
	defer stop()
	r := &runner{cfg: cfg, run: run, fetchers: bySource, hosts: make(map[string]chan struct{}),
		rows: make(map[string][]Entry), words: make(map[string][]Word), stop: stop}
	now := cfg.Now()
	todo := calls[:0]
	for _, c := range calls {
		if c.LastState == StatusFailed && now.Before(c.LastTry.Add(backoff(cfg.RetryBase, c.Attempts))) {
			r.sum.Deferred++
			continue
		}
		todo = append(todo, c)
	}
	cfg.Progress.Pending(len(todo))
	cfg.Logger.Info("recordings: fetching", "calls", len(todo), "deferred", r.sum.Deferred, "run_id", run.ID)

	var g errgroup.Group
	g.SetLimit(cfg.Concurrency)
	started := 0
	for _, c := range todo {
		if fctx.Err() != nil {
			break
		}
		started++
		g.Go(func() error { return r.call(fctx, bySource[c.Source], c) })
	}
	gerr := g.Wait()
	ferr := r.flush()
	derr := r.refreshDays(ctx)
	r.mu.Lock()
	sum := r.sum
	r.mu.Unlock()
	sum.Bytes = r.bytes.Load()
	var serr error
	if r.storeErr != nil {
		serr = fmt.Errorf("%w: %s: %w. Stopped fetching: %d calls are recorded, %d were interrupted or not started "+
			"and stay pending without using up an attempt. Check that the store is reachable and writable "+
			"(S3: endpoint, bucket, credentials, server health; local: free space, permissions), then run again",
			ErrStore, storeName(cfg.Store), r.storeErr, sum.Calls+sum.Backfilled, len(todo)-sum.Calls-sum.Backfilled)
		cfg.Logger.Error("recordings: blob store failed, stopped fetching", "store", storeName(cfg.Store),
			"error", r.storeErr, "calls_started", started)
	}
	return sum, errors.Join(gerr, ferr, derr, serr, ctx.Err())
}

// refreshDays brings recording_days up to date with the manifest (see the
// package documentation, Recording days), after the run's last manifest
// commit. It is skipped when ctx is done: the next run does it.
func (r *runner) refreshDays(ctx context.Context) error {
	if ctx.Err() != nil {
		return nil
	}
	r.mu.Lock()
	touched := make(map[[2]string]bool)
	for _, rows := range r.rows {
		for i := range rows {
			touched[[2]string{rows[i].Source, rows[i].Date}] = true
		}
	}
	r.mu.Unlock()
	if r.cfg.DaysLock != nil {
		unlock, err := r.cfg.DaysLock()
		if err != nil {
			r.cfg.Logger.Error("recordings: recording_days not updated; the next run recomputes it", "error", err)
			return fmt.Errorf("recordings: recording_days: %w", err)
		}
		defer unlock()
	}
	start := time.Now()
	if r.cfg.Sync != nil {
		if err := r.cfg.Sync(ctx); err != nil {
			r.cfg.Logger.Error("recordings: recording_days not updated; the next run recomputes it", "error", err)
			return fmt.Errorf("recordings: recording_days: read the lake: %w", err)
		}
	}
	n, err := refreshDays(ctx, r.cfg.Lake, r.cfg.LakeDir, r.run.ID, r.cfg.Now().UTC(), touched)
	if err != nil {
		r.cfg.Logger.Error("recordings: recording_days not updated; the next run recomputes it", "error", err)
		return err
	}
	r.cfg.Logger.Info("recordings: recording_days updated", "dates", n, "took", time.Since(start))
	return nil
}

// storeName names a store for messages: its String method, else its type.
func storeName(s storage.Store) string {
	if n, ok := s.(fmt.Stringer); ok {
		return n.String()
	}
	return fmt.Sprintf("%T", s)
}

func setDefault[T int | time.Duration](p *T, def T) {
	if *p <= 0 {
		*p = def
	}
}

// backoff is the wait after a call's attempts-th failed attempt.
func backoff(base time.Duration, attempts int) time.Duration {
	d := base
	for i := 0; i < attempts && d < 1000*24*time.Hour; i++ {
		d *= 2
	}
	return d
}

type runner struct {
	cfg      Config
	run      model.Run
	fetchers map[string]Fetcher
	bytes    atomic.Int64

	hostMu sync.Mutex
	hosts  map[string]chan struct{}

	mu    sync.Mutex
	sum   Summary
	rows  map[string][]Entry // by source, everything this run resolved
	words map[string][]Word  // by source, the words of the transcripts this run stored
	since int                // calls since the last checkpoint

	flushMu sync.Mutex

	stop      context.CancelFunc // cancels the calls' context
	storeOnce sync.Once
	storeErr  error // the first store failure; read after the calls are done
}

// storeFailed records the store's failure and stops the run: every call
// in flight sees its context cancelled and records nothing.
func (r *runner) storeFailed(err error) {
	r.storeOnce.Do(func() {
		r.storeErr = err
		r.stop()
	})
}

// asStoreErr marks err, from a Store method, as the store's (but not an
// invalid key, which is a bug of the key's maker, not an outage).
func asStoreErr(err error) error {
	if err == nil || errors.Is(err, storage.ErrInvalidKey) {
		return err
	}
	return &storeError{err: err}
}

// stopIfStore stops the run if err is the store's, and reports whether it
// did.
func (r *runner) stopIfStore(err error) bool {
	var se *storeError
	if errors.As(err, &se) {
		r.storeFailed(se.err)
		return true
	}
	return false
}

// hostSlot takes a download slot for host; the caller calls release.
func (r *runner) hostSlot(ctx context.Context, host string) (release func(), err error) {
	r.hostMu.Lock()
	ch, ok := r.hosts[host]
	if !ok {
		ch = make(chan struct{}, r.cfg.PerHost)
		r.hosts[host] = ch
	}
	r.hostMu.Unlock()
	select {
	case ch <- struct{}{}:
		return func() { <-ch }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// call fetches one call's parts and records its rows. It returns an error
// only for a failed manifest checkpoint. A call interrupted by ctx or by a
// failure of the store records nothing.
func (r *runner) call(ctx context.Context, f Fetcher, c Call) error {
	started := r.cfg.Now().UTC()
	log := r.cfg.Logger.With("source", c.Source, "call_id", c.CallID, "date", c.Date)
	base := Entry{Source: c.Source, Date: c.Date, CallID: c.CallID, RecordingRef: c.Ref,
		Attempts: int32(c.Attempts + 1), FetchedAt: started, RunID: r.run.ID}

	// What the store already holds for this call (a crash after upload,
	// before the manifest): recorded without downloading again.
	have := make(map[int]string)
	haveTranscript := ""
	prefix := CallPrefix(c.Source, c.Date, c.CallID)
	if err := r.cfg.Store.List(ctx, prefix, func(i storage.Info) error {
		rest := strings.TrimPrefix(i.Key, prefix)
		if n, ok := partOfKey(rest); ok {
			have[n] = i.Key
		} else if rest == transcriptName {
			haveTranscript = i.Key
		}
		return nil
	}); err != nil {
		if ctx.Err() == nil {
			r.storeFailed(fmt.Errorf("listing %s: %w", prefix, err))
		}
		return nil
	}

	var rows []Entry
	stored, reused := 0, 0
	if c.Backfill {
		// Only the transcript is new; the recording's rows are repeated.
		for _, e := range c.Carried {
			e.RecordingRef, e.Attempts, e.FetchedAt, e.RunID = base.RecordingRef, base.Attempts, base.FetchedAt, base.RunID
			rows = append(rows, e)
		}
	} else {
		var err error
		rows, stored, reused, err = r.parts(ctx, f, c, base, have)
		switch {
		case ctx.Err() != nil:
			return nil // interrupted (or the store failed): no row, the call stays pending
		case errors.Is(err, ErrMissing):
			e := base
			e.Status, e.Error = StatusMissing, err.Error()
			rows = append(rows, e)
		case err != nil:
			rows = append(rows, failed(base, 0, err))
		case len(rows) == 0:
			e := base
			e.Status, e.Error = StatusMissing, "the vendor listed no parts"
			rows = append(rows, e)
		}
	}
	// The transcript, after the recording's parts, whatever became of
	// them: it is its own row (part TranscriptPart) of the same attempt.
	var words []Word
	if tf, ok := f.(TranscriptFetcher); ok {
		var e Entry
		e, words = r.transcript(ctx, tf, c, base, haveTranscript)
		if ctx.Err() != nil {
			return nil
		}
		rows = append(rows, e)
	}
	return r.record(c, rows, words, stored, reused, log)
}

// parts resolves the call's parts at the vendor and stores those the store
// does not hold yet. A failure of the store stops the run (ctx is then
// done and the rows are to be dropped).
func (r *runner) parts(ctx context.Context, f Fetcher, c Call, base Entry, have map[int]string) (rows []Entry, stored, reused int, err error) {
	err = f.Parts(ctx, c.Ref, func(p Part) error {
		e := base
		e.Part = int32(p.N)
		if key, ok := have[p.N]; ok {
			info, err := r.stat(ctx, key)
			if err == nil {
				rows = append(rows, okEntry(e, info))
				reused++
				return nil
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if !errors.Is(err, storage.ErrNotFound) {
				r.storeFailed(err)
				return ctx.Err()
			}
		}
		release, err := r.hostSlot(ctx, p.Host)
		if err != nil {
			return err
		}
		info, existed, err := r.fetchPart(ctx, c, p)
		release()
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case r.stopIfStore(err):
			return ctx.Err()
		case errors.Is(err, ErrMissing):
			e.Status, e.Error = StatusMissing, err.Error()
			rows = append(rows, e)
		case err != nil:
			rows = append(rows, failed(e, p.N, err))
		default:
			rows = append(rows, okEntry(e, info))
			if existed {
				reused++
			} else {
				stored++
			}
		}
		return nil
	})
	return rows, stored, reused, err
}

// stat returns the Info of a stored object with its SHA-256. Where the
// store does not keep it (S3 objects uploaded in parts), the object is
// read back and hashed: the manifest records what is stored, never an
// empty or assumed sum. This happens only for objects this attempt did not
// upload itself (stored by an attempt whose manifest was lost, or
// concurrently).
func (r *runner) stat(ctx context.Context, key string) (storage.Info, error) {
	info, err := r.cfg.Store.Stat(ctx, key)
	if err != nil || info.SHA256 != "" {
		return info, err
	}
	rc, err := r.cfg.Store.Open(ctx, key)
	if err != nil {
		return storage.Info{}, err
	}
	defer rc.Close()
	h := sha256.New()
	n, err := io.Copy(h, rc)
	if err != nil {
		return storage.Info{}, fmt.Errorf("hashing %s: %w", key, err)
	}
	if n != info.Size {
		return storage.Info{}, fmt.Errorf("hashing %s: read %d bytes, Stat says %d", key, n, info.Size)
	}
	info.SHA256 = hex.EncodeToString(h.Sum(nil))
	return info, nil
}

func okEntry(e Entry, info storage.Info) Entry {
	e.Status, e.Key, e.Bytes, e.SHA256, e.ContentType = StatusOK, info.Key, info.Size, info.SHA256, info.ContentType
	return e
}

func failed(e Entry, part int, err error) Entry {
	e.Part, e.Status, e.Error = int32(part), StatusFailed, err.Error()
	return e
}

// fetchPart downloads one part into the store. existed reports a key that
// was already there (Put said ErrExists): the stored object is kept. An
// error of the store (Put failing while the vendor's body did not) is a
// *storeError.
func (r *runner) fetchPart(ctx context.Context, c Call, p Part) (info storage.Info, existed bool, err error) {
	body, length, err := p.Open(ctx)
	if err != nil {
		return storage.Info{}, false, err
	}
	defer body.Close()
	src := &sourceReader{r: &lengthReader{r: body, want: length, progress: func(n int64) { r.cfg.Progress.Bytes(n) }}}
	rd, contentType, ext, err := peek(src, p.Kind)
	if err != nil {
		return storage.Info{}, false, fmt.Errorf("part %d: %w", p.N, err)
	}
	key := PartKey(c.Source, c.Date, c.CallID, p.N, ext)
	info, err = r.cfg.Store.Put(ctx, key, rd, contentType)
	if errors.Is(err, storage.ErrExists) {
		info, err = r.stat(ctx, key)
		return info, true, asStoreErr(err)
	}
	if err != nil {
		if src.err == nil { // the body was fine: the store failed
			err = asStoreErr(err)
		}
		return storage.Info{}, false, fmt.Errorf("part %d: %w", p.N, err)
	}
	r.bytes.Add(info.Size)
	return info, false, nil
}

// sourceReader remembers the first error other than io.EOF of the vendor's
// body, so that a failed Put can be blamed on the vendor or on the store.
type sourceReader struct {
	r   io.Reader
	err error
}

func (s *sourceReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if err != nil && err != io.EOF && s.err == nil {
		s.err = err
	}
	return n, err
}

// record adds a call's rows and checkpoints the manifest when due.
// The call's status (summary, progress) is its recording's: the transcript
// row only counts in the transcript fields of the summary.
func (r *runner) record(c Call, rows []Entry, words []Word, stored, reused int, log *slog.Logger) error {
	status := StatusOK
	transcript := ""
	for _, e := range rows {
		switch {
		case e.Part == TranscriptPart:
			transcript = e.Status
			if e.Status == StatusOK && words == nil {
				transcript = "" // stored by an earlier attempt
			}
		case e.Status == StatusFailed:
			status = StatusFailed
		case e.Status == StatusMissing && status == StatusOK:
			status = StatusMissing
		}
	}
	r.mu.Lock()
	r.rows[c.Source] = append(r.rows[c.Source], rows...)
	r.words[c.Source] = append(r.words[c.Source], words...)
	switch transcript {
	case StatusOK:
		r.sum.Transcripts++
	case StatusMissing:
		r.sum.TranscriptsMissing++
	case StatusFailed:
		r.sum.TranscriptsFailed++
	}
	r.sum.Stored += stored
	r.sum.Reused += reused
	switch {
	case c.Backfill:
		r.sum.Backfilled++
	case status == StatusMissing:
		r.sum.Calls++
		r.sum.Missing++
	case status == StatusFailed:
		r.sum.Calls++
		r.sum.Failed++
	default:
		r.sum.Calls++
	}
	r.since++
	due := r.since >= r.cfg.CheckpointEvery
	if due {
		r.since = 0
	}
	r.mu.Unlock()
	if status == StatusFailed || transcript == StatusFailed {
		for _, e := range rows {
			if e.Status == StatusFailed {
				log.Warn("recordings: fetch failed", "part", e.Part, "attempt", e.Attempts, "error", e.Error)
			}
		}
	}
	r.cfg.Progress.Done(c, status)
	if due {
		return r.flush()
	}
	return nil
}

// flush commits every row of the run so far: one unit "manifest-<run id>"
// per source, replaced as a whole, holding the manifest rows and the
// transcript words in one transaction (manifest first, see the package
// documentation).
func (r *runner) flush() error {
	r.flushMu.Lock()
	defer r.flushMu.Unlock()
	r.mu.Lock()
	snap := make(map[string][]Entry, len(r.rows))
	for s, rows := range r.rows {
		snap[s] = rows[:len(rows):len(rows)]
	}
	words := make(map[string][]Word, len(r.words))
	for s, ws := range r.words {
		words[s] = ws[:len(ws):len(ws)]
	}
	r.mu.Unlock()
	unit := "manifest-" + Segment(r.run.ID)
	var errs []error
	for source, rows := range snap {
		if err := commitUnit(r.cfg.Lake, source, unit, rows, words[source]); err != nil {
			errs = append(errs, fmt.Errorf("recordings: manifest %s: %w", source, err))
		}
	}
	return errors.Join(errs...)
}

// commitUnit replaces unit's files of the manifest and transcript_words
// with rows and words.
func commitUnit(lake *load.Lake, source, unit string, rows []Entry, words []Word) error {
	if len(rows) == 0 {
		return nil
	}
	tx, err := lake.Begin(source, unit)
	if err != nil {
		return err
	}
	defer tx.Abort()
	m := load.Writer(tx, Manifest)
	for i := range rows {
		if err := m.Add(rows[i].Date, &rows[i]); err != nil {
			return err
		}
	}
	if len(words) > 0 {
		w := load.Writer(tx, TranscriptWords)
		for i := range words {
			if err := w.Add(words[i].Date, &words[i]); err != nil {
				return err
			}
		}
	}
	_, err = tx.Commit()
	return err
}
