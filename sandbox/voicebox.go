package sandbox

// VoiceBox emulates the MTT VoiceBox REST API (voice robot campaigns) as far
// as calletl reads it: OAuth 2.0 token issuance (password and refresh_token
// grants) on a controllable clock, call history, campaigns, balance, the
// customer object and its numbers with their prices, lists paged with the
// Range header.
//
// Files: voicebox.go (configuration, tokens, knobs, ground truth),
// voicebox_gen.go (deterministic traffic), voicebox_http.go (routing, Range
// paging, answers), voicebox_numbers.go (customer object, numbers and their
// prices).
//
// The vendor document gives no response schema for call history, campaigns
// or balance. The emulator serves ONE invented, plausible shape (camelCase,
// see VoiceBoxCall), newest call first; an extractor must not depend on
// either the shape details or the order.

import (
	"encoding/hex"
	"maps"
	"net/http"
	"slices"
	"sync"
	"time"
)

// VoiceBoxConfig configures a VoiceBox emulator.
type VoiceBoxConfig struct {
	// Client credentials of the OAuth client and the user of the password
	// grant; defaults VoiceBoxDefaultClientID, …
	ClientID, ClientSecret string
	Username, Password     string
	// Customers are the customer ids (decimal digits); default {"1001"}.
	Customers []string
	// CallsPerDay is the mean number of call history rows per customer and
	// day (each day gets 80–120% of it).
	CallsPerDay int
	// Days is how many days of traffic, from Start's date in Vendor.
	Days  int
	Start time.Time
	Seed  int64
	// BadRowsPerDay adds rows per customer and day that an extractor must
	// reject: alternately one whose startTime is not a date and one whose
	// cost is not a number (see VoiceBoxBadRow).
	BadRowsPerDay int
	// TokenTTL is the access token lifetime (expires_in), default 1h;
	// RefreshTTL the refresh token lifetime, default 30 days.
	TokenTTL, RefreshTTL time.Duration
	// Now is the clock of token expiry (default time.Now); Advance moves
	// it forward.
	Now func() time.Time
	// Vendor is the zone of the times in answers; default Europe/Moscow.
	Vendor *time.Location
	// MaxPageSize caps the rows of one 206 answer (default 1000): a
	// larger Range is answered with fewer rows and a Content-Range saying
	// so.
	MaxPageSize int
	// UnknownTotal makes the API page without knowing the list's length:
	// every Range inside the list is answered 206 with Content-Range
	// "numbers <first>-<last>/*" (never 200, even when the range covers
	// the whole list), capped at MaxPageSize, and a Range past the end 416
	// without a Content-Range. With MaxPageSize below the client's page
	// size, a page shorter than asked is then not the end of the list.
	// SetUnknownTotal changes it at runtime.
	UnknownTotal bool
	// NumberIDs is what {number_id} of the price path (document 4.6:
	// "идентификатор номера", an integer) is, since the numbers list
	// (4.3) documents no id field: VoiceBoxIDIsNumber (the default) prices
	// a number by the number itself; VoiceBoxIDListed gives each row an
	// "id" (an integer unlike the number) and prices by it alone;
	// VoiceBoxIDUnlisted prices by such an id but the list never sends it,
	// so every price asked by number is a 404 — the harshest reading.
	NumberIDs VoiceBoxNumberIDs
}

// VoiceBoxNumberIDs says how the VoiceBox emulator identifies a number in
// the price path (VoiceBoxConfig.NumberIDs).
type VoiceBoxNumberIDs int

// The readings of {number_id} the emulator can take.
const (
	VoiceBoxIDIsNumber VoiceBoxNumberIDs = iota
	VoiceBoxIDListed
	VoiceBoxIDUnlisted
)

// Defaults of the VoiceBox emulator.
const (
	VoiceBoxDefaultClientID     = "calletl"
	VoiceBoxDefaultClientSecret = "vb-client-secret-0f3a"
	VoiceBoxDefaultUsername     = "etl@example.ru"
	VoiceBoxDefaultPassword     = "vb-user-password-77c1"
	vbDefaultCustomer           = "1001"
	vbDefaultTokenTTL           = time.Hour
	vbDefaultRefreshTTL         = 30 * 24 * time.Hour
	vbDefaultMaxPage            = 1000
)

// Campaign types as the document spells them.
const (
	VoiceBoxIncoming = "Входящая"
	VoiceBoxOutgoing = "Исходящая"
)

// VoiceBoxCall is one call history row as the emulator serves it: the
// ground truth an extractor's output is compared against. The wire shape is
//
//	{"id":123,"campaignId":17,"campaignName":"…","direction":"Исходящая",
//	 "callerNumber":"74951234567","calledNumber":"89161234567",
//	 "startTime":"2026-11-20T10:00:00+03:00","endTime":"…","duration":37,
//	 "status":"ANSWERED","cost":"1,20","currency":"RUB"}
//
// with "cost" a JSON number for even ids and a string with a decimal comma
// for odd ones, absent on incoming calls, "id" absent on some rows, and
// unknown fields (recordUrl, dtmf, variables) on others.
type VoiceBoxCall struct {
	Customer     string
	ID           string // decimal digits; "" when the row has no "id"
	CampaignID   int64
	CampaignName string
	Direction    string // VoiceBoxIncoming or VoiceBoxOutgoing
	Caller       string // callerNumber as served
	Callee       string // calledNumber as served
	Start, End   time.Time
	DurationS    int
	Status       string
	HasCost      bool
	CostKopecks  int64 // exact cost in kopecks when HasCost
	CostWire     string
	Currency     string
	Raw          string // the row's JSON exactly as served
}

// VoiceBoxBadRow is a row an extractor must reject.
type VoiceBoxBadRow struct {
	Customer string
	// Day is the date (in Vendor) of the row's startTime, "" when the row
	// has none that parses (it cannot be placed in a day).
	Day    string
	Reason string // "start" or "cost"
	Raw    string
}

// VoiceBoxCampaign is one campaign of a customer.
type VoiceBoxCampaign struct {
	ID         int64
	Name       string
	Type       string // VoiceBoxIncoming or VoiceBoxOutgoing
	Status     string // Active, Paused, Stopped
	EntryPoint string // the number of an incoming campaign, a schedule for an outgoing one
	Caller     string // the caller number of an outgoing campaign
	// Deleted campaigns are listed only by /callhistory/campaigns.
	Deleted bool
}

// vbCustomer is the generated data of one customer.
type vbCustomer struct {
	id        string
	campaigns []VoiceBoxCampaign
	calls     []VoiceBoxCall // newest first, as served
	bad       []VoiceBoxBadRow
	rows      [][]byte         // history rows as served, newest first
	campRows  [][]byte         // /campaigns rows
	histCamps [][]byte         // /callhistory/campaigns rows
	balance   int64            // kopecks
	info      VoiceBoxCustomer // GET /customers/{id}
	numbers   []VoiceBoxNumber
	numRows   [][]byte // /numbers rows
}

// vbToken is the server side state of one issued token.
type vbToken struct {
	refresh bool
	exp     time.Time
	revoked bool
}

// VoiceBox is the emulator. It is safe for concurrent use. Its ServeHTTP
// takes paths relative to the API base: POST /oauth/token, GET
// /customers/{id}/callhistory, …/callhistory/campaigns, …/campaigns,
// …/balance, /customers/{id}, …/numbers and …/numbers/{number}/price
// (voicebox_numbers.go).
type VoiceBox struct {
	cfg       VoiceBoxConfig
	customers map[string]*vbCustomer
	faults    *FaultInjector
	handler   http.Handler

	mu           sync.Mutex
	offset       time.Duration // Advance
	tokens       map[string]*vbToken
	seq          int
	passGrants   int
	userRevoked  bool // Revoke: the password grant is refused
	refreshGrant int
	unauthorized int
	requests     map[string]int
	ignoreRange  bool
	repeatPages  bool
	unknownTotal bool
}

// NewVoiceBox returns an emulator for cfg with its traffic generated.
func NewVoiceBox(cfg VoiceBoxConfig) *VoiceBox {
	if cfg.ClientID == "" {
		cfg.ClientID = VoiceBoxDefaultClientID
	}
	if cfg.ClientSecret == "" {
		cfg.ClientSecret = VoiceBoxDefaultClientSecret
	}
	if cfg.Username == "" {
		cfg.Username = VoiceBoxDefaultUsername
	}
	if cfg.Password == "" {
		cfg.Password = VoiceBoxDefaultPassword
	}
	if len(cfg.Customers) == 0 {
		cfg.Customers = []string{vbDefaultCustomer}
	}
	cfg.Customers = slices.Clone(cfg.Customers)
	if cfg.TokenTTL <= 0 {
		cfg.TokenTTL = vbDefaultTokenTTL
	}
	if cfg.RefreshTTL <= 0 {
		cfg.RefreshTTL = vbDefaultRefreshTTL
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Vendor == nil {
		cfg.Vendor = t2Moscow()
	}
	if cfg.MaxPageSize <= 0 {
		cfg.MaxPageSize = vbDefaultMaxPage
	}
	v := &VoiceBox{
		cfg:       cfg,
		customers: make(map[string]*vbCustomer),
		faults:    NewFaultInjector(Faults{}),
		tokens:    make(map[string]*vbToken),
		requests:  make(map[string]int),
	}
	v.unknownTotal = cfg.UnknownTotal
	for i, id := range cfg.Customers {
		v.customers[id] = v.generate(i, id)
		v.generateNumbers(i, v.customers[id])
	}
	v.handler = v.faults.Wrap(v.routes())
	return v
}

// ServeHTTP answers API requests after the faults set with SetFaults.
func (v *VoiceBox) ServeHTTP(w http.ResponseWriter, r *http.Request) { v.handler.ServeHTTP(w, r) }

// SetFaults replaces the faults injected from now on (token requests
// included).
func (v *VoiceBox) SetFaults(f Faults) { v.faults.SetFaults(f) }

// FaultInjector returns the emulator's injector, for its counters.
func (v *VoiceBox) FaultInjector() *FaultInjector { return v.faults }

// Config returns the configuration with defaults applied.
func (v *VoiceBox) Config() VoiceBoxConfig { return v.cfg }

// Now is the emulator's clock: Config.Now plus every Advance.
func (v *VoiceBox) Now() time.Time {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.cfg.Now().Add(v.offset)
}

// Advance moves the emulator's clock forward by d: tokens whose lifetime
// ends meanwhile are refused with 401 from then on.
func (v *VoiceBox) Advance(d time.Duration) {
	v.mu.Lock()
	v.offset += d
	v.mu.Unlock()
}

// RevokeTokens revokes every access and refresh token issued so far: the
// next API request gets 401 invalid_token and a refresh gets invalid_grant,
// so a client must use the password grant again.
func (v *VoiceBox) RevokeTokens() {
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, t := range v.tokens {
		t.revoked = true
	}
}

// Revoke revokes every token issued so far and refuses the user's
// password from now on (the user was blocked): the password grant answers
// invalid_grant.
func (v *VoiceBox) Revoke() {
	v.RevokeTokens()
	v.mu.Lock()
	v.userRevoked = true
	v.mu.Unlock()
}

// SetIgnoreRange makes the API ignore the Range header: every list is
// answered 200 with all its rows.
func (v *VoiceBox) SetIgnoreRange(on bool) {
	v.mu.Lock()
	v.ignoreRange = on
	v.mu.Unlock()
}

// SetUnknownTotal switches VoiceBoxConfig.UnknownTotal: pages with total
// "*", never a 200 to a Range, 416 without a Content-Range past the end.
func (v *VoiceBox) SetUnknownTotal(on bool) {
	v.mu.Lock()
	v.unknownTotal = on
	v.mu.Unlock()
}

// SetRepeatPages makes the API answer every Range with the rows of the
// first page (206, Content-Range claiming the asked range, total "*"): a
// broken pager an extractor must detect instead of looping.
func (v *VoiceBox) SetRepeatPages(on bool) {
	v.mu.Lock()
	v.repeatPages = on
	v.mu.Unlock()
}

// TokenIssues returns how many tokens the token endpoint issued (password
// and refresh_token grants).
func (v *VoiceBox) TokenIssues() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.passGrants + v.refreshGrant
}

// PasswordGrants and RefreshGrants count successful grants by type.
func (v *VoiceBox) PasswordGrants() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.passGrants
}

// RefreshGrants counts successful refresh_token grants.
func (v *VoiceBox) RefreshGrants() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.refreshGrant
}

// IssuedTokens returns every access and refresh token issued so far, for
// tests that check no token leaks into logs, errors or files.
func (v *VoiceBox) IssuedTokens() []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	return slices.Sorted(maps.Keys(v.tokens))
}

// Unauthorized counts API requests answered 401.
func (v *VoiceBox) Unauthorized() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.unauthorized
}

// Requests returns the requests that passed the fault injector, by route:
// "token", "callhistory", "callhistory/campaigns", "campaigns", "balance",
// "customer", "numbers", "price", "other".
func (v *VoiceBox) Requests() map[string]int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return maps.Clone(v.requests)
}

// Calls returns the good call history rows of customer, newest first (the
// order served).
func (v *VoiceBox) Calls(customer string) []VoiceBoxCall {
	if c := v.customers[customer]; c != nil {
		return slices.Clone(c.calls)
	}
	return nil
}

// BadRows returns the rows of customer an extractor must reject.
func (v *VoiceBox) BadRows(customer string) []VoiceBoxBadRow {
	if c := v.customers[customer]; c != nil {
		return slices.Clone(c.bad)
	}
	return nil
}

// Campaigns returns the campaigns of customer, deleted ones included.
func (v *VoiceBox) Campaigns(customer string) []VoiceBoxCampaign {
	if c := v.customers[customer]; c != nil {
		return slices.Clone(c.campaigns)
	}
	return nil
}

// Balance returns the balance of customer in kopecks.
func (v *VoiceBox) Balance(customer string) int64 {
	if c := v.customers[customer]; c != nil {
		return c.balance
	}
	return 0
}

// issueLocked creates an access/refresh pair; v.mu is held.
func (v *VoiceBox) issueLocked() (access, refresh string) {
	now := v.cfg.Now().Add(v.offset)
	mk := func(prefix string, isRefresh bool, ttl time.Duration) string {
		v.seq++
		h := newHasher(v.cfg.Seed).str("voicebox-token").int(int64(v.seq))
		var b [16]byte
		s1, s2 := h.sum(), h.str("2").sum()
		for i := range 8 {
			b[i], b[8+i] = byte(s1>>(8*i)), byte(s2>>(8*i))
		}
		tok := prefix + hex.EncodeToString(b[:])
		v.tokens[tok] = &vbToken{refresh: isRefresh, exp: now.Add(ttl)}
		return tok
	}
	return mk("vbat_", false, v.cfg.TokenTTL), mk("vbrt_", true, v.cfg.RefreshTTL)
}

// validLocked reports whether tok is a live token of the kind; v.mu is held.
func (v *VoiceBox) validLocked(tok string, refresh bool) bool {
	t := v.tokens[tok]
	return t != nil && t.refresh == refresh && !t.revoked && v.cfg.Now().Add(v.offset).Before(t.exp)
}

// expiresIn is the expires_in of a new access token, whole seconds, at
// least 1.
func (v *VoiceBox) expiresIn() int64 { return max(1, int64(v.cfg.TokenTTL/time.Second)) }
