package sandbox

import (
	"cmp"
	"crypto/hmac"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"
)

// T2Config configures a T2 emulator.
type T2Config struct {
	Seed int64
	// From and To are the first and last UTC day of generated traffic,
	// inclusive; only their UTC dates matter. One of them zero means the
	// other's day alone; both zero or To before From, no traffic.
	From, To time.Time
	// CallsPerDay is the mean number of call records per day for the whole
	// company, not counting the records of missed MCN calls that also appear
	// in call-records (T2Missed.AlsoInCallRecords), which come on top.
	CallsPerDay int
	// MissedPerDay is the mean number of statistics/missing rows per day.
	MissedPerDay int
	// Employees is the number of employees; default 12.
	Employees int
	// Managers is the number of personal managers (GET /managers) generated
	// besides the document's example manager, which is always served
	// first. Their customers' numbers are outside parties of the traffic:
	// about a third of the calls and missed calls with an outside party
	// are with a customer. 0: only the document's example, and traffic
	// exactly as without managers.
	Managers int
	// MCNNumbers are the company's multichannel numbers (7XXXXXXXXXX);
	// default "74950000001", "74950000002".
	MCNNumbers []string
	// Now is the clock of token issue and expiry; default time.Now.
	Now func() time.Time
	// AccessTTL and RefreshTTL are the lifetimes of issued tokens; default
	// 24h and 7×24h.
	AccessTTL, RefreshTTL time.Duration
	// Zone is the zone of the ISO offset date-times in answers; default
	// Europe/Moscow (a fixed +03:00 where the zone database is missing).
	Zone *time.Location
	// BadEvery, when positive, serves every BadEvery-th call record (in
	// ground truth order) with a callTimestamp that is not an ISO
	// date-time ("2006-01-02 15:04:05"), marked Bad in the ground truth:
	// an extractor must reject it, raw payload and all.
	BadEvery int
}

// Documented callType values of /call-records/info. The emulator also
// serves T2CallTransfer, which the document does not list.
const (
	T2SingleChannel = "SINGLE_CHANNEL"
	T2MultiChannel  = "MULTI_CHANNEL"
	T2UnknownCall   = "UNKNOWN_CALL"
	T2Internal      = "INTERNAL"
	T2Himself       = "HIMSELF"
	T2InternalQueue = "INTERNAL_QUEUE"
	T2CRMOutgoing   = "CRM_OUTGOING"
	T2Voicemail     = "VOICEMAIL"
	T2Conference    = "CONFERENCE"
	T2Callback      = "CALLBACK"
	T2PickupCall    = "PICKUP_CALL"
	T2Fax           = "FAX"
	T2Outgoing      = "OUTGOING"
	T2CRMCallback   = "CRM_CALLBACK"

	// T2CallTransfer is a callType NOT in the document's list: about one
	// record a day carries it (answered), so that an extractor proves it
	// keeps unknown values.
	T2CallTransfer = "CALL_TRANSFER"
)

// Documented callStatus values (the document's list; its line 614 is
// blank). T2StatusQueueTimeout is not documented.
const (
	T2AnsweredCommon            = "ANSWERED_COMMON"
	T2AnsweredByOriginalClient  = "ANSWERED_BY_ORIGINAL_CLIENT"
	T2AnsweredByBusyForward     = "ANSWERED_BY_BUSY_FORWARD_CLIENT"
	T2AnsweredByNoAnswerForward = "ANSWERED_BY_NO_ANSWER_FORWARD_CLIENT"
	T2NotAnsweredCommon         = "NOT_ANSWERED_COMMON"
	T2CancelledByCaller         = "CANCELLED_BY_CALLER"
	T2DeniedMaxSession          = "DENIED_DUE_TO_MAX_SESSION"
	T2DeniedIncomingBlocked     = "DENIED_DUE_TO_INCOMING_CALLS_BLOCKED"
	T2DeniedOutgoingBlocked     = "DENIED_DUE_TO_OUTGOING_CALLS_BLOCKED"
	T2DeniedOnlyInternal        = "DENIED_DUE_TO_ONLY_INTERNAL_CALLS_ENABLED"
	T2DeniedBlackListed         = "DENIED_DUE_TO_BLACK_LISTED"
	T2DeniedNotInWhiteList      = "DENIED_NOT_IN_WHITE_LIST"
	T2DeniedNotWorkTime         = "DENIED_DUE_TO_NOT_WORK_TIME"
	T2DeniedUnknownNumber       = "DENIED_DUE_TO_UNKNOWN_NUMBER"
	T2DestinationBusy           = "DESTINATION_BUSY"
	T2CancelledByPickup         = "CANCELLED_BY_PICKUP"
	T2StatusQueueTimeout        = "NOT_ANSWERED_DUE_TO_QUEUE_TIMEOUT" // undocumented, unanswered
)

// Defaults, limits and fixed texts of the T2 emulator.
const (
	t2DefaultEmployees            = 12
	t2DefaultAccessTTL            = 24 * time.Hour
	t2DefaultRefreshTTL           = 7 * 24 * time.Hour
	t2CompanyIDBase               = 300
	t2MaxPageSize                 = 10000
	t2DefaultCallRecordsPageSize  = 10
	t2DefaultMissingPageSize      = 100
	t2MissedIDsPerDay             = 100000
	t2DefaultMCN1, t2DefaultMCN2  = "74950000001", "74950000002"
	t2TokenHeader                 = `{"alg":"HS512"}`
	t2AccessSubject               = "ACCESS_OPENAPI_TOKEN"
	t2RefreshSubject              = "REFRESH_OPENAPI_TOKEN"
	t2AccessType, t2RefreshType   = "access", "refresh"
	t2DetailsHeaderRequired       = "Authorization header required"
	t2DetailsExpired              = "The token is expired"
	t2DetailsUpdated              = "The token has already been updated"
	t2DetailsBadToken             = "Bad token"
	t2DetailsInvalidTokenType     = "Invalid token type"
	t2DetailsRecordNotFound       = "Record not found by filename"
	t2DetailsTranscriptionMissing = "Transcription not found for filename"
)

// T2Call is one record of /call-records/info as the emulator knows it: the
// ground truth an extractor's output is compared against. Strings are
// exactly as on the wire.
type T2Call struct {
	// Timestamp is callTimestamp, in UTC with millisecond precision; the
	// wire writes it in T2Config.Zone.
	Timestamp time.Time
	// CallType and CallStatus are the enum values as served, including the
	// undocumented T2CallTransfer and T2StatusQueueTimeout.
	CallType, CallStatus string
	// Numbers come in mixed spellings: 7XXXXXXXXXX, 8XXXXXXXXXX, +7XXXXXXXXXX
	// for outside parties, 7XXXXXXXXXX for employees' full and MCN numbers,
	// four-digit extensions ("0003") for internal calls. Names may be "".
	CallerNumber, CallerName string
	CalleeNumber, CalleeName string
	DestinationNumber        string
	CallDuration             int // seconds, ringing included
	// ConversationDuration is in seconds; −1 means absent on the wire (the
	// call was not answered).
	ConversationDuration int
	// RecordFileName is "" for unanswered calls and for answered calls that
	// were not recorded; otherwise "YYYY-MM-DD/mo_<digits>" or
	// "YYYY-MM-DD/mt_<digits>" (date in Zone), as in the document.
	RecordFileName string
	// MissedID is the T2Missed.ID of the statistics/missing row this record
	// duplicates, 0 for none (see T2Missed.AlsoInCallRecords).
	MissedID int64
	// Bad records are served with a malformed callTimestamp (BadEvery);
	// the API still selects and orders them by Timestamp.
	Bad bool
}

// Answered reports whether the call was answered (conversationDuration
// present).
func (c *T2Call) Answered() bool { return c.ConversationDuration >= 0 }

// T2Missed is one row of /statistics/missing: a call to a multichannel
// number that nobody answered.
type T2Missed struct {
	ID           int64     // unique; rows of one day ascend with StartDate
	StartDate    time.Time // UTC, millisecond precision; written in Zone
	WaitDuration int       // seconds
	CallerNumber string    // raw, mixed spellings
	// DestinationNumber is one of T2Config.MCNNumbers.
	DestinationNumber string
	// CalleeNumber is the employee's full number the call was offered to,
	// "" when the call ended on the MCN; CalleeName is then "".
	CalleeNumber, CalleeName string
	// CalleeCompanyID is the company id, written as a JSON number.
	CalleeCompanyID string
	// AlsoInCallRecords marks the rows (about half) that /call-records/info
	// serves too, as a T2Call with the same Timestamp and CallerNumber,
	// callType MULTI_CHANNEL, callStatus NOT_ANSWERED_COMMON,
	// DestinationNumber this row's MCN and MissedID this ID. An extractor
	// that loads both feeds must not count such a call twice.
	AlsoInCallRecords bool
}

// T2Employee is one row of /employees. EmployeeID holds decimal digits and
// is written as a JSON number, as in the document; other empty fields are
// left out of the answer (the document shows such rows).
type T2Employee struct {
	EmployeeID  string
	Name        string
	Surname     string
	FullNumber  string // 79XXXXXXXXX
	ShortNumber string // "0001"…
	Email       string
}

// t2Token is the server side state of one issued token.
type t2Token struct {
	typ     string // t2AccessType or t2RefreshType
	pair    int    // issue number of its pair
	exp     time.Time
	rotated bool // its pair was refreshed: "already updated"
}

// T2 emulates the T2 Corporate PBX CRM OpenAPI (https://ats2.t2.ru/crm/openapi).
// It is safe for concurrent use. ServeHTTP takes paths relative to the base
// (GET /call-records/info); a leading "/crm/openapi" is accepted too.
//
//   - PUT /authorization/refresh/token: rotates the pair of the refresh token.
//   - GET /call-records/info, /statistics/missing, /statistics/common,
//     /statistics/journal, /employees, /managers, /call-records/file,
//     /call-records/file/stt.
//
// Every answer but a file is JSON. Authorization is checked before
// parameters: missing header, token that does not parse or verify ("Bad
// token"), token of a pair that has been refreshed ("The token has already
// been updated", whether or not it has also expired), expired, wrong type;
// each is a 403 {"details","message":"Forbidden"}. The document gives
// "already updated" as the answer to a token that is no longer current
// because its pair was refreshed ("Токен не актуален, так как был обновлен
// ранее") and says nothing of order; the emulator takes the harsher reading
// for a client: a superseded token is "already updated" even when it is
// also past its exp, so a request still in flight with the old access
// token when another one refreshes gets that answer, not "expired".
// Parameter errors are 400 with the document's bodies.
//
// All traffic is generated at construction from (Seed, day), so a day's
// traffic does not depend on From/To.
type T2 struct {
	cfg       T2Config
	companyID int64
	employees []T2Employee
	managers  []T2Manager // the document's example first
	calls     []T2Call    // sorted by Timestamp, then generation order
	missed    []T2Missed
	files     map[string]int // recordFileName → index in calls
	key       []byte         // HMAC key of token signatures
	faults    *FaultInjector
	handler   http.Handler

	mu        sync.Mutex
	tokens    map[string]*t2Token
	issued    int // pairs issued so far
	refreshes int
}

// NewT2 returns an emulator for cfg with its traffic generated.
func NewT2(cfg T2Config) *T2 {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Employees <= 0 {
		cfg.Employees = t2DefaultEmployees
	}
	if len(cfg.MCNNumbers) == 0 {
		cfg.MCNNumbers = []string{t2DefaultMCN1, t2DefaultMCN2}
	}
	cfg.MCNNumbers = slices.Clone(cfg.MCNNumbers)
	if cfg.AccessTTL <= 0 {
		cfg.AccessTTL = t2DefaultAccessTTL
	}
	if cfg.RefreshTTL <= 0 {
		cfg.RefreshTTL = t2DefaultRefreshTTL
	}
	if cfg.Zone == nil {
		cfg.Zone = t2Moscow()
	}
	t := &T2{
		cfg:    cfg,
		files:  make(map[string]int),
		tokens: make(map[string]*t2Token),
		faults: NewFaultInjector(Faults{}),
	}
	seed := newHasher(cfg.Seed)
	t.companyID = t2CompanyIDBase + int64(seed.str("company").sum()%700)
	k := seed.str("token-key").sum()
	t.key = strconv.AppendUint([]byte("t2-sandbox-"), k, 16)
	t.employees = t2Employees(cfg.Seed, cfg.Employees)
	t.managers = t2Managers(cfg.Seed, t.companyID, t.employees, cfg.Managers)
	t.generate()
	t.handler = t.faults.Wrap(http.HandlerFunc(t.serve))
	return t
}

// t2Moscow is Europe/Moscow, or a fixed +03:00 without a zone database.
func t2Moscow() *time.Location {
	if loc, err := time.LoadLocation("Europe/Moscow"); err == nil {
		return loc
	}
	return time.FixedZone("MSK", 3*3600)
}

// ServeHTTP answers API requests after the faults set with SetFaults.
func (t *T2) ServeHTTP(w http.ResponseWriter, r *http.Request) { t.handler.ServeHTTP(w, r) }

// SetFaults replaces the faults injected from now on.
func (t *T2) SetFaults(f Faults) { t.faults.SetFaults(f) }

// FaultInjector returns the emulator's injector, for its counters.
func (t *T2) FaultInjector() *FaultInjector { return t.faults }

// Calls returns the ground truth of /call-records/info, sorted by Timestamp
// and, within one millisecond, in the order the API serves them ascending.
func (t *T2) Calls() []T2Call { return slices.Clone(t.calls) }

// Missed returns the ground truth of /statistics/missing, sorted by
// StartDate, then ID.
func (t *T2) Missed() []T2Missed { return slices.Clone(t.missed) }

// EmployeeList returns the employees in the order /employees serves them.
func (t *T2) EmployeeList() []T2Employee { return slices.Clone(t.employees) }

// IssueTokens returns a fresh access/refresh pair, as an administrator gets
// in the PBX web UI; earlier pairs stay valid until they expire or are
// rotated. The access token expires AccessTTL after Now, the refresh token
// RefreshTTL after Now.
func (t *T2) IssueTokens() (access, refresh string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.issueLocked()
}

// Refreshes returns the number of successful PUT /authorization/refresh/token
// calls.
func (t *T2) Refreshes() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.refreshes
}

// ExpireAccessTokens makes every access token issued so far expired as of
// Now: the next request with one of them gets "The token is expired".
// Refresh tokens are unaffected. The tokens' exp claims are not rewritten.
func (t *T2) ExpireAccessTokens() {
	now := t.cfg.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, tok := range t.tokens {
		if tok.typ == t2AccessType && tok.exp.After(now) {
			tok.exp = now
		}
	}
}

// RevokeTokens forgets every token issued so far, as an administrator who
// revokes the API access in the PBX web UI: every request with one of them,
// the refresh too, gets 403 "Bad token".
func (t *T2) RevokeTokens() {
	t.mu.Lock()
	defer t.mu.Unlock()
	clear(t.tokens)
}

// issueLocked creates a pair; t.mu is held.
func (t *T2) issueLocked() (access, refresh string) {
	t.issued++
	now := t.cfg.Now()
	mk := func(typ, sub string, ttl time.Duration) string {
		exp := now.Add(ttl)
		payload, _ := json.Marshal(struct {
			Company int64  `json:"companyId"`
			Sub     string `json:"sub"`
			Typ     string `json:"typ"`
			JTI     int    `json:"jti"`
			IAT     int64  `json:"iat"`
			Exp     int64  `json:"exp"`
		}{t.companyID, sub, typ, t.issued, now.Unix(), exp.Unix()})
		tok := t.sign(payload)
		t.tokens[tok] = &t2Token{typ: typ, pair: t.issued, exp: exp}
		return tok
	}
	access = mk(t2AccessType, t2AccessSubject, t.cfg.AccessTTL)
	refresh = mk(t2RefreshType, t2RefreshSubject, t.cfg.RefreshTTL)
	return access, refresh
}

// sign returns header.payload.signature, base64url without padding, signed
// with HMAC-SHA512 under the emulator's key.
func (t *T2) sign(payload []byte) string {
	enc := base64.RawURLEncoding
	s := enc.EncodeToString([]byte(t2TokenHeader)) + "." + enc.EncodeToString(payload)
	mac := hmac.New(sha512.New, t.key)
	mac.Write([]byte(s))
	return s + "." + enc.EncodeToString(mac.Sum(nil))
}

// authorize checks the Authorization header for a token of typ and returns
// the token's state, or the 403 details.
func (t *T2) authorize(r *http.Request, typ string) (*t2Token, string) {
	raw := r.Header.Get("Authorization")
	if raw == "" {
		return nil, t2DetailsHeaderRequired
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	tok := t.tokens[raw]
	if tok == nil {
		return nil, t2DetailsBadToken
	}
	switch {
	case tok.rotated:
		return nil, t2DetailsUpdated
	case !t.cfg.Now().Before(tok.exp):
		return nil, t2DetailsExpired
	case tok.typ != typ:
		return nil, t2DetailsInvalidTokenType
	}
	return tok, ""
}

// refresh rotates the pair of the refresh token in r.
func (t *T2) refresh(w http.ResponseWriter, r *http.Request) {
	tok, details := t.authorize(r, t2RefreshType)
	if details != "" {
		t2Forbidden(w, details)
		return
	}
	t.mu.Lock()
	if tok.rotated { // lost a race with a concurrent refresh of the same pair
		t.mu.Unlock()
		t2Forbidden(w, t2DetailsUpdated)
		return
	}
	for _, other := range t.tokens {
		if other.pair == tok.pair {
			other.rotated = true
		}
	}
	access, refresh := t.issueLocked()
	t.refreshes++
	t.mu.Unlock()
	t2JSON(w, http.StatusOK, struct {
		AccessToken  string `json:"accessToken"`
		RefreshToken string `json:"refreshToken"`
	}{access, refresh})
}

// t2Error is the body of every 4xx answer.
type t2Error struct {
	Details string `json:"details"`
	Message string `json:"message"`
}

func t2Forbidden(w http.ResponseWriter, details string) {
	t2JSON(w, http.StatusForbidden, t2Error{details, "Forbidden"})
}

// t2JSON writes v as a complete JSON answer.
func t2JSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // every answer type marshals
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// compareT2Calls orders calls by Timestamp; equal ones keep their order
// (callers use a stable sort).
func compareT2Calls(a, b T2Call) int { return a.Timestamp.Compare(b.Timestamp) }

func compareT2Missed(a, b T2Missed) int {
	if c := a.StartDate.Compare(b.StartDate); c != 0 {
		return c
	}
	return cmp.Compare(a.ID, b.ID)
}
