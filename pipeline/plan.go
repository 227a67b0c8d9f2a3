package pipeline

import (
	"fmt"
	"slices"
	"strings"

	"github.com/calletl/calletl/model"
	"github.com/calletl/calletl/state"
)

// ItemPlanner is an ItemSource that can say, without asking its vendor,
// which items Items would list: PlanItems returns them given pending (as
// Items takes it). partial reports that Items also asks the vendor for
// more (VotBox's active tasks), which a plan leaves out. A plan must
// never call a vendor.
type ItemPlanner interface {
	PlanItems(pending []string) (keys []string, partial bool, err error)
}

// Plan is what Run would extract now, computed by the same code as Run
// from the state, without calling a vendor or writing anything: the days
// of every stream (this shard's) and the items of every item source.
type Plan struct {
	Today   string       `json:"today"` // the run's day in the business time zone
	Streams []StreamPlan `json:"streams"`
	Items   []ItemPlan   `json:"items"`
}

// StreamPlan is one stream's windows in a Plan.
type StreamPlan struct {
	Key    model.StreamKey `json:"-"`
	Stream string          `json:"stream"`        // "source/stream/account"
	Cursor string          `json:"cursor"`        // the cursor's day; "" when the stream has none yet
	Days   []string        `json:"days"`          // the windows, in order
	Lag    int             `json:"lag_days"`      // days between the cursor and the lookback start (0: none)
	Start  string          `json:"start_because"` // "cursor", "lookback" or "start_date"
}

// ItemPlan is one item source's items in a Plan.
type ItemPlan struct {
	Source string   `json:"source"`
	Kind   string   `json:"kind"`
	Keys   []string `json:"keys"`    // items the run would extract
	GiveUp []string `json:"give_up"` // items the run would give up (polled longer than ItemMaxAge)
	// Partial: the vendor's own discovery may add items (not asked).
	Partial bool `json:"partial"`
}

// Windows returns the number of day windows in the plan.
func (pl *Plan) Windows() int {
	n := 0
	for _, s := range pl.Streams {
		n += len(s.Days)
	}
	return n
}

// Plan returns what Run would extract now from sources and items (see
// Plan). It reads only the state; an ItemSource that is not an ItemPlanner
// contributes the items the state remembers as pending, and Partial.
func (p *Pipeline) Plan(sources []Source, items ...ItemSource) (*Plan, error) {
	today := model.Day(p.cfg.Now(), p.cfg.Location)
	plans, err := p.planStreams(today, sources)
	if err != nil {
		return nil, err
	}
	lookbackStart, _ := addDays(today, -p.cfg.LookbackDays) // checked by planStreams
	out := &Plan{Today: today, Streams: []StreamPlan{}, Items: []ItemPlan{}}
	for _, sp := range plans {
		for _, pl := range sp {
			s := StreamPlan{Key: pl.key, Stream: pl.key.String(), Days: pl.days, Start: "lookback"}
			if s.Days == nil {
				s.Days = []string{}
			}
			if c, ok := p.cfg.State.Cursor(pl.key.String()); ok {
				s.Cursor = c.Day
				if next, _ := addDays(c.Day, 1); next < lookbackStart {
					s.Start = "cursor"
					s.Lag = len(days(next, lookbackStart)) - 1
				}
			} else if p.cfg.StartDay != "" {
				s.Start = "start_date"
			}
			out.Streams = append(out.Streams, s)
		}
	}
	now := p.cfg.Now().UTC()
	for _, src := range items {
		book, err := p.itemBook(src.Name())
		if err != nil {
			return nil, err
		}
		ip := ItemPlan{Source: src.Name(), Kind: src.Kind(), Keys: []string{}, GiveUp: []string{}}
		keys := book.pending()
		ip.Partial = true
		if planner, ok := src.(ItemPlanner); ok {
			if keys, ip.Partial, err = planner.PlanItems(book.pending()); err != nil {
				return nil, fmt.Errorf("pipeline: plan %ss of %s: %w", src.Kind(), src.Name(), err)
			}
		}
		for _, k := range keys {
			st, ok := book.get(k)
			switch p.itemAction(src, k, st, ok, now) {
			case itemExtract:
				if !slices.Contains(ip.Keys, k) {
					ip.Keys = append(ip.Keys, k)
				}
			case itemGiveUp:
				ip.GiveUp = append(ip.GiveUp, k)
			}
		}
		out.Items = append(out.Items, ip)
	}
	return out, nil
}

// ItemState is what the pipeline remembers of one item: Final (not
// polled again), Gone (why it was given up, when it was), FirstSeen,
// the last run and when it saved the item.
type ItemState = itemState

// RememberedItems returns the items every item source's runs saved in st,
// by source and key. It only reads.
func RememberedItems(st *state.Store) (map[string]map[string]ItemState, error) {
	out := map[string]map[string]ItemState{}
	for _, key := range st.Keys("items/") {
		book := map[string]ItemState{}
		if _, err := st.Get(key, &book); err != nil {
			return nil, err
		}
		out[strings.TrimPrefix(key, "items/")] = book
	}
	return out, nil
}
