package sandbox

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Traffic generation. Everything is derived from a hash of (Seed, what is
// generated) through a small fixed PRNG, so the same Seed gives the same
// traffic on every machine and Go version, and one day's traffic does not
// depend on From/To or on the other days.

// hasher is FNV-1a over 64 bits; parts are separated by a 0 byte.
type hasher uint64

func newHasher(seed int64) hasher {
	h := hasher(14695981039346656037)
	for i := range 8 {
		h = (h ^ hasher(byte(uint64(seed)>>(8*i)))) * 1099511628211
	}
	return h
}

func (h hasher) str(s string) hasher {
	for i := 0; i < len(s); i++ {
		h = (h ^ hasher(s[i])) * 1099511628211
	}
	return h * 1099511628211 // the 0 separator: ("ab","c") ≠ ("a","bc")
}

func (h hasher) int(v int64) hasher {
	for i := range 8 {
		h = (h ^ hasher(byte(uint64(v)>>(8*i)))) * 1099511628211
	}
	return h
}

// sum finishes the hash with a strong mixer.
func (h hasher) sum() uint64 { return mix64(uint64(h)) }

// mix64 is the splitmix64 finaliser.
func mix64(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// rng is splitmix64: tiny, fast and specified, unlike math/rand's streams.
type rng struct{ s uint64 }

func (r *rng) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	return mix64(r.s)
}

// intn returns a number in [0, n); n must be positive.
func (r *rng) intn(n int) int { return int(r.next() % uint64(n)) }

// chance is true with probability permille/1000.
func (r *rng) chance(permille int) bool { return r.intn(1000) < permille }

// digits appends n random decimal digits.
func (r *rng) digits(b []byte, n int) []byte {
	for range n {
		b = append(b, byte('0'+r.intn(10)))
	}
	return b
}

// confID returns an h323 conference id: 4 groups of 8 upper-case hex digits.
func (r *rng) confID() string {
	const hex = "0123456789ABCDEF"
	b := make([]byte, 0, 35)
	for g := range 4 {
		if g > 0 {
			b = append(b, ' ')
		}
		v := uint32(r.next())
		for i := 7; i >= 0; i-- {
			b = append(b, hex[(v>>(4*i))&15])
		}
	}
	return string(b)
}

// externalNumber returns a Russian number as 11 digits 7XXXXXXXXXX: mostly
// mobile, some Moscow, some other regions.
func (r *rng) externalNumber() string {
	b := make([]byte, 0, 11)
	switch p := r.intn(100); {
	case p < 60:
		b = append(b, "79"...)
		b = r.digits(b, 9)
	case p < 80:
		b = append(b, []string{"7495", "7499"}[r.intn(2)]...)
		b = r.digits(b, 7)
	default:
		b = append(b, []string{"7812", "7343", "7383", "7861", "7846"}[r.intn(5)]...)
		b = r.digits(b, 7)
	}
	return string(b)
}

// mobileNumber returns 79XXXXXXXXX.
func (r *rng) mobileNumber() string {
	return string(r.digits([]byte("79"), 9))
}

// extension returns a short internal number such as "0012".
func (r *rng) extension() string {
	return string(r.digits([]byte("0"), 3))
}

// spell writes an 11-digit 7XXXXXXXXXX number the way it sometimes arrives:
// as is, as 8XXXXXXXXXX or as +7XXXXXXXXXX.
func (r *rng) spell(num string) string {
	switch p := r.intn(100); {
	case p < 78:
		return num
	case p < 90:
		return "8" + num[1:]
	default:
		return "+" + num
	}
}

// secondOfDay picks a second, three times in four within 05:00–18:00 UTC
// (Moscow business hours).
func (r *rng) secondOfDay() int64 {
	if r.chance(750) {
		return int64(5*3600 + r.intn(13*3600))
	}
	return int64(r.intn(86400))
}

// duration picks a conversation length in seconds, at least 1.
func (r *rng) duration() int {
	switch p := r.intn(100); {
	case p < 35:
		return 1 + r.intn(59)
	case p < 85:
		return 60 + r.intn(240)
	default:
		return 300 + r.intn(1500)
	}
}

// numberKind classifies a raw number for destinations and tariffs.
type numberKind int

const (
	kindExtension numberKind = iota
	kindMobile
	kindMoscow
	kindRegion
)

func kindOf(raw string) numberKind {
	n := raw
	if len(n) > 0 && n[0] == '+' {
		n = n[1:]
	}
	switch {
	case len(n) < 11:
		return kindExtension
	case n[1] == '9':
		return kindMobile
	case n[1:4] == "495" || n[1:4] == "499":
		return kindMoscow
	}
	return kindRegion
}

// destination names the direction of a call the way MTT's tariff table does.
func (r *rng) destination(other string) string {
	if r.chance(80) {
		return "RUSSIAN FEDERATION" // as in the document's getCallHistory example
	}
	switch kindOf(other) {
	case kindExtension:
		return "Внутренний вызов"
	case kindMobile:
		return []string{
			"Россия - мобильные МТС", "Россия - мобильные Билайн",
			"Россия - мобильные МегаФон", "Россия - мобильные Tele2",
		}[r.intn(4)]
	case kindMoscow:
		return "Россия - Москва"
	}
	return "Россия - регионы"
}

// ratePerMinute is a tariff in kopecks per minute.
func (r *rng) ratePerMinute(k numberKind) int64 {
	switch k {
	case kindExtension:
		return 0
	case kindMobile:
		return int64(120 + r.intn(230))
	case kindMoscow:
		return int64(r.intn(120))
	}
	return int64(90 + r.intn(200))
}

// newMTTCustomer derives a customer's accounts and initial balance from
// (seed, name). used holds the account numbers already given to other
// customers and is extended.
func newMTTCustomer(seed int64, name string, used map[string]bool) *mttCustomer {
	r := rng{newHasher(seed).str("accounts").str(name).sum()}
	c := &mttCustomer{name: name}
	n := 3 + r.intn(5)
	base := time.Date(2010, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		num := string(r.digits([]byte("7495"), 7))
		for used[num] {
			num = string(r.digits([]byte("7495"), 7))
		}
		used[num] = true
		act := base.AddDate(0, 0, r.intn(7*365))
		if r.chance(400) {
			act = act.Add(time.Duration(r.intn(86400)) * time.Second)
		}
		status := "active"
		if i > 0 && r.chance(120) {
			status = "blocked"
		}
		c.accounts = append(c.accounts, MTTAccount{Number: num, ActivationDate: act, Status: status})
		if status == "active" {
			c.active = append(c.active, num)
		}
	}
	c.initialE4 = int64(20_000+r.intn(180_000))*10_000 + int64(r.intn(100))*100
	return c
}

// genRow is what it takes to draw one generated call again: the PRNG state
// before generateCall, its second, and what generateDay did after it. A
// cached day keeps these (16 bytes a row) in API order instead of the calls
// (some 350 bytes), and a page draws only the rows it serves.
type genRow struct {
	state   uint64 // rng state before generateCall
	unix    int64  // the row's second
	respell uint16 // CLI redrawn this many times after the no-conf-id draw
	flags   uint8
}

const (
	genBad    = 1 << iota // a bad row (MTTCall.Bad)
	genNoConf             // the no-conf-id draw came out true: ConfID is ""
)

// call draws the row again, exactly as generateDay drew it.
func (g *genRow) call(c *mttCustomer, typ string) MTTCall {
	r := rng{g.state}
	call := generateCall(&r, c, typ, g.unix)
	switch {
	case g.flags&genBad != 0:
		call.Bad = true
	case g.flags&genNoConf != 0:
		r.chance(20) // true, as when it was drawn
		call.ConfID = ""
		for range g.respell {
			call.CLI = r.spell(r.externalNumber())
		}
	}
	return call
}

// generateDay returns the generated calls of (c, typ, day) in API order:
// about CallsPerDay good rows (one burst of 5–40 calls in a single second
// when there are at least 10), then BadRowsPerDay bad ones. The good rows
// come first in the random stream, so BadRowsPerDay does not change them.
func (m *MTT) generateDay(c *mttCustomer, typ string, day int64) []MTTCall {
	_, calls, _ := m.generateRows(c, typ, day, true)
	return calls
}

// maxGeneratedCalls is the most calls generateDay can return for a day.
func (m *MTT) maxGeneratedCalls() int {
	mean := max(m.cfg.CallsPerDay, 0)
	return mean - mean/2 + 2*(mean/2) + max(m.cfg.BadRowsPerDay, 0)
}

// generateRows returns generateDay's rows in API order, as calls when
// asCalls and else as genRows, and the sum of their CostE4.
func (m *MTT) generateRows(c *mttCustomer, typ string, day int64, asCalls bool) ([]genRow, []MTTCall, int64) {
	date := time.Unix(day*86400, 0).UTC().Format(time.DateOnly)
	r := rng{newHasher(m.cfg.Seed).str("calls").str(c.name).str(typ).str(date).sum()}
	n := 0
	if mean := m.cfg.CallsPerDay; mean > 0 {
		n = mean - mean/2 + r.intn(2*(mean/2)+1)
	}
	total := n + max(m.cfg.BadRowsPerDay, 0)
	if total == 0 {
		return nil, nil, 0
	}
	burst, burstSec := 0, int64(0)
	if n >= 10 {
		burst, burstSec = min(5+r.intn(36), n/2), r.secondOfDay()
	}
	// Sorting needs ConnectTime and ConfID only: keep those, not the calls.
	type sortKey struct {
		unix   int64
		confID string
	}
	keys := make([]sortKey, total)
	rows := make([]genRow, total)
	var calls []MTTCall
	if asCalls {
		calls = make([]MTTCall, total)
	}
	var cost int64
	noConfID := make(map[string]bool) // rows without h323_conf_id, by their other fields
	for i := range total {
		sec := burstSec
		if i >= burst {
			sec = r.secondOfDay()
		}
		g := genRow{state: r.s, unix: day*86400 + sec}
		call := generateCall(&r, c, typ, g.unix)
		switch {
		case i >= n:
			g.flags |= genBad
		case i >= burst && r.chance(20):
			g.flags |= genNoConf
			call.ConfID = ""
			for noConfID[call.uniqueKey()] {
				call.CLI = r.spell(r.externalNumber())
				g.respell++
			}
			noConfID[call.uniqueKey()] = true
		}
		keys[i], rows[i] = sortKey{g.unix, call.ConfID}, g
		cost += call.CostE4
		if asCalls {
			call.Bad = g.flags&genBad != 0
			calls[i] = call
		}
	}
	idx := make([]int32, total)
	for i := range idx {
		idx[i] = int32(i)
	}
	slices.SortFunc(idx, func(a, b int32) int { // as sortCalls: compareCalls, then stable
		ka, kb := &keys[a], &keys[b]
		switch {
		case ka.unix != kb.unix:
			return cmp.Compare(ka.unix, kb.unix)
		case ka.confID != kb.confID:
			return strings.Compare(ka.confID, kb.confID)
		}
		return int(a - b)
	})
	if asCalls {
		out := make([]MTTCall, total)
		for i, j := range idx {
			out[i] = calls[j]
		}
		return nil, out, cost
	}
	out := make([]genRow, total)
	for i, j := range idx {
		out[i] = rows[j]
	}
	return out, nil, cost
}

// uniqueKey identifies a row without h323_conf_id within its day.
func (c *MTTCall) uniqueKey() string {
	return strconv.FormatInt(c.ConnectTime.Unix(), 10) + "|" + c.CLI + "|" + c.CLD
}

// generateCall draws one call of typ at the Unix second unix.
func generateCall(r *rng, c *mttCustomer, typ string, unix int64) MTTCall {
	acct := c.active[r.intn(len(c.active))]
	call := MTTCall{
		Customer:    c.name,
		Type:        typ,
		ConnectTime: time.Unix(unix, 0).UTC(),
		AccountID:   acct,
		Currency:    "RUB",
		ConfID:      r.confID(),
	}
	if r.chance(600) {
		call.IncomingConfID = r.confID()
	}
	var answered bool
	var other string // the party that is not the customer: it sets destination and tariff
	switch typ {
	case MTTDialed:
		call.CLI = acct
		if r.chance(80) {
			call.CLI = "8" + acct[1:]
		}
		if r.chance(40) {
			call.CLD = r.extension()
		} else {
			call.CLD = r.spell(r.externalNumber())
		}
		other, answered = call.CLD, r.chance(850)
	case MTTIncoming, MTTMissed:
		if r.chance(40) {
			call.CLI = r.extension()
		} else {
			call.CLI = r.spell(r.externalNumber())
		}
		call.CLD = acct
		other, answered = call.CLI, typ == MTTIncoming
	case MTTForwarded:
		call.CLI = r.spell(r.externalNumber())
		call.CLD = r.spell(r.mobileNumber())
		other, answered = call.CLD, r.chance(900)
	}
	call.Destination = r.destination(other)
	if answered {
		call.UsedQuantity = r.duration()
		call.DisconnectCause = 16
		if r.chance(100) {
			call.DisconnectCause = 31
		}
		call.VoiceRecord = r.chance(300)
		rate := r.ratePerMinute(kindOf(other))
		mode := r.intn(10) // 0–4 per minute, 5–8 per second, 9 free
		if typ == MTTIncoming {
			mode = 9
			if r.chance(150) {
				mode = 0
			}
		}
		switch {
		case mode < 5:
			call.ChargedTime = (call.UsedQuantity + 59) / 60 * 60
		case mode < 9:
			call.ChargedTime = call.UsedQuantity
		}
		kopecks := (rate*int64(call.ChargedTime) + 30) / 60
		call.CostE4 = kopecks * 100
	} else {
		call.DisconnectCause = []int{17, 18, 19, 21, 31, 34}[r.intn(6)]
	}
	call.SetupTimeMs = 300 + r.intn(12000)
	if r.chance(80) {
		call.SetupTimeMs = 0
	}
	if r.chance(70) {
		call.DisconnectCause = 0
	}
	if r.chance(30) {
		call.AccountID = ""
	}
	if r.chance(10) {
		call.Extra = map[string]string{"region": []string{"77", "50", "78"}[r.intn(3)]}
	}
	return call
}
