package mtt

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/calletl/calletl/extract/httpx"
	"github.com/calletl/calletl/extract/jsonscan"
	"github.com/calletl/calletl/secret"
)

// DefaultBaseURL is the MTT Telecom API endpoint.
const DefaultBaseURL = "https://webapicommon.mtt.ru/index.php"

// MaxPageSize is the API's cap on record_count.
const MaxPageSize = 1000

// Config configures the MTT source.
type Config struct {
	BaseURL   string       // JSON-RPC endpoint; DefaultBaseURL when empty
	Username  string       // Basic auth user
	Password  secret.Value // Basic auth password
	Customers []string     // personal accounts (customer_name) to extract
	Types     []string     // history types; all of Types when empty
	PageSize  int          // record_count per request, 1..1000 (default 1000)
	// Vendor is the zone the API's times are in: UTC per the vendor document
	// unless configured otherwise; date_from/date_to are sent in it too.
	Vendor *time.Location
	HTTP   httpx.Config
	// Callbacks are the callback calls to extract (getCallBackFollowmeCallInfo).
	Callbacks CallbackConfig
	// RecordingFormat is the format recordings are asked in: "wav" (the
	// default, /v1/records) or "mp3" (/v2/records?format=mp3).
	RecordingFormat string
}

// Client talks to the MTT Telecom API.
type Client struct {
	cfg  Config
	http *httpx.Client
	log  *slog.Logger
}

// New returns a client. It registers the password with cfg.HTTP.Redactor.
func New(cfg Config, log *slog.Logger) (*Client, error) {
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	if cfg.PageSize == 0 {
		cfg.PageSize = MaxPageSize
	}
	if cfg.PageSize < 1 || cfg.PageSize > MaxPageSize {
		return nil, fmt.Errorf("mtt: page size %d: must be 1..%d", cfg.PageSize, MaxPageSize)
	}
	if len(cfg.Types) == 0 {
		cfg.Types = Types
	}
	for _, t := range cfg.Types {
		if _, ok := directions[t]; !ok {
			return nil, fmt.Errorf("mtt: unknown history type %q (want incoming, missed, dialed or forwarded)", t)
		}
	}
	if cfg.Vendor == nil {
		cfg.Vendor = time.UTC
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.HTTP.Concurrency <= 0 {
		cfg.HTTP.Concurrency = 4
	}
	if cfg.HTTP.Name == "" {
		cfg.HTTP.Name = "mtt"
	}
	if cfg.HTTP.Redactor != nil {
		cfg.HTTP.Redactor.AddBasic(cfg.Username, cfg.Password.Reveal())
	}
	cfg.HTTP.Logger = log
	return &Client{cfg: cfg, http: httpx.New(cfg.HTTP), log: log}, nil
}

// rpcRequest is a JSON-RPC 2.0 request.
type rpcRequest struct {
	JSONRPC string `json:"jsonrpc"`
	ID      string `json:"id"`
	Method  string `json:"method"`
	Params  any    `json:"params"`
}

// call posts one JSON-RPC request and hands the answer's result to
// onResult. Its answer is classified by httpx.CheckAnswer: a body that is
// not a well-formed JSON-RPC answer (truncated, HTML from a proxy) is
// retried; a JSON-RPC error is returned as *RPCError without retry (unless
// the status is 429 or 5xx); 401 and 403 are fatal for the source
// (httpx.ErrAuth). onResult may run once per attempt, so it must reset what it
// fills.
func (c *Client) call(ctx context.Context, op, method string, params any, onResult func(s *jsonscan.Scanner) error) error {
	release, err := c.callHeld(ctx, op, method, params, onResult)
	release()
	return err
}

// callHeld is call for an answer whose decoded form shares the body's
// memory (history rows): the body stays counted in the HTTP budget until
// the caller calls release, on every path, before its next request.
func (c *Client) callHeld(ctx context.Context, op, method string, params any, onResult func(s *jsonscan.Scanner) error) (release func(), err error) {
	payload, err := json.Marshal(rpcRequest{JSONRPC: "2.0", ID: "1", Method: method, Params: params})
	if err != nil {
		return func() {}, fmt.Errorf("mtt: %s: encode request: %w", op, err)
	}
	newReq := func(ctx context.Context) (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.cfg.BaseURL, bytes.NewReader(payload))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json")
		c.authorize(req)
		return req, nil
	}
	check := func(resp *http.Response, body []byte) error {
		var err error
		if resp.StatusCode >= 200 && resp.StatusCode <= 299 {
			err = envelope(body, onResult)
		}
		err = httpx.CheckAnswer[*RPCError](resp, body, err)
		if httpx.IsFatal(err) {
			// 401/403: every request of the source would get the same.
			return fmt.Errorf("the API refused the credentials: check sources.mtt.username and the password it points to: %w", err)
		}
		return err
	}
	_, release, err = c.http.DoHeld(ctx, op, newReq, check)
	return release, err
}

// authorize adds the client's credentials (Basic auth) to a request: the
// API's and the recordings fetcher's.
func (c *Client) authorize(req *http.Request) {
	req.SetBasicAuth(c.cfg.Username, c.cfg.Password.Reveal())
}

// Account is one row of getPersonalAccountList.
type Account struct {
	Number         string
	ActivationDate string // "DD.MM.YYYY HH:MM:SS" as sent
	Status         string
	Raw            []byte
}

// Accounts pages through getPersonalAccountList for customer with
// limit/offset; -32001 past the end ends the list.
func (c *Client) Accounts(ctx context.Context, customer string) ([]Account, error) {
	const limit = 100
	var all []Account
	for offset := 0; ; offset += limit {
		var page []Account
		op := fmt.Sprintf("getPersonalAccountList %s offset %d", customer, offset)
		params := map[string]any{"customer_name": customer, "limit": limit, "offset": offset}
		err := c.call(ctx, op, "getPersonalAccountList", params, func(s *jsonscan.Scanner) error {
			page = page[:0]
			if s.Peek() == jsonscan.Null {
				return s.Skip()
			}
			return s.Array(func() error {
				var a Account
				start := s.Pos()
				err := s.Object(func(key []byte) error {
					kind, raw, err := s.Value()
					if err != nil {
						return err
					}
					text, _, err := jsonscan.Text(kind, raw)
					switch string(key) {
					case "account_number":
						a.Number = text
					case "activation_date":
						a.ActivationDate = text
					case "status":
						a.Status = text
					}
					return err
				})
				a.Raw = s.Bytes()[start:s.Pos()]
				page = append(page, a)
				return err
			})
		})
		if errors.Is(err, ErrNoData) && offset > 0 {
			break
		}
		if err != nil {
			return nil, err
		}
		all = append(all, page...)
		if len(page) < limit {
			break
		}
	}
	return all, nil
}

// Balance is a getCustomerBalance answer.
type Balance struct {
	Balance, RealBalance string // the JSON numbers' text
	// PendingPayment is pending_payment's text: the document lists the
	// field without a type or description; an object or array is kept
	// as its JSON.
	PendingPayment string
	Raw            string // the result exactly as sent, for mtt_balances.raw
}

// Balance calls getCustomerBalance (positional params).
func (c *Client) Balance(ctx context.Context, customer string) (Balance, error) {
	var b Balance
	err := c.call(ctx, "getCustomerBalance "+customer, "getCustomerBalance", []string{customer}, func(s *jsonscan.Scanner) error {
		var err error
		b, err = scanBalance(s)
		return err
	})
	return b, err
}

// Page is one answer of getServiceHistoryByCustomer after de-duplication
// against the previous page.
type Page struct {
	N      int   // 1-based number of the request that fetched it, counted over the window's chains
	Rows   []Row // rows not seen on an earlier page of this window
	Broken []Row // elements that are not objects (raw only), for rejects
}

// ErrSameSecond is returned when a full page holds a single connect_time:
// more than record_count calls in one second cannot be paged past without
// an offset, so the window fails rather than loses rows.
var ErrSameSecond = errors.New("a full page of calls within one second: cannot page past it without losing rows")

// History pages through getServiceHistoryByCustomer for one customer and
// type over [from, to), calling fn for each page, one call at a time; it
// stops at fn's first error. Within a paging chain pages come oldest
// first; a window split into chains (see history) interleaves the chains'
// pages, and fn runs in the chains' goroutines. The API has no
// offset: a full page is followed by a request from the last row's
// connect_time (inclusive), and rows already seen at that second are
// dropped by natural key. Rows are valid only during fn: they share the
// page body's memory, which counts against the HTTP budget until fn returns.
//
// The next page is fetched while fn handles the current one (one page
// ahead, no more): its cursor is known once the current page is decoded,
// so an API-bound stream spends one round trip per page, not a round trip
// plus fn. The prefetch holds nothing while it waits for the budget or for
// a connection, and the caller's goroutine gives its page back before it
// waits for the prefetch, so no holder ever waits for a holder (DoHeld's
// rule). When fn fails, the prefetch is cancelled and its body given back
// before History returns.
func (c *Client) History(ctx context.Context, customer, typ string, from, to time.Time, fn func(Page) error) error {
	g, gctx := errgroup.WithContext(ctx)
	h := &history{c: c, ctx: gctx, g: g, customer: customer, typ: typ, fn: fn,
		maxChains: int32(max(1, c.cfg.HTTP.Concurrency))}
	// date_to is inclusive, at one-second resolution.
	h.chains.Store(1)
	h.chain(from, to.Add(-time.Second))
	return g.Wait()
}

// splitMinPages is how many pages a chain must still expect before it
// splits: each split costs at most one request (the new chain's last,
// partial page), so splitting a short remainder would cost more than the
// idle slot it fills.
const splitMinPages = 4

// history is one History call: its chains, each paging a disjoint range of
// seconds of the window, and the fn they take turns to call.
//
// A window starts as one chain. Paging is sequential within a chain, so a
// run cannot finish before its longest window's chain: when other streams
// are done and request slots are idle, that chain is the whole tail. So,
// before a chain sends its next request, it splits when the HTTP client
// has an idle slot and the rest of its range is expected to take at least
// splitMinPages pages (by the pages it has taken so far): it keeps the
// first half of the remaining seconds and a new chain pages the second.
// The ranges are disjoint by second and the API selects by connect_time,
// so every row is in exactly one chain's answers. A page whose end the
// cursor cannot place (a broken element, or a last row without a
// parseable connect_time, which the server may have sorted anywhere in
// the range) never leads to a split.
type history struct {
	c             *Client
	ctx           context.Context
	g             *errgroup.Group
	customer, typ string
	fn            func(Page) error
	mu            sync.Mutex // fn is called by one chain at a time
	pages         atomic.Int64
	chains        atomic.Int32
	maxChains     int32
}

// chain starts paging [from, last] (seconds, inclusive) in a goroutine;
// the caller has counted it in chains.
func (h *history) chain(from, last time.Time) {
	h.g.Go(func() error { return h.page(from, last) })
}

// page runs one chain: the requests from from to last, one page ahead.
// The prefetch holds nothing while it waits for the budget or for a
// connection, and the chain gives its page back before it waits for the
// prefetch, so no holder ever waits for a holder (DoHeld's rule); a chain
// waiting for fn holds its page, but fn sends no request.
func (h *history) page(from, last time.Time) error {
	ctx, cancel := context.WithCancel(h.ctx)
	defer cancel()
	c := h.c
	seen := map[string]struct{}{}
	var spare historyAnswer // the slices of the page before last, reused
	cur := c.historyRequest(ctx, h.customer, h.typ, from, last, int(h.pages.Add(1)), spare)
	for taken := 1; ; taken++ {
		if cur.err != nil {
			cur.release()
			if errors.Is(cur.err, ErrNoData) {
				return nil // the API's answer for an empty selection
			}
			return cur.err
		}
		fresh, next, cursorErr := c.historyCursor(cur, seen)
		var ahead chan historyAnswer
		if cursorErr == nil && !next.IsZero() {
			last = h.split(cur, from, next, last, taken)
			ahead = make(chan historyAnswer, 1)
			go func(n int, last time.Time, reuse historyAnswer) {
				ahead <- c.historyRequest(ctx, h.customer, h.typ, next, last, n, reuse)
			}(int(h.pages.Add(1)), last, spare)
		}
		h.mu.Lock()
		err := h.fn(Page{N: cur.n, Rows: fresh, Broken: cur.broken})
		h.mu.Unlock()
		// The reused slices must not keep this body alive once released.
		clear(cur.rows)
		clear(cur.broken)
		cur.release()
		spare = historyAnswer{rows: cur.rows[:0], broken: cur.broken[:0]}
		if err == nil {
			err = cursorErr
		}
		if err != nil || ahead == nil {
			if ahead != nil {
				cancel()
				a := <-ahead
				a.release()
			}
			return err
		}
		cur = <-ahead
	}
}

// split decides, before a chain asks for the page at next, whether it
// hands the second half of its remaining range [next, last] to a new
// chain (see history), and returns the chain's new last second.
func (h *history) split(a historyAnswer, from, next, last time.Time, taken int) time.Time {
	if h.chains.Load() >= h.maxChains || h.c.http.IdleSlots() == 0 || len(a.broken) > 0 || len(a.rows) == 0 {
		return last
	}
	if t, err := parseTime(a.rows[len(a.rows)-1].ConnectTime, h.c.cfg.Vendor); err != nil || !t.Equal(next) {
		return last
	}
	done, left := next.Sub(from), last.Sub(next)
	if done <= 0 || float64(taken)*float64(left)/float64(done) < splitMinPages {
		return last
	}
	mid := next.Add(left / 2).Truncate(time.Second)
	if !mid.After(next) || !mid.Before(last) || !h.reserveChain() {
		return last
	}
	h.chain(mid, last)
	return mid.Add(-time.Second)
}

// reserveChain counts one more chain unless maxChains are counted already:
// chains split concurrently, and a load then an add would let two of them
// pass the bound together.
func (h *history) reserveChain() bool {
	for {
		n := h.chains.Load()
		if n >= h.maxChains {
			return false
		}
		if h.chains.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

// historyAnswer is one requested page of history: its rows and broken
// elements (sharing the body), the body's share of the HTTP budget, and
// the request's cursor, op and error.
type historyAnswer struct {
	n            int // 1-based page number
	cursor       time.Time
	op           string
	rows, broken []Row
	release      func()
	err          error
}

// historyRequest fetches and decodes page n, from cursor to last, into the
// slices of reuse. The answer's release is never nil.
func (c *Client) historyRequest(ctx context.Context, customer, typ string, cursor, last time.Time, n int, reuse historyAnswer) historyAnswer {
	dateFrom := cursor.In(c.cfg.Vendor).Format(timeLayout)
	dateTo := last.In(c.cfg.Vendor).Format(timeLayout)
	a := historyAnswer{n: n, cursor: cursor, rows: reuse.rows, broken: reuse.broken}
	a.op = fmt.Sprintf("getServiceHistoryByCustomer %s %s %s..%s page %d", customer, typ, dateFrom, dateTo, n)
	params := map[string]any{
		"type": typ, "customer_name": customer, "date_from": dateFrom, "date_to": dateTo,
		"record_count": c.cfg.PageSize, "order": "asc",
	}
	a.release, a.err = c.callHeld(ctx, a.op, "getServiceHistoryByCustomer", params, func(s *jsonscan.Scanner) error {
		var err error
		a.rows, a.broken, err = scanHistory(s, typ, a.rows[:0], a.broken[:0])
		return err
	})
	return a
}

// historyCursor returns the rows of a not seen on an earlier page and the
// cursor of the next request, zero when a is the last page. seen holds the
// keys of the rows at the previous cursor's second; it is refilled for the
// next one, with keys copied out of the body. A page that cannot be paged
// past still returns its fresh rows, with the error.
func (c *Client) historyCursor(a historyAnswer, seen map[string]struct{}) ([]Row, time.Time, error) {
	rows := a.rows
	full := len(rows)+len(a.broken) >= c.cfg.PageSize
	// The rows seen are the first of the page (it starts at their
	// second): the fresh rows are then the rest, with no copy.
	skip := 0
	for skip < len(rows) && len(seen) > 0 {
		if _, dup := seen[Key(&rows[skip])]; !dup {
			break
		}
		skip++
	}
	fresh := rows[skip:]
	for i := skip; i < len(rows) && len(seen) > 0; i++ {
		if _, dup := seen[Key(&rows[i])]; dup { // not in order: copy the fresh ones
			fresh = make([]Row, 0, len(rows)-skip)
			for j := skip; j < len(rows); j++ {
				if _, dup := seen[Key(&rows[j])]; !dup {
					fresh = append(fresh, rows[j])
				}
			}
			break
		}
	}
	if !full {
		return fresh, time.Time{}, nil
	}
	// Advance to the last parseable connect_time; remember every row from
	// its first occurrence on, since the next page repeats them.
	next, at := time.Time{}, -1
	for i := len(rows) - 1; i >= 0; i-- {
		t, err := parseTime(rows[i].ConnectTime, c.cfg.Vendor)
		if err != nil {
			continue
		}
		if at == -1 {
			next = t
		} else if !t.Equal(next) {
			break
		}
		at = i
	}
	if at == -1 {
		return fresh, time.Time{}, fmt.Errorf("mtt: %s: a full page with no parseable connect_time: cannot page", a.op)
	}
	if !next.After(a.cursor) {
		return fresh, time.Time{}, fmt.Errorf("mtt: %s: %w (%d rows at %s)", a.op, ErrSameSecond, len(rows)-at, rows[at].ConnectTime)
	}
	clear(seen)
	for i := at; i < len(rows); i++ {
		seen[strings.Clone(Key(&rows[i]))] = struct{}{}
	}
	return fresh, next, nil
}

// Ping makes one cheap authenticated call (the balance of the first
// customer) so `etl check` can test the credentials.
func (c *Client) Ping(ctx context.Context) error {
	if len(c.cfg.Customers) == 0 {
		return errors.New("mtt: no customers configured")
	}
	_, err := c.Balance(ctx, c.cfg.Customers[0])
	return err
}

// scanHistory reads the result of getServiceHistoryByCustomer,
// {"<type>": [rows…], "success": 1}, appending rows that are objects to rows
// and other elements to broken.
func scanHistory(s *jsonscan.Scanner, typ string, rows, broken []Row) ([]Row, []Row, error) {
	err := s.Object(func(key []byte) error {
		if string(key) != typ || s.Peek() == jsonscan.Null {
			return s.Skip()
		}
		return s.Array(func() error {
			rows = append(rows, Row{}) // scanned in place: a Row is ~300 bytes
			r := &rows[len(rows)-1]
			if err := scanRow(s, r); errors.Is(err, errNotObject) {
				broken = append(broken, *r)
				*r = Row{} // past len: nothing would clear it
				rows = rows[:len(rows)-1]
				return nil
			} else if err != nil {
				return err
			}
			return nil
		})
	})
	return rows, broken, err
}

// DecodeHistory decodes a whole getServiceHistoryByCustomer answer: the
// rows of typ, the elements that are not objects, or the JSON-RPC error.
// Rows are appended to reuse[:0], so a caller decoding page after page can
// keep one slice.
func DecodeHistory(body []byte, typ string, reuse []Row) (rows, broken []Row, err error) {
	err = envelope(body, func(s *jsonscan.Scanner) error {
		var err error
		rows, broken, err = scanHistory(s, typ, reuse[:0], nil)
		return err
	})
	return rows, broken, err
}
