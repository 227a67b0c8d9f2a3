package sandbox

import (
	"strconv"
	"time"
)

// Broadcast and subscriber generation of the Mobilgroup emulator. Every
// subscriber gets a plan at construction: how many steps it stays queued,
// how many it waits between attempts, and its final state. Advance only
// moves the step counter.

// Bounds of the plans: broadcast i waits min(i, mgMaxOffset)·mgOffsetStep
// steps more than the first, a subscriber up to mgMaxQueue − 1 more, then
// waits 1 or 2 steps if it needs several attempts.
const (
	mgMaxOffset    = 3
	mgOffsetStep   = 2
	mgMaxQueue     = 5
	mgCallKop      = 91  // per started minute of the call: the document's 0,91
	mgTransferKop  = 150 // per started minute of the transfer leg
	mgSMSKop       = 250 // per SMS part: the document's 2,50
	mgEstimateKop  = 91  // budget estimate of a subscriber not final yet
	mgBroadcastGap = 2*time.Hour + 13*time.Minute
)

// mgFinal are the final statuses: text, normalised code, relative weight.
var mgFinal = []struct {
	text, code string
	weight     int
}{
	{"Успешно", "answered", 50},
	{"Занято", "busy", 12},
	{"Нет ответа", "no_answer", 16},
	{"Недоступен", "unavailable", 4},
	{"Абонент недоступен", "unavailable", 4},
	{"Ошибка", "failed", 4},
	{"Сброс", "rejected", 5},
	{"Отклонен", "rejected", 5},
}

var mgSMSTexts = []string{"Перезвоните нам: 8 800 555-35-35", "Ваш заказ готов к выдаче", "Напоминаем о записи на завтра"}

type mgBroadcast struct {
	id          string
	start       time.Time
	maxAttempts int           // the redial settings: attempts limit
	interval    time.Duration // and the wait between attempts
	subs        []mgPlan
}

// mgPlan is one subscriber's life. By steps: queued while step < queued,
// waiting (called once, "Ожидает") while step < queued+wait, final
// afterwards. With Redials, by the clock: queued before first, then after
// attempt k < final.Attempts (made at first + (k−1)·interval) showing
// tries[k−1], final once the last attempt is made.
type mgPlan struct {
	queued, wait int
	first        time.Time // the first attempt
	interval     time.Duration
	tries        []string // Redials: the result text of every attempt before the last
	final        MobilgroupSubscriber
}

// Redial settings the emulator draws per broadcast (Redials): the document
// allows at most 3 attempts and at most 60 minutes between them.
const (
	mgMinInterval = 5 * time.Minute
	mgMaxInterval = 60 * time.Minute
	mgStepDelay   = 10 * time.Minute // the attempts' spacing without Redials
)

// mgRetryTexts are the results of an attempt that gets redialled.
var mgRetryTexts = []string{"Занято", "Нет ответа"}

func (m *Mobilgroup) generate() {
	h := newHasher(m.cfg.Seed).str("mobilgroup")
	r := rng{h.str("broadcasts").sum()}
	id := 500000 + r.intn(400000)
	start := m.cfg.Start.UTC().Truncate(time.Second)
	global := 0
	for i := range m.cfg.Broadcasts {
		if i > 0 {
			id += 1 + r.intn(50)
		}
		mean := m.cfg.SubscribersPerBroadcast
		n := max(1, mean*3/4+r.intn(mean/2+1))
		b := mgBroadcast{
			id:          strconv.Itoa(id),
			start:       start.AddDate(0, 0, i%m.cfg.Days).Add(time.Duration(i/m.cfg.Days) * mgBroadcastGap),
			maxAttempts: 3,
			interval:    mgStepDelay,
			subs:        make([]mgPlan, n),
		}
		if m.cfg.Redials {
			// A stream of its own, so the other draws stay as without Redials.
			rr := rng{h.str(b.id).str("redials").sum()}
			b.maxAttempts = 2 + rr.intn(2)
			b.interval = mgMinInterval + time.Duration(rr.intn(int((mgMaxInterval-mgMinInterval)/time.Minute)+1))*time.Minute
		}
		offset := min(i, mgMaxOffset) * mgOffsetStep
		for j := range b.subs {
			global++
			p := m.plan(h, &b, j, offset)
			p.final.Bad = m.cfg.BadEvery > 0 && global%m.cfg.BadEvery == 0
			m.maxSteps = max(m.maxSteps, p.queued+p.wait)
			if p.final.Date.After(m.lastCall) {
				m.lastCall = p.final.Date
			}
			b.subs[j] = p
		}
		m.byID[b.id] = len(m.broadcasts)
		m.broadcasts = append(m.broadcasts, b)
	}
}

// plan draws the life of subscriber j of b.
func (m *Mobilgroup) plan(h hasher, b *mgBroadcast, j, offset int) mgPlan {
	r := rng{h.str(b.id).int(int64(j)).sum()}
	s := MobilgroupSubscriber{Seq: j + 1}
	switch {
	case j >= 3 && r.chance(40):
		s.Phone = b.subs[j-3].final.Phone // the same number twice in one broadcast
	case r.chance(100):
		s.Phone = string(r.digits([]byte("89"), 9))
	default:
		s.Phone = string(r.digits([]byte("79"), 9))
	}
	total := 0
	for _, f := range mgFinal {
		total += f.weight
	}
	k := r.intn(total)
	for _, f := range mgFinal {
		if k < f.weight {
			s.Status, s.Code = f.text, f.code
			break
		}
		k -= f.weight
	}
	s.Final = true
	s.Attempts = 1
	if s.Code != "answered" && s.Code != "failed" {
		s.Attempts = 1 + r.intn(3)
	}
	switch s.Code {
	case "answered":
		s.Duration = 5 + r.intn(86)
		s.CallKopecks = int64((s.Duration+59)/60) * mgCallKop
	case "rejected":
		s.Duration = r.intn(5)
		s.CallKopecks = int64((s.Duration+59)/60) * mgCallKop
	}
	p := mgPlan{queued: offset + r.intn(mgMaxQueue)}
	if s.Attempts > 1 {
		p.wait = 1 + r.intn(2)
	}
	p.first = b.start.Add(time.Duration(j*20+r.intn(60)) * time.Second)
	p.interval = b.interval
	if m.cfg.Redials {
		rr := rng{h.str(b.id).str("redials").int(int64(j)).sum()}
		switch s.Code {
		case "answered":
			s.Attempts = 1 + rr.intn(b.maxAttempts) // answered on a redial from the second on
		case "failed":
			s.Attempts = 1
		default:
			s.Attempts = b.maxAttempts
		}
		for range s.Attempts - 1 {
			p.tries = append(p.tries, mgRetryTexts[rr.intn(len(mgRetryTexts))])
		}
	}
	s.Date = p.first.Add(time.Duration(s.Attempts-1) * p.interval)
	s.PriceKopecks = s.CallKopecks
	if s.Code == "answered" && r.chance(250) {
		t := &MobilgroupTransfer{Number: string(r.digits([]byte("8495"), 7))}
		switch k := r.intn(10); {
		case k < 7:
			t.Duration = 10 + r.intn(290)
			t.Status, t.Code = "Успешно", "answered"
		case k < 9:
			t.Status, t.Code = "Нет ответа", "no_answer"
		default:
			t.Status, t.Code = "Занято", "busy"
		}
		t.PriceKopecks = int64((t.Duration+59)/60) * mgTransferKop
		s.Transfer = t
		s.PriceKopecks += t.PriceKopecks
	}
	if (s.Code == "busy" || s.Code == "no_answer" || s.Code == "unavailable") && r.chance(400) {
		sms := &MobilgroupSMS{Date: s.Date.Add(time.Minute), Message: mgSMSTexts[r.intn(len(mgSMSTexts))], Parts: 1 + r.intn(2)}
		if m.cfg.Redials {
			sms.Date = s.Date // shown with the last attempt: never dated after the clock
		}
		sms.PriceKopecks = int64(sms.Parts) * mgSMSKop
		switch k := r.intn(10); {
		case k < 8:
			sms.Status, sms.Code = "Доставлено", "delivered"
		case k < 9:
			sms.Status, sms.Code = "Не доставлено", "undelivered"
		default:
			sms.Status, sms.Code = "Отправлено", "sent"
		}
		s.SMS = sms
		s.PriceKopecks += sms.PriceKopecks
	}
	p.final = s
	return p
}

// at returns the subscriber as it stands at mo.
func (m *Mobilgroup) at(p *mgPlan, mo mgMoment) MobilgroupSubscriber {
	if m.cfg.Redials {
		return p.atTime(mo.now)
	}
	return p.at(mo.step)
}

// atTime returns the subscriber as it stands at now (Redials).
func (p *mgPlan) atTime(now time.Time) MobilgroupSubscriber {
	f := p.final
	made := 0
	for k := range f.Attempts {
		if !p.first.Add(time.Duration(k) * p.interval).After(now) {
			made = k + 1
		}
	}
	switch {
	case made == 0:
		return MobilgroupSubscriber{Seq: f.Seq, Phone: f.Phone, Status: MobilgroupQueued, Code: "pending", Bad: f.Bad}
	case made < f.Attempts:
		text := p.tries[made-1]
		code := "busy"
		if text == "Нет ответа" {
			code = "no_answer"
		}
		return MobilgroupSubscriber{Seq: f.Seq, Phone: f.Phone, Status: text, Code: code, Attempts: made,
			Date: p.first.Add(time.Duration(made-1) * p.interval), Bad: f.Bad}
	}
	return f
}

// at returns the subscriber as it stands at step (without Redials).
func (p *mgPlan) at(step int) MobilgroupSubscriber {
	f := p.final
	switch {
	case step < p.queued:
		return MobilgroupSubscriber{Seq: f.Seq, Phone: f.Phone, Status: MobilgroupQueued, Code: "pending", Bad: f.Bad}
	case step < p.queued+p.wait:
		return MobilgroupSubscriber{Seq: f.Seq, Phone: f.Phone, Status: MobilgroupWaiting, Code: "pending",
			Attempts: 1, Date: p.first, Bad: f.Bad}
	}
	return f
}

// broadcastAt returns broadcast i at mo.
func (m *Mobilgroup) broadcastAt(i int, mo mgMoment) MobilgroupBroadcast {
	b := &m.broadcasts[i]
	out := MobilgroupBroadcast{ID: b.id, Start: b.start, Phones: len(b.subs), Final: true,
		MaxAttempts: b.maxAttempts, Interval: b.interval, Subscribers: make([]MobilgroupSubscriber, len(b.subs))}
	for j := range b.subs {
		s := m.at(&b.subs[j], mo)
		out.Subscribers[j] = s
		if s.Final {
			out.BudgetKopecks += s.PriceKopecks
		} else {
			out.Final = false
			out.BudgetKopecks += mgEstimateKop
		}
	}
	return out
}
