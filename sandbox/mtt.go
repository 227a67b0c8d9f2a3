package sandbox

import (
	"container/list"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// Call types of the MTT getServiceHistoryByCustomer method.
const (
	MTTDialed    = "dialed"
	MTTForwarded = "forwarded"
	MTTIncoming  = "incoming"
	MTTMissed    = "missed"
)

// mttTypes returns the call types in lexical order, the order of Truth.
func mttTypes() [4]string {
	return [4]string{MTTDialed, MTTForwarded, MTTIncoming, MTTMissed}
}

func validMTTType(t string) bool {
	return t == MTTDialed || t == MTTForwarded || t == MTTIncoming || t == MTTMissed
}

// mttCreditE4 is the credit every customer has: real_balance = balance +
// credit. 590.00 RUB, the difference in the vendor document's example.
const mttCreditE4 = 590_0000

// maxCachedCalls and maxCachedDays bound the generated-day cache. Days are
// evicted least recently used first and regenerated (identically) on demand.
// A day of generated calls only that has more than a quarter of
// maxCachedCalls is kept as genRows and weighs 1/16 of its calls, so 4M
// generated rows (64 MB) fit: days of 400k calls per type are generated
// once, not once per page. Smaller days keep their calls.
const (
	maxCachedCalls = 1 << 18
	maxCachedDays  = 1 << 14
)

// MTTConfig configures an MTT emulator.
type MTTConfig struct {
	Seed int64
	// Customers are the personal accounts (customer_name), e.g. "110011256".
	Customers []string
	// EmptyCustomers are personal accounts the platform knows that hold no
	// data at all: no calls, no accounts, no balance. Every method answers
	// them -32001 "Data not found" (getCustomerBalance too, as the
	// document's error example shows), so a client cannot tell them from an
	// account that does not exist. A name also in Customers is empty.
	EmptyCustomers []string
	// From and To are the first and last UTC day of generated traffic,
	// inclusive; only their UTC dates matter. One of them zero means the
	// other's day alone; both zero, no generated traffic (AddCalls still
	// works); To before From, none either.
	From, To time.Time
	// CallsPerDay is the mean number of calls per customer, per type
	// (incoming, missed, dialed, forwarded), per day.
	CallsPerDay int
	// Username and Password are the Basic Auth credentials; a wrong or
	// missing Authorization answers 401. Both empty disables the check.
	Username, Password string
	// BadRowsPerDay is the number of rows per customer, per type, per day that
	// are malformed on purpose (MTTCall.Bad), on top of CallsPerDay.
	BadRowsPerDay int
	// IncludeDocExamples answers a request that equals one of the vendor
	// document's example requests (same method and params) with the
	// documented response, verbatim. See testdata/mtt/README.md.
	IncludeDocExamples bool
	// Now is the clock used for balances and for requests without dates;
	// default time.Now.
	Now func() time.Time
	// QuietDays are days on which the platform silently has nothing for a
	// customer: no generated calls of any type, so history requests for
	// that day answer -32001 "No data found", exactly like a day without
	// traffic. It emulates a vendor that stops returning a customer's data
	// without an error (what calletl's data-quality checks look for).
	QuietDays []MTTQuietDay

	// CallbacksPerCustomer is the number of callback calls generated per
	// customer for getCallBackFollowmeCallInfo (see MTTCallback, Callbacks).
	CallbacksPerCustomer int
	// CallbackRecordBase is the scheme and host (and path prefix) of the
	// callback recordings' download URLs, e.g. an MTTRecords Files server;
	// default "http://fuds.mtt.ru", the document's.
	CallbackRecordBase string
	// CallbackRecordParts, when set, gives the number of files of a
	// generated callback leg's recording by its record id
	// (MTTCallback.RecordID), e.g. MTTRecords.Parts; default 1.
	CallbackRecordParts func(id string) int
}

// MTTQuietDay is one customer's UTC day without generated traffic.
type MTTQuietDay struct {
	Customer string
	Day      time.Time // only its UTC date matters
}

// MTTCall is one call as the emulator knows it: the ground truth that an
// extractor's output is compared against.
type MTTCall struct {
	Customer, Type string // Type: incoming|missed|dialed|forwarded
	// ConfID is h323_conf_id, e.g. "2B23D937 BD9BCF86 E89D407D 44DA0162"
	// (4 groups of 8 upper-case hex digits); "" for about 2% of rows. Rows
	// with an empty ConfID are unique by their other fields.
	ConfID         string
	IncomingConfID string    // "" means absent on the wire
	ConnectTime    time.Time // UTC, whole seconds; also customer_local_time
	CLI, CLD       string    // raw, as on the wire
	AccountID      string    // MTT number, one of the customer's accounts; "" means absent
	Destination    string
	ChargedTime    int   // billed seconds: 0 (free) or at least UsedQuantity
	UsedQuantity   int   // connected seconds; 0 for unanswered calls
	SetupTimeMs    int   // 0 means absent on the wire
	CostE4         int64 // charged × 10^4, exact (2.48 RUB → 24800)
	Currency       string
	// DisconnectCause is the Q.850 code; 0 means absent on the wire.
	DisconnectCause int
	VoiceRecord     bool
	// Bad rows are malformed on purpose, in one field: connect_time is not a
	// valid time (customer_local_time still holds the true time) or charged
	// is "abc". The API selects and orders them by their true ConnectTime.
	// An extractor must put them into its rejects, not its calls.
	Bad bool
	// Extra holds fields the vendor "added later", served as extra string
	// keys after the documented ones, in key order. A key that is also a
	// documented field name is served twice (a duplicate key).
	Extra map[string]string
}

// MTTAccount is one number of a customer (getPersonalAccountList).
type MTTAccount struct {
	Number         string    // 7495XXXXXXX
	ActivationDate time.Time // UTC
	Status         string    // "active" or "blocked"
}

// mttCustomer is what the emulator fixes about a customer at construction.
type mttCustomer struct {
	name      string
	accounts  []MTTAccount
	active    []string // numbers of active accounts: generated traffic uses them
	initialE4 int64    // balance before any call
}

// dayKey names the calls of one customer, one type, one UTC day.
type dayKey struct {
	customer, typ string
	day           int64 // days since 1970-01-01
}

// dayCalls is the immutable content of one dayKey: generated and added calls
// in API order (ConnectTime, ConfID, then generation/addition order).
// A day of generated calls only holds them as rows to draw again (rows,
// cust, typ); a day with added calls holds the calls.
type dayCalls struct {
	calls  []MTTCall
	rows   []genRow
	cust   *mttCustomer
	typ    string
	costE4 int64 // sum of CostE4
}

// genRowWeight is how many generated rows weigh one call in the cache's
// bound: an MTTCall with its strings is some 20 times a genRow.
const genRowWeight = 16

// len is the number of calls.
func (dc *dayCalls) len() int { return len(dc.calls) + len(dc.rows) }

// weight is the day's share of the cache bound, in calls.
func (dc *dayCalls) weight() int { return len(dc.calls) + (len(dc.rows)+genRowWeight-1)/genRowWeight }

// unix is the i-th call's ConnectTime in Unix seconds.
func (dc *dayCalls) unix(i int) int64 {
	if dc.rows != nil {
		return dc.rows[i].unix
	}
	return dc.calls[i].ConnectTime.Unix()
}

// at returns the i-th call; a generated one is drawn again.
func (dc *dayCalls) at(i int) *MTTCall {
	if dc.rows != nil {
		c := dc.rows[i].call(dc.cust, dc.typ)
		return &c
	}
	return &dc.calls[i]
}

type cacheEntry struct {
	key dayKey
	dc  *dayCalls
}

// MTT emulates the MTT Telecom JSON-RPC API (webapicommon.mtt.ru): JSON-RPC
// 2.0 POSTed to any path, Basic Auth, errors as HTTP 200 with
// {"error":{code,message,data}}, the answer echoing the request's id with
// its JSON type. It is safe for concurrent use.
//
//   - getServiceHistoryByCustomer {type, customer_name, date_from, date_to,
//     record_count, filter?, order?}: the first record_count (1..1000) rows
//     of one type with date_from <= connect_time <= date_to (one-second
//     resolution) in the requested order (desc by default; calls in the same
//     second by h323_conf_id, the same way every time), filtered on cli/cld
//     containing filter. There is no offset. Without dates: the half hour
//     before Now. An empty selection is -32001 "No data found"; an unknown
//     customer -32001 "This account does not exist"; bad params -32602.
//   - getCallHistory {sip_id, date_from, date_to} ("DD.MM.YYYY HH:MM:SS"):
//     incoming, missed and dialed calls on that account number, ascending.
//   - getPersonalAccountList {customer_name, limit, offset}: the accounts.
//   - getCustomerBalance ["<customer>"]: balance and real_balance at Now,
//     and pending_payment.
//   - getCallBackFollowmeCallInfo {customer_name, callBackCall_id}: a
//     callback call (Callbacks), ended, talked or in progress.
//
// A customer in MTTConfig.EmptyCustomers gets -32001 from every method.
//
// Rows carry the document's quirks, chosen per row from a hash of the row
// (so a row is always served with the same bytes): integers as JSON strings
// ("119") for most rows and as numbers for some, the B-number under "clid"
// instead of "cld" for some, voice_record_exist:false or an empty
// h323_conf_id left out for some; absent optional fields are the zero values
// of MTTCall. charged is written from CostE4 with at most 4 (for generated
// calls 2) decimals and never in exponent form.
type MTT struct {
	cfg              MTTConfig
	hasTraffic       bool
	fromDay, toDay   int64
	customers        map[string]*mttCustomer // fixed at construction
	empty            map[string]bool         // EmptyCustomers, fixed at construction
	quiet            map[dayKey]bool         // QuietDays (typ ""), fixed at construction
	names            []string                // sorted customer names
	examples         []docExample
	faults           *FaultInjector
	handler          http.Handler
	requests         atomic.Int64
	revoked          atomic.Bool       // Revoke
	builds           atomic.Int64      // days generated or merged (tests)
	buffers          sync.Pool         // of *[]byte: answer buffers
	generatedOwnerOf map[string]string // account number → customer, fixed
	cbs              *mttCallbacks     // getCallBackFollowmeCallInfo

	mu          sync.Mutex
	cache       map[dayKey]*list.Element // of *cacheEntry
	lru         list.List                // front: most recently used
	cachedCalls int
	costs       map[dayKey]int64     // cost sums of days generated so far
	added       map[dayKey][]MTTCall // AddCalls; slices are never modified in place
	addedOwners map[string][]string  // account number → customers, from AddCalls
	addedLo     int64                // day span of added calls, valid when len(added) > 0
	addedHi     int64
	version     uint64 // bumped by AddCalls; stale generations are not cached
	cacheCalls  int    // bounds of the cache: maxCachedCalls, maxCachedDays
	cacheDays   int
}

// NewMTT returns an emulator for cfg. Customers are deduplicated; each gets
// 3–7 accounts, an initial balance and a credit of 590.00 RUB, all derived
// from (Seed, customer).
func NewMTT(cfg MTTConfig) *MTT {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	m := &MTT{
		cfg:              cfg,
		customers:        make(map[string]*mttCustomer),
		faults:           NewFaultInjector(Faults{}),
		generatedOwnerOf: make(map[string]string),
		cache:            make(map[dayKey]*list.Element),
		costs:            make(map[dayKey]int64),
		added:            make(map[dayKey][]MTTCall),
		addedOwners:      make(map[string][]string),
		cacheCalls:       maxCachedCalls,
		cacheDays:        maxCachedDays,
	}
	switch from, to := cfg.From, cfg.To; {
	case from.IsZero() && to.IsZero():
	case from.IsZero():
		m.fromDay, m.toDay, m.hasTraffic = dayOf(to.Unix()), dayOf(to.Unix()), true
	case to.IsZero():
		m.fromDay, m.toDay, m.hasTraffic = dayOf(from.Unix()), dayOf(from.Unix()), true
	default:
		m.fromDay, m.toDay = dayOf(from.Unix()), dayOf(to.Unix())
		m.hasTraffic = m.fromDay <= m.toDay
	}
	m.quiet = make(map[dayKey]bool, len(cfg.QuietDays))
	for _, q := range cfg.QuietDays {
		m.quiet[dayKey{customer: q.Customer, day: dayOf(q.Day.Unix())}] = true
	}
	m.empty = make(map[string]bool, len(cfg.EmptyCustomers))
	for _, name := range cfg.EmptyCustomers {
		m.empty[name] = true
	}
	used := make(map[string]bool)
	for _, name := range cfg.Customers {
		if _, dup := m.customers[name]; dup || m.empty[name] {
			continue
		}
		c := newMTTCustomer(cfg.Seed, name, used)
		m.customers[name] = c
		m.names = append(m.names, name)
		for _, a := range c.accounts {
			m.generatedOwnerOf[a.Number] = name
		}
	}
	sort.Strings(m.names)
	if m.cfg.CallbackRecordBase == "" {
		m.cfg.CallbackRecordBase = "http://fuds.mtt.ru"
	}
	m.cbs = m.callbacksOf()
	if cfg.IncludeDocExamples {
		m.examples = mustLoadDocExamples()
	}
	m.handler = m.faults.Wrap(http.HandlerFunc(m.serveRPC))
	return m
}

// ServeHTTP answers JSON-RPC requests POSTed to any path, after the faults
// set with SetFaults.
func (m *MTT) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m.handler.ServeHTTP(w, r)
}

// Revoke refuses the configured credentials from now on, as MTT does for a
// blocked API user: every request is answered 401.
func (m *MTT) Revoke() { m.revoked.Store(true) }

// SetFaults replaces the faults injected from now on.
func (m *MTT) SetFaults(f Faults) { m.faults.SetFaults(f) }

// FaultInjector returns the emulator's injector, for its counters.
func (m *MTT) FaultInjector() *FaultInjector { return m.faults }

// Requests is the number of requests that reached the emulator behind the
// fault injector: every request except those answered 503 or 429 by a
// fault. Truncated and malformed answers are counted (the real answer was
// computed), as are 401s and JSON-RPC errors.
func (m *MTT) Requests() int { return int(m.requests.Load()) }

// Accounts returns the customer's accounts in the order
// getPersonalAccountList serves them; nil for an unknown customer.
func (m *MTT) Accounts(customer string) []MTTAccount {
	c := m.customers[customer]
	if c == nil {
		return nil
	}
	return slices.Clone(c.accounts)
}

// Balance returns the customer's balance at the instant at: the initial
// balance minus the cost of every call (bad ones included) whose
// ConnectTime is before at, and real_balance = balance + 590.00 RUB. Both
// are × 10^4. An unknown customer has (0, 0).
func (m *MTT) Balance(customer string, at time.Time) (balanceE4, realBalanceE4 int64) {
	c := m.customers[customer]
	if c == nil {
		return 0, 0
	}
	lo, hi, ok := m.span()
	var spent int64
	if ok {
		atDay := dayOf(at.Unix())
		for _, typ := range mttTypes() {
			for d := lo; d <= min(hi, atDay-1); d++ {
				spent += m.dayCost(dayKey{customer, typ, d})
			}
			if atDay >= lo && atDay <= hi {
				dc := m.day(dayKey{customer, typ, atDay})
				for i := range dc.len() {
					if call := dc.at(i); call.ConnectTime.Before(at) {
						spent += call.CostE4
					}
				}
			}
		}
	}
	bal := c.initialE4 - spent
	return bal, bal + mttCreditE4
}

// Truth returns every call the API serves (generated and added; the
// document's examples excepted), sorted by (Customer, Type, ConnectTime,
// ConfID) and, within equal keys, in the order the API serves them.
func (m *MTT) Truth() []MTTCall {
	lo, hi, ok := m.span()
	if !ok {
		return nil
	}
	out := make([]MTTCall, 0, m.estimateCalls())
	for _, name := range m.names {
		for _, typ := range mttTypes() {
			for d := lo; d <= hi; d++ {
				dc := m.day(dayKey{name, typ, d})
				for i := range dc.len() {
					c := *dc.at(i)
					c.Extra = maps.Clone(c.Extra)
					out = append(out, c)
				}
			}
		}
	}
	return out
}

// estimateCalls is slightly more than the expected number of calls, so
// that Truth rarely grows its slice.
func (m *MTT) estimateCalls() int {
	m.mu.Lock()
	n := 0
	for _, cs := range m.added {
		n += len(cs)
	}
	m.mu.Unlock()
	if m.hasTraffic {
		days := int(m.toDay - m.fromDay + 1)
		perDay := max(m.cfg.CallsPerDay, 0) + max(m.cfg.BadRowsPerDay, 0)
		n += days * perDay * len(mttTypes()) * len(m.names) * 21 / 20
	}
	return min(n, 1<<22) // beyond that, let append grow it
}

// AddCalls injects calls into the served traffic, e.g. 1500 calls within
// one second. ConnectTime is converted to UTC and truncated to the second;
// an empty Currency becomes "RUB". Added calls may lie outside From..To.
// AddCalls panics on a customer that is not in MTTConfig.Customers or an
// unknown Type: that is a bug in the test.
func (m *MTT) AddCalls(calls ...MTTCall) {
	m.mu.Lock()
	defer m.mu.Unlock()
	pending := make(map[dayKey][]MTTCall)
	for _, c := range calls {
		if m.customers[c.Customer] == nil {
			panic(fmt.Sprintf("sandbox: MTT.AddCalls: unknown customer %q", c.Customer))
		}
		if !validMTTType(c.Type) {
			panic(fmt.Sprintf("sandbox: MTT.AddCalls: unknown type %q", c.Type))
		}
		c.ConnectTime = c.ConnectTime.UTC().Truncate(time.Second)
		if c.Currency == "" {
			c.Currency = "RUB"
		}
		c.Extra = maps.Clone(c.Extra)
		key := dayKey{c.Customer, c.Type, dayOf(c.ConnectTime.Unix())}
		if _, ok := pending[key]; !ok {
			pending[key] = slices.Clone(m.added[key])
		}
		pending[key] = append(pending[key], c)
		if c.AccountID != "" && !slices.Contains(m.addedOwners[c.AccountID], c.Customer) {
			m.addedOwners[c.AccountID] = append(m.addedOwners[c.AccountID], c.Customer)
		}
	}
	for key, cs := range pending {
		if len(m.added) == 0 {
			m.addedLo, m.addedHi = key.day, key.day
		}
		m.addedLo, m.addedHi = min(m.addedLo, key.day), max(m.addedHi, key.day)
		m.added[key] = cs
		if e, ok := m.cache[key]; ok {
			m.cachedCalls -= e.Value.(*cacheEntry).dc.weight()
			m.lru.Remove(e)
			delete(m.cache, key)
		}
		delete(m.costs, key)
	}
	m.version++
}

// span is the range of days that may hold calls; ok is false when none may.
func (m *MTT) span() (lo, hi int64, ok bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	lo, hi, ok = m.fromDay, m.toDay, m.hasTraffic
	switch {
	case len(m.added) == 0:
	case ok:
		lo, hi = min(lo, m.addedLo), max(hi, m.addedHi)
	default:
		lo, hi, ok = m.addedLo, m.addedHi, true
	}
	return lo, hi, ok
}

// owners returns the customers that have calls on the account number.
func (m *MTT) owners(account string) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	if c, ok := m.generatedOwnerOf[account]; ok {
		out = append(out, c)
	}
	for _, c := range m.addedOwners[account] {
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	sort.Strings(out)
	return out
}

// day returns the calls of key, generating and caching them when needed.
// Generation runs outside the lock, so requests for different days proceed
// in parallel; two requests generating the same day get identical results.
func (m *MTT) day(key dayKey) *dayCalls {
	m.mu.Lock()
	if e, ok := m.cache[key]; ok {
		m.lru.MoveToFront(e)
		dc := e.Value.(*cacheEntry).dc
		m.mu.Unlock()
		return dc
	}
	added, version := m.added[key], m.version
	m.mu.Unlock()
	if len(added) == 0 && !m.generates(key) {
		return &dayCalls{}
	}

	dc := m.build(key, added)

	m.mu.Lock()
	defer m.mu.Unlock()
	if m.version != version {
		return dc // AddCalls ran meanwhile: correct for this request, not for later ones
	}
	m.costs[key] = dc.costE4
	if e, ok := m.cache[key]; ok {
		return e.Value.(*cacheEntry).dc
	}
	m.cache[key] = m.lru.PushFront(&cacheEntry{key, dc})
	m.cachedCalls += dc.weight()
	for (m.cachedCalls > m.cacheCalls || m.lru.Len() > m.cacheDays) && m.lru.Len() > 1 {
		e := m.lru.Back()
		ce := e.Value.(*cacheEntry)
		m.lru.Remove(e)
		delete(m.cache, ce.key)
		m.cachedCalls -= ce.dc.weight()
	}
	return dc
}

// dayCost returns the sum of CostE4 of key's calls.
func (m *MTT) dayCost(key dayKey) int64 {
	m.mu.Lock()
	cost, ok := m.costs[key]
	m.mu.Unlock()
	if ok {
		return cost
	}
	return m.day(key).costE4
}

// build generates key's calls and merges the added ones, in API order.
func (m *MTT) build(key dayKey, added []MTTCall) *dayCalls {
	m.builds.Add(1)
	var calls []MTTCall
	if m.generates(key) {
		c := m.customers[key.customer]
		if len(added) == 0 {
			// A day too large to keep as calls keeps genRows: a page draws
			// its rows again.
			rows, calls, cost := m.generateRows(c, key.typ, key.day, m.maxGeneratedCalls() <= m.cacheCalls/4)
			return &dayCalls{calls: calls, rows: rows, cust: c, typ: key.typ, costE4: cost}
		}
		calls = m.generateDay(c, key.typ, key.day)
	}
	if len(added) > 0 {
		calls = sortCalls(append(calls, added...))
	}
	dc := &dayCalls{calls: calls}
	for i := range calls {
		dc.costE4 += calls[i].CostE4
	}
	return dc
}

// generates reports whether key is a day of generated traffic.
func (m *MTT) generates(key dayKey) bool {
	return m.hasTraffic && key.day >= m.fromDay && key.day <= m.toDay &&
		m.customers[key.customer] != nil && validMTTType(key.typ) &&
		!m.quiet[dayKey{customer: key.customer, day: key.day}]
}

// sortCalls returns calls stably sorted by compareCalls, in a new slice.
// It sorts indices rather than the large structs.
func sortCalls(calls []MTTCall) []MTTCall {
	idx := make([]int32, len(calls))
	for i := range idx {
		idx[i] = int32(i)
	}
	slices.SortFunc(idx, func(a, b int32) int {
		if c := compareCalls(&calls[a], &calls[b]); c != 0 {
			return c
		}
		return int(a - b) // stable
	})
	out := make([]MTTCall, len(calls))
	for i, j := range idx {
		out[i] = calls[j]
	}
	return out
}

// compareCalls orders calls of one customer and type as the API serves them
// in ascending order.
func compareCalls(a, b *MTTCall) int {
	if c := a.ConnectTime.Compare(b.ConnectTime); c != 0 {
		return c
	}
	switch {
	case a.ConfID < b.ConfID:
		return -1
	case a.ConfID > b.ConfID:
		return 1
	}
	return 0
}

// scan calls fn for the calls of (customer, typ) with from <= ConnectTime <=
// to (Unix seconds), ascending or descending, until fn returns false.
func (m *MTT) scan(customer, typ string, from, to int64, asc bool, fn func(*MTTCall) bool) {
	lo, hi, ok := m.span()
	if !ok || from > to {
		return
	}
	d0, d1 := max(dayOf(from), lo), min(dayOf(to), hi)
	if asc {
		for d := d0; d <= d1; d++ {
			dc := m.day(dayKey{customer, typ, d})
			i := sort.Search(dc.len(), func(i int) bool { return dc.unix(i) >= from })
			for ; i < dc.len() && dc.unix(i) <= to; i++ {
				if !fn(dc.at(i)) {
					return
				}
			}
		}
		return
	}
	for d := d1; d >= d0; d-- {
		dc := m.day(dayKey{customer, typ, d})
		i := sort.Search(dc.len(), func(i int) bool { return dc.unix(i) > to }) - 1
		for ; i >= 0 && dc.unix(i) >= from; i-- {
			if !fn(dc.at(i)) {
				return
			}
		}
	}
}

// dayOf returns the day number (since 1970-01-01 UTC) of a Unix time.
func dayOf(unix int64) int64 {
	d := unix / 86400
	if unix%86400 < 0 {
		d--
	}
	return d
}
