package receive

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/calletl/calletl/load"
	"github.com/calletl/calletl/model"
	"github.com/calletl/calletl/storage"
)

// Defaults of [LanderOptions].
const (
	DefaultRetention = 48 * time.Hour
	DefaultInterval  = time.Minute
)

// LanderOptions tune a [Lander]. The zero value is valid.
type LanderOptions struct {
	// Location is the business time zone: an event's date partition is
	// its day there (default UTC).
	Location *time.Location
	// Retention is how long a landed unit's manifest, and so its event
	// ids, stays in the spool for dedupe (default DefaultRetention). A
	// vendor's retry later than that is landed again; event_id shows it.
	Retention time.Duration
	Log       *slog.Logger
	Now       func() time.Time
	// afterCommit, in tests, runs after a unit's lake commit and before
	// its landed marker: returning an error simulates a crash there.
	afterCommit func(unit string) error
}

// LandStats reports what one landing did.
type LandStats struct {
	Units   int            // units committed (new or re-landed)
	Rows    map[string]int // rows written per table
	Deleted int            // batches deleted after landing
	Expired int            // manifests dropped after the retention
}

// Lander moves spooled events into the lake. One Lander works on a spool
// at a time (the receiver runs one replica; see the Deployment).
type Lander struct {
	spool *Spool
	lake  *load.Lake
	opts  LanderOptions
	units map[string]*manifest // manifests in the spool, by unit; nil until loaded

	// For /metrics: the last landing that succeeded (unix seconds), the
	// landings that failed, the rows landed, since the process started.
	lastSuccess, failures, rows atomic.Int64
}

// NewLander returns a lander from spool into lake.
func NewLander(spool *Spool, lake *load.Lake, opts LanderOptions) *Lander {
	if opts.Location == nil {
		opts.Location = time.UTC
	}
	if opts.Retention <= 0 {
		opts.Retention = DefaultRetention
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Lander{spool: spool, lake: lake, opts: opts}
}

// Run lands every interval until ctx ends, then once more (with a bounded
// context) so that a clean shutdown leaves nothing behind. Failures are
// logged and retried at the next interval.
func (l *Lander) Run(ctx context.Context, interval time.Duration) {
	if interval <= 0 {
		interval = DefaultInterval
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
			l.landLogged(fctx)
			cancel()
			return
		case <-t.C:
			l.landLogged(ctx)
		}
	}
}

func (l *Lander) landLogged(ctx context.Context) {
	st, err := l.LandOnce(ctx)
	if err != nil {
		l.failures.Add(1)
		l.opts.Log.Error("receive: landing failed; the events stay in the spool and are landed at the next interval", "err", err)
		return
	}
	if st.Units > 0 || st.Expired > 0 {
		l.opts.Log.Info("receive: landed", "units", st.Units, "rows", st.Rows, "batches_deleted", st.Deleted, "expired", st.Expired)
	}
}

// LandOnce lands what the spool holds: it first re-lands any unit sealed
// but not marked landed (a crash), then seals the stored batches no unit
// names yet into a new unit and lands it, then deletes the landed batches
// and the manifests past the retention. Every step can be repeated after a
// crash without doubling a row.
func (l *Lander) LandOnce(ctx context.Context) (_ LandStats, err error) {
	st := LandStats{Rows: map[string]int{}}
	defer func() {
		// After a failure the store may hold what this process does not
		// know (a manifest whose upload failed after it was stored):
		// read the manifests again next time, so its batches are not
		// sealed into a second unit.
		if err != nil {
			l.units = nil
		}
		for _, n := range st.Rows {
			l.rows.Add(int64(n))
		}
	}()
	if err := l.load(ctx); err != nil {
		return st, err
	}
	landed, err := l.landedSet(ctx)
	if err != nil {
		return st, err
	}
	// 1. Units sealed before a crash: land them again, the same rows
	// under the same unit name, which replaces whatever part was written.
	for _, u := range slices.Sorted(maps.Keys(l.units)) {
		if landed[u] {
			continue
		}
		if err := l.landUnit(ctx, l.units[u], nil, &st); err != nil {
			return st, err
		}
		landed[u] = true
	}
	// 2. Batches stored since: seal them into a new unit and land it.
	sealed := map[string]bool{}
	known := map[string]bool{}
	for _, m := range l.units {
		for _, b := range m.Batches {
			sealed[b] = true
		}
		for _, k := range m.Keys {
			known[k] = true
		}
	}
	all, err := l.spool.listKeys(ctx, batchPrefix)
	if err != nil {
		return st, err
	}
	var fresh []string
	for _, b := range all {
		if !sealed[b] {
			fresh = append(fresh, b)
		}
	}
	if len(fresh) > 0 {
		m, evs, err := l.seal(ctx, fresh, known)
		if err != nil {
			return st, err
		}
		if err := l.landUnit(ctx, m, evs, &st); err != nil {
			return st, err
		}
		landed[m.Unit] = true
	}
	// 3. Landed batches go; manifests past the retention go, and with them
	// their ids from the dedupe index.
	now := l.opts.Now()
	for _, u := range slices.Sorted(maps.Keys(l.units)) {
		m := l.units[u]
		if !landed[u] {
			continue
		}
		// Deletes are independent (a local one waits for a directory
		// fsync, an S3 one for a round trip): several at once.
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(16)
		for _, b := range m.Batches {
			if _, ok := slices.BinarySearch(all, b); !ok {
				continue
			}
			st.Deleted++
			g.Go(func() error {
				if err := l.spool.store.Delete(gctx, b); err != nil {
					return fmt.Errorf("receive: delete landed batch %s: %w", b, err)
				}
				return nil
			})
		}
		if err := g.Wait(); err != nil {
			return st, err
		}
		if now.Sub(m.Created) < l.opts.Retention {
			continue
		}
		if err := l.spool.store.Delete(ctx, unitPrefix+u+".json"); err != nil {
			return st, fmt.Errorf("receive: drop expired manifest %s: %w", u, err)
		}
		if err := l.spool.store.Delete(ctx, landedPrefix+u); err != nil {
			return st, fmt.Errorf("receive: drop expired marker %s: %w", u, err)
		}
		l.spool.forget(m.Keys)
		delete(l.units, u)
		st.Expired++
	}
	l.lastSuccess.Store(l.opts.Now().Unix())
	return st, nil
}

// load reads every manifest of the spool once.
func (l *Lander) load(ctx context.Context) error {
	if l.units != nil {
		return nil
	}
	keys, err := l.spool.listKeys(ctx, unitPrefix)
	if err != nil {
		return err
	}
	units := make(map[string]*manifest, len(keys))
	for _, k := range keys {
		m, err := l.spool.readManifest(ctx, k)
		if err != nil {
			return err
		}
		units[m.Unit] = &m
	}
	l.units = units
	return nil
}

func (l *Lander) landedSet(ctx context.Context) (map[string]bool, error) {
	keys, err := l.spool.listKeys(ctx, landedPrefix)
	if err != nil {
		return nil, err
	}
	set := make(map[string]bool, len(keys))
	for _, k := range keys {
		set[unitOf(k, landedPrefix)] = true
	}
	return set, nil
}

// seal creates the manifest of a new unit over batches: the keys of their
// events, once each, without those an earlier unit landed (an event a
// failed write stored after all and its retry stored again).
// It returns the batches' events too, so landing the new unit does not
// read them again.
func (l *Lander) seal(ctx context.Context, batches []string, known map[string]bool) (*manifest, [][]Event, error) {
	now := l.opts.Now().UTC()
	m := &manifest{
		Unit:    "recv-" + strings.ToLower(now.Format("20060102t150405z")) + "-" + randHex(4),
		Created: now, Batches: batches,
	}
	seen := map[string]bool{}
	all, err := l.readBatches(ctx, batches)
	if err != nil {
		return nil, nil, err
	}
	for _, evs := range all {
		for i := range evs {
			k := evs[i].key()
			if known[k] || seen[k] {
				continue
			}
			seen[k] = true
			m.Keys = append(m.Keys, k)
		}
	}
	body, err := json.Marshal(m)
	if err != nil {
		return nil, nil, fmt.Errorf("receive: encode manifest: %w", err)
	}
	if _, err := l.spool.store.Put(ctx, unitPrefix+m.Unit+".json", bytes.NewReader(body), "application/json"); err != nil {
		return nil, nil, fmt.Errorf("receive: seal unit %s: %w", m.Unit, err)
	}
	l.units[m.Unit] = m
	return m, all, nil
}

// landUnit writes the events of m, one transaction per source, and marks
// the unit landed. all holds the events of m's batches when the caller has
// just read them (seal); nil reads them (a unit sealed before a crash).
func (l *Lander) landUnit(ctx context.Context, m *manifest, all [][]Event, st *LandStats) error {
	want := make(map[string]bool, len(m.Keys))
	for _, k := range m.Keys {
		want[k] = true
	}
	bySource := map[string][]Event{}
	if all == nil {
		var err error
		if all, err = l.readBatches(ctx, m.Batches); err != nil {
			return fmt.Errorf("receive: land unit %s (to give up on it, move %s%s.json out of the spool: what it landed stays): %w", m.Unit, unitPrefix, m.Unit, err)
		}
	}
	for _, evs := range all {
		for i := range evs {
			k := evs[i].key()
			if !want[k] {
				continue
			}
			delete(want, k)
			bySource[evs[i].Source] = append(bySource[evs[i].Source], evs[i])
		}
	}
	if len(want) > 0 {
		return fmt.Errorf("receive: unit %s: %d events of its manifest are missing from its batches (a batch was changed by hand? to give up on the unit, move %s%s.json out of the spool)", m.Unit, len(want), unitPrefix, m.Unit)
	}
	for _, source := range slices.Sorted(maps.Keys(bySource)) {
		rows, err := l.commit(ctx, m.Unit, source, bySource[source])
		if err != nil {
			return err
		}
		for t, n := range rows {
			st.Rows[t] += n
		}
	}
	if l.opts.afterCommit != nil {
		if err := l.opts.afterCommit(m.Unit); err != nil {
			return err
		}
	}
	_, err := l.spool.store.Put(ctx, landedPrefix+m.Unit, strings.NewReader(m.Created.Format(time.RFC3339)), "text/plain")
	if err != nil && !errors.Is(err, storage.ErrExists) {
		return fmt.Errorf("receive: mark unit %s landed: %w", m.Unit, err)
	}
	st.Units++
	return nil
}

// readBatches reads batches, several at once (an S3 read is a round
// trip), and returns their events in the order of batches.
func (l *Lander) readBatches(ctx context.Context, batches []string) ([][]Event, error) {
	out := make([][]Event, len(batches))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(16)
	for i, b := range batches {
		g.Go(func() error {
			evs, err := l.spool.readBatch(gctx, b)
			out[i] = evs
			return err
		})
	}
	return out, g.Wait()
}

func (l *Lander) commit(ctx context.Context, unit, source string, evs []Event) (map[string]int, error) {
	tx, err := l.lake.Begin(source, unit)
	if err != nil {
		return nil, fmt.Errorf("receive: land unit %s source %s: %w", unit, source, err)
	}
	defer tx.Abort()
	var vb *load.TableWriter[VotBoxRow]
	var mt *load.TableWriter[MTTRow]
	rows := map[string]int{}
	for i := range evs {
		ev := &evs[i]
		switch ev.Vendor {
		case VotBox:
			r, err := votboxRow(ev)
			l.mapped(ev, err)
			r.Date = l.day(r.EventTime, ev.ReceivedAt)
			if err := add(tx, &vb, VotBoxEvents, r.Date, &r); err != nil {
				return nil, err
			}
			rows[VotBoxEvents.Name]++
		case MTT:
			r, err := mttRow(ev)
			l.mapped(ev, err)
			r.Date = l.day(r.EventTime, ev.ReceivedAt)
			if err := add(tx, &mt, MTTEvents, r.Date, &r); err != nil {
				return nil, err
			}
			rows[MTTEvents.Name]++
		default:
			return nil, fmt.Errorf("receive: land event %s: unknown vendor %q", ev.ID, ev.Vendor)
		}
	}
	if _, err := tx.CommitContext(ctx); err != nil {
		return nil, fmt.Errorf("receive: land unit %s source %s: %w", unit, source, err)
	}
	return rows, nil
}

// mapped logs an event whose row did not map whole. Stored events were
// decoded when they arrived; one that this version reads differently is
// landed with what maps (every field is in the fields column) rather than
// stop every later landing.
func (l *Lander) mapped(ev *Event, err error) {
	if err != nil {
		l.opts.Log.Warn("receive: event landed with the columns that map", "event_id", ev.ID, "err", err)
	}
}

// add appends r to table t of tx through *w, made on first use.
func add[R any](tx *load.Tx, w **load.TableWriter[R], t *load.Table[R], date string, r *R) error {
	if *w == nil {
		*w = load.Writer(tx, t)
	}
	return (*w).Add(date, r)
}

// day is the event's date partition: its time, else its arrival, in the
// business zone.
func (l *Lander) day(t, received time.Time) string {
	if t.IsZero() {
		t = received
	}
	return model.Day(t, l.opts.Location)
}
