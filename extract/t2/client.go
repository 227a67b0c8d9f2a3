package t2

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/calletl/calletl/extract/httpx"
	"github.com/calletl/calletl/extract/jsonscan"
	"github.com/calletl/calletl/secret"
	"github.com/calletl/calletl/storage"
)

// DefaultBaseURL is the T2 CRM OpenAPI base.
const DefaultBaseURL = "https://ats2.t2.ru/crm/openapi"

// DefaultPageSize is the page size of call-records/info and
// statistics/missing when Config.PageSize is 0.
const DefaultPageSize = 500

// MaxPageSize bounds Config.PageSize.
const MaxPageSize = 5000

// Config configures the T2 source.
type Config struct {
	BaseURL string // up to and including /crm/openapi; DefaultBaseURL when empty
	// Access and Refresh are the first token pair, issued in the PBX web UI.
	// They are used only until TokenFile exists.
	Access, Refresh secret.Value
	// TokenFile holds the current pair once refreshed (e.g. STATE/t2-tokens.json).
	// Required: without it a refreshed pair would be lost.
	TokenFile string
	// TokenStore, when set, keeps the pair in this store (the store of a
	// state on S3) under the key TokenFile instead of in a file: written
	// with If-Match / If-None-Match on the version last seen.
	// TokenName names that object in messages (e.g. its s3:// URL).
	TokenStore storage.Store
	TokenName  string
	PageSize   int      // page size for call records and missed calls (default 500)
	MCNNumbers []string // statistics/missing mcn_numbers filter; all numbers when empty
	// PerNumberStats runs the streams journal and employee_stats, for the
	// employee numbers in StatsNumbers (every employee's when empty).
	PerNumberStats bool
	StatsNumbers   []string
	HTTP           httpx.Config
	// Now is the clock for token expiry; time.Now when nil.
	Now func() time.Time
}

// Client talks to the T2 CRM OpenAPI. It is safe for concurrent use.
type Client struct {
	cfg    Config
	http   *httpx.Client
	tokens *TokenStore
	log    *slog.Logger
	// transport adds the access token and refreshes it; shared with the
	// recordings fetcher so downloads use the same token lifecycle.
	transport http.RoundTripper
}

// New returns a client. It loads the token file (or takes the configured
// pair) and registers every token, now and after each refresh, with
// cfg.HTTP.Redactor.
func New(cfg Config, log *slog.Logger) (*Client, error) {
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	if cfg.PageSize == 0 {
		cfg.PageSize = DefaultPageSize
	}
	if cfg.PageSize < 1 || cfg.PageSize > MaxPageSize {
		return nil, fmt.Errorf("t2: page size %d: must be 1..%d", cfg.PageSize, MaxPageSize)
	}
	if cfg.TokenFile == "" {
		return nil, errors.New("t2: token file not configured: a refreshed token pair must be saved")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.HTTP.Concurrency <= 0 {
		cfg.HTTP.Concurrency = 4
	}
	if cfg.HTTP.Name == "" {
		cfg.HTTP.Name = "t2"
	}
	if cfg.HTTP.Redactor == nil {
		cfg.HTTP.Redactor = secret.NewRedactor()
	}
	cfg.HTTP.Logger = log
	base := cfg.HTTP.Transport
	if base == nil {
		base = httpx.NewTransport(cfg.HTTP)
	}
	refreshCfg := cfg.HTTP
	refreshCfg.Transport = base
	refreshCfg.Concurrency = 1
	var file tokenIO = tokenPath(cfg.TokenFile)
	if cfg.TokenStore != nil {
		name := cfg.TokenName
		if name == "" {
			name = fmt.Sprintf("%v: %s", cfg.TokenStore, cfg.TokenFile)
		}
		file = &tokenObject{st: cfg.TokenStore, key: cfg.TokenFile, name: name}
	}
	store, err := newTokenStore(context.Background(), file, cfg.BaseURL+"/authorization/refresh/token",
		cfg.Access, cfg.Refresh, httpx.New(refreshCfg), cfg.HTTP.Redactor, cfg.Now, log)
	if err != nil {
		return nil, err
	}
	origin, err := httpx.ParseOrigin(cfg.BaseURL)
	if err != nil {
		return nil, fmt.Errorf("t2: base URL: %w", err)
	}
	hc := cfg.HTTP
	hc.Transport = &transport{base: base, store: store, origin: origin}
	return &Client{cfg: cfg, http: httpx.New(hc), tokens: store, log: log, transport: hc.Transport}, nil
}

// Transport returns the RoundTripper that adds the access token to each
// request and refreshes the pair when needed. It serves the BaseURL
// origin only: a request for any other origin is refused.
func (c *Client) Transport() http.RoundTripper { return c.transport }

// Tokens returns the client's token store.
func (c *Client) Tokens() *TokenStore { return c.tokens }

// Warnings reports token problems for `etl check` (see TokenStore.Warnings).
func (c *Client) Warnings(now time.Time) []string { return c.tokens.Warnings(now) }

// get fetches path?q and returns the body of a 200 answer. body must be
// JSON (a proxy's HTML page is retried). 403s become *AuthError (the
// transport has already refreshed and retried an expired token).
func (c *Client) get(ctx context.Context, op, path string, q url.Values) ([]byte, error) {
	body, release, err := c.getHeld(ctx, op, path, q)
	release()
	return body, err
}

// getHeld is get for a body the caller keeps decoding after it returns: the
// body counts against the HTTP budget until the caller calls release, on
// every path, before its next request.
func (c *Client) getHeld(ctx context.Context, op, path string, q url.Values) (body []byte, release func(), err error) {
	u := c.cfg.BaseURL + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	newReq := func(ctx context.Context) (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Accept", "application/json")
		return req, nil
	}
	check := func(resp *http.Response, body []byte) error {
		var err error
		switch code := resp.StatusCode; {
		case code == http.StatusForbidden || code == http.StatusUnauthorized:
			err = authErrorFor(forbidden(body), c.tokens.file.String()) // fatal for the source (ErrAuth)
		case code >= 200 && code <= 299 && !json.Valid(body):
			err = fmt.Errorf("HTTP %d with a body that is not JSON: %q", code, head(body))
		}
		return httpx.CheckAnswer[*AuthError](resp, body, err)
	}
	return c.http.DoHeld(ctx, op, newReq, check)
}

// isoTime formats t as an ISO offset date-time in loc.
func isoTime(t time.Time, loc *time.Location) string {
	return t.In(loc).Format("2006-01-02T15:04:05.000Z07:00")
}

// Page is one page of a paged endpoint: the array's elements, raw.
type Page struct {
	N    int               // 0-based page number
	Rows []json.RawMessage // elements as sent; they share the body's memory and are valid only during fn
}

// paged pages through path with page/size/sort from page 0 to the first page
// shorter than the page size, calling fn for each in order in the calling
// goroutine; it stops at fn's first error.
func (c *Client) paged(ctx context.Context, what, path string, q url.Values, fn func(Page) error) error {
	q.Set("size", strconv.Itoa(c.cfg.PageSize))
	for n := 0; ; n++ {
		q.Set("page", strconv.Itoa(n))
		op := fmt.Sprintf("%s %s..%s page %d", what, q.Get("start"), q.Get("end"), n)
		body, release, err := c.getHeld(ctx, op, path, q)
		if err != nil {
			return err
		}
		rows, err := splitArray(body)
		if err != nil {
			release()
			return fmt.Errorf("t2: %s: the answer is not a JSON array: %w", op, err)
		}
		err = fn(Page{N: n, Rows: rows})
		release() // the page is decoded and handed to the lake writer
		if err != nil {
			return err
		}
		if len(rows) < c.cfg.PageSize {
			return nil
		}
	}
}

// splitArray returns the elements of a JSON array (nil for null) as slices
// of body: decoding into []json.RawMessage would copy every element.
func splitArray(body []byte) ([]json.RawMessage, error) {
	s := jsonscan.New(body)
	if s.Peek() == jsonscan.Null {
		if err := s.Skip(); err != nil {
			return nil, err
		}
		return nil, s.End()
	}
	var rows []json.RawMessage
	err := s.Array(func() error {
		_, raw, err := s.Value()
		rows = append(rows, raw)
		return err
	})
	if err == nil {
		err = s.End()
	}
	return rows, err
}

// CallRecords pages through GET /call-records/info over [from, to), sent
// in loc, sorted by date ascending.
func (c *Client) CallRecords(ctx context.Context, from, to time.Time, loc *time.Location, fn func(Page) error) error {
	q := url.Values{"start": {isoTime(from, loc)}, "end": {isoTime(to, loc)}, "sort": {"date,ASC"}}
	return c.paged(ctx, "call-records/info", "/call-records/info", q, fn)
}

// Missing pages through GET /statistics/missing over [from, to), sent in
// loc, restricted to Config.MCNNumbers when set.
func (c *Client) Missing(ctx context.Context, from, to time.Time, loc *time.Location, fn func(Page) error) error {
	q := url.Values{"start": {isoTime(from, loc)}, "end": {isoTime(to, loc)}, "sort": {"startDate"}}
	for _, n := range c.cfg.MCNNumbers {
		q.Add("mcn_numbers", n)
	}
	return c.paged(ctx, "statistics/missing", "/statistics/missing", q, fn)
}

// CommonStats calls GET /statistics/common for the company over [from, to)
// and returns the answer object as sent.
func (c *Client) CommonStats(ctx context.Context, from, to time.Time, loc *time.Location) (json.RawMessage, error) {
	q := url.Values{"start": {isoTime(from, loc)}, "end": {isoTime(to, loc)}}
	return c.get(ctx, fmt.Sprintf("statistics/common %s..%s", q.Get("start"), q.Get("end")), "/statistics/common", q)
}

// Journal calls GET /statistics/journal for number (7XXXXXXXXXX) over
// [from, to), sent in loc, and returns the answer object as sent.
func (c *Client) Journal(ctx context.Context, number string, from, to time.Time, loc *time.Location) (json.RawMessage, error) {
	q := url.Values{"start": {isoTime(from, loc)}, "end": {isoTime(to, loc)}, "number": {number}}
	return c.get(ctx, fmt.Sprintf("statistics/journal %s %s..%s", number, q.Get("start"), q.Get("end")), "/statistics/journal", q)
}

// NumberStats calls GET /statistics/common with subscriberNumber (number,
// 7XXXXXXXXXX) over [from, to), sent in loc, and returns the answer object
// as sent.
func (c *Client) NumberStats(ctx context.Context, number string, from, to time.Time, loc *time.Location) (json.RawMessage, error) {
	q := url.Values{"start": {isoTime(from, loc)}, "end": {isoTime(to, loc)}, "subscriberNumber": {number}}
	return c.get(ctx, fmt.Sprintf("statistics/common subscriberNumber %s %s..%s", number, q.Get("start"), q.Get("end")), "/statistics/common", q)
}

// Managers calls GET /managers and returns its elements as sent.
func (c *Client) Managers(ctx context.Context) ([]json.RawMessage, error) {
	body, err := c.get(ctx, "managers", "/managers", nil)
	if err != nil {
		return nil, err
	}
	var rows []json.RawMessage
	if err := json.Unmarshal(body, &rows); err != nil {
		return nil, fmt.Errorf("t2: managers: the answer is not a JSON array: %w", err)
	}
	return rows, nil
}

// Employees calls GET /employees and returns its elements as sent.
func (c *Client) Employees(ctx context.Context) ([]json.RawMessage, error) {
	body, err := c.get(ctx, "employees", "/employees", nil)
	if err != nil {
		return nil, err
	}
	var rows []json.RawMessage
	if err := json.Unmarshal(body, &rows); err != nil {
		return nil, fmt.Errorf("t2: employees: the answer is not a JSON array: %w", err)
	}
	return rows, nil
}

// Ping lists the employees: one cheap authenticated call for `etl check`.
func (c *Client) Ping(ctx context.Context) error {
	_, err := c.Employees(ctx)
	return err
}
