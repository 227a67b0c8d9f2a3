package sandbox

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// HTTP side of the Mobilgroup emulator: the api/get handler and its JSON
// answers. Every value is a JSON string (numbers too) unless
// MobilgroupConfig.Numbers; money alternates between ',' and '.' as the
// decimal separator (a subscriber's price by its position, the legs the
// other way round, the budget by the broadcast's position), zero is "0".

// serve answers one request that passed the fault injector.
func (m *Mobilgroup) serve(w http.ResponseWriter, r *http.Request) {
	if !strings.HasSuffix(strings.TrimSuffix(r.URL.Path, "/"), "/api/get") {
		writeSimple(w, http.StatusNotFound, "text/html", "<html><head><title>404 Not Found</title></head>"+
			"<body><h1>Not Found</h1><p>The requested URL was not found on this server.</p></body></html>\n")
		return
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	var req struct {
		Request  string `json:"request"`
		ID       any    `json:"id"`
		Security struct {
			APIKey string `json:"apiKey"`
		} `json:"security"`
	}
	jsonErr := json.Unmarshal(body, &req)
	key := strings.TrimSpace(r.Header.Get("Authorization"))
	if key == "" {
		key = req.Security.APIKey
	}
	m.mu.Lock()
	m.requests++
	disabled, malformed := m.disabled, m.docMalformed
	authorised := m.cfg.APIKey != "" && key == m.cfg.APIKey
	if authorised && jsonErr == nil && req.Request == "state" {
		m.states[mgIDText(req.ID)]++
	}
	m.mu.Unlock()
	switch {
	case !authorised:
		mgWrite(w, MobilgroupDocAuthError)
	case disabled:
		mgError(w, MobilgroupErrUserDisabled)
	case r.Method != http.MethodPost || jsonErr != nil:
		mgError(w, MobilgroupErrUnknownRequest)
	case req.Request == "state":
		m.state(w, mgIDText(req.ID), m.moment(), malformed)
	case req.Request == "balance":
		mgWrite(w, MobilgroupDocBalance)
	case req.Request == "scripts":
		mgWrite(w, MobilgroupDocScripts)
	case req.Request == "phrases":
		mgWrite(w, MobilgroupDocPhrases)
	case req.Request == "numbers":
		mgWrite(w, MobilgroupDocNumbers)
	case req.Request == "templates":
		mgWrite(w, MobilgroupDocTemplates)
	default:
		mgError(w, MobilgroupErrUnknownRequest)
	}
}

// mgIDText is the id member as text: a string, or a number's text.
func mgIDText(v any) string {
	switch x := v.(type) {
	case string:
		return strings.TrimSpace(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return ""
}

func mgWrite(w http.ResponseWriter, body string) {
	writeSimple(w, http.StatusOK, "application/json; charset=utf-8", body)
}

// mgError answers HTTP 200 with an error in the document's layout.
func mgError(w http.ResponseWriter, code string) {
	if code == MobilgroupErrIDNotFound {
		mgWrite(w, MobilgroupDocStateError)
		return
	}
	mgWrite(w, `{"result": "error", "error_code": "`+code+`"}`)
}

// state answers {"request":"state","id":…}.
func (m *Mobilgroup) state(w http.ResponseWriter, id string, mo mgMoment, malformed bool) {
	if id == MobilgroupDocBroadcastID {
		if malformed {
			mgWrite(w, MobilgroupDocStateMalformed)
		} else {
			mgWrite(w, MobilgroupDocState)
		}
		return
	}
	i, ok := m.byID[id]
	if !ok {
		mgError(w, MobilgroupErrIDNotFound)
		return
	}
	b := m.broadcastAt(i, mo)
	var sb strings.Builder
	sb.WriteString(`{"result": "ok", "id": "` + b.ID + `", "phones": ` + m.num(int64(b.Phones)) +
		`, "budget": ` + m.money(b.BudgetKopecks, i%2 == 0) + `, "subscribers": [`)
	for j, s := range b.Subscribers {
		if j > 0 {
			sb.WriteString(", ")
		}
		m.writeSubscriber(&sb, &s)
	}
	sb.WriteString("]}")
	mgWrite(w, sb.String())
}

// writeSubscriber writes one element of subscribers: pending subscribers
// have an empty date and zero attempts, duration and price until called.
func (m *Mobilgroup) writeSubscriber(sb *strings.Builder, s *MobilgroupSubscriber) {
	comma := s.Seq%2 == 1
	price := m.money(s.PriceKopecks, comma)
	if s.Bad {
		price = `"—"`
	}
	sb.WriteString(`{"phone": ` + m.numText(s.Phone) + `, "date": ` + mgQuote(m.date(s.Date)) +
		`, "status": ` + mgQuote(s.Status) + `, "attempts": ` + m.num(int64(s.Attempts)) +
		`, "duration": ` + m.num(int64(s.Duration)) + `, "price": ` + price)
	if t := s.Transfer; t != nil {
		sb.WriteString(`, "transfer": {"number": ` + m.numText(t.Number) + `, "duration": ` + m.num(int64(t.Duration)) +
			`, "price": ` + m.money(t.PriceKopecks, !comma) + `, "status": ` + mgQuote(t.Status) + `}`)
	}
	if x := s.SMS; x != nil {
		sb.WriteString(`, "sms": {"date": ` + mgQuote(m.date(x.Date)) + `, "message": ` + mgQuote(x.Message) +
			`, "partition": ` + m.num(int64(x.Parts)) + `, "price": ` + m.money(x.PriceKopecks, !comma) +
			`, "status": ` + mgQuote(x.Status) + `}`)
	}
	sb.WriteString("}")
}

func mgQuote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func (m *Mobilgroup) date(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(m.cfg.Vendor).Format(m.cfg.DateLayout)
}

// num writes an integer as a JSON string, or a number with Numbers.
func (m *Mobilgroup) num(n int64) string { return m.numText(strconv.FormatInt(n, 10)) }

// numText writes digits as a JSON string, or a number with Numbers (a
// phone too: an 11-digit number is still exact in a float64).
func (m *Mobilgroup) numText(s string) string {
	if m.cfg.Numbers {
		return s
	}
	return `"` + s + `"`
}

// money writes kopecks as roubles with two decimals ("0" for zero), the
// decimal separator ',' when comma, else '.'; a JSON number with Numbers.
func (m *Mobilgroup) money(kop int64, comma bool) string {
	if kop == 0 {
		return m.numText("0")
	}
	sep := "."
	if comma && !m.cfg.Numbers {
		sep = ","
	}
	sign := ""
	if kop < 0 {
		sign, kop = "-", -kop
	}
	frac := strconv.FormatInt(kop%100, 10)
	if len(frac) < 2 {
		frac = "0" + frac
	}
	return m.numText(sign + strconv.FormatInt(kop/100, 10) + sep + frac)
}
