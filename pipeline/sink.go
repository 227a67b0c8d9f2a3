package pipeline

import (
	"github.com/calletl/calletl/load"
	"github.com/calletl/calletl/model"
)

// Sink is where a source's extraction of one window or item goes: the
// canonical calls, the rejects (built by model.NewReject with the origin the
// pipeline gave) and the source's own detail tables, all in the pipeline's
// transaction, which the pipeline commits or aborts. The sink counts what
// it was given, so sources keep no row or reject tallies of their own.
//
// A Sink belongs to the goroutine of the extraction it was made for.
//
// Rows counts the extraction's records: each call, unless the source named
// its own record table with Records (a stream whose records are not calls,
// or not all of them: T2's missed calls, Mobilgroup's subscribers), whose
// rows are counted instead.
type Sink struct {
	tx      *load.Tx
	run     model.Run
	origin  model.Origin
	calls   *load.TableWriter[model.Call]
	rejects *load.TableWriter[model.Reject]

	nCalls, nRecords, nRejects int64
	records                    bool // Records named the record table
}

// NewSink returns the sink of one extraction into tx for run, whose rejects
// come from o (o.Endpoint is set per reject). It registers the canonical
// tables in tx, so the transaction replaces them in every date it covers
// even when the extraction writes none of their rows. The pipeline makes
// one per window or item; a vendor's unit test may make its own.
func NewSink(tx *load.Tx, run model.Run, o model.Origin) *Sink {
	return &Sink{tx: tx, run: run, origin: o,
		calls: load.Writer(tx, load.Calls), rejects: load.Writer(tx, load.Rejects)}
}

// Run is the run being extracted: its id, mode, clock (StartedAt, never
// time.Now) and business time zone.
func (s *Sink) Run() model.Run { return s.run }

// Origin is where this extraction's rejects are said to come from, without
// an endpoint.
func (s *Sink) Origin() model.Origin { return s.origin }

// SetAccount files the rejects that follow under the vendor account
// account: an item's key (a task id) is not an account, so an item source
// names the account it extracts for.
func (s *Sink) SetAccount(account string) { s.origin.Key.Account = account }

// Call writes c to the canonical calls table in its partition, c.Date.
func (s *Sink) Call(c *model.Call) error {
	if err := s.calls.Add(c.Date, c); err != nil {
		return err
	}
	s.nCalls++
	return nil
}

// Reject writes the reject of one row that failed validation: raw exactly
// as the vendor sent it, from endpoint, for reason, in the partition day.
func (s *Sink) Reject(day, endpoint, reason, raw string) error {
	o := s.origin
	o.Endpoint = endpoint
	if err := s.rejects.Add(day, model.NewReject(s.run, o, day, reason, raw)); err != nil {
		return err
	}
	s.nRejects++
	return nil
}

// Cover declares the extraction authoritative for day (see load.Tx.Cover):
// for an item, whose day is known only after reading it. The pipeline
// covers a window's day itself.
func (s *Sink) Cover(day string) error { return s.tx.Cover(day) }

// Counts is what the sink was given so far: Rows and Rejects (the source
// counts its Pages).
func (s *Sink) Counts() model.Counts {
	rows := s.nCalls
	if s.records {
		rows = s.nRecords
	}
	return model.Counts{Rows: rows, Rejects: s.nRejects}
}

// Writer adds rows of one of a source's own tables through a sink.
type Writer[T any] struct {
	w     *load.TableWriter[T]
	s     *Sink
	count bool
}

// Add appends row to the partition date of the table (see
// load.TableWriter.Add).
func (w *Writer[T]) Add(date string, row *T) error {
	if err := w.w.Add(date, row); err != nil {
		return err
	}
	if w.count {
		w.s.nRecords++
	}
	return nil
}

// Detail registers the source's own table t in the sink's transaction (so
// it is replaced in every covered date, even with no rows) and returns its
// writer. Its rows are not counted.
func Detail[T any](s *Sink, t *load.Table[T]) *Writer[T] {
	return &Writer[T]{w: load.Writer(s.tx, t), s: s}
}

// Records is Detail for the table whose rows are the extraction's records:
// Rows counts them instead of the calls.
func Records[T any](s *Sink, t *load.Table[T]) *Writer[T] {
	s.records = true
	return &Writer[T]{w: load.Writer(s.tx, t), s: s, count: true}
}
