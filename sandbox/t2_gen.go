package sandbox

import (
	"slices"
	"strconv"
	"strings"
	"time"
)

// Traffic generation of the T2 emulator. Like the MTT emulator's, it draws
// from a hash of (Seed, what, day) through the fixed splitmix64 PRNG of
// mtt_gen.go, so one day's traffic depends on nothing but the seed, the
// employees and the MCN numbers.

var (
	t2FemaleNames = []string{"Анастасия", "Ольга", "Елена", "Мария", "Наталья", "Татьяна", "Юлия"}
	t2MaleNames   = []string{"Артём", "Дмитрий", "Сергей", "Иван", "Алексей", "Михаил", "Павел"}
	// t2Surnames are masculine; feminine ones add "а".
	t2Surnames = []string{"Исаев", "Заплаткин", "Смирнов", "Кузнецов", "Попов", "Васильев",
		"Петров", "Соколов", "Михайлов", "Новиков", "Фёдоров", "Морозов"}
	t2Words = []string{"здравствуйте", "информируем", "что", "разговор", "записывается",
		"да", "конечно", "договор", "номер", "двенадцать", "лет", "спасибо", "до", "свидания"}
	t2Denied = []string{T2DeniedMaxSession, T2DeniedIncomingBlocked, T2DeniedOutgoingBlocked,
		T2DeniedOnlyInternal, T2DeniedBlackListed, T2DeniedNotInWhiteList, T2DeniedNotWorkTime,
		T2DeniedUnknownNumber}
)

// t2Employees derives n employees from the seed. The last of four or more
// has neither surname nor email, like the document's sparse rows.
func t2Employees(seed int64, n int) []T2Employee {
	r := rng{newHasher(seed).str("t2-employees").sum()}
	used := make(map[string]bool)
	out := make([]T2Employee, n)
	id := 400 + r.intn(100)
	for i := range out {
		id += 1 + r.intn(40)
		full := r.mobileNumber()
		for used[full] {
			full = r.mobileNumber()
		}
		used[full] = true
		name, surname := r.t2Name()
		e := T2Employee{
			EmployeeID:  strconv.Itoa(id),
			Name:        name,
			Surname:     surname,
			FullNumber:  full,
			ShortNumber: t2Short(i + 1),
			Email:       "employee" + strconv.Itoa(id) + "@corp.example.ru",
		}
		if n >= 4 && i == n-1 {
			e.Surname, e.Email = "", ""
		}
		out[i] = e
	}
	return out
}

// t2Name draws a first name and a surname of the same gender.
func (r *rng) t2Name() (first, last string) {
	last = t2Surnames[r.intn(len(t2Surnames))]
	if r.chance(500) {
		return t2FemaleNames[r.intn(len(t2FemaleNames))], last + "а"
	}
	return t2MaleNames[r.intn(len(t2MaleNames))], last
}

// t2Short is an extension: "0001".
func t2Short(n int) string {
	s := strconv.Itoa(n)
	return strings.Repeat("0", max(0, 4-len(s))) + s
}

// fullName is "Name Surname", or just the name.
func (e *T2Employee) fullName() string { return strings.TrimSpace(e.Name + " " + e.Surname) }

// t2Days returns the span of generated days.
func (t *T2) t2Days() (from, to int64, ok bool) {
	switch f, l := t.cfg.From, t.cfg.To; {
	case f.IsZero() && l.IsZero():
		return 0, 0, false
	case f.IsZero():
		return dayOf(l.Unix()), dayOf(l.Unix()), true
	case l.IsZero():
		return dayOf(f.Unix()), dayOf(f.Unix()), true
	default:
		from, to = dayOf(f.Unix()), dayOf(l.Unix())
		return from, to, from <= to
	}
}

// generate fills t.calls, t.missed and t.files.
func (t *T2) generate() {
	from, to, ok := t.t2Days()
	if !ok {
		return
	}
	for d := from; d <= to; d++ {
		missed := t.genMissedDay(d)
		t.missed = append(t.missed, missed...)
		t.calls = append(t.calls, t.genCallsDay(d, missed)...)
	}
	for i := range t.calls {
		if t.cfg.BadEvery > 0 && (i+1)%t.cfg.BadEvery == 0 {
			t.calls[i].Bad = true
		}
		if f := t.calls[i].RecordFileName; f != "" {
			t.files[f] = i
		}
	}
}

// t2Count draws a count with the given mean: mean ± mean/2.
func t2Count(r *rng, mean int) int {
	if mean <= 0 {
		return 0
	}
	return mean - mean/2 + r.intn(2*(mean/2)+1)
}

// t2Instant is a millisecond within day d.
func t2Instant(r *rng, d int64) time.Time {
	return time.UnixMilli((d*86400+r.secondOfDay())*1000 + int64(r.intn(1000))).UTC()
}

// outside returns an outside party's number in a mixed spelling and, for
// about a third, a name from the CRM.
func (r *rng) t2Outside() (number, name string) {
	number = r.spell(r.externalNumber())
	if r.chance(300) {
		first, last := r.t2Name()
		name = first + " " + last
	}
	return number, name
}

// genMissedDay returns the statistics/missing rows of day d, by StartDate.
func (t *T2) genMissedDay(d int64) []T2Missed {
	r := rng{newHasher(t.cfg.Seed).str("t2-missing").int(d).sum()}
	n := min(t2Count(&r, t.cfg.MissedPerDay), t2MissedIDsPerDay-1)
	out := make([]T2Missed, n)
	company := strconv.FormatInt(t.companyID, 10)
	cust := t.customerDraw("t2-customer-missed", d)
	for i := range out {
		m := T2Missed{
			StartDate:         t2Instant(&r, d),
			WaitDuration:      1 + r.intn(90),
			DestinationNumber: t.cfg.MCNNumbers[r.intn(len(t.cfg.MCNNumbers))],
			CalleeCompanyID:   company,
		}
		m.CallerNumber, _ = r.t2Outside()
		if n, ok := cust(); ok {
			m.CallerNumber = n
		}
		if !r.chance(400) {
			e := &t.employees[r.intn(len(t.employees))]
			m.CalleeNumber, m.CalleeName = e.FullNumber, e.fullName()
		}
		m.AlsoInCallRecords = r.chance(500)
		out[i] = m
	}
	slices.SortStableFunc(out, func(a, b T2Missed) int { return a.StartDate.Compare(b.StartDate) })
	for i := range out {
		out[i].ID = d*t2MissedIDsPerDay + int64(i) + 1
	}
	return out
}

// genCallsDay returns the call records of day d: about CallsPerDay generated
// ones, one of them (when there are any) of type CALL_TRANSFER and another
// with the undocumented status, plus one record per missed call marked
// AlsoInCallRecords. Sorted by Timestamp, stable.
func (t *T2) genCallsDay(d int64, missed []T2Missed) []T2Call {
	r := rng{newHasher(t.cfg.Seed).str("t2-calls").int(d).sum()}
	n := t2Count(&r, t.cfg.CallsPerDay)
	unknownType, unknownStatus := -1, -1
	if n > 0 {
		unknownType = r.intn(n)
	}
	if n > 1 {
		unknownStatus = (unknownType + 1 + r.intn(n-1)) % n
	}
	out := make([]T2Call, 0, n+len(missed)/2+1)
	files := make(map[string]bool)
	cust := t.customerDraw("t2-customer-calls", d)
	for i := range n {
		c, outside := t.genCall(&r, d, i == unknownType, i == unknownStatus)
		if num, ok := cust(); ok {
			// The outside party is a manager's customer.
			for _, f := range []*string{&c.CallerNumber, &c.DestinationNumber, &c.CalleeNumber} {
				if *f == outside {
					*f = num
				}
			}
		}
		if c.Answered() && c.CallType != T2Fax && r.chance(750) {
			c.RecordFileName = t.recordName(&r, &c, files)
		}
		out = append(out, c)
	}
	for _, m := range missed {
		if !m.AlsoInCallRecords {
			continue
		}
		c := T2Call{
			Timestamp:            m.StartDate,
			CallType:             T2MultiChannel,
			CallStatus:           T2NotAnsweredCommon,
			CallerNumber:         m.CallerNumber,
			DestinationNumber:    m.DestinationNumber,
			CalleeNumber:         m.CalleeNumber,
			CalleeName:           m.CalleeName,
			CallDuration:         m.WaitDuration,
			ConversationDuration: -1,
			MissedID:             m.ID,
		}
		if c.CalleeNumber == "" {
			c.CalleeNumber = m.DestinationNumber
		}
		out = append(out, c)
	}
	slices.SortStableFunc(out, compareT2Calls)
	return out
}

// customerDraw returns a function that, for about a third of its calls,
// returns a customer's number (T2Config.Managers) in a mixed spelling. It
// draws from its own stream (Seed, what, day), so the rest of a day's
// traffic is the same with or without managers; without customers it
// never returns one.
func (t *T2) customerDraw(what string, d int64) func() (string, bool) {
	pool := t.customerNumbers()
	if len(pool) == 0 {
		return func() (string, bool) { return "", false }
	}
	r := rng{newHasher(t.cfg.Seed).str(what).int(d).sum()}
	return func() (string, bool) {
		if !r.chance(330) {
			return "", false
		}
		return r.spell(pool[r.intn(len(pool))]), true
	}
}

// genCall draws one call record of day d; outside is the outside party's
// number it drew (in the record unless the call is internal).
func (t *T2) genCall(r *rng, d int64, transfer, queueTimeout bool) (_ T2Call, outside string) {
	emps := t.employees
	a := &emps[r.intn(len(emps))]
	b := &emps[r.intn(len(emps))]
	c := T2Call{Timestamp: t2Instant(r, d), ConversationDuration: -1}
	outside, outsideName := r.t2Outside()
	incoming := func(typ string) {
		c.CallType = typ
		c.CallerNumber, c.CallerName = outside, outsideName
		c.DestinationNumber, c.CalleeNumber, c.CalleeName = a.FullNumber, a.FullNumber, a.fullName()
	}
	outgoing := func(typ string) {
		c.CallType = typ
		c.CallerNumber, c.CallerName = a.FullNumber, a.fullName()
		c.DestinationNumber, c.CalleeNumber, c.CalleeName = outside, outside, outsideName
	}
	answerPermille := 800
	switch p := r.intn(1000); {
	case transfer:
		incoming(T2CallTransfer)
		c.CalleeNumber, c.CalleeName = b.FullNumber, b.fullName()
		answerPermille = 1000
	case p < 330:
		incoming(T2SingleChannel)
	case p < 530:
		incoming(T2MultiChannel)
		c.DestinationNumber = t.cfg.MCNNumbers[r.intn(len(t.cfg.MCNNumbers))]
	case p < 760:
		outgoing(T2Outgoing)
		answerPermille = 700
	case p < 860:
		c.CallType = T2Internal
		c.CallerNumber, c.CallerName = a.ShortNumber, a.fullName()
		c.DestinationNumber, c.CalleeNumber, c.CalleeName = b.ShortNumber, b.ShortNumber, b.fullName()
		answerPermille = 850
	case p < 890:
		outgoing(T2CRMOutgoing)
	case p < 910:
		outgoing(T2Callback)
	case p < 925:
		incoming(T2InternalQueue)
		c.DestinationNumber = t.cfg.MCNNumbers[r.intn(len(t.cfg.MCNNumbers))]
	case p < 940:
		incoming(T2PickupCall)
		c.CalleeNumber, c.CalleeName = b.FullNumber, b.fullName()
	case p < 955:
		incoming(T2Voicemail)
		answerPermille = 1000
	case p < 965:
		outgoing(T2Conference)
	case p < 972:
		outgoing(T2CRMCallback)
	case p < 978:
		incoming(T2Fax)
	case p < 984:
		c.CallType = T2Himself
		c.CallerNumber, c.CallerName = a.FullNumber, a.fullName()
		c.DestinationNumber, c.CalleeNumber, c.CalleeName = a.FullNumber, a.FullNumber, a.fullName()
	case p < 990:
		incoming(T2UnknownCall)
		c.CallerName = ""
	default:
		incoming(T2SingleChannel)
	}
	switch {
	case queueTimeout:
		c.CallStatus = T2StatusQueueTimeout
		c.CallDuration = 30 + r.intn(90)
	case r.chance(answerPermille):
		c.CallStatus = T2AnsweredCommon
		if c.CallType != T2Outgoing && c.CallType != T2CRMOutgoing {
			switch p := r.intn(100); {
			case p < 30:
				c.CallStatus = T2AnsweredByOriginalClient
			case p < 37:
				c.CallStatus = T2AnsweredByBusyForward
			case p < 45:
				c.CallStatus = T2AnsweredByNoAnswerForward
			}
		}
		c.ConversationDuration = r.duration()
		c.CallDuration = 1 + r.intn(25) + c.ConversationDuration
	default:
		switch p := r.intn(100); {
		case p < 40:
			c.CallStatus = T2NotAnsweredCommon
		case p < 65:
			c.CallStatus = T2CancelledByCaller
		case p < 80:
			c.CallStatus = T2DestinationBusy
		case p < 95:
			c.CallStatus = t2Denied[r.intn(len(t2Denied))]
		default:
			c.CallStatus = T2CancelledByPickup
		}
		c.CallDuration = 1 + r.intn(60)
		if strings.HasPrefix(c.CallStatus, "DENIED_") {
			c.CallDuration = 0
		}
	}
	return c, outside
}

// recordName returns a new recording name, unique within files (the names
// of the day so far), which it extends: "2024-03-05/mo_<ms><5 digits>", mo
// for calls placed by an employee, mt for the others.
func (t *T2) recordName(r *rng, c *T2Call, files map[string]bool) string {
	prefix := "/mt_"
	switch c.CallType {
	case T2Outgoing, T2CRMOutgoing, T2Callback, T2Conference, T2CRMCallback, T2Internal, T2Himself:
		prefix = "/mo_"
	}
	base := c.Timestamp.In(t.cfg.Zone).Format(time.DateOnly) + prefix + strconv.FormatInt(c.Timestamp.UnixMilli(), 10)
	for {
		name := string(r.digits([]byte(base), 5))
		if !files[name] {
			files[name] = true
			return name
		}
	}
}

// t2MP3 returns the deterministic bytes of a recording: an empty ID3v2.4
// tag, then 3–8 MPEG-1 Layer III frames (128 kbit/s, 44.1 kHz, header
// FF FB 90 64, 417 bytes each) of hashed filler.
func t2MP3(seed int64, name string) []byte {
	r := rng{newHasher(seed).str("t2-mp3").str(name).sum()}
	const frameLen = 417
	frames := 3 + r.intn(6)
	b := make([]byte, 0, 10+frames*frameLen)
	b = append(b, 'I', 'D', '3', 4, 0, 0, 0, 0, 0, 0)
	for range frames {
		b = append(b, 0xFF, 0xFB, 0x90, 0x64)
		for range frameLen - 4 {
			b = append(b, byte(r.next()))
		}
	}
	return b
}

// t2Word is one element of /call-records/file/stt.
type t2Word struct {
	Channel   string  `json:"channel"`
	StartTime float64 `json:"startTime"`
	EndTime   float64 `json:"endTime"`
	Word      string  `json:"word"`
}

// t2Transcript returns the transcript of a recording of a call of the given
// conversation length, or nil when it has none (about one in four).
func t2Transcript(seed int64, name string, conversation int) []t2Word {
	r := rng{newHasher(seed).str("t2-stt").str(name).sum()}
	if r.chance(250) {
		return nil
	}
	n := 3 + r.intn(10)
	out := make([]t2Word, 0, n)
	at := 0.3
	ch := "B"
	for range n {
		if r.chance(300) {
			ch = map[string]string{"A": "B", "B": "A"}[ch]
		}
		start := at + float64(r.intn(150))/100
		end := start + 0.15 + float64(r.intn(60))/100
		if end > float64(conversation) && len(out) > 0 {
			break
		}
		out = append(out, t2Word{Channel: ch, StartTime: start, EndTime: end, Word: t2Words[r.intn(len(t2Words))]})
		at = end
	}
	return out
}
