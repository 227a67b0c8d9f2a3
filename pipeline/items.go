package pipeline

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/calletl/calletl/load"
	"github.com/calletl/calletl/model"
)

// ItemSource is a source whose work comes in items polled until they are
// final — VotBox autocall tasks, Mobilgroup broadcasts — rather than in day
// windows. Every run extracts each item that is not final yet, whole, into
// one lake transaction whose unit is "<Kind>-<key>".
type ItemSource interface {
	Name() string
	Concurrency() int
	// Kind names the items ("task"): the stream name in runs and the lake
	// unit prefix.
	Kind() string
	// Items lists the item keys to extract this run: the source's own
	// discovery (active tasks, configured ids) plus pending, the keys the
	// pipeline remembers as not yet final. Keys match [A-Za-z0-9._-]+.
	Items(ctx context.Context, pending []string) ([]string, error)
	// ExtractItem writes one item through sink (see Source.Extract). The
	// pipeline has already registered the canonical tables and covered
	// every date an earlier extraction of the item wrote, so the new rows
	// replace the old wherever they land; the source covers the item's day
	// (sink.Cover) once it knows it. Its rejects' origin is the item
	// ("task 123"), filed under the item's key as account unless the source
	// names its vendor account (sink.SetAccount). final reports that the
	// item will not change any more: later runs skip it.
	ExtractItem(ctx context.Context, key string, sink *Sink) (pages int64, final bool, err error)
}

// ErrItemGone is wrapped by an ExtractItem error that will not go away by
// itself: the vendor says the item does not exist (a mistyped broadcast
// id). The pipeline reports the error once, then remembers the item as
// final, so later runs skip it (with a warning while the source still lists
// it) instead of failing every night.
var ErrItemGone = errors.New("the vendor does not know this item: it is not polled again")

// itemState is what the pipeline remembers of one item.
type itemState struct {
	Final     bool      `json:"final"`
	Gone      string    `json:"gone,omitempty"` // why the item was given up (not by the vendor saying it is final)
	FirstSeen time.Time `json:"first_seen,omitzero"`
	Dates     []string  `json:"dates"` // partitions the last extraction wrote
	RunID     string    `json:"run_id"`
	UpdatedAt time.Time `json:"updated_at"`
}

// itemBook is the per-source item state, kept in the state store under
// "items/<source>" and saved after every committed item.
type itemBook struct {
	p     *Pipeline
	key   string
	mu    sync.Mutex
	items map[string]itemState
}

func (p *Pipeline) itemBook(source string) (*itemBook, error) {
	b := &itemBook{p: p, key: "items/" + source, items: map[string]itemState{}}
	if _, err := p.cfg.State.Get(b.key, &b.items); err != nil {
		return nil, err
	}
	return b, nil
}

func (b *itemBook) get(key string) (itemState, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	st, ok := b.items[key]
	return st, ok
}

func (b *itemBook) pending() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for k, st := range b.items {
		if !st.Final {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// set records one item's state: a read-modify-write of that item alone in
// the state file, so the shards of a run, each with its own items of the
// source, never overwrite each other's.
func (b *itemBook) set(key string, st itemState) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	var disk map[string]itemState
	err := b.p.cfg.State.Update(b.key, &disk, func() error {
		if disk == nil {
			disk = map[string]itemState{}
		}
		disk[key] = st
		return nil
	})
	if err != nil {
		return err
	}
	b.items[key] = st
	return nil
}

// runItems extracts every item of src that is not final. Once h says the
// source met an error fatal for it, the items not started yet are recorded
// failed with that error, not attempted.
func (p *Pipeline) runItems(ctx context.Context, src ItemSource, run model.Run, record func(model.RunStream, error), h *halt) {
	fail := func(account string, err error) {
		now := p.cfg.Now().UTC()
		record(model.RunStream{Source: src.Name(), Date: run.Day(), RunID: run.ID, Mode: run.Mode, Stream: src.Kind(),
			Account: account, StartedAt: now, FinishedAt: now, Status: failStatus(ctx), Error: err.Error()}, err)
		p.cfg.Logger.Error("item discovery failed", "source", src.Name(), "err", err)
	}
	book, err := p.itemBook(src.Name())
	if err != nil {
		fail("*", err)
		return
	}
	if err := h.stopped(); err != nil {
		now := p.cfg.Now().UTC()
		record(p.skipped(model.RunStream{Source: src.Name(), Date: run.Day(), RunID: run.ID, Mode: run.Mode, Stream: src.Kind(),
			Account: "*", StartedAt: now}, err), err)
		return
	}
	keys, err := src.Items(ctx, book.pending())
	if err != nil {
		h.trip(src.Name()+"/"+src.Kind()+"s", err)
		fail("*", fmt.Errorf("%s: list %ss: %w", src.Name(), src.Kind(), err))
		return
	}
	var todo []string
	now := p.cfg.Now().UTC()
	for _, k := range keys {
		st, ok := book.get(k)
		switch p.itemAction(src, k, st, ok, now) {
		case itemOtherShard:
			continue // another shard's item, keyed "source/kind/key"
		case itemGiveUp:
			st.Final = true
			st.Gone = fmt.Sprintf("still not final %s after it was first seen (%s): given up; its rows stay as last extracted (raise item_max_age_days to poll longer)",
				p.cfg.ItemMaxAge, st.FirstSeen.Format(time.RFC3339))
			p.cfg.Logger.Warn("giving up an item that never became final", "source", src.Name(), src.Kind(), k, "err", st.Gone)
			if err := book.set(k, st); err != nil {
				p.cfg.Logger.Error("could not save a given-up item's state; it is polled again next run", "source", src.Name(), src.Kind(), k, "err", err)
			}
			continue
		case itemFinal:
			if st.Gone != "" {
				p.cfg.Logger.Warn("skipping an item the vendor did not know on an earlier run; remove it from the config or ids file",
					"source", src.Name(), src.Kind(), k, "run_id", st.RunID, "err", st.Gone)
			}
			continue // finished on an earlier run: nothing can change
		}
		if !slices.Contains(todo, k) {
			todo = append(todo, k)
		}
	}
	p.cfg.Progress.Plan(len(todo))
	var g errgroup.Group
	g.SetLimit(max(1, src.Concurrency()))
	for _, k := range todo {
		g.Go(func() error {
			record(p.item(ctx, src, book, k, run, h))
			return nil
		})
	}
	_ = g.Wait()
}

// itemAction is what a run does with an item its source listed.
type itemAction int

const (
	itemExtract    itemAction = iota
	itemOtherShard            // another shard's: skipped
	itemGiveUp                // polled longer than ItemMaxAge: given up, remembered final
	itemFinal                 // final on an earlier run (or given up): skipped
)

// itemAction decides what a run at now does with item key of src, whose
// remembered state is st (ok: there is one). runItems and Plan both use it.
func (p *Pipeline) itemAction(src ItemSource, key string, st itemState, ok bool, now time.Time) itemAction {
	switch {
	case !p.cfg.Shard.Owns(src.Name(), src.Kind(), key):
		return itemOtherShard
	case ok && !st.Final && p.cfg.ItemMaxAge > 0 && !st.FirstSeen.IsZero() && now.Sub(st.FirstSeen) > p.cfg.ItemMaxAge:
		return itemGiveUp
	case ok && st.Final:
		return itemFinal
	}
	return itemExtract
}

// item extracts one item and records its new state after the commit. It
// returns the row and its error. An item not started when h stops the
// source is not attempted, and its state is left as it was.
func (p *Pipeline) item(ctx context.Context, src ItemSource, book *itemBook, key string, run model.Run, h *halt) (model.RunStream, error) {
	sk := model.StreamKey{Source: src.Name(), Stream: src.Kind(), Account: key}
	rs := model.RunStream{Source: sk.Source, Date: run.Day(), RunID: run.ID, Mode: run.Mode, Stream: sk.Stream,
		Account: key, StartedAt: p.cfg.Now().UTC(), Status: model.RunOK}
	if err := h.stopped(); err != nil {
		p.cfg.Progress.Window(sk, "", model.Counts{}, err) // planned, not attempted
		return p.skipped(rs, err), err
	}
	c, final, err := p.extractItem(ctx, src, book, sk, run)
	h.trip(sk.String(), err)
	rs.Pages, rs.Rows, rs.Rejects, rs.FinishedAt = c.Pages, c.Rows, c.Rejects, p.cfg.Now().UTC()
	p.cfg.Progress.Window(sk, "", c, err)
	if errors.Is(err, ErrItemGone) {
		rs.Status, rs.Error = failStatus(ctx), err.Error()
		p.cfg.Logger.Error("item not found at the vendor; it is not polled again", "source", sk.Source, sk.Stream, key, "err", err)
		prev, _ := book.get(key)
		prev.Final, prev.Gone, prev.RunID, prev.UpdatedAt = true, err.Error(), run.ID, p.cfg.Now().UTC()
		if serr := book.set(key, prev); serr != nil {
			rs.Error += "; and its state could not be saved: " + serr.Error()
		}
		return rs, err
	}
	if err != nil {
		rs.Status, rs.Error = failStatus(ctx), err.Error()
		p.cfg.Logger.Error("item failed; it is retried next run", "source", sk.Source, sk.Stream, key, "err", err)
		// Remember it as pending even if discovery never lists it again
		// (a task that finishes before the next run), keeping the dates
		// its last good extraction wrote.
		prev, _ := book.get(key)
		prev.Final = false
		prev.FirstSeen = firstSeen(prev, p.cfg.Now())
		if serr := book.set(key, prev); serr != nil {
			rs.Error += "; and its state could not be saved: " + serr.Error()
		}
		return rs, err
	}
	rs.Windows = 1
	p.cfg.Logger.Info("item done", "source", sk.Source, sk.Stream, key, "rows", c.Rows, "rejects", c.Rejects, "final", final)
	return rs, nil
}

func (p *Pipeline) extractItem(ctx context.Context, src ItemSource, book *itemBook, sk model.StreamKey, run model.Run) (model.Counts, bool, error) {
	if err := ctx.Err(); err != nil {
		return model.Counts{}, false, err
	}
	prev, _ := book.get(sk.Account)
	c, final, dates, err := ExtractItem(ctx, p.cfg.Lake, src, sk.Account, run, prev.Dates...)
	if err != nil {
		return c, false, err
	}
	st := itemState{Final: final, Dates: dates, RunID: run.ID, UpdatedAt: p.cfg.Now().UTC(), FirstSeen: firstSeen(prev, p.cfg.Now())}
	if err := book.set(sk.Account, st); err != nil {
		return c, false, fmt.Errorf("%s: committed, but its state could not be saved (it is re-extracted next run): %w", sk.String(), err)
	}
	return c, final, nil
}

// ExtractItem extracts item key of src into lake and commits it, as a run
// does (without recording the item's state): one transaction of unit
// "<kind>-<key>", the dates an earlier extraction wrote (cover) covered, a
// Sink whose rejects come from "<kind> <key>". dates are the partitions the
// item now holds rows in. Tests that drive an item source use it too.
func ExtractItem(ctx context.Context, lake *load.Lake, src ItemSource, key string, run model.Run, cover ...string) (c model.Counts, final bool, dates []string, err error) {
	sk := model.StreamKey{Source: src.Name(), Stream: src.Kind(), Account: key}
	tx, err := lake.Begin(sk.Source, sk.Unit())
	if err != nil {
		return c, false, nil, err
	}
	defer tx.Abort()
	sink := NewSink(tx, run, model.Origin{Key: sk, Window: sk.Stream + " " + key})
	for _, d := range cover {
		if err := tx.Cover(d); err != nil {
			return c, false, nil, err
		}
	}
	pages, final, err := src.ExtractItem(ctx, key, sink)
	c = sink.Counts()
	c.Pages = pages
	if err != nil {
		return c, false, nil, err
	}
	stats, err := tx.CommitContext(ctx)
	if err != nil {
		return c, false, nil, fmt.Errorf("%s: commit: %w", sk.String(), err)
	}
	return c, final, stats.Dates, nil
}

// firstSeen is when the pipeline first saw the item: st's, or now for a
// new item (and for items remembered before first_seen was kept).
func firstSeen(st itemState, now time.Time) time.Time {
	if !st.FirstSeen.IsZero() {
		return st.FirstSeen
	}
	return now.UTC()
}
