package mobilgroup

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/calletl/calletl/extract/httpx"
	"github.com/calletl/calletl/extract/itemids"
	"github.com/calletl/calletl/secret"
)

// DefaultBaseURL is the Mobilgroup voice broadcast service.
const DefaultBaseURL = "https://voice.mobilgroup.ru"

// DefaultAccount is Config.Account when empty.
const DefaultAccount = "mobilgroup"

// getPath is the statistics and reference handler, relative to BaseURL.
const getPath = "/api/get/"

// maxKeyLen bounds a broadcast id: the lake unit "broadcast-<id>" must fit
// in a file name.
const maxKeyLen = itemids.MaxLen

// ValidKey reports whether id is usable as a pipeline item key: 1 to 100
// letters, digits, '.', '_' or '-' (itemids.Valid).
func ValidKey(id string) bool { return itemids.Valid(id) }

// Config configures the Mobilgroup source.
type Config struct {
	BaseURL string       // scheme+host(+path prefix); requests go to BaseURL + "/api/get/". DefaultBaseURL when empty
	APIKey  secret.Value // sent as the raw Authorization header
	Account string       // the account label written to rows (default "mobilgroup")
	// BroadcastIDs are extracted on every run until final. There is no
	// endpoint that lists broadcasts: ids come from here, IDsFile and the
	// pipeline's pending items.
	BroadcastIDs []string
	// IDsFile is an optional file the operator appends ids to: one id per
	// line, '#' starts a comment, blank lines are ignored, whitespace is
	// trimmed. A missing file means no ids. It is read on every Items call.
	IDsFile string
	Vendor  *time.Location // zone of the vendor's dates (default Europe/Moscow)
	// RedialWindow is how long after a not-answered subscriber's date a
	// redial may still come (default DefaultRedialWindow): until then the
	// subscriber, and its broadcast, are not final unless it has used
	// MaxAttempts attempts. Measured against the run's clock.
	RedialWindow time.Duration
	HTTP         httpx.Config
}

// Redials as the document describes them (settings of /api/send/):
// "attempts — Количество попыток дозвона при не ответе. Не более 3
// попыток", "interval — Интервал между попытками дозвона в минутах. Не
// должен превышать 60 минут".
const (
	// MaxAttempts is the most dial attempts a subscriber gets.
	MaxAttempts = 3
	// MaxRedialInterval is the longest wait between two attempts.
	MaxRedialInterval = 60 * time.Minute
	// DefaultRedialWindow is Config.RedialWindow when 0: the state answer
	// does not say whether a subscriber's date is its first attempt or its
	// last, so up to (MaxAttempts−1) intervals may follow it, plus 30
	// minutes for the calls themselves, the dialler's queue and clock skew.
	DefaultRedialWindow = (MaxAttempts-1)*MaxRedialInterval + 30*time.Minute
)

// Moscow is the default vendor zone. Moscow has kept UTC+3 without DST
// since 26 October 2014; without a tz database the fixed offset is used.
var Moscow = func() *time.Location {
	if loc, err := time.LoadLocation("Europe/Moscow"); err == nil {
		return loc
	}
	return time.FixedZone("MSK", 3*3600)
}()

// Client talks to the Mobilgroup api/get handler. It is safe for
// concurrent use.
type Client struct {
	cfg  Config
	url  string
	http *httpx.Client
	log  *slog.Logger
}

// New validates cfg and returns a client. It registers the API key with
// cfg.HTTP.Redactor (creating one when nil), so it never appears in errors
// or log lines. Invalid fields are reported as *ConfigError.
func New(cfg Config, log *slog.Logger) (*Client, error) {
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	if u, err := url.Parse(cfg.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		u.RawQuery != "" || u.Fragment != "" {
		return nil, &ConfigError{Field: "BaseURL", Err: fmt.Errorf("%q: want http(s)://host[/path]", cfg.BaseURL)}
	}
	key := strings.TrimSpace(cfg.APIKey.Reveal())
	if key == "" {
		return nil, &ConfigError{Field: "APIKey", Err: errors.New("not configured")}
	}
	if strings.ContainsAny(key, "\r\n") {
		return nil, &ConfigError{Field: "APIKey", Err: errors.New("contains a line break")}
	}
	if cfg.Account == "" {
		cfg.Account = DefaultAccount
	}
	for _, id := range cfg.BroadcastIDs {
		if !ValidKey(id) {
			return nil, &ConfigError{Field: "BroadcastIDs", Err: fmt.Errorf("%q: want 1 to %d letters, digits, '.', '_' or '-'", id, maxKeyLen)}
		}
	}
	if cfg.Vendor == nil {
		cfg.Vendor = Moscow
	}
	if cfg.RedialWindow == 0 {
		cfg.RedialWindow = DefaultRedialWindow
	}
	if cfg.RedialWindow < 0 {
		return nil, &ConfigError{Field: "RedialWindow", Err: fmt.Errorf("%s: must not be negative", cfg.RedialWindow)}
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.HTTP.Concurrency <= 0 {
		cfg.HTTP.Concurrency = 4
	}
	if cfg.HTTP.Name == "" {
		cfg.HTTP.Name = Name
	}
	if cfg.HTTP.Redactor == nil {
		cfg.HTTP.Redactor = secret.NewRedactor()
	}
	cfg.HTTP.Redactor.Add(key, cfg.APIKey.Reveal())
	cfg.APIKey = secret.New(key)
	cfg.HTTP.Logger = log
	return &Client{
		cfg:  cfg,
		url:  cfg.BaseURL + getPath,
		http: httpx.New(cfg.HTTP),
		log:  slog.New(secret.NewHandler(log.Handler(), cfg.HTTP.Redactor)).With("source", Name),
	}, nil
}

// Account returns the account label of the rows.
func (c *Client) Account() string { return c.cfg.Account }

// call posts body to api/get and hands the answer to decode. An error
// answer is a permanent *APIError (retried when the HTTP status is 429 or
// 5xx); a body that is not a readable JSON answer is retried (a proxy's
// page, a cut connection) and, if it persists, reported with its first
// bytes. op names the request in errors, e.g. "api/get state 1234".
func (c *Client) call(ctx context.Context, op string, body any, decode func([]byte) error) error {
	payload, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("%s: %s: %w", Name, op, err)
	}
	newReq := func(ctx context.Context) (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(payload))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json")
		req.Header.Set("Authorization", c.cfg.APIKey.Reveal())
		return req, nil
	}
	check := func(resp *http.Response, b []byte) error {
		return httpx.CheckAnswer[*APIError](resp, b, decode(b))
	}
	_, err = c.http.Do(ctx, op, newReq, check)
	return err
}

// State requests the statistics of broadcast id. An unknown id is an
// error wrapping ErrNotFound that tells the operator where ids come from.
func (c *Client) State(ctx context.Context, id string) (*State, error) {
	var st *State
	err := c.call(ctx, "api/get state "+id, map[string]string{"request": "state", "id": id}, func(b []byte) error {
		var err error
		st, err = DecodeState(b)
		return err
	})
	if errors.Is(err, ErrNotFound) {
		where := "the configured broadcast ids"
		if c.cfg.IDsFile != "" {
			where += " or the ids file " + c.cfg.IDsFile
		}
		return nil, fmt.Errorf("%w; check the broadcast id %q in %s", err, id, where)
	}
	if err != nil {
		return nil, err
	}
	return st, nil
}

// Balance requests the account balance.
func (c *Client) Balance(ctx context.Context) (*Balance, error) {
	var bal *Balance
	err := c.call(ctx, "api/get balance", map[string]string{"request": "balance"}, func(b []byte) error {
		var err error
		bal, err = DecodeBalance(b)
		return err
	})
	if err != nil {
		return nil, err
	}
	return bal, nil
}

// Ping requests the balance once: a cheap authenticated call for `etl check`.
func (c *Client) Ping(ctx context.Context) error {
	_, err := c.Balance(ctx)
	return err
}
