package pipeline

import (
	"fmt"
	"sync"

	"github.com/calletl/calletl/extract/httpx"
	"github.com/calletl/calletl/model"
)

// halt is one source's stop in one run. The first error fatal for the
// source (httpx.IsFatal: a refused credential, a disabled account) trips
// it; the source's streams, windows, items and snapshots not started yet
// are then not attempted, and are recorded failed with that one error
// (work already in flight finishes as it does). One dead credential is so
// one error, not one per stream.
type halt struct {
	source string
	mu     sync.Mutex
	err    error  // the first fatal error; nil while the source runs
	at     string // the work that met it, e.g. "mtt/history/110011256"
}

// trip records err when it is fatal for the source and is the first.
func (h *halt) trip(at string, err error) {
	if err == nil || !httpx.IsFatal(err) {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.err == nil {
		h.err, h.at = err, at
	}
}

// stopped returns the error that stopped the source, nil while it runs.
func (h *halt) stopped() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.err == nil {
		return nil
	}
	return &StoppedError{Source: h.source, At: h.at, Err: h.err}
}

// StoppedError is the error of a source's work that was not attempted: an
// earlier request of the same source met an error fatal for the source.
type StoppedError struct {
	Source string // the source, e.g. "mtt"
	At     string // the work that met the error, e.g. "mtt/history/110011256"
	Err    error  // that error (it says what to do)
}

func (e *StoppedError) Error() string {
	return fmt.Sprintf("%s: not attempted: the source stopped at %s on an error no retry can fix (fix it, then run again): %v", e.Source, e.At, e.Err)
}

// Unwrap returns the fatal error.
func (e *StoppedError) Unwrap() error { return e.Err }

// skipped is the runs row of work that was not attempted.
func (p *Pipeline) skipped(rs model.RunStream, err error) model.RunStream {
	rs.Status, rs.Error, rs.FinishedAt = model.RunFailed, err.Error(), p.cfg.Now().UTC()
	return rs
}
