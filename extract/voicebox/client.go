package voicebox

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/calletl/calletl/extract/httpx"
	"github.com/calletl/calletl/secret"
)

// DefaultPageSize is Config.PageSize when 0; MaxPageSize bounds it.
const (
	DefaultPageSize = 100
	MaxPageSize     = 10000
)

// TokenPath is appended to BaseURL when Config.TokenURL is empty.
const TokenPath = "/oauth/token"

// Config configures the VoiceBox source.
type Config struct {
	// BaseURL is the API base, e.g. https://voicebox.example/api/v1;
	// paths such as /customers/{id}/callhistory are appended to it.
	BaseURL string
	// TokenURL is the OAuth 2.0 token endpoint; BaseURL + TokenPath when
	// empty.
	TokenURL string
	// ClientID and ClientSecret authenticate the OAuth client (HTTP Basic
	// or form fields, whichever the endpoint accepts). ClientSecret may be
	// empty for a public client.
	ClientID     string
	ClientSecret secret.Value
	// Username and Password are the VoiceBox user of the password grant.
	Username string
	Password secret.Value
	// Customers are the customer ids (decimal digits) to extract.
	Customers []string
	// PageSize is the number of rows asked per Range request (default 100).
	PageSize int
	// Vendor is the zone of times written without one; Europe/Moscow when
	// nil.
	Vendor *time.Location
	HTTP   httpx.Config
}

// ConfigError is a configuration value New refuses; Field names it as in
// the Config struct.
type ConfigError struct {
	Field string
	Err   error
}

func (e *ConfigError) Error() string { return "voicebox: " + e.Field + ": " + e.Err.Error() }
func (e *ConfigError) Unwrap() error { return e.Err }

func configError(field, format string, args ...any) error {
	return &ConfigError{Field: field, Err: fmt.Errorf(format, args...)}
}

// Moscow is the default vendor zone, or a fixed +03:00 (Moscow has kept
// it since 2014) where the zone database is missing.
var Moscow = func() *time.Location {
	if loc, err := time.LoadLocation("Europe/Moscow"); err == nil {
		return loc
	}
	return time.FixedZone("MSK", 3*3600)
}()

// ValidCustomer reports whether id is a customer id: 1 to 18 decimal
// digits (it fits the API's int64 {customer_id}). The one rule for
// sources.voicebox.customers and the client.
func ValidCustomer(id string) bool {
	return len(id) >= 1 && len(id) <= 18 && strings.Trim(id, "0123456789") == ""
}

// Client talks to the VoiceBox API. It is safe for concurrent use.
type Client struct {
	cfg    Config
	http   *httpx.Client
	tokens *tokens
	red    *secret.Redactor
	log    *slog.Logger
}

// New returns a client. It registers the client secret and the password
// (and, later, every token obtained) with cfg.HTTP.Redactor, creating one
// when nil. No request is made until the first call.
func New(cfg Config, log *slog.Logger) (*Client, error) {
	cfg.BaseURL = strings.TrimRight(strings.TrimSpace(cfg.BaseURL), "/")
	if err := checkURL(cfg.BaseURL); err != nil {
		return nil, &ConfigError{Field: "BaseURL", Err: err}
	}
	if cfg.TokenURL == "" {
		cfg.TokenURL = cfg.BaseURL + TokenPath
	}
	if err := checkURL(cfg.TokenURL); err != nil {
		return nil, &ConfigError{Field: "TokenURL", Err: err}
	}
	if cfg.ClientID == "" {
		return nil, configError("ClientID", "not configured")
	}
	if cfg.Username == "" {
		return nil, configError("Username", "not configured")
	}
	if cfg.Password.IsZero() {
		return nil, configError("Password", "not configured")
	}
	if len(cfg.Customers) == 0 {
		return nil, configError("Customers", "no customer ids configured")
	}
	seen := map[string]bool{}
	for _, c := range cfg.Customers {
		if !ValidCustomer(c) {
			return nil, configError("Customers", "customer id %q: want decimal digits", c)
		}
		if seen[c] {
			return nil, configError("Customers", "customer id %q listed twice", c)
		}
		seen[c] = true
	}
	if cfg.PageSize == 0 {
		cfg.PageSize = DefaultPageSize
	}
	if cfg.PageSize < 1 || cfg.PageSize > MaxPageSize {
		return nil, configError("PageSize", "%d: must be 1..%d", cfg.PageSize, MaxPageSize)
	}
	if cfg.Vendor == nil {
		cfg.Vendor = Moscow
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.HTTP.Name == "" {
		cfg.HTTP.Name = Name
	}
	if cfg.HTTP.Concurrency <= 0 {
		cfg.HTTP.Concurrency = 4
	}
	if cfg.HTTP.Redactor == nil {
		cfg.HTTP.Redactor = secret.NewRedactor()
	}
	if cfg.HTTP.Logger == nil {
		cfg.HTTP.Logger = log
	}
	red := cfg.HTTP.Redactor
	cs := cfg.ClientSecret.Reveal()
	red.Add(cs, cfg.Password.Reveal())
	red.AddBasic(cfg.ClientID, cs)
	red.AddBasic(url.QueryEscape(cfg.ClientID), url.QueryEscape(cs)) // oauth2's Basic form
	red.AddBasic(cfg.Username, cfg.Password.Reveal())

	base := cfg.HTTP.Transport
	if base == nil {
		base = httpx.NewTransport(cfg.HTTP)
	}
	tk := &tokens{
		conf: &oauth2.Config{
			ClientID: cfg.ClientID, ClientSecret: cs,
			Endpoint: oauth2.Endpoint{TokenURL: cfg.TokenURL, AuthStyle: oauth2.AuthStyleAutoDetect},
		},
		user:   cfg.Username,
		pass:   cfg.Password,
		client: &http.Client{Transport: base, Timeout: tokenTimeout, CheckRedirect: httpx.CheckRedirect},
		red:    red,
		log:    slog.New(secret.NewHandler(log.Handler(), red)).With("source", Name),
	}
	hc := cfg.HTTP
	api, _ := url.Parse(cfg.BaseURL) // checked above
	hc.Transport = &transport{base: base, tokens: tk, origin: httpx.Origin(api)}
	return &Client{cfg: cfg, http: httpx.New(hc), tokens: tk, red: red, log: log}, nil
}

func checkURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q: want http(s)://host/path", s)
	}
	return nil
}

// Customers returns the configured customer ids.
func (c *Client) Customers() []string { return c.cfg.Customers }

// TokensIssued returns how many tokens the client obtained so far.
func (c *Client) TokensIssued() int { return c.tokens.Issued() }

// answer is what get keeps of a response.
type answer struct {
	status       int
	contentRange string
	body         []byte
}

// get sends GET path with an optional Range header and returns a 200, 206
// or 416 answer (a 2xx body must be JSON: a proxy's HTML page is retried).
// 401 after the transport's renewal and 403 are *AuthError; 429 and 5xx are
// retried; other statuses are *httpx.StatusError.
func (c *Client) get(ctx context.Context, op, path, rng string) (answer, error) {
	a, release, err := c.getHeld(ctx, op, path, rng)
	release()
	return a, err
}

// getHeld is get for an answer the caller keeps decoding after it returns:
// the body counts against the HTTP budget until the caller calls release, on
// every path, before its next request.
func (c *Client) getHeld(ctx context.Context, op, path, rng string) (answer, func(), error) {
	return c.getHeldQuoting(ctx, op, path, rng, true)
}

// getHeldQuoting is getHeld; with quote false, an answer that is not JSON
// is reported by its length only, never quoted: for answers that carry
// credentials (GET /customers/{id}), whose cut body would otherwise reach
// the retry log before the values are known to the redactor.
func (c *Client) getHeldQuoting(ctx context.Context, op, path, rng string, quote bool) (answer, func(), error) {
	u := c.cfg.BaseURL + path
	newReq := func(ctx context.Context) (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Accept", "application/json")
		if rng != "" {
			req.Header.Set("Range", rng)
		}
		return req, nil
	}
	var a answer
	check := func(resp *http.Response, body []byte) error {
		a = answer{status: resp.StatusCode, contentRange: resp.Header.Get("Content-Range")}
		var err error
		switch code := resp.StatusCode; {
		case code == http.StatusUnauthorized:
			err = &AuthError{Msg: "the API refused a freshly issued access token (HTTP 401 twice): check client_id, client_secret, username and password of sources.voicebox"}
		case code == http.StatusForbidden:
			err = &AuthError{Msg: "the API denied access (HTTP 403): check that the VoiceBox user may read this customer", Err: &httpx.StatusError{StatusCode: code, Body: string(head(body))}}
		case code == http.StatusRequestedRangeNotSatisfiable:
			return nil
		case code >= 200 && code <= 299 && !json.Valid(body) && !quote:
			err = fmt.Errorf("HTTP %d with a body that is not JSON (%d bytes, not quoted: the answer carries credentials)", code, len(body))
		case code >= 200 && code <= 299 && !json.Valid(body):
			err = fmt.Errorf("HTTP %d with a body that is not JSON: %q", code, head(body))
		}
		// *AuthError is fatal for the source (ErrAuth).
		return httpx.CheckAnswer[*AuthError](resp, body, err)
	}
	body, release, err := c.http.DoHeld(ctx, op, newReq, check)
	if err != nil {
		return answer{}, release, err
	}
	a.body = body
	return a, release, nil
}

// Page is one answer of a Range-paged list.
type Page struct {
	N     int               // 0-based request number
	First int               // list index of Rows[0]
	Total int               // list length as Content-Range gave it; −1 when unknown
	Rows  []json.RawMessage // the elements exactly as sent
}

// Lists of a customer.
const (
	ListCallHistory = "callhistory"
	ListHistoryCamp = "callhistory/campaigns"
	ListCampaigns   = "campaigns"
)

// List pages through GET /customers/{customer}/{list} with Range headers
// of Config.PageSize rows and calls fn for every page, in order, in the
// calling goroutine; it stops at fn's first error.
//
// The list ends only where the server proves it: at a 416, at an empty
// page, at a 206 whose rows reach the total its Content-Range names, or at
// a 200 (the whole list) that the next request repeats exactly (a server
// that ignores Range). A page shorter than asked is NOT the end while the
// total is "*" or absent: a server may cap its pages below the asked size,
// and the next request starts after the rows actually received. A 200 is
// followed by one more request past its rows, since a server answering a
// capped page with 200 would otherwise lose the rest without a trace.
//
// Answers that contradict the paging so far fail, naming the endpoint and
// the range: a 206 starting elsewhere than asked, a Content-Range counting
// other rows than the body holds, a page repeating an earlier one, a total
// below an earlier page's (the list shrank: rows may have slipped past
// the ones read), a 416 or an empty page before a known total, and a 200
// after the first request that lacks rows read before (not a whole list).
//
// A 200 to a later request that holds every row read so far is the whole
// list: when it starts with the rows read, only the rest is delivered,
// else all of it again (First 0): callers skip rows they already have.
func (c *Client) List(ctx context.Context, customer, list string, fn func(Page) error) error {
	return c.list(ctx, customer, list, c.cfg.PageSize, -1, fn)
}

// list is List with a page size and a request limit (maxPages < 0: none).
func (c *Client) list(ctx context.Context, customer, list string, size, maxPages int, fn func(Page) error) error {
	path := "/customers/" + url.PathEscape(customer) + "/" + list
	var (
		first = 0                           // list index the next request starts at
		known = -1                          // the last total a Content-Range named
		read  [][sha256.Size]byte           // sums of rows 0..first-1 as delivered
		seen  = map[[sha256.Size]byte]int{} // page sum → request number
		whole *[sha256.Size]byte            // page sum of the last 200 answer
	)
	// A page's body counts against the HTTP budget until fn has handed its
	// rows to the lake writer: released before the next request, and on
	// every return.
	release := func() {}
	defer func() { release() }()
	for n := 0; maxPages < 0 || n < maxPages; n++ {
		last := first + size - 1
		rng := "numbers=" + strconv.Itoa(first) + "-" + strconv.Itoa(last)
		op := "GET " + path + " " + rng
		fail := func(format string, args ...any) error {
			return fmt.Errorf("voicebox: %s: "+format+": the list cannot be proven read whole, so none of it is loaded; run again, and if it persists report this answer to VoiceBox support", append([]any{op}, args...)...)
		}
		release()
		a, held, err := c.getHeld(ctx, op, path, rng)
		release = held
		if err != nil {
			return err
		}
		if a.status == http.StatusRequestedRangeNotSatisfiable {
			total := known
			if cr, err := ParseContentRange(a.contentRange); err == nil && cr.Total >= 0 {
				total = cr.Total
			}
			if first < total {
				return fail("answered 416 (range not satisfiable) at row %d of a list of %d rows", first, total)
			}
			return nil
		}
		rows, err := DecodeList(a.body)
		if err != nil {
			return fmt.Errorf("voicebox: %s: %w", op, err)
		}
		sum := pageSum(rows)
		if a.status == http.StatusOK {
			switch {
			case len(rows) == 0 && first < known:
				return fail("answered an empty list (HTTP 200) at row %d of a list of %d rows", first, known)
			case len(rows) == 0:
				return nil
			case whole != nil && sum == *whole:
				return nil // the same whole list again: the server ignores Range
			}
			if k, dup := seen[sum]; dup {
				return fail("the answer (HTTP 200, %d rows) repeats the answer to request %d", len(rows), k+1)
			}
			sums := rowSums(rows)
			if missing := countMissing(read, sums); missing > 0 {
				return fail("answered 200 (the whole list) with %d rows that lack %d of the %d rows read before: the server seems to answer pages with 200",
					len(rows), missing, len(read))
			}
			seen[sum], whole = n, &sum
			page := Page{N: n, Total: -1, Rows: rows}
			if first > 0 {
				c.log.Warn("voicebox answered 200 (the whole list) to a Range request past the first page", "op", op)
				if slices.Equal(sums[:min(first, len(sums))], read) {
					page.First, page.Rows = first, rows[first:]
				}
			}
			if len(page.Rows) > 0 {
				if err := fn(page); err != nil {
					return err
				}
			}
			read, first = sums, len(rows)
			continue
		}
		page := Page{N: n, First: first, Total: -1, Rows: rows}
		if a.contentRange != "" {
			cr, err := ParseContentRange(a.contentRange)
			if err != nil {
				return fmt.Errorf("voicebox: %s: %w", op, err)
			}
			if cr.HasRange && cr.First != first {
				return fail("asked for rows from %d, the answer's Content-Range %q starts at %d", first, a.contentRange, cr.First)
			}
			if cr.HasRange && cr.Last-cr.First+1 != len(rows) {
				return fail("the answer's Content-Range %q counts %d rows, its body holds %d", a.contentRange, cr.Last-cr.First+1, len(rows))
			}
			if cr.Total >= 0 {
				if cr.Total < known {
					return fail("the list shrank from %d to %d rows while it was read (Content-Range %q)", known, cr.Total, a.contentRange)
				}
				known, page.Total = cr.Total, cr.Total
			}
		}
		if len(rows) == 0 {
			if first < known {
				return fail("answered an empty page at row %d of a list of %d rows", first, known)
			}
			return nil
		}
		if k, dup := seen[sum]; dup {
			if k == n-1 {
				return fail("the page repeats the previous one (%d rows): the server ignores the range's start", len(rows))
			}
			return fail("the page repeats the answer to request %d (%d rows): the server ignores the range's start", k+1, len(rows))
		}
		seen[sum] = n
		if err := fn(page); err != nil {
			return err
		}
		read = append(read, rowSums(rows)...)
		first += len(rows)
		if page.Total >= 0 && first >= page.Total {
			return nil
		}
	}
	return nil
}

// pageSum identifies a page by its rows.
func pageSum(rows []json.RawMessage) [sha256.Size]byte {
	h := sha256.New()
	for _, r := range rows {
		h.Write(r)
		h.Write([]byte{0})
	}
	var s [sha256.Size]byte
	h.Sum(s[:0])
	return s
}

// rowSums returns the SHA-256 of every row.
func rowSums(rows []json.RawMessage) [][sha256.Size]byte {
	out := make([][sha256.Size]byte, len(rows))
	for i, r := range rows {
		out[i] = sha256.Sum256(r)
	}
	return out
}

// countMissing counts the rows of read (by sum) that are not in all.
func countMissing(read, all [][sha256.Size]byte) int {
	if len(read) == 0 {
		return 0
	}
	in := make(map[[sha256.Size]byte]bool, len(all))
	for _, s := range all {
		in[s] = true
	}
	n := 0
	for _, s := range read {
		if !in[s] {
			n++
		}
	}
	return n
}

// Balance returns the body of GET /customers/{customer}/balance.
func (c *Client) Balance(ctx context.Context, customer string) ([]byte, error) {
	path := "/customers/" + url.PathEscape(customer) + "/balance"
	a, err := c.get(ctx, "GET "+path, path, "")
	if err != nil {
		return nil, err
	}
	if a.status != http.StatusOK && a.status != http.StatusPartialContent {
		return nil, fmt.Errorf("voicebox: GET %s: HTTP %d", path, a.status)
	}
	return a.body, nil
}

// Ping obtains a token and reads one row of the first customer's
// campaigns: one cheap authenticated call for `etl check`.
func (c *Client) Ping(ctx context.Context) error {
	return c.list(ctx, c.cfg.Customers[0], ListCampaigns, 1, 1, func(Page) error { return nil })
}

// DecodeList returns the elements of a list answer: a JSON array, or an
// object holding the array under one of data, items, content, calls,
// results, result, rows, records, list, campaigns, callHistory, history
// (one more such object level is allowed). null is an empty list. Anything
// else is an error quoting the start of the body.
func DecodeList(body []byte) ([]json.RawMessage, error) {
	return decodeList(body, 0)
}

func decodeList(body []byte, depth int) ([]json.RawMessage, error) {
	b := bytes.TrimSpace(body)
	if len(b) == 0 {
		return nil, errors.New("empty answer, want a JSON array")
	}
	switch b[0] {
	case '[':
		var rows []json.RawMessage
		if err := json.Unmarshal(b, &rows); err != nil {
			return nil, fmt.Errorf("the answer is not a JSON array: %w: %q", err, head(b))
		}
		return rows, nil
	case 'n':
		if string(b) == "null" {
			return nil, nil
		}
	case '{':
		o, err := decodeObject(b)
		if err != nil {
			return nil, fmt.Errorf("the answer is not valid JSON: %q", head(b))
		}
		if depth < 2 {
			for _, k := range listKeys {
				f, ok := o[normName(k)]
				if !ok {
					continue
				}
				if v := bytes.TrimSpace(f.raw); len(v) > 0 && (v[0] == '[' || v[0] == '{' && depth == 0) {
					if rows, err := decodeList(v, depth+1); err == nil {
						return rows, nil
					}
				}
			}
		}
		return nil, fmt.Errorf("the answer is a JSON object without a list under %s: %q", strings.Join(listKeys, "/"), head(b))
	}
	return nil, fmt.Errorf("the answer is not a JSON array: %q", head(b))
}

// ContentRange is a parsed Content-Range header: "<unit> <first>-<last>/<total>",
// total "*" when unknown, or "<unit> */<total>" (no range, as on a 416).
type ContentRange struct {
	Unit        string
	First, Last int  // valid when HasRange
	HasRange    bool // false for "*/<total>"
	Total       int  // −1 when "*"
}

// ParseContentRange parses a Content-Range header of any unit (VoiceBox:
// "numbers"). first <= last, and last < total when both are known.
func ParseContentRange(s string) (ContentRange, error) {
	bad := func(why string) (ContentRange, error) {
		return ContentRange{}, fmt.Errorf("bad Content-Range %q: %s", quoteHead(s), why)
	}
	unit, spec, ok := strings.Cut(strings.TrimSpace(s), " ")
	if !ok || unit == "" || strings.ContainsAny(unit, "=/-") {
		return bad("want <unit> <first>-<last>/<total>")
	}
	rng, total, ok := strings.Cut(strings.TrimSpace(spec), "/")
	if !ok {
		return bad("no /<total>")
	}
	cr := ContentRange{Unit: unit, Total: -1}
	num := func(s string) (int, bool) {
		if s == "" || len(s) > 15 || strings.TrimLeft(s, "0123456789") != "" {
			return 0, false
		}
		n, err := strconv.Atoi(s)
		return n, err == nil
	}
	if total = strings.TrimSpace(total); total != "*" {
		n, ok := num(total)
		if !ok {
			return bad("total is not a number or *")
		}
		cr.Total = n
	}
	if rng = strings.TrimSpace(rng); rng == "*" {
		if cr.Total < 0 {
			return bad("neither a range nor a total")
		}
		return cr, nil
	}
	a, b, ok := strings.Cut(rng, "-")
	if !ok {
		return bad("want <first>-<last>")
	}
	var okA, okB bool
	cr.First, okA = num(strings.TrimSpace(a))
	cr.Last, okB = num(strings.TrimSpace(b))
	switch {
	case !okA || !okB:
		return bad("first and last must be numbers")
	case cr.Last < cr.First:
		return bad("last is before first")
	case cr.Total >= 0 && cr.Last >= cr.Total:
		return bad("last is past the total")
	}
	cr.HasRange = true
	return cr, nil
}

// head is the start of a body for error messages.
func head(b []byte) []byte {
	n := min(len(b), 200)
	for n < len(b) && n > 0 && b[n]&0xC0 == 0x80 {
		n--
	}
	return b[:n]
}
