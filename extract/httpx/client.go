// Package httpx is the HTTP core shared by every vendor source: bounded
// concurrency and request rate per source, retries with full-jitter exponential
// backoff that honour a capped Retry-After, a response size cap, and errors and
// log lines with credentials redacted.
//
// The vendor package decides what a response means (a CheckFunc); this package
// decides how often and how fast to ask.
//
// # Timeouts
//
// The client never sets http.Client.Timeout, which would also bound reading
// the body and so kill long downloads. Instead the default transport has dial,
// TLS-handshake and response-header timeouts, Do bounds each attempt with
// Config.AttemptTimeout, and Stream bodies are bounded only by the caller's
// context. Every body, of Do and of Stream, is watched for stalls
// (Config.IdleTimeout): one that sends nothing, or only a trickle, for that
// long fails with an error wrapping ErrStalled. Cancelling the context stops
// waiting for a slot, the rate limiter, a backoff, the request and the body
// read.
//
// # Authentication
//
// Static credentials (Basic auth, a token query parameter) can be set by the
// newReq function. Anything that must be refreshed (an OAuth2 or session token)
// belongs in an http.RoundTripper passed as Config.Transport, wrapping the
// tuned default transport, so extract code never touches tokens:
//
//	cfg.Transport = &tokenTransport{base: httpx.NewTransport(cfg)} // in the vendor package
//	c := httpx.New(cfg)
//
// Such a transport should register the tokens it sends with the Redactor,
// and add them only to requests for its API's origin (see Origin).
// Request headers never appear in errors or logs; the client registers URL
// userinfo passwords, Basic-auth passwords and Bearer tokens it sees on
// requests with the Redactor itself.
//
// # Redirects
//
// A redirect is followed only within the origin (scheme, host and port) of
// the original request, and never from https to plain http; any other ends
// the request with a permanent *RedirectError naming both ends (see
// CheckRedirect for why refusing, not stripping, is the rule). Only a
// client whose Transport adds credentials for its own origin alone may set
// Config.OffOriginRedirects to follow them (recordings downloads).
package httpx

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/calletl/calletl/secret"
)

// Config configures a Client. Zero fields take the documented defaults.
type Config struct {
	Name        string  // source name, prefix of errors and logs, e.g. "mtt"
	Concurrency int     // max requests in flight (default 4); a Stream holds its slot until the body is closed
	RatePerSec  float64 // request starts per second, including retries; 0 = unlimited
	Burst       int     // rate limiter burst (default 1)

	MaxAttempts   int           // attempts per call (default 6; 1 = no retries)
	BaseBackoff   time.Duration // default 500ms
	MaxBackoff    time.Duration // default 30s; wait before retry n (from 0) is random in [0, min(MaxBackoff, BaseBackoff·2ⁿ))
	MaxRetryAfter time.Duration // default 60s: a longer Retry-After is cut to this
	MaxBodyBytes  int64         // default 64 MiB; a larger Do body is a permanent error naming the limit
	// Budget bounds the bytes of Do bodies held at once by every client
	// sharing it (see Budget); nil = no bound.
	Budget *Budget

	// Timeouts of the default transport (defaults 10s, 10s, 60s). They do not
	// apply when Transport is set, unless it wraps NewTransport(cfg).
	DialTimeout, TLSHandshakeTimeout, ResponseHeaderTimeout time.Duration
	// AttemptTimeout bounds one Do attempt including reading the body
	// (default 2m). Stream bodies are not bounded.
	AttemptTimeout time.Duration
	// IdleTimeout fails a response body, of Do or Stream, that stalls: when
	// fewer than IdleMinBytes arrive in IdleTimeout spent waiting in Read,
	// the read fails with a Retryable error wrapping ErrStalled (default
	// 60s, like ResponseHeaderTimeout; IdleMinBytes default 1 KiB, so a
	// trickle of a few bytes a second counts as a stall). Time the caller
	// spends between reads does not count. See idle.go.
	IdleTimeout  time.Duration
	IdleMinBytes int64

	// Redactor scrubs credentials from errors and log lines. The client adds
	// to it the URL-userinfo and Basic-auth passwords and Bearer tokens it
	// sees on requests; register anything else (query tokens) yourself. It may
	// be nil; the client then uses a private one.
	Redactor *secret.Redactor
	// Logger receives a Warn line for every retry (op, attempt, status, wait,
	// error), with source=Name, redacted. Nil discards.
	Logger *slog.Logger
	// Transport sends the requests; default NewTransport(cfg). Put refreshing
	// authentication here (see the package documentation).
	Transport http.RoundTripper
	// OffOriginRedirects follows redirects to another origin than the
	// request's (never from https to http), sending no request body and
	// only the headers Accept, Accept-Language, Range, If-Range and
	// User-Agent. Set it only when Transport adds credentials for one
	// origin alone (recordings downloads, whose links and their redirects
	// lead to storage hosts). Off, such a redirect is a *RedirectError.
	OffOriginRedirects bool
	// Sleep waits d before a retry, returning early with an error when ctx is
	// done. Tests replace it; the default uses a timer.
	Sleep func(ctx context.Context, d time.Duration) error
}

// withDefaults returns cfg with zero (or negative) fields set to their defaults.
func (cfg Config) withDefaults() Config {
	setDefault(&cfg.Concurrency, 4)
	setDefault(&cfg.Burst, 1)
	setDefault(&cfg.MaxAttempts, 6)
	setDefault(&cfg.BaseBackoff, 500*time.Millisecond)
	setDefault(&cfg.MaxBackoff, 30*time.Second)
	setDefault(&cfg.MaxRetryAfter, 60*time.Second)
	setDefault(&cfg.MaxBodyBytes, 64<<20)
	setDefault(&cfg.DialTimeout, 10*time.Second)
	setDefault(&cfg.TLSHandshakeTimeout, 10*time.Second)
	setDefault(&cfg.ResponseHeaderTimeout, 60*time.Second)
	setDefault(&cfg.AttemptTimeout, 2*time.Minute)
	setDefault(&cfg.IdleTimeout, 60*time.Second)
	setDefault(&cfg.IdleMinBytes, 1024)
	if cfg.Name == "" {
		cfg.Name = "httpx"
	}
	return cfg
}

func setDefault[T int | int64 | time.Duration](p *T, def T) {
	if *p <= 0 {
		*p = def
	}
}

// NewTransport returns the tuned transport New uses when cfg.Transport is nil:
// proxy from the environment, HTTP/2, keep-alives, and cfg's dial, TLS-handshake
// and response-header timeouts (defaults applied). Wrap it to add behaviour
// such as token refresh.
func NewTransport(cfg Config) *http.Transport {
	cfg = cfg.withDefaults()
	return &http.Transport{
		Proxy: http.ProxyFromEnvironment,
		DialContext: (&net.Dialer{
			Timeout:   cfg.DialTimeout,
			KeepAlive: 30 * time.Second,
		}).DialContext,
		ForceAttemptHTTP2:     true,
		TLSHandshakeTimeout:   cfg.TLSHandshakeTimeout,
		ResponseHeaderTimeout: cfg.ResponseHeaderTimeout,
		ExpectContinueTimeout: time.Second,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   cfg.Concurrency,
		IdleConnTimeout:       90 * time.Second,
	}
}

// Client sends requests for one source. It is safe for concurrent use; its
// limits apply across all goroutines using it.
type Client struct {
	cfg     Config
	http    *http.Client
	slots   chan struct{} // one token per request in flight
	limiter *rate.Limiter // nil = unlimited
	red     *secret.Redactor
	log     *slog.Logger
	sleep   func(context.Context, time.Duration) error
	now     func() time.Time    // for HTTP-date Retry-After
	jitter  func(n int64) int64 // random in [0, n)

	estimate bodyEstimate // recent largest body: the budget reservation of one without Content-Length
}

// New returns a Client for cfg.
func New(cfg Config) *Client {
	cfg = cfg.withDefaults()
	c := &Client{
		cfg:    cfg,
		slots:  make(chan struct{}, cfg.Concurrency),
		red:    cfg.Redactor,
		sleep:  cfg.Sleep,
		now:    time.Now,
		jitter: rand.Int64N,
	}
	tr := cfg.Transport
	if tr == nil {
		tr = NewTransport(cfg)
	}
	// No Timeout: it would bound body reads too (see package documentation).
	c.http = &http.Client{Transport: tr, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		return checkRedirect(req, via, cfg.OffOriginRedirects)
	}}
	if cfg.RatePerSec > 0 {
		c.limiter = rate.NewLimiter(rate.Limit(cfg.RatePerSec), cfg.Burst)
	}
	if c.red == nil {
		c.red = secret.NewRedactor()
	}
	if c.sleep == nil {
		c.sleep = sleepCtx
	}
	base := cfg.Logger
	if base == nil {
		base = slog.New(slog.DiscardHandler)
	}
	c.log = slog.New(secret.NewHandler(base.Handler(), c.red)).With("source", cfg.Name)
	return c
}

// CheckFunc classifies a complete response: nil means success, an error
// marked with Retryable is transient (retry), any other error is permanent
// (stop). It must not keep body. If the error wraps a *StatusError, the client
// sets its Op (when empty) and truncates and redacts its Body.
//
// The default check (when nil) accepts 2xx, retries 429 and 5xx, and returns
// other statuses as a permanent *StatusError.
type CheckFunc func(resp *http.Response, body []byte) error

// NewRequestFunc builds the request for one attempt. It is called once per
// attempt, so request bodies can be re-created; it should build the request
// with ctx (http.NewRequestWithContext), which carries the attempt's deadline.
type NewRequestFunc = func(ctx context.Context) (*http.Request, error)

// Do sends the request that newReq builds, reads the whole body (at most
// MaxBodyBytes), and returns it if check accepts the response. It retries
// network errors, bodies that break mid-read, attempt timeouts and responses
// that check marks Retryable, up to MaxAttempts, waiting a full-jitter backoff
// or the response's Retry-After (capped at MaxRetryAfter) in between. A JSON
// body whose Content-Type declares a charset other than UTF-8 is decoded to
// UTF-8 before check sees it (see decodeCharset).
//
// op names the operation in errors and logs, e.g.
// "getServiceHistoryByCustomer 110011256 dialed 2026-11-20". Errors read
// "name: op: …", are redacted, and keep the original chain for errors.Is/As
// (*StatusError, context.Canceled, the check's own errors).
//
// The body counts against Config.Budget while it is read and checked; use
// DoHeld to keep it counted while the caller decodes it.
func (c *Client) Do(ctx context.Context, op string, newReq NewRequestFunc, check CheckFunc) ([]byte, error) {
	body, release, err := c.DoHeld(ctx, op, newReq, check)
	release()
	return body, err
}

// doOnce makes one Do attempt.
func (c *Client) doOnce(ctx context.Context, op string, newReq NewRequestFunc, check CheckFunc) ([]byte, attempt) {
	release, err := c.start(ctx)
	if err != nil {
		return nil, attempt{err: err}
	}
	defer release()
	ctx, cancel := context.WithTimeout(ctx, c.cfg.AttemptTimeout)
	defer cancel()
	ctx, stall := context.WithCancelCause(ctx) // the idle watchdog's
	defer stall(nil)

	resp, err := c.send(ctx, newReq)
	if err != nil {
		return nil, attempt{err: err}
	}
	resp.Body = c.watchIdle(resp.Body, stall, nil)
	defer resp.Body.Close()
	a := attempt{status: resp.StatusCode, retryAfter: c.retryAfter(resp.Header.Get("Retry-After"))}

	limit := c.cfg.MaxBodyBytes
	if resp.ContentLength > limit {
		a.err = c.tooLarge()
		return nil, a
	}
	body, h, err := c.readBody(ctx, resp.Body, resp.ContentLength, limit)
	if err != nil {
		a.err = Retryable(fmt.Errorf("HTTP %d: reading body: %w", resp.StatusCode, err))
		return nil, a
	}
	if int64(len(body)) > limit {
		h.Release()
		a.err = c.tooLarge()
		return nil, a
	}
	if body, err = decodeCharset(resp.Header.Get("Content-Type"), body); err != nil {
		c.log.Warn("body kept as sent", "op", op, "error", err)
	}
	if err := check(resp, body); err != nil {
		h.Release()
		a.err = c.fillStatus(op, err)
		return nil, a
	}
	a.hold = h
	return body, a
}

func (c *Client) tooLarge() error {
	return fmt.Errorf("response body exceeds the limit of %d bytes (MaxBodyBytes)", c.cfg.MaxBodyBytes)
}

// Stream is for downloads. It retries like Do until response headers arrive
// with a 2xx status, then returns the response with its body open and not
// bounded by any timeout but ctx's and IdleTimeout (a body that stalls fails
// with an error wrapping ErrStalled). The caller must close the body, which
// frees the request's concurrency slot; until then the slot stays taken.
// A body that breaks midway is not retried: restart (or resume with Range)
// at the caller. A 3xx or 4xx status other than 429 is returned at once as a
// *StatusError (check for 404 with errors.As); 429 and 5xx are retried.
func (c *Client) Stream(ctx context.Context, op string, newReq NewRequestFunc) (*http.Response, error) {
	var resp *http.Response
	err := c.retry(ctx, op, func(ctx context.Context) attempt {
		release, err := c.start(ctx)
		if err != nil {
			return attempt{err: err}
		}
		rctx, stall := context.WithCancelCause(ctx) // the idle watchdog's
		r, err := c.send(rctx, newReq)
		if err != nil {
			stall(nil)
			release()
			return attempt{err: err}
		}
		r.Body = c.watchIdle(r.Body, stall, func(err error) error { return c.fail(op, err) })
		if r.StatusCode >= 200 && r.StatusCode <= 299 {
			r.Body = &slotBody{ReadCloser: r.Body, release: release}
			resp = r
			return attempt{status: r.StatusCode}
		}
		b, _ := io.ReadAll(io.LimitReader(r.Body, maxErrorBody))
		r.Body.Close()
		release()
		return attempt{
			status:     r.StatusCode,
			retryAfter: c.retryAfter(r.Header.Get("Retry-After")),
			err:        c.fillStatus(op, defaultCheck(r, b)),
		}
	})
	if err != nil {
		return nil, err
	}
	return resp, nil
}

// slotBody releases a concurrency slot when the body is closed.
type slotBody struct {
	io.ReadCloser
	once    sync.Once
	release func()
}

func (b *slotBody) Close() error {
	err := b.ReadCloser.Close()
	b.once.Do(b.release)
	return err
}

// attempt is the outcome of one try.
type attempt struct {
	status     int           // HTTP status, 0 without a response
	retryAfter time.Duration // from a Retry-After header, 0 without one
	err        error         // nil = success; Retryable = try again
	hold       *hold         // a successful Do body's budget share
}

// retry runs try until it succeeds, fails permanently, runs out of attempts
// or ctx is done, and returns the final error, wrapped and redacted.
func (c *Client) retry(ctx context.Context, op string, try func(context.Context) attempt) error {
	for n := 1; ; n++ {
		a := try(ctx)
		switch {
		case a.err == nil:
			return nil
		case ctx.Err() != nil:
			return c.fail(op, canceled(ctx, n, a.err))
		case !IsRetryable(a.err):
			if n > 1 {
				return c.fail(op, fmt.Errorf("attempt %d: %w", n, a.err))
			}
			return c.fail(op, a.err)
		case n >= c.cfg.MaxAttempts:
			return c.fail(op, fmt.Errorf("gave up after %s: %w", plural(n, "attempt"), a.err))
		}
		wait := c.backoff(n-1, a.retryAfter)
		c.log.LogAttrs(ctx, slog.LevelWarn, "retrying request",
			slog.String("op", op),
			slog.Int("attempt", n),
			slog.Int("status", a.status),
			slog.Duration("wait", wait),
			slog.Any("error", a.err))
		if err := c.sleep(ctx, wait); err != nil {
			return c.fail(op, fmt.Errorf("%w (waiting to retry after attempt %d: %v)", err, n, a.err))
		}
	}
}

// canceled describes an attempt cut short by ctx, so that errors.Is finds
// ctx's error (context.Canceled or context.DeadlineExceeded).
func canceled(ctx context.Context, n int, err error) error {
	if errors.Is(err, ctx.Err()) {
		return err
	}
	return fmt.Errorf("%w (attempt %d: %v)", ctx.Err(), n, err)
}

// fail prefixes err with the source and operation and redacts it.
func (c *Client) fail(op string, err error) error {
	return c.red.Error(fmt.Errorf("%s: %s: %w", c.cfg.Name, op, err))
}

// backoff returns the wait before retry number retry (0 for the first): the
// response's Retry-After if it gave one, capped at MaxRetryAfter, else full
// jitter over [0, min(MaxBackoff, BaseBackoff·2^retry)).
func (c *Client) backoff(retry int, retryAfter time.Duration) time.Duration {
	if retryAfter > 0 {
		return min(retryAfter, c.cfg.MaxRetryAfter)
	}
	ceil := c.cfg.BaseBackoff
	for i := 0; i < retry && ceil < c.cfg.MaxBackoff; i++ {
		ceil *= 2
	}
	ceil = min(ceil, c.cfg.MaxBackoff)
	return time.Duration(c.jitter(int64(ceil)))
}

// retryAfter parses a Retry-After value, delay-seconds or HTTP-date. It
// returns 0 for a missing, invalid or past value, and at most MaxRetryAfter.
func (c *Client) retryAfter(v string) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	var d time.Duration
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil || errors.Is(err, strconv.ErrRange) {
		if secs > int64(c.cfg.MaxRetryAfter/time.Second) {
			return c.cfg.MaxRetryAfter // also avoids overflow below
		}
		d = time.Duration(secs) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(c.now())
	}
	return min(max(d, 0), c.cfg.MaxRetryAfter)
}

// IdleSlots is how many more requests could start now without waiting for
// a concurrency slot (a hint: other goroutines may take them meanwhile).
func (c *Client) IdleSlots() int { return cap(c.slots) - len(c.slots) }

// start takes a concurrency slot and waits for the rate limiter. The caller
// must call release once the request is finished.
func (c *Client) start(ctx context.Context) (release func(), err error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	select {
	case c.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	release = func() { <-c.slots }
	if c.limiter != nil {
		if err := c.limiter.Wait(ctx); err != nil {
			release()
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, fmt.Errorf("rate limit: %w", err)
		}
	}
	return release, nil
}

// send builds the request and sends it. Transport errors are marked
// Retryable, except certificate errors, which another try will not fix, and
// errors the Transport marked Permanent.
func (c *Client) send(ctx context.Context, newReq NewRequestFunc) (*http.Response, error) {
	req, err := newReq(ctx)
	if err != nil {
		return nil, fmt.Errorf("building request: %w", err)
	}
	if req.Context() == context.Background() {
		// Built with http.NewRequest: give it the attempt's context anyway.
		req = req.WithContext(ctx)
	}
	if s := req.URL.Scheme; s != "http" && s != "https" {
		return nil, fmt.Errorf("unsupported URL scheme %q", s)
	}
	c.learn(req)
	resp, err := c.http.Do(req)
	if err != nil {
		if p, ok := errors.AsType[*permanentError](err); ok {
			return nil, p.err
		}
		err = stripUserinfo(err)
		var cert *tls.CertificateVerificationError
		if errors.As(err, &cert) {
			return nil, err
		}
		return nil, Retryable(err)
	}
	return resp, nil
}

// learn registers the credentials req carries with the Redactor, so that they
// are scrubbed even when the caller did not register them.
func (c *Client) learn(req *http.Request) {
	if u := req.URL.User; u != nil {
		if pw, ok := u.Password(); ok {
			c.red.AddBasic(u.Username(), pw)
		}
	}
	if user, pw, ok := req.BasicAuth(); ok {
		c.red.AddBasic(user, pw)
	}
	if scheme, tok, ok := strings.Cut(req.Header.Get("Authorization"), " "); ok && strings.EqualFold(scheme, "Bearer") {
		c.red.Add(strings.TrimSpace(tok))
	}
}

// stripUserinfo removes user and password from the URL of a *url.Error
// (net/http replaces only the password, with "***").
func stripUserinfo(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		if u, perr := url.Parse(ue.URL); perr == nil {
			u.User = nil
			ue.URL = u.String()
		} else {
			ue.URL = "(unparsable URL)"
		}
	}
	return err
}

// fillStatus sets Op and sanitises Body of a *StatusError inside err.
func (c *Client) fillStatus(op string, err error) error {
	var se *StatusError
	if errors.As(err, &se) {
		if se.Op == "" {
			se.Op = op
		}
		// Redact before cutting to 512 bytes, so a secret straddling the cut
		// cannot leave a readable prefix; the first cut bounds the work.
		se.Body = truncate(c.red.Redact(truncate(se.Body, 8*maxErrorBody)), maxErrorBody)
	}
	return err
}

// sleepCtx waits d or until ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}
