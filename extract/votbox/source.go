package votbox

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/calletl/calletl/extract/httpx"
	"github.com/calletl/calletl/load"
	"github.com/calletl/calletl/pipeline"
)

var _ pipeline.ItemSource = (*Source)(nil)

// Source adapts the client to the pipeline as an item source: its items
// are tasks, extracted whole on every run until final.
type Source struct{ c *Client }

// NewSource returns the VotBox source. The business zone (the date
// partition) comes from each run's Location.
func NewSource(c *Client) *Source { return &Source{c: c} }

// Name returns "votbox".
func (s *Source) Name() string { return Name }

// Kind returns "task".
func (s *Source) Kind() string { return Kind }

// Concurrency is how many tasks may be extracted at once: the HTTP
// concurrency (the HTTP client bounds requests across tasks anyway).
func (s *Source) Concurrency() int { return max(1, s.c.cfg.HTTP.Concurrency) }

// Tables lists the vendor tables this source writes.
func (s *Source) Tables() []load.TableInfo { return Tables() }

// Ping calls autocall.get.task once.
func (s *Source) Ping(ctx context.Context) error { return s.c.Ping(ctx) }

// Items returns, sorted and without duplicates, the active tasks
// (autocall.get.task), the configured Config.TaskIDs and pending. Pending
// keys that are not valid keys are dropped with a warning.
func (s *Source) Items(ctx context.Context, pending []string) ([]string, error) {
	active, err := s.c.ActiveTasks(ctx)
	if err != nil {
		return nil, err
	}
	keys := slices.Concat(active, s.c.cfg.TaskIDs)
	for _, k := range pending {
		if !ValidTaskID(k) {
			s.c.log.Warn("ignoring a pending task id that is not a valid key", "task", k)
			continue
		}
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return slices.Compact(keys), nil
}

// ExtractItem pages through autocall.check for task key and writes the
// task's votbox_tasks row, a votbox_calls and a calls row per item, and
// rejects for items that fail validation. With Config.Detail, final items
// are first completed by autocall.detail. final is true when the task has
// at least one item, every item's jobstatus is final (not 0 or 1) and no
// item was rejected.
func (s *Source) ExtractItem(ctx context.Context, key string, sink *pipeline.Sink) (int64, bool, error) {
	var pages int64
	run := sink.Run()
	sink.SetAccount(s.c.cfg.Username)
	mc := MapContext{Business: run.Location, Account: s.c.cfg.Username, RunID: run.ID, ExtractedAt: run.StartedAt.UTC()}
	if mc.Business == nil {
		mc.Business = time.UTC
	}
	fail := func(err error) (int64, bool, error) {
		return pages, false, fmt.Errorf("votbox: task %s: %w", key, err)
	}
	// Register every table first: the transaction then replaces them in
	// every covered date even when this extraction writes none of their rows.
	tasks := pipeline.Detail(sink, TasksTable)
	details := pipeline.Detail(sink, CallsTable)

	var (
		taskEl *Element
		items  []*Element
	)
	err := s.c.TaskPages(ctx, key, func(p Page) error {
		pages++
		if taskEl == nil && p.Task != nil {
			taskEl = p.Task
		}
		items = append(items, p.Items...)
		return nil
	})
	if errors.Is(err, ErrNotFound) {
		// A mistyped task id stays wrong: say so once, then stop polling it.
		return pages, false, fmt.Errorf("%w (%w)", err, pipeline.ErrItemGone)
	}
	if err != nil {
		return pages, false, err // already "votbox: autocall.check taskid …: …"
	}
	if taskEl == nil {
		return fail(errors.New("autocall.check answered without a <task> element"))
	}
	task, err := DecodeTask(taskEl)
	if err != nil {
		return fail(fmt.Errorf("task element %s: %w", taskEl.XML(), err))
	}
	if task.ID == "" {
		task.ID = key
	}
	if task.ID != key {
		return fail(fmt.Errorf("autocall.check answered for task %q", task.ID))
	}
	day := TaskDay(&task, &mc, run)
	if err := sink.Cover(day); err != nil {
		return fail(err)
	}

	det, err := s.details(ctx, items)
	if err != nil {
		return fail(err)
	}

	row := TaskRow{
		Date: day, TaskID: task.ID, Name: task.Name, StartTime: task.Start, Status: task.Status,
		StatusText: task.StatusText, ByStatus: map[int]int64{}, Extras: task.Extras,
		RunID: run.ID, ExtractedAt: mc.ExtractedAt,
	}
	final := len(items) > 0
	seen := make(map[string]struct{}, len(items))
	for i, el := range items {
		it := DecodeItem(el, det[i])
		r, c, err := Map(&mc, &task, day, &it)
		if err == nil {
			if _, dup := seen[r.ItemID]; dup {
				err = fmt.Errorf("item %s listed twice", r.ItemID)
			}
		}
		row.Items++
		if err != nil {
			row.Rejected++
			final = false
			if err := sink.Reject(day, "autocall.check", err.Error(), it.Raw); err != nil {
				return fail(err)
			}
			continue
		}
		seen[r.ItemID] = struct{}{}
		row.ByStatus[int(r.JobStatus)]++
		if !r.Final() {
			final = false
		}
		if err := details.Add(r.Date, &r); err != nil {
			return fail(err)
		}
		if err := sink.Call(&c); err != nil {
			return fail(err)
		}
	}
	row.Final = final
	if err := tasks.Add(day, &row); err != nil {
		return fail(err)
	}
	return pages, final, nil
}

// details fetches autocall.detail for the final items when Config.Detail is
// on, at most DetailConcurrency at a time; the result is indexed like items
// (nil where not fetched). A VotBox error answer for one item leaves its
// detail NULL (with a warning); any other error fails the task.
func (s *Source) details(ctx context.Context, items []*Element) ([]*Element, error) {
	out := make([]*Element, len(items))
	if !s.c.cfg.Detail {
		return out, nil
	}
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(s.c.cfg.DetailConcurrency)
	for i, el := range items {
		id, _ := el.Field("id")
		js, _ := el.Field("jobstatus")
		if id == "" || js == "0" || js == "1" || js == "" {
			continue
		}
		g.Go(func() error {
			d, err := s.c.Detail(ctx, id)
			var apiErr *APIError
			if errors.As(err, &apiErr) && !httpx.IsFatal(err) {
				s.c.log.Warn("autocall.detail failed; the item's detail stays NULL", "item", id, "err", err)
				return nil
			}
			out[i] = d
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}
