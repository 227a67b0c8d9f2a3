package httpx

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"time"
)

// ErrStalled is wrapped by the error of a response body that stopped
// making progress: fewer than Config.IdleMinBytes arrived in
// Config.IdleTimeout of waiting. Such an error is marked Retryable: Do
// retries the attempt; a Stream caller should count a failed download
// and try it again later (a Read after it keeps failing).
var ErrStalled = errors.New("body stalled")

// Stall detection
//
// ResponseHeaderTimeout ends once the headers are in, and a Stream body has
// no deadline of its own, so a server that sends its headers and then one
// byte every few seconds would hold an attempt (and a Stream, and the run
// around it) for ever. idleBody is the watchdog: it measures only the time
// spent waiting inside Read, so a consumer that pauses between reads (an
// S3 upload of the part just read) never counts against the server; and it
// treats a trickle like silence: progress is IdleMinBytes, not one byte.
// When a Read has waited so long that the bytes since the last progress fall
// short of IdleMinBytes within IdleTimeout, the request's context is
// cancelled, which makes the transport close the connection and unblocks
// the Read; the Read then returns the stall error, not the transport's.

// watchIdle wraps a response body with the idle watchdog. cancel cancels
// the request's context; wrap, when not nil, dresses the stall error (Stream
// prefixes source and operation; Do's retry loop does that itself). Closing
// the returned body stops the watchdog, closes body and then calls cancel.
func (c *Client) watchIdle(body io.ReadCloser, cancel context.CancelCauseFunc, wrap func(error) error) io.ReadCloser {
	b := &idleBody{rc: body, cancel: cancel, timeout: c.cfg.IdleTimeout, minBytes: c.cfg.IdleMinBytes, wrap: wrap}
	b.timer = time.AfterFunc(math.MaxInt64, func() { cancel(ErrStalled) })
	b.timer.Stop()
	return b
}

// idleBody is a response body under the idle watchdog. Read must not be
// called concurrently with itself (as for any body); Close may be called
// at any time.
type idleBody struct {
	rc       io.ReadCloser
	cancel   context.CancelCauseFunc
	timeout  time.Duration
	minBytes int64
	wrap     func(error) error
	timer    *time.Timer // cancels the request when the wait runs out

	got    int64         // bytes since the last progress
	waited time.Duration // time spent in Read since the last progress
	err    error         // the stall error, once stalled
}

func (b *idleBody) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	start := time.Now()
	b.timer.Reset(b.timeout - b.waited)
	n, err := b.rc.Read(p)
	fired := !b.timer.Stop()
	b.waited += time.Since(start)
	b.got += int64(n)
	switch {
	case fired || (b.waited >= b.timeout && b.got < b.minBytes && err == nil):
		b.cancel(ErrStalled)
		b.err = b.stalled()
		return n, b.err
	case b.got >= b.minBytes:
		b.got, b.waited = 0, 0
	}
	return n, err
}

// stalled is the error of a body that stopped making progress.
func (b *idleBody) stalled() error {
	var err error
	if b.got == 0 {
		err = fmt.Errorf("%w: no bytes for %v (IdleTimeout); the server stopped sending", ErrStalled, b.timeout)
	} else {
		err = fmt.Errorf("%w: %d bytes in %v, fewer than %d (IdleTimeout, IdleMinBytes); the server is trickling",
			ErrStalled, b.got, b.timeout, b.minBytes)
	}
	if b.wrap != nil {
		err = b.wrap(err)
	}
	return Retryable(err)
}

func (b *idleBody) Close() error {
	b.timer.Stop()
	err := b.rc.Close()
	b.cancel(nil)
	return err
}
