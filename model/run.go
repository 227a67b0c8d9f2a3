package model

import (
	"fmt"
	"time"
)

// StreamKey names one incremental stream of one account of a source: the
// unit that owns a cursor ("mtt/dialed/110011256").
type StreamKey struct {
	Source  string
	Stream  string
	Account string
}

func (k StreamKey) String() string { return k.Source + "/" + k.Stream + "/" + k.Account }

// Unit is the lake file name this stream's rows are written under in every
// partition it touches ("dialed-110011256").
func (k StreamKey) Unit() string { return k.Stream + "-" + k.Account }

// Window is one business day: the half-open interval [From, To) of
// instants, where Day is the date of From in the business time zone.
type Window struct {
	Day      string
	From, To time.Time
}

func (w Window) String() string {
	return fmt.Sprintf("%s [%s, %s)", w.Day, w.From.UTC().Format(time.RFC3339), w.To.UTC().Format(time.RFC3339))
}

// DayWindow returns the window of day (YYYY-MM-DD) in loc. Days are
// calendar days, so a DST change gives a 23- or 25-hour window.
func DayWindow(day string, loc *time.Location) (Window, error) {
	d, err := time.ParseInLocation(DayLayout, day, loc)
	if err != nil {
		return Window{}, fmt.Errorf("bad day %q: want YYYY-MM-DD", day)
	}
	return Window{Day: day, From: d, To: d.AddDate(0, 0, 1)}, nil
}

// Run identifies one run of the ETL to the sources.
type Run struct {
	ID        string
	Mode      string // "run" or "backfill"
	StartedAt time.Time
	Location  *time.Location // the business time zone
}

// Day is the run's start day in the business time zone: the partition of
// snapshots and of the runs table.
func (r Run) Day() string { return Day(r.StartedAt, r.Location) }

// Counts is what extracting a window produced.
type Counts struct {
	Pages   int64
	Rows    int64
	Rejects int64
}

// Add accumulates o into c.
func (c *Counts) Add(o Counts) {
	c.Pages += o.Pages
	c.Rows += o.Rows
	c.Rejects += o.Rejects
}
