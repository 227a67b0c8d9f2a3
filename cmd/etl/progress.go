package main

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"sync"

	"github.com/schollz/progressbar/v3"

	"github.com/calletl/calletl/model"
	"github.com/calletl/calletl/recordings"
)

// termOut is stderr on a terminal, shared by the text log and the
// progress bars. A bar redraws its own line in place ("\r" then the bar),
// so a log line written while a bar shows would be glued to the bar's
// text. Every line written through termOut (Write) therefore erases the
// bar's line first, then writes the line, then draws the bar again below
// it: warnings scroll up above the bar. The bars write through bar().
type termOut struct {
	mu    sync.Mutex
	w     io.Writer
	frame []byte // the bar as last drawn while it shows; nil when no bar shows
}

func newTermOut(w io.Writer) *termOut { return &termOut{w: w} }

// eraseLine moves to the start of the line and clears it (ANSI EL 2).
const eraseLine = "\r\x1b[2K"

// Write writes whole lines (a log record, a summary) above the bar.
func (t *termOut) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.frame != nil {
		if _, err := io.WriteString(t.w, eraseLine); err != nil {
			return 0, err
		}
	}
	n, err := t.w.Write(p)
	if err == nil && t.frame != nil {
		_, err = t.w.Write(t.frame)
	}
	return n, err
}

// bar returns the writer a progress bar draws with.
func (t *termOut) bar() io.Writer { return barWriter{t} }

type barWriter struct{ t *termOut }

// Write passes a bar's drawing through and remembers it: a drawing that is
// only carriage returns and spaces is the bar clearing itself.
func (b barWriter) Write(p []byte) (int, error) {
	t := b.t
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(bytes.Trim(p, "\r ")) == 0 {
		t.frame = nil
	} else {
		t.frame = append([]byte("\r"), bytes.TrimLeft(p, "\r")...)
	}
	return t.w.Write(p)
}

// progress shows windows done as a bar on a terminal; elsewhere it does
// nothing (the pipeline logs each stream with slog).
type progress struct {
	mu    sync.Mutex
	bar   *progressbar.ProgressBar
	desc  string
	rows  int64
	total int
}

func (a *app) newProgress(desc string) *progress {
	p := &progress{desc: desc}
	if a.term == nil { // no terminal, --no-progress or JSON logs (stderr is JSON lines only)
		return p
	}
	// Info lines would tear the bar apart; warnings and errors still show.
	if !a.levelSet && a.level.Level() < slog.LevelWarn {
		a.level.Set(slog.LevelWarn)
	}
	p.bar = progressbar.NewOptions(-1,
		progressbar.OptionSetWriter(a.term.bar()),
		progressbar.OptionSetDescription(desc),
		progressbar.OptionShowCount(),
		progressbar.OptionSetItsString("windows"),
		progressbar.OptionShowIts(),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionThrottle(100_000_000),
	)
	return p
}

// Plan adds to the bar's total.
func (p *progress) Plan(windows int) {
	if p.bar == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.total += windows
	p.bar.ChangeMax(p.total)
}

// Window advances the bar by one window.
func (p *progress) Window(key model.StreamKey, day string, c model.Counts, err error) {
	if p.bar == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rows += c.Rows
	p.bar.Describe(fmt.Sprintf("%s %s %s (%d rows)", p.desc, key, day, p.rows))
	_ = p.bar.Add(1)
}

func (p *progress) finish() {
	if p.bar != nil {
		_ = p.bar.Finish()
	}
}

// byteProgress shows recordings as a bar in bytes on a terminal (the total
// is unknown up front, so it counts up with a rate); elsewhere nothing.
type byteProgress struct {
	mu    sync.Mutex
	bar   *progressbar.ProgressBar
	calls int
	done  int
}

func (a *app) newByteProgress() *byteProgress {
	p := &byteProgress{}
	if a.term == nil {
		return p
	}
	if !a.levelSet && a.level.Level() < slog.LevelWarn {
		a.level.Set(slog.LevelWarn)
	}
	p.bar = progressbar.NewOptions64(-1,
		progressbar.OptionSetWriter(a.term.bar()),
		progressbar.OptionSetDescription("recordings"),
		progressbar.OptionShowBytes(true),
		progressbar.OptionShowCount(),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionThrottle(100_000_000),
	)
	return p
}

// Pending records how many calls will be fetched.
func (p *byteProgress) Pending(calls int) {
	p.mu.Lock()
	p.calls = calls
	p.mu.Unlock()
}

// Bytes advances the bar.
func (p *byteProgress) Bytes(n int64) {
	if p.bar != nil {
		_ = p.bar.Add64(n)
	}
}

// Done counts finished calls in the description.
func (p *byteProgress) Done(_ recordings.Call, _ string) {
	if p.bar == nil {
		return
	}
	p.mu.Lock()
	p.done++
	desc := fmt.Sprintf("recordings %d/%d calls", p.done, p.calls)
	p.mu.Unlock()
	p.bar.Describe(desc)
}

func (p *byteProgress) finish() {
	if p.bar != nil {
		_ = p.bar.Finish()
	}
}
