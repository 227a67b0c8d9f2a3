package sandbox

import (
	"net/http"
	"sync"
	"time"
)

// MobilgroupConfig configures a Mobilgroup emulator.
type MobilgroupConfig struct {
	// APIKey is the key every request must carry as its raw Authorization
	// header (or as security.apiKey in the body, the document's other way).
	APIKey string
	// Broadcasts is the number of generated broadcasts; default 3.
	Broadcasts int
	// SubscribersPerBroadcast is the mean number of subscribers of a
	// broadcast; default 50. A broadcast gets between 3/4 and 5/4 of it, at
	// least 1.
	SubscribersPerBroadcast int
	Seed                    int64
	// Start is the first broadcast's start; the others start 2h13m apart,
	// spread over Days days. Default: 10:00 vendor time, Days days before
	// Now's day, so that no call is dated after the emulator's clock (a
	// real server never reports a call in its future).
	Start time.Time
	// Days is the number of days the broadcasts are spread over; default 1.
	Days int
	// Vendor is the zone of the dates served; default Europe/Moscow.
	Vendor *time.Location
	// Now is the emulator's clock: it gives the default Start and, with
	// Redials, decides which attempts have been made; default time.Now.
	Now func() time.Time
	// DateLayout is the layout of the dates served; default
	// MobilgroupDateLayout ("2006-01-02 15:04:05").
	DateLayout string
	// Numbers serves phones, attempts, durations, parts and money as JSON
	// numbers instead of strings (vendor drift). Money then always uses '.'.
	Numbers bool
	// BadEvery, when positive, serves every BadEvery-th subscriber (counting
	// across broadcasts from 1) with the malformed price "—". Such a
	// subscriber is marked Bad in the ground truth; its broadcast can never
	// be extracted as final.
	BadEvery int
	// Redials dials on the emulator's clock (Now) with the document's
	// redials instead of by Advance steps: every broadcast has an attempts
	// limit of 2 or 3 and an interval of 5 to 60 minutes (the document: "Не
	// более 3 попыток", "Не должен превышать 60 минут"); a subscriber's
	// attempt k is made at its first attempt + (k−1) × interval. A
	// subscriber not answered on an attempt shows that attempt's result
	// ("Занято" or "Нет ответа", a final-looking word), its date and the
	// attempts so far, with price 0, until the next attempt is made; one
	// answered on a redial is charged then. Busy, no-answer, unavailable
	// and rejected subscribers use every attempt; "Ошибка" is not redialled
	// (the client cannot tell). The ground truth's Final is true once a
	// subscriber's last attempt is made; Advance does nothing.
	Redials bool
	// DocMalformed serves the document's state example verbatim
	// (MobilgroupDocStateMalformed, not JSON) for broadcast "1234" instead of
	// its repaired form. SetDocMalformed changes it at runtime.
	DocMalformed bool
}

// MobilgroupDateLayout is the emulator's date format: the document only
// says "Дата".
const MobilgroupDateLayout = "2006-01-02 15:04:05"

// Error codes of the api/get handler, as the document lists them.
const (
	MobilgroupErrAuth           = "Error_Authorisation_Failed"
	MobilgroupErrUserDisabled   = "Error_User_Disabled"
	MobilgroupErrUnknownRequest = "Error_Unknown_Request"
	MobilgroupErrIDNotFound     = "Error_ID_Not_Found"
)

// Subscriber statuses the emulator serves, and their normalised codes.
const (
	MobilgroupQueued  = "В очереди" // pending, not called yet
	MobilgroupWaiting = "Ожидает"   // pending: called once, waiting for the next attempt
)

// MobilgroupBroadcast is one broadcast as the emulator serves it now: the
// ground truth an extractor's output is compared against.
type MobilgroupBroadcast struct {
	ID     string
	Start  time.Time // UTC
	Phones int       // the phones member: len(Subscribers)
	// BudgetKopecks is the budget member: the sum of PriceKopecks when Final,
	// else that sum over the final subscribers plus an estimate (91 kopecks)
	// for every other one.
	BudgetKopecks int64
	Final         bool // every subscriber final
	// MaxAttempts and Interval are the broadcast's redial settings (sent
	// to /api/send/, not in the state answer): 3 and 10 minutes without
	// Redials.
	MaxAttempts int
	Interval    time.Duration
	Subscribers []MobilgroupSubscriber
}

// MobilgroupSubscriber is one subscriber of a broadcast, as served now.
type MobilgroupSubscriber struct {
	Seq    int       // 1-based position in subscribers
	Phone  string    // as served: 7XXXXXXXXXX or 8XXXXXXXXXX; a phone can repeat within a broadcast
	Date   time.Time // UTC, whole seconds; the last attempt; zero while not called
	Status string    // the Russian text served
	// Code is the normalised status: answered, busy, no_answer,
	// unavailable, failed, rejected or pending.
	Code string
	// Final: nothing about the subscriber changes any more (its last
	// attempt is made). Without Redials that is Code not pending; with
	// Redials a subscriber between attempts has a final-looking Code
	// (busy, no_answer) and is not Final.
	Final    bool
	Attempts int
	Duration int // seconds talked
	// PriceKopecks is the price member: the subscriber's total, the call
	// plus the transfer and SMS legs (0 until final).
	PriceKopecks int64
	CallKopecks  int64               // the call's own part of PriceKopecks
	Transfer     *MobilgroupTransfer // nil when none
	SMS          *MobilgroupSMS      // nil when none
	Bad          bool                // served with the malformed price "—" (BadEvery)
}

// MobilgroupTransfer is a subscriber's transfer leg.
type MobilgroupTransfer struct {
	Number       string
	Duration     int
	PriceKopecks int64
	Status, Code string
}

// MobilgroupSMS is a subscriber's SMS leg (sent when the call was not
// answered).
type MobilgroupSMS struct {
	Date         time.Time // UTC
	Message      string
	Parts        int
	PriceKopecks int64
	// Status is Доставлено, Не доставлено or Отправлено; Code delivered,
	// undelivered or sent.
	Status, Code string
}

// Mobilgroup emulates the Mobilgroup voice broadcast statistics API: POST
// JSON to …/api/get/ with the API key as the raw Authorization header. It
// answers the requests state, balance, scripts, phrases, numbers and
// templates; the handler is found by the path's end, so any prefix works
// (mounted under /mobilgroup/ with or without http.StripPrefix). It is safe
// for concurrent use.
//
// Like the PHP service it emulates, every API error is HTTP 200 with
// {"result": "error", "error_code": "…"}: a wrong or missing key
// Error_Authorisation_Failed (checked first, answered with the document's
// own multi-line example), a disabled user (SetDisabled)
// Error_User_Disabled, an unknown request or a body that is not JSON
// Error_Unknown_Request, an unknown broadcast id Error_ID_Not_Found (the
// document's example verbatim). Any other path is a 404 HTML page.
//
// Everything is generated at construction from Seed; Advance moves a step
// counter and the state of every subscriber is a function of it.
type Mobilgroup struct {
	cfg        MobilgroupConfig
	broadcasts []mgBroadcast
	byID       map[string]int
	faults     *FaultInjector
	handler    http.Handler
	maxSteps   int
	lastCall   time.Time // the latest attempt of all (Redials)

	mu           sync.Mutex
	step         int
	disabled     bool
	docMalformed bool
	requests     int
	states       map[string]int
}

// NewMobilgroup returns an emulator for cfg with its broadcasts generated,
// at step 0.
func NewMobilgroup(cfg MobilgroupConfig) *Mobilgroup {
	if cfg.Broadcasts <= 0 {
		cfg.Broadcasts = 3
	}
	if cfg.SubscribersPerBroadcast <= 0 {
		cfg.SubscribersPerBroadcast = 50
	}
	if cfg.Days <= 0 {
		cfg.Days = 1
	}
	if cfg.Vendor == nil {
		cfg.Vendor = t2Moscow()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.DateLayout == "" {
		cfg.DateLayout = MobilgroupDateLayout
	}
	if cfg.Start.IsZero() {
		y, mo, d := cfg.Now().In(cfg.Vendor).Date()
		cfg.Start = time.Date(y, mo, d-cfg.Days, 10, 0, 0, 0, cfg.Vendor)
	}
	m := &Mobilgroup{
		cfg:          cfg,
		byID:         make(map[string]int),
		faults:       NewFaultInjector(Faults{}),
		docMalformed: cfg.DocMalformed,
		states:       make(map[string]int),
	}
	m.generate()
	m.handler = m.faults.Wrap(http.HandlerFunc(m.serve))
	return m
}

// ServeHTTP answers API requests after the faults set with SetFaults.
func (m *Mobilgroup) ServeHTTP(w http.ResponseWriter, r *http.Request) { m.handler.ServeHTTP(w, r) }

// SetFaults replaces the faults injected from now on.
func (m *Mobilgroup) SetFaults(f Faults) { m.faults.SetFaults(f) }

// FaultInjector returns the emulator's injector, for its counters.
func (m *Mobilgroup) FaultInjector() *FaultInjector { return m.faults }

// SetDisabled makes every authenticated request answer Error_User_Disabled
// (the account is blocked) until called with false.
func (m *Mobilgroup) SetDisabled(disabled bool) {
	m.mu.Lock()
	m.disabled = disabled
	m.mu.Unlock()
}

// SetDocMalformed switches broadcast "1234" between the document's
// malformed state example (true) and its repaired form.
func (m *Mobilgroup) SetDocMalformed(malformed bool) {
	m.mu.Lock()
	m.docMalformed = malformed
	m.mu.Unlock()
}

// IDs returns the generated broadcast ids, ascending (the document's
// example id "1234" is not among them).
func (m *Mobilgroup) IDs() []string {
	ids := make([]string, len(m.broadcasts))
	for i := range m.broadcasts {
		ids[i] = m.broadcasts[i].id
	}
	return ids
}

// Advance moves every broadcast one step: subscribers go from "В очереди"
// (not called) through "Ожидает" (called once, another attempt due) for
// those with several attempts, to a final status. After a bounded number of
// steps every subscriber is final; further calls change nothing. With
// Redials the clock moves the broadcasts instead and Advance does nothing.
func (m *Mobilgroup) Advance() {
	m.mu.Lock()
	if m.step < m.maxSteps {
		m.step++
	}
	m.mu.Unlock()
}

// Final reports whether every subscriber of every broadcast is final: with
// Redials, whether the clock has reached LastAttempt.
func (m *Mobilgroup) Final() bool {
	if m.cfg.Redials {
		return !m.cfg.Now().Before(m.lastCall)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.step >= m.maxSteps
}

// LastAttempt is the date of the last attempt of all subscribers: with
// Redials, from then on nothing changes.
func (m *Mobilgroup) LastAttempt() time.Time { return m.lastCall }

// Broadcasts returns the ground truth now: every generated broadcast, in
// id order, with its subscribers.
func (m *Mobilgroup) Broadcasts() []MobilgroupBroadcast {
	mo := m.moment()
	out := make([]MobilgroupBroadcast, len(m.broadcasts))
	for i := range m.broadcasts {
		out[i] = m.broadcastAt(i, mo)
	}
	return out
}

// Balance returns the balance served, in kopecks: the document's 273,50.
func (m *Mobilgroup) Balance() int64 { return MobilgroupDocBalanceKopecks }

// Requests returns how many requests reached the emulator behind the fault
// injector (those answered with 503 or 429 did not).
func (m *Mobilgroup) Requests() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.requests
}

// StateRequests returns how many authenticated state requests for id
// reached the emulator behind the fault injector.
func (m *Mobilgroup) StateRequests(id string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.states[id]
}

// mgMoment is what a served state depends on: the step (Advance) and,
// with Redials, the clock.
type mgMoment struct {
	step int
	now  time.Time
}

func (m *Mobilgroup) moment() mgMoment {
	m.mu.Lock()
	step := m.step
	m.mu.Unlock()
	return mgMoment{step: step, now: m.cfg.Now()}
}
