package sandbox

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Faults are injected failures. Counters are per emulator and count every
// request. "Every N" knobs are deterministic (the N-th, 2N-th… request gets
// the fault); 0 disables a knob.
//
// When several knobs select the same request, one fault is applied, in this
// priority: Error5xx, TooMany, Truncate, Malformed, Trickle.
type Faults struct {
	// Latency is added before every answer, faulty or not. A request whose
	// context ends during the wait is abandoned without an answer.
	Latency time.Duration
	// Error5xxEvery answers 503 with a small HTML body.
	Error5xxEvery int
	// TooManyEvery answers 429 with Retry-After: RetryAfter in whole
	// seconds, rounded up, at least 1.
	TooManyEvery int
	RetryAfter   time.Duration
	// TruncateEvery sends the real answer's status and headers with the full
	// Content-Length, writes only the first half of the body and closes the
	// connection: the client sees an unexpected EOF.
	TruncateEvery int
	// MalformedEvery answers 200 with a body that is not valid JSON: the real
	// body's first half followed by "<html>".
	MalformedEvery int
	// TrickleEvery sends the real answer's status and headers (with the
	// full Content-Length) at once, then its body one byte every
	// TrickleInterval (default 5s), until the body is sent or the client
	// goes away: a server whose answer never quite stops, which no
	// response-header timeout catches. Tests set TrickleInterval in ms.
	TrickleEvery    int
	TrickleInterval time.Duration
	// Windows1251 sends JSON answers (application/json) that get no other
	// fault in windows-1251, saying so in Content-Type
	// ("application/json; charset=windows-1251"). Not a failure: the
	// vendors' documents name no charset, and a PHP-era server's default
	// is a habit a client must honour. Characters windows-1251 lacks
	// become "?".
	Windows1251 bool
	// MaxInARow, when positive, caps the faults one request gets in a
	// row: a request (same method, URL and body) that got MaxInARow
	// faults in a row is answered for real the next time, whatever its
	// sequence number. "Every N" alone is deterministic only for one
	// client at a time: with concurrent clients, others can take every
	// good number between one request's retries, and a test of "faults
	// change nothing" would depend on the scheduler. A client that
	// changed the body of each retry (a new JSON-RPC id) would not be
	// capped: the knob recognises a retry only as the same request. 0: no
	// cap.
	MaxInARow int
}

// DefaultTrickleInterval is the pause between the bytes of a trickled
// answer when Faults.TrickleInterval is 0: the stall seen at a vendor.
const DefaultTrickleInterval = 5 * time.Second

// FaultKind names one kind of injected failure.
type FaultKind int

// Kinds of faults, in the priority order in which they are chosen.
const (
	NoFault FaultKind = iota
	Fault5xx
	FaultTooMany
	FaultTruncate
	FaultMalformed
	FaultTrickle
)

// String returns a short name such as "503" or "truncate".
func (k FaultKind) String() string {
	switch k {
	case NoFault:
		return "none"
	case Fault5xx:
		return "503"
	case FaultTooMany:
		return "429"
	case FaultTruncate:
		return "truncate"
	case FaultMalformed:
		return "malformed"
	case FaultTrickle:
		return "trickle"
	}
	return "FaultKind(" + strconv.Itoa(int(k)) + ")"
}

// FaultCounts counts requests seen by a FaultInjector and the faults it
// injected into them.
type FaultCounts struct {
	Requests  int // every request that entered the injector
	Error5xx  int
	TooMany   int
	Truncate  int
	Malformed int
	Trickle   int
}

// Total is the number of requests that got a fault of any kind.
func (c FaultCounts) Total() int {
	return c.Error5xx + c.TooMany + c.Truncate + c.Malformed + c.Trickle
}

// FaultInjector wraps http.Handlers and applies Faults to their answers. It
// is safe for concurrent use; SetFaults changes the faults at runtime. The
// fault of a request is chosen once, when the request enters, from the
// request's sequence number and the Faults in force at that moment. Every
// handler returned by Wrap shares the injector's counters.
type FaultInjector struct {
	mu     sync.Mutex
	faults Faults
	counts FaultCounts
	inARow map[[sha256.Size]byte]int // faults in a row, by request; only requests whose last answer was a fault
}

// NewFaultInjector returns an injector applying f.
func NewFaultInjector(f Faults) *FaultInjector {
	return &FaultInjector{faults: f}
}

// SetFaults replaces the faults applied to requests that arrive from now on.
// The request sequence numbers are not reset.
func (f *FaultInjector) SetFaults(faults Faults) {
	f.mu.Lock()
	f.faults = faults
	f.mu.Unlock()
}

// Faults returns the faults in force.
func (f *FaultInjector) Faults() Faults {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.faults
}

// Counts returns how many requests entered the injector and how many faults
// of each kind it injected.
func (f *FaultInjector) Counts() FaultCounts {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.counts
}

// choose numbers the request, picks its fault and counts it. id identifies
// the request for Faults.MaxInARow.
func (f *FaultInjector) choose(id [sha256.Size]byte) (FaultKind, Faults) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.counts.Requests++
	n, ft := f.counts.Requests, f.faults
	every := func(k int) bool { return k > 0 && n%k == 0 }
	kind := NoFault
	switch {
	case ft.MaxInARow > 0 && f.inARow[id] >= ft.MaxInARow:
		// answered for real below
	case every(ft.Error5xxEvery):
		kind = Fault5xx
		f.counts.Error5xx++
	case every(ft.TooManyEvery):
		kind = FaultTooMany
		f.counts.TooMany++
	case every(ft.TruncateEvery):
		kind = FaultTruncate
		f.counts.Truncate++
	case every(ft.MalformedEvery):
		kind = FaultMalformed
		f.counts.Malformed++
	case every(ft.TrickleEvery):
		kind = FaultTrickle
		f.counts.Trickle++
	}
	if kind == NoFault {
		delete(f.inARow, id)
	} else if ft.MaxInARow > 0 {
		if f.inARow == nil {
			f.inARow = make(map[[sha256.Size]byte]int)
		}
		f.inARow[id]++
	}
	return kind, ft
}

// requestID identifies r by method, URL and body for Faults.MaxInARow,
// leaving r.Body readable again. A body that cannot be read is left to
// the handler, and the request identified without it.
func (f *FaultInjector) requestID(r *http.Request) [sha256.Size]byte {
	h := sha256.New()
	fmt.Fprintf(h, "%s %s\n", r.Method, r.URL.RequestURI())
	if f.Faults().MaxInARow > 0 && r.Body != nil && r.Body != http.NoBody {
		body, err := io.ReadAll(r.Body)
		_ = r.Body.Close()
		r.Body = io.NopCloser(bytes.NewReader(body))
		if err == nil {
			h.Write(body)
		}
	}
	var id [sha256.Size]byte
	h.Sum(id[:0])
	return id
}

// Wrap returns a handler that applies the injector's faults in front of h.
// Requests answered with 503 or 429 never reach h; truncated, malformed and
// trickled answers are h's real answers, damaged or slowed. Any handler can
// be wrapped, such as the download host of a recordings emulator.
func (f *FaultInjector) Wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		kind, ft := f.choose(f.requestID(r))
		if ft.Latency > 0 {
			t := time.NewTimer(ft.Latency)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				return
			}
		}
		switch kind {
		case Fault5xx:
			body := "<html>\r\n<head><title>503 Service Temporarily Unavailable</title></head>\r\n" +
				"<body>\r\n<center><h1>503 Service Temporarily Unavailable</h1></center>\r\n</body>\r\n</html>\r\n"
			writeSimple(w, http.StatusServiceUnavailable, "text/html", body)
		case FaultTooMany:
			w.Header().Set("Retry-After", strconv.Itoa(retryAfterSeconds(ft.RetryAfter)))
			body := "<html>\r\n<head><title>429 Too Many Requests</title></head>\r\n" +
				"<body>\r\n<center><h1>429 Too Many Requests</h1></center>\r\n</body>\r\n</html>\r\n"
			writeSimple(w, http.StatusTooManyRequests, "text/html", body)
		case FaultTruncate:
			rec := newRecorder()
			h.ServeHTTP(rec, r)
			truncate(w, r, rec)
		case FaultMalformed:
			rec := newRecorder()
			h.ServeHTTP(rec, r)
			body := rec.body.Bytes()
			bad := append(body[:len(body)/2:len(body)/2], "<html>"...)
			copyHeader(w.Header(), rec.header)
			w.Header().Set("Content-Length", strconv.Itoa(len(bad)))
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write(bad)
		case FaultTrickle:
			rec := newRecorder()
			h.ServeHTTP(rec, r)
			trickle(w, r, rec, ft.TrickleInterval)
		default:
			if ft.Windows1251 {
				serveWindows1251(w, r, h)
				return
			}
			h.ServeHTTP(w, r)
		}
	})
}

// serveWindows1251 sends h's answer, re-encoded in windows-1251 and
// declared so when it is JSON.
func serveWindows1251(w http.ResponseWriter, r *http.Request, h http.Handler) {
	rec := newRecorder()
	h.ServeHTTP(rec, r)
	body := rec.body.Bytes()
	copyHeader(w.Header(), rec.header)
	if mt, _, _ := mime.ParseMediaType(rec.header.Get("Content-Type")); mt == "application/json" {
		body = cp1251Encode(string(body))
		w.Header().Set("Content-Type", "application/json; charset=windows-1251")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	}
	w.WriteHeader(rec.statusCode())
	_, _ = w.Write(body)
}

// retryAfterSeconds rounds d up to whole seconds, at least 1.
func retryAfterSeconds(d time.Duration) int {
	s := int(math.Ceil(d.Seconds()))
	return max(s, 1)
}

// writeSimple writes a complete small answer.
func writeSimple(w http.ResponseWriter, status int, contentType, body string) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}

// truncate sends rec's status and headers with the full Content-Length, then
// the first half of its body, then closes the connection. Over HTTP/1 it
// hijacks the connection. Where that is impossible it writes the half body
// under the full Content-Length: over HTTP/2 it then aborts the handler,
// which resets the stream; a ResponseRecorder in a test just keeps the half.
func truncate(w http.ResponseWriter, r *http.Request, rec *recorder) {
	body := rec.body.Bytes()
	half := body[:len(body)/2]
	rec.header.Set("Content-Length", strconv.Itoa(len(body)))
	rc := http.NewResponseController(w)
	conn, brw, err := rc.Hijack()
	if err != nil {
		copyHeader(w.Header(), rec.header)
		w.WriteHeader(rec.statusCode())
		_, _ = w.Write(half)
		_ = rc.Flush()
		if r.ProtoMajor >= 2 {
			panic(http.ErrAbortHandler)
		}
		return
	}
	defer conn.Close()
	fmt.Fprintf(brw, "HTTP/1.1 %d %s\r\n", rec.statusCode(), http.StatusText(rec.statusCode()))
	_ = rec.header.Write(brw)
	_, _ = brw.WriteString("\r\n")
	_, _ = brw.Write(half)
	_ = brw.Flush()
}

// trickle sends rec's status and headers at once, with the full
// Content-Length (a HEAD answer gets h's headers and no body), then its
// body one byte every d (DefaultTrickleInterval when d is 0), flushing each,
// until the body is sent or the client goes away.
func trickle(w http.ResponseWriter, r *http.Request, rec *recorder, d time.Duration) {
	if d <= 0 {
		d = DefaultTrickleInterval
	}
	body := rec.body.Bytes()
	copyHeader(w.Header(), rec.header)
	if r.Method == http.MethodHead {
		body = nil
	} else {
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	}
	w.WriteHeader(rec.statusCode())
	rc := http.NewResponseController(w)
	if err := rc.Flush(); err != nil {
		return
	}
	t := time.NewTicker(d)
	defer t.Stop()
	for i := range body {
		select {
		case <-r.Context().Done():
			return
		case <-t.C:
		}
		if _, err := w.Write(body[i : i+1]); err != nil {
			return
		}
		if err := rc.Flush(); err != nil {
			return
		}
	}
}

func copyHeader(dst, src http.Header) {
	for k, v := range src {
		dst[k] = v
	}
}

// recorder buffers a handler's answer so that a fault can damage it.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func newRecorder() *recorder { return &recorder{header: make(http.Header)} }

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
}

// statusCode is the recorded status, 200 when the handler set none.
func (r *recorder) statusCode() int {
	if r.status == 0 {
		return http.StatusOK
	}
	return r.status
}

func (r *recorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(p)
}
