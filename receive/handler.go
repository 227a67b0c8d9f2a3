package receive

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/calletl/calletl/load"
	"github.com/calletl/calletl/secret"
)

// SecretHeader carries the shared secret when it is not in the path.
const SecretHeader = "X-Calletl-Secret"

// Endpoint is one configured notification address: the vendor whose
// format it speaks and the lake source its events land under.
type Endpoint struct {
	Vendor string // VotBox or MTT
	Source string // lake source name ([A-Za-z0-9._-])
}

// appender is what the handler needs of a Spool.
type appender interface {
	Append(ctx context.Context, ev Event) (dup bool, err error)
}

// HandlerOptions configure [NewHandler].
type HandlerOptions struct {
	// Secret is the shared secret every request must carry, as the last
	// path element (/v1/<vendor>/<source>/<secret>: VotBox's NotifyUrl and
	// MTT's event_URL can carry no header) or in the X-Calletl-Secret
	// header (/v1/<vendor>/<source>). Required.
	Secret    secret.Value
	Endpoints []Endpoint
	Log       *slog.Logger
	Now       func() time.Time
	// Lander, when set, adds its figures to /metrics.
	Lander *Lander
}

// Counts are the handler's request counts since it started.
type Counts struct {
	Stored, Duplicate, Refused, Failed atomic.Int64
}

// Handler is the receiver's HTTP handler:
//
//	GET|POST /v1/<vendor>/<source>/<secret>   a notification (secret in the path)
//	GET|POST /v1/<vendor>/<source>            a notification, secret in X-Calletl-Secret
//	GET      /healthz                         200 while the process serves
//	GET      /metrics                         counts in the Prometheus text format (no secret: route
//	                                          only /v1/ from the internet)
//
// Answers: 200 "OK" once the event is stored (or was already: a retry),
// 400 a malformed event (the body says what is wrong), 401 no secret, 403
// a wrong secret, 404 an unknown path or endpoint, 405 another method, 413
// a body over MaxBodyBytes, 415 a body type other than JSON or a form, 503
// (with Retry-After) when the spool could not store it. The secret is
// never logged: log lines name the vendor and source, never the path.
type Handler struct {
	secretSum [sha256.Size]byte
	endpoints map[string]bool // vendor/source
	spool     appender
	log       *slog.Logger
	now       func() time.Time
	lander    *Lander
	Counts    Counts
}

// NewHandler returns the handler that stores events in spool.
func NewHandler(spool appender, opts HandlerOptions) (*Handler, error) {
	if opts.Secret.IsZero() {
		return nil, errors.New("receive: no secret: every request must carry one")
	}
	if len(opts.Endpoints) == 0 {
		return nil, errors.New("receive: no endpoints")
	}
	h := &Handler{secretSum: sha256.Sum256([]byte(opts.Secret.Reveal())), endpoints: map[string]bool{}, spool: spool, log: opts.Log, now: opts.Now, lander: opts.Lander}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.now == nil {
		h.now = time.Now
	}
	for _, e := range opts.Endpoints {
		if e.Vendor != VotBox && e.Vendor != MTT {
			return nil, fmt.Errorf("receive: endpoint %s/%s: vendor must be %s or %s", e.Vendor, e.Source, VotBox, MTT)
		}
		// The source names lake partitions: the lake's rule for names.
		if err := load.CheckName("source", e.Source); err != nil {
			return nil, fmt.Errorf("receive: endpoint %s: %w", e.Vendor, err)
		}
		h.endpoints[e.Vendor+"/"+e.Source] = true
	}
	return h, nil
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/healthz":
		_, _ = io.WriteString(w, "ok\n")
		return
	case "/metrics":
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		h.writeMetrics(w)
		return
	}
	// /v1/<vendor>/<source>[/<secret>]; the raw path, so that an encoded
	// slash in a secret does not move the elements.
	path := r.URL.EscapedPath()
	parts := strings.Split(strings.TrimPrefix(path, "/"), "/")
	if len(parts) < 3 || len(parts) > 4 || parts[0] != "v1" {
		h.refuse(w, http.StatusNotFound, "", "", "not found: want /v1/<vendor>/<source>/<secret>")
		return
	}
	vendor, source := parts[1], parts[2]
	given, fromPath := "", len(parts) == 4
	if fromPath {
		// The element as sent, unescaped: a secret with characters a URL
		// escapes ('+', '/', '%') matches however the vendor wrote it.
		var err error
		if given, err = url.PathUnescape(parts[3]); err != nil {
			given = parts[3]
		}
	} else {
		given = r.Header.Get(SecretHeader)
	}
	if given == "" {
		w.Header().Set("WWW-Authenticate", `Secret realm="calletl receive"`)
		h.refuse(w, http.StatusUnauthorized, vendor, source, "no secret: put it in the path (/v1/<vendor>/<source>/<secret>) or the "+SecretHeader+" header")
		return
	}
	sum := sha256.Sum256([]byte(given))
	if subtle.ConstantTimeCompare(sum[:], h.secretSum[:]) != 1 {
		h.refuse(w, http.StatusForbidden, vendor, source, "wrong secret")
		return
	}
	if !h.endpoints[vendor+"/"+source] {
		h.refuse(w, http.StatusNotFound, vendor, source, "no such endpoint: the configured ones are receive.endpoints")
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		h.refuse(w, http.StatusMethodNotAllowed, vendor, source, "method "+r.Method+" not allowed: GET or POST")
		return
	}
	var body []byte
	if r.Method == http.MethodPost {
		var err error
		body, err = io.ReadAll(io.LimitReader(r.Body, MaxBodyBytes+1))
		if err != nil {
			h.refuse(w, http.StatusBadRequest, vendor, source, "reading the body: "+err.Error())
			return
		}
		if len(body) > MaxBodyBytes {
			h.refuse(w, http.StatusRequestEntityTooLarge, vendor, source, fmt.Sprintf("body over %d bytes", MaxBodyBytes))
			return
		}
	}
	at := h.now()
	var ev Event
	var err error
	switch vendor {
	case VotBox:
		params := r.URL.RawQuery
		if len(strings.TrimSpace(string(body))) > 0 {
			ct := r.Header.Get("Content-Type")
			if ct != "" && !strings.HasPrefix(strings.ToLower(ct), "application/x-www-form-urlencoded") && !strings.HasPrefix(strings.ToLower(ct), "text/plain") {
				err = fmt.Errorf("%w: %w: Content-Type %.60q: VotBox notifications are query parameters or a form", ErrBadEvent, ErrMediaType, ct)
				break
			}
			params = string(body)
		}
		ev, err = DecodeVotBox(source, params, at)
	case MTT:
		ev, err = DecodeMTT(source, r.Header.Get("Content-Type"), body, r.URL.RawQuery, at)
	}
	switch {
	case errors.Is(err, ErrMediaType):
		h.refuse(w, http.StatusUnsupportedMediaType, vendor, source, err.Error())
		return
	case err != nil:
		h.refuse(w, http.StatusBadRequest, vendor, source, err.Error())
		return
	}
	dup, err := h.spool.Append(r.Context(), ev)
	if err != nil {
		h.Counts.Failed.Add(1)
		h.log.Error("receive: event not stored; answered 503 so the vendor retries", "vendor", vendor, "source", source, "event_id", ev.ID, "err", err)
		w.Header().Set("Retry-After", "5")
		http.Error(w, "event not stored, retry later", http.StatusServiceUnavailable)
		return
	}
	if dup {
		h.Counts.Duplicate.Add(1)
		h.log.Debug("receive: duplicate event acknowledged", "vendor", vendor, "source", source, "event_id", ev.ID)
		_, _ = io.WriteString(w, "OK duplicate\n")
		return
	}
	h.Counts.Stored.Add(1)
	h.log.Debug("receive: event stored", "vendor", vendor, "source", source, "event_id", ev.ID, "kind", ev.Kind)
	_, _ = io.WriteString(w, "OK\n")
}

// refuse answers status with msg and logs it without the path (which may
// hold the secret).
func (h *Handler) refuse(w http.ResponseWriter, status int, vendor, source, msg string) {
	h.Counts.Refused.Add(1)
	if !h.endpoints[vendor+"/"+source] {
		vendor, source = "", "" // unknown names are the caller's text: not logged
	}
	h.log.Warn("receive: request refused", "status", status, "vendor", vendor, "source", source, "reason", msg)
	http.Error(w, msg, status)
}
