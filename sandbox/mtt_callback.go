package sandbox

import (
	"encoding/hex"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The documented -32001 data texts of a callback that ended before both
// sides talked (getCallBackFollowmeCallInfo).
const (
	MTTCallbackTimeoutA = "Call ended by timeout on side A"
	MTTCallbackCancelA  = "Call ended by cancel on side A"
	MTTCallbackCancelB  = "Call ended by cancel on side B"
)

// MTTCallback is one callback call (makeCallBackCallFollowme) as the
// emulator knows it: the ground truth of getCallBackFollowmeCallInfo.
type MTTCallback struct {
	Customer string // the customer_name it was placed with
	ID       string // callBackCall_id: 32 lower-case hex digits when generated
	// EndsAt is when the call ends (MTTConfig.Now): before it the call is
	// in progress. Zero: ended.
	EndsAt time.Time
	// Ended is "" for a call whose two sides talked (call_back_status
	// "ok"), else one of MTTCallbackTimeoutA, MTTCallbackCancelA,
	// MTTCallbackCancelB: the answer is that -32001 error.
	Ended                      string
	DestinationA, DestinationB string // "+7…", as in the document
	WaitA, WaitB               int    // waiting_period_A/B, seconds
	ChargedA, RealA            int    // call_back_charged_length_A / call_back_real_length_A
	ChargedB, RealB            int
	CostE4                     int64 // call_back_cost × 10^4
	Currency                   string
	// RecordA and RecordB are the recording files of each leg: download
	// URLs "<CallbackRecordBase>/download/<ID>_A_<n>.wav", n = 1..RecordA
	// (an MTTRecords Files handler serves them: record id "<ID>_A").
	RecordA, RecordB int
	Description      string
}

// Final reports whether the call has ended at the instant at.
func (c *MTTCallback) Final(at time.Time) bool { return c.EndsAt.IsZero() || !at.Before(c.EndsAt) }

// RecordID returns the MTTRecords id of leg side's recording ("A" or "B").
func (c *MTTCallback) RecordID(side string) string { return c.ID + "_" + side }

// mttCallbacks holds the callbacks of an MTT emulator.
type mttCallbacks struct {
	mu   sync.Mutex
	byID map[string]*MTTCallback // key: customer + "/" + id
	base string                  // CallbackRecordBase, without a trailing "/"
}

// SetCallbackRecordBase replaces MTTConfig.CallbackRecordBase from now on
// (the demo learns its download host's address after starting it).
func (m *MTT) SetCallbackRecordBase(base string) {
	m.cbs.mu.Lock()
	m.cbs.base = strings.TrimRight(base, "/")
	m.cbs.mu.Unlock()
}

// callbacksOf generates MTTConfig.CallbacksPerCustomer callbacks per
// customer, from (Seed, customer, i): one in eight ends by timeout on side
// A, one by cancel on side A and one by cancel on side B; the others talked.
func (m *MTT) callbacksOf() *mttCallbacks {
	cbs := &mttCallbacks{byID: map[string]*MTTCallback{}, base: strings.TrimRight(m.cfg.CallbackRecordBase, "/")}
	for _, name := range m.names {
		for i := range m.cfg.CallbacksPerCustomer {
			c := generateCallback(m.cfg.Seed, name, i, m.cfg.CallbackRecordParts)
			cbs.byID[name+"/"+c.ID] = &c
		}
	}
	return cbs
}

func generateCallback(seed int64, customer string, i int, parts func(id string) int) MTTCallback {
	h := newHasher(seed).str("callback").str(customer).int(int64(i))
	r := &rng{s: h.sum()}
	var id [16]byte
	for k := range 2 {
		v := r.next()
		for j := range 8 {
			id[8*k+j] = byte(v >> (8 * j))
		}
	}
	c := MTTCallback{Customer: customer, ID: hex.EncodeToString(id[:]), Currency: "RUB",
		DestinationA: "+7" + string(r.digits(nil, 10)), DestinationB: "+7" + string(r.digits(nil, 10))}
	switch i % 8 {
	case 5:
		c.Ended = MTTCallbackTimeoutA
		return c
	case 6:
		c.Ended = MTTCallbackCancelA
		return c
	case 7:
		c.Ended = MTTCallbackCancelB
		return c
	}
	c.WaitA, c.WaitB = 3+r.intn(20), 3+r.intn(20)
	c.RealB = 1 + r.intn(600)
	c.RealA = c.RealB + c.WaitB + r.intn(3)
	c.ChargedA, c.ChargedB = (c.RealA+59)/60*60, (c.RealB+59)/60*60
	c.CostE4 = int64(c.ChargedA+c.ChargedB) / 60 * (1 + int64(r.intn(3))) * 4900 // 0.49–1.47 RUB a minute per leg
	if i%4 != 3 {
		c.RecordA, c.RecordB = 1, 1
		if parts != nil {
			c.RecordA, c.RecordB = parts(c.RecordID("A")), parts(c.RecordID("B"))
		}
	}
	return c
}

// AddCallbacks adds callbacks (or replaces those of the same customer and
// id): tests and the demo use them besides the generated ones.
func (m *MTT) AddCallbacks(cbs ...MTTCallback) {
	m.cbs.mu.Lock()
	defer m.cbs.mu.Unlock()
	for _, c := range cbs {
		m.cbs.byID[c.Customer+"/"+c.ID] = &c
	}
}

// Callbacks returns every callback the emulator knows, sorted by
// (Customer, ID).
func (m *MTT) Callbacks() []MTTCallback {
	m.cbs.mu.Lock()
	defer m.cbs.mu.Unlock()
	out := make([]MTTCallback, 0, len(m.cbs.byID))
	for _, c := range m.cbs.byID {
		out = append(out, *c)
	}
	slices.SortFunc(out, func(a, b MTTCallback) int {
		return strings.Compare(a.Customer+"/"+a.ID, b.Customer+"/"+b.ID)
	})
	return out
}

// PendingPayment returns the customer's pending_payment × 10^4, fixed
// from (Seed, customer): 0 for about a third of the customers.
func (m *MTT) PendingPayment(customer string) int64 {
	v := newHasher(m.cfg.Seed).str("pending_payment").str(customer).sum()
	if v%3 == 0 {
		return 0
	}
	return int64(v%50_000) * 100 // up to 499.99 RUB, whole kopecks
}

// callbackInfo is getCallBackFollowmeCallInfo {customer_name,
// callBackCall_id}. A call that talked answers the document's shape: one
// callBackFollowmeCallInfoStruct object as its example shows or, by the
// id's hash, an array of that one object as its table types the member
// ("array of callBackFollowmeCallInfo"), integers as strings, cost a
// number, each leg's recording {"downloadURL": …} for one file, an array
// of those for several, [] for none. An ended call answers the documented
// -32001 error. A call in progress answers, by the id's hash, either
// -32001 "Data not found" without data — what an unknown id or customer
// gets too — or the struct with call_back_status "in progress", zero
// lengths and cost and no recordings (the document shows no such answer;
// a client must not take either for final).
func (m *MTT) callbackInfo(b []byte, raw json.RawMessage) ([]byte, *rpcError) {
	p, rerr := objectParams(raw, "customer_name", "callBackCall_id")
	if rerr != nil {
		return b, rerr
	}
	var vals [2]string
	for i, k := range []string{"customer_name", "callBackCall_id"} {
		s, present, ok := p.text(k)
		if !present {
			return b, invalidParams("Missing param '" + k + "'")
		}
		if !ok {
			return b, invalidParams("Invalid param '" + k + "' value")
		}
		vals[i] = s
	}
	m.cbs.mu.Lock()
	cp := m.cbs.byID[vals[0]+"/"+vals[1]]
	var c MTTCallback
	if cp != nil {
		c = *cp
	}
	base := m.cbs.base
	m.cbs.mu.Unlock()
	if cp == nil || m.customers[c.Customer] == nil {
		return b, dataNotFound("")
	}
	inProgress := !c.Final(m.cfg.Now())
	if inProgress && newHasher(0).str(c.ID).sum()%2 == 0 {
		return b, dataNotFound("")
	}
	if !inProgress && c.Ended != "" {
		return b, dataNotFound(c.Ended)
	}
	status := "ok"
	if inProgress {
		status = "in progress"
		c = MTTCallback{ID: c.ID, DestinationA: c.DestinationA, DestinationB: c.DestinationB, Currency: c.Currency}
	}
	asArray := newHasher(1).str(c.ID).sum()%2 == 0
	b = append(b, `{"callBackFollowmeCallInfoStruct":`...)
	if asArray {
		b = append(b, '[')
	}
	b = append(b, `{"destination_A":`...)
	b = appendJSONString(b, c.DestinationA)
	b = append(b, `,"destination_B":`...)
	b = appendJSONString(b, c.DestinationB)
	for _, f := range []struct {
		key string
		v   int
	}{{"waiting_period_A", c.WaitA}, {"waiting_period_B", c.WaitB},
		{"call_back_charged_length_A", c.ChargedA}, {"call_back_real_length_A", c.RealA},
		{"call_back_charged_length_B", c.ChargedB}, {"call_back_real_length_B", c.RealB}} {
		b = append(b, ',')
		b = appendJSONString(b, f.key)
		b = append(b, `:"`...)
		b = strconv.AppendInt(b, int64(f.v), 10)
		b = append(b, '"')
	}
	b = append(b, `,"call_back_cost":`...)
	b = appendDecimalE4(b, c.CostE4, 0)
	b = append(b, `,"call_back_currency":`...)
	b = appendJSONString(b, c.Currency)
	b = append(b, `,"call_back_status":`...)
	b = appendJSONString(b, status)
	for _, leg := range []struct {
		side string
		n    int
	}{{"A", c.RecordA}, {"B", c.RecordB}} {
		b = append(b, `,"call_back_record_URL_`+leg.side+`":`...)
		if leg.n > 1 {
			b = append(b, '[')
		}
		if leg.n == 0 {
			b = append(b, "[]"...)
		}
		for n := 1; n <= leg.n; n++ {
			if n > 1 {
				b = append(b, ',')
			}
			b = append(b, `{"downloadURL":`...)
			b = appendJSONString(b, base+"/download/"+c.RecordID(leg.side)+"_"+strconv.Itoa(n)+".wav")
			b = append(b, '}')
		}
		if leg.n > 1 {
			b = append(b, ']')
		}
	}
	b = append(b, `,"callDescription":`...)
	b = appendJSONString(b, c.Description)
	if asArray {
		return append(b, "}]}"...), nil
	}
	return append(b, "}}"...), nil
}
