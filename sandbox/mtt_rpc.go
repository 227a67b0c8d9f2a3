package sandbox

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// JSON-RPC error codes of the MTT API.
const (
	rpcParseError     = -32700
	rpcInvalidRequest = -32600
	rpcMethodNotFound = -32601
	rpcInvalidParams  = -32602
	rpcDataNotFound   = -32001
)

// Limits of the MTT API.
const (
	mttMaxRecordCount  = 1000 // getServiceHistoryByCustomer record_count
	mttMaxCallHistory  = 1000 // rows per array of getCallHistory
	mttDefaultAccounts = 100  // getPersonalAccountList without limit
	mttMaxRequestBody  = 1 << 20
	mttMaxPooledBuffer = 4 << 20          // larger answer buffers are not kept for reuse
	mttDefaultWindow   = 30 * time.Minute // without date_from/date_to
)

// rpcError is a JSON-RPC error; data is left out of the answer when empty.
type rpcError struct {
	code          int
	message, data string
}

func invalidParams(data string) *rpcError {
	return &rpcError{rpcInvalidParams, "Invalid params", data}
}

func dataNotFound(data string) *rpcError {
	return &rpcError{rpcDataNotFound, "Data not found", data}
}

// serveRPC is the emulator behind the fault injector.
func (m *MTT) serveRPC(w http.ResponseWriter, r *http.Request) {
	m.requests.Add(1)
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeSimple(w, http.StatusMethodNotAllowed, "text/plain; charset=utf-8", "405 Method Not Allowed\n")
		return
	}
	if !m.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Basic realm="MTT API"`)
		writeSimple(w, http.StatusUnauthorized, "text/plain; charset=utf-8", "401 Unauthorized\n")
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, mttMaxRequestBody+1))
	if err != nil {
		return // the client went away
	}
	if len(body) > mttMaxRequestBody {
		writeSimple(w, http.StatusRequestEntityTooLarge, "text/plain; charset=utf-8", "413 Request Entity Too Large\n")
		return
	}
	buf, _ := m.buffers.Get().(*[]byte)
	if buf == nil {
		buf = new([]byte)
	}
	answer := m.answer((*buf)[:0], body)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(answer)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(answer) // Write does not keep answer: the buffer can be reused
	if cap(answer) <= mttMaxPooledBuffer {
		*buf = answer
		m.buffers.Put(buf)
	}
}

// authorized checks Basic Auth; with no credentials configured all pass.
func (m *MTT) authorized(r *http.Request) bool {
	if m.revoked.Load() {
		return false
	}
	if m.cfg.Username == "" && m.cfg.Password == "" {
		return true
	}
	u, p, ok := r.BasicAuth()
	return ok &&
		subtle.ConstantTimeCompare([]byte(u), []byte(m.cfg.Username)) == 1 &&
		subtle.ConstantTimeCompare([]byte(p), []byte(m.cfg.Password)) == 1
}

// answer appends the JSON-RPC answer to one request body to b.
func (m *MTT) answer(b, body []byte) []byte {
	if !json.Valid(body) {
		return errorAnswer(b, []byte("null"), &rpcError{rpcParseError, "Parse error", ""})
	}
	var req struct {
		JSONRPC string          `json:"jsonrpc"`
		ID      json.RawMessage `json:"id"`
		Method  string          `json:"method"`
		Params  json.RawMessage `json:"params"`
	}
	err := json.Unmarshal(body, &req)
	id := compactID(req.ID)
	if err != nil || req.JSONRPC != "2.0" || req.Method == "" {
		return errorAnswer(b, id, &rpcError{rpcInvalidRequest, "Invalid Request", ""})
	}
	if resp, ok := m.docAnswer(req.Method, id, req.Params); ok {
		return append(b, resp...)
	}
	// The method appends its result after the envelope's head, so that a
	// large page is written once.
	start := len(b)
	b = append(b, `{"jsonrpc":"2.0","id":`...)
	b = append(b, id...)
	b = append(b, `,"result":`...)
	var rerr *rpcError
	switch req.Method {
	case "getServiceHistoryByCustomer":
		b, rerr = m.serviceHistory(b, req.Params)
	case "getCallHistory":
		b, rerr = m.callHistory(b, req.Params)
	case "getPersonalAccountList":
		b, rerr = m.accountList(b, req.Params)
	case "getCustomerBalance":
		b, rerr = m.customerBalance(b, req.Params)
	case "getCallBackFollowmeCallInfo":
		b, rerr = m.callbackInfo(b, req.Params)
	default:
		rerr = &rpcError{rpcMethodNotFound, "Method not found", ""}
	}
	if rerr != nil {
		return errorAnswer(b[:start], id, rerr)
	}
	return append(b, '}')
}

// errorAnswer appends a JSON-RPC error answer to b.
func errorAnswer(b, id []byte, e *rpcError) []byte {
	b = append(b, `{"jsonrpc":"2.0","id":`...)
	b = append(b, id...)
	b = append(b, `,"error":{"code":`...)
	b = strconv.AppendInt(b, int64(e.code), 10)
	b = append(b, `,"message":`...)
	b = appendJSONString(b, e.message)
	if e.data != "" {
		b = append(b, `,"data":`...)
		b = appendJSONString(b, e.data)
	}
	return append(b, "}}"...)
}

// compactID returns the request id as compact JSON, keeping its JSON type;
// a missing id is null.
func compactID(raw json.RawMessage) []byte {
	var buf bytes.Buffer
	if len(raw) == 0 || json.Compact(&buf, raw) != nil {
		return []byte("null")
	}
	return buf.Bytes()
}

// params are the named params of a request.
type params map[string]json.RawMessage

// objectParams decodes named params and rejects names not in known. Absent
// or null params are empty.
func objectParams(raw json.RawMessage, known ...string) (params, *rpcError) {
	p := params{}
	if len(raw) == 0 || string(raw) == "null" {
		return p, nil
	}
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, invalidParams("params must be an object")
	}
	names := make([]string, 0, len(p))
	for k := range p {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if !slices.Contains(known, k) {
			return nil, invalidParams("Unknown param '" + k + "'")
		}
	}
	return p, nil
}

// text returns a string param; a JSON number is taken as its text.
// present is false for a missing or null param, ok is false for any other
// JSON type.
func (p params) text(key string) (s string, present, ok bool) {
	raw, found := p[key]
	if !found || string(raw) == "null" {
		return "", false, true
	}
	return jsonText(raw)
}

func jsonText(raw json.RawMessage) (s string, present, ok bool) {
	if err := json.Unmarshal(raw, &s); err == nil {
		return s, true, true
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err == nil {
		return n.String(), true, true
	}
	return "", true, false
}

// integer returns an integer param given as a JSON number or a string of
// digits.
func (p params) integer(key string) (v int, present, ok bool) {
	s, present, ok := p.text(key)
	if !present || !ok {
		return 0, present, ok
	}
	v, err := strconv.Atoi(s)
	return v, true, err == nil
}

// dateRange reads date_from and date_to in layout. A missing bound defaults
// to the last half hour before Now.
func (m *MTT) dateRange(p params, layout string) (from, to time.Time, _ *rpcError) {
	now := m.cfg.Now().UTC().Truncate(time.Second)
	from, to = now.Add(-mttDefaultWindow), now
	if s, present, ok := p.text("date_from"); present {
		t, parsed := parseMTTTime(layout, s)
		if !ok || !parsed {
			return from, to, invalidParams("Invalid begin date")
		}
		from = t
	}
	if s, present, ok := p.text("date_to"); present {
		t, parsed := parseMTTTime(layout, s)
		if !ok || !parsed {
			return from, to, invalidParams("Invalid end date")
		}
		to = t
	}
	return from, to, nil
}

// serviceHistory is getServiceHistoryByCustomer: at most record_count rows
// of one type with date_from <= connect_time <= date_to, in the requested
// order (desc by default), optionally only rows whose cli or cld contains
// filter. An empty selection is the error -32001 "No data found".
func (m *MTT) serviceHistory(b []byte, raw json.RawMessage) ([]byte, *rpcError) {
	p, rerr := objectParams(raw, "type", "customer_name", "date_from", "date_to", "record_count", "filter", "order")
	if rerr != nil {
		return b, rerr
	}
	typ, present, ok := p.text("type")
	if !present {
		return b, invalidParams("Missing param 'type'")
	}
	if !ok || !validMTTType(typ) {
		return b, invalidParams("Invalid param 'type' value")
	}
	customer, present, ok := p.text("customer_name")
	if !present {
		return b, invalidParams("Missing param 'customer_name'")
	}
	if !ok {
		return b, invalidParams("Invalid param 'customer_name' value")
	}
	count, present, ok := p.integer("record_count")
	if !present {
		return b, invalidParams("Missing param 'record_count'")
	}
	if !ok || count < 1 || count > mttMaxRecordCount {
		return b, invalidParams("Invalid param 'record_count' value")
	}
	asc := false
	if order, present, ok := p.text("order"); present {
		switch {
		case ok && order == "asc":
			asc = true
		case ok && order == "desc":
		default:
			return b, invalidParams("Invalid param 'order' value")
		}
	}
	filter, _, ok := p.text("filter")
	if !ok {
		return b, invalidParams("Invalid param 'filter' value")
	}
	from, to, rerr := m.dateRange(p, mttTimeLayout)
	if rerr != nil {
		return b, rerr
	}
	if m.empty[customer] {
		return b, dataNotFound("No data found")
	}
	if m.customers[customer] == nil {
		return b, dataNotFound("This account does not exist")
	}

	start := len(b)
	b = slices.Grow(b, count*480)
	b = append(b, '{')
	b = appendJSONString(b, typ)
	b = append(b, ":["...)
	n := 0
	m.scan(customer, typ, from.Unix(), to.Unix(), asc, func(c *MTTCall) bool {
		if filter != "" && !strings.Contains(c.CLI, filter) && !strings.Contains(c.CLD, filter) {
			return true
		}
		if n > 0 {
			b = append(b, ',')
		}
		b = m.appendRow(b, c)
		n++
		return n < count
	})
	if n == 0 {
		return b[:start], dataNotFound("No data found")
	}
	return append(b, `],"success":1}`...), nil
}

// callHistory is getCallHistory: the calls on one account number (sip_id),
// ascending, at most 1000 per array. Forwarded calls are not part of this
// method; "callback" is always empty. An account number no customer has is
// -32001 "No data found"; a known one without calls gets empty arrays.
func (m *MTT) callHistory(b []byte, raw json.RawMessage) ([]byte, *rpcError) {
	p, rerr := objectParams(raw, "sip_id", "date_from", "date_to")
	if rerr != nil {
		return b, rerr
	}
	sip, present, ok := p.text("sip_id")
	if !present {
		return b, invalidParams("Missing param 'sip_id'")
	}
	if !ok {
		return b, invalidParams("Invalid param 'sip_id' value")
	}
	from, to, rerr := m.dateRange(p, mttDotLayout)
	if rerr != nil {
		return b, rerr
	}
	owners := m.owners(sip)
	if len(owners) == 0 {
		return b, dataNotFound("No data found")
	}
	b = append(b, '{')
	for _, typ := range []string{MTTIncoming, MTTMissed, MTTDialed} {
		var rows []*MTTCall
		for _, owner := range owners {
			m.scan(owner, typ, from.Unix(), to.Unix(), true, func(c *MTTCall) bool {
				if c.AccountID == sip {
					rows = append(rows, c)
				}
				return len(rows) < mttMaxCallHistory
			})
		}
		if len(owners) > 1 {
			slices.SortStableFunc(rows, func(a, b *MTTCall) int { return a.ConnectTime.Compare(b.ConnectTime) })
			rows = rows[:min(len(rows), mttMaxCallHistory)]
		}
		b = appendJSONString(b, typ)
		b = append(b, ":["...)
		for i, c := range rows {
			if i > 0 {
				b = append(b, ',')
			}
			b = m.appendRow(b, c)
		}
		b = append(b, "],"...)
	}
	return append(b, `"callback":[],"success":1}`...), nil
}

// accountList is getPersonalAccountList: the customer's accounts after
// skipping offset (0-based), at most limit (1..1000, default 100). An offset
// at or past the end is -32001 "No data found".
func (m *MTT) accountList(b []byte, raw json.RawMessage) ([]byte, *rpcError) {
	p, rerr := objectParams(raw, "customer_name", "limit", "offset")
	if rerr != nil {
		return b, rerr
	}
	customer, present, ok := p.text("customer_name")
	if !present {
		return b, invalidParams("Missing param 'customer_name'")
	}
	if !ok {
		return b, invalidParams("Invalid param 'customer_name' value")
	}
	limit, present, ok := p.integer("limit")
	if !present {
		limit = mttDefaultAccounts
	} else if !ok || limit < 1 || limit > 1000 {
		return b, invalidParams("Unknown param 'limit' value") // the document's wording
	}
	offset, _, ok := p.integer("offset")
	if !ok || offset < 0 {
		return b, invalidParams("Unknown param 'offset' value")
	}
	if m.empty[customer] {
		return b, dataNotFound("No data found")
	}
	c := m.customers[customer]
	if c == nil {
		return b, dataNotFound("This account does not exist")
	}
	if offset >= len(c.accounts) {
		return b, dataNotFound("No data found")
	}
	b = append(b, '[')
	for i, a := range c.accounts[offset:min(len(c.accounts), offset+limit)] {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"account_number":`...)
		b = appendJSONString(b, a.Number)
		b = append(b, `,"activation_date":"`...)
		b = a.ActivationDate.UTC().AppendFormat(b, mttDotLayout)
		b = append(b, `","status":`...)
		b = appendJSONString(b, a.Status)
		b = append(b, '}')
	}
	return append(b, ']'), nil
}

// customerBalance is getCustomerBalance with positional params
// ["<customer>"] (named {"customer_name": …} is accepted too): balance,
// real_balance at Now and pending_payment (PendingPayment; the document
// lists the field without a type), as JSON numbers with two decimals. An unknown
// customer, and one without data (EmptyCustomers), is -32001 without data,
// as in the document.
func (m *MTT) customerBalance(b []byte, raw json.RawMessage) ([]byte, *rpcError) {
	var customer string
	switch t := bytes.TrimSpace(raw); {
	case len(t) > 0 && t[0] == '[':
		var list []json.RawMessage
		if err := json.Unmarshal(t, &list); err != nil || len(list) == 0 {
			return b, invalidParams("Missing param 'customer_name'")
		}
		s, _, ok := jsonText(list[0])
		if !ok {
			return b, invalidParams("Invalid param 'customer_name' value")
		}
		customer = s
	default:
		p, rerr := objectParams(raw, "customer_name")
		if rerr != nil {
			return b, rerr
		}
		s, present, ok := p.text("customer_name")
		if !present {
			return b, invalidParams("Missing param 'customer_name'")
		}
		if !ok {
			return b, invalidParams("Invalid param 'customer_name' value")
		}
		customer = s
	}
	if m.customers[customer] == nil { // unknown, or known without data (EmptyCustomers)
		return b, dataNotFound("")
	}
	bal, realBal := m.Balance(customer, m.cfg.Now())
	b = append(b, `{"balance":`...)
	b = appendDecimalE4(b, roundE4ToKopecks(bal), 2)
	b = append(b, `,"real_balance":`...)
	b = appendDecimalE4(b, roundE4ToKopecks(realBal), 2)
	b = append(b, `,"pending_payment":`...)
	b = appendDecimalE4(b, m.PendingPayment(customer), 2)
	return append(b, '}'), nil
}
