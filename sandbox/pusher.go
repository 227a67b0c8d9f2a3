package sandbox

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Pusher emulates the vendors' side of push notifications: VotBox calling
// the NotifyUrl (an HTTP GET with the event in the query,
// votbox-api.txt §16) and MTT posting call-progress events (JSON, or a form
// for smart-call events, mtt-telecom-api.txt). It replays the documents'
// example events ([VotBoxNotifyExamples], [MTTEventExamples]) and
// generates deterministic traffic, each call a documented sequence of
// events, and retries what is not acknowledged with 2xx the way a vendor
// that retries would: on 5xx and connection errors, not on 4xx (neither
// document states a retry policy; this is the harshest one a receiver has
// to bear, as it makes the receiver see the same event again).
type Pusher struct {
	cfg    PushConfig
	client *http.Client
}

// PushConfig configures a [Pusher].
type PushConfig struct {
	// URL is the receiver's notification address for the vendor, secret
	// included (http://host/v1/votbox/votbox/<secret>).
	URL    string
	Vendor string // "votbox" or "mtt"
	// Concurrency is how many requests are in flight at once (default 1).
	Concurrency int
	// MaxAttempts bounds the sends of one event (default 1: no retry; 0
	// or less with Retry forever until ctx ends is not allowed, use a large
	// number). Backoff is the pause between attempts (default 10ms).
	MaxAttempts int
	Backoff     time.Duration
	// Faults, applied while pushing.
	Faults PushFaults
	Client *http.Client
}

// PushFaults are the misbehaviours of a pushing vendor.
type PushFaults struct {
	// DuplicateEvery sends every Nth event twice (after its first send
	// was acknowledged): a vendor's retry whose first answer was lost.
	DuplicateEvery int
	// BadSecretEvery sends every Nth event first with a wrong secret
	// (the request must be refused with 403, then the event is sent
	// right).
	BadSecretEvery int
	// MalformedEvery sends, before every Nth event, a malformed request
	// (no CALLID, broken JSON) that must be refused with 400.
	MalformedEvery int
}

// PushEvent is one notification to send: the query string (GET) or the
// body and its content type (POST).
type PushEvent struct {
	Query       string
	Body        string
	ContentType string
}

// PushResult is what a push did, for the test's ground truth.
type PushResult struct {
	Acked    []bool // per event: acknowledged with 2xx at least once
	Attempts int64
	// Status counts the answers by HTTP status; 0 counts connection errors.
	Status map[int]int64
	// FaultsRefusedRight counts the fault requests (bad secret, malformed)
	// refused with the expected status; FaultsWrong those that were not.
	FaultsRefusedRight, FaultsWrong int64
}

// NewPusher returns a pusher.
func NewPusher(cfg PushConfig) *Pusher {
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 1
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 1
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = 10 * time.Millisecond
	}
	c := cfg.Client
	if c == nil {
		c = &http.Client{Timeout: 30 * time.Second}
	}
	return &Pusher{cfg: cfg, client: c}
}

// Push sends events, Concurrency at a time, each until acknowledged or
// MaxAttempts, and returns what happened. acked, when not nil, is called
// once per event when it is first acknowledged.
func (p *Pusher) Push(ctx context.Context, events []PushEvent, acked func(i int)) PushResult {
	res := PushResult{Acked: make([]bool, len(events)), Status: map[int]int64{}}
	var mu sync.Mutex
	var attempts, right, wrong atomic.Int64
	count := func(status int) {
		mu.Lock()
		res.Status[status]++
		mu.Unlock()
	}
	next := make(chan int)
	var wg sync.WaitGroup
	for range p.cfg.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				f := p.cfg.Faults
				if f.MalformedEvery > 0 && i%f.MalformedEvery == 0 {
					st := p.answer(ctx, p.cfg.URL, p.malformed(i), count)
					if st == http.StatusBadRequest {
						right.Add(1)
					} else {
						wrong.Add(1)
					}
				}
				if f.BadSecretEvery > 0 && i%f.BadSecretEvery == 0 {
					st := p.answer(ctx, badSecret(p.cfg.URL), events[i], count)
					if st == http.StatusForbidden {
						right.Add(1)
					} else {
						wrong.Add(1)
					}
				}
				sends := 1
				if f.DuplicateEvery > 0 && i%f.DuplicateEvery == 0 {
					sends = 2
				}
				for range sends {
					for a := 0; a < p.cfg.MaxAttempts && ctx.Err() == nil; a++ {
						attempts.Add(1)
						st := p.send(ctx, p.cfg.URL, events[i])
						count(st)
						if st >= 200 && st < 300 {
							mu.Lock()
							first := !res.Acked[i]
							res.Acked[i] = true
							mu.Unlock()
							if first && acked != nil {
								acked(i)
							}
							break
						}
						if st >= 400 && st < 500 {
							break
						}
						select {
						case <-ctx.Done():
						case <-time.After(p.cfg.Backoff):
						}
					}
				}
			}
		}()
	}
	for i := range events {
		select {
		case next <- i:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
	}
	close(next)
	wg.Wait()
	res.Attempts, res.FaultsRefusedRight, res.FaultsWrong = attempts.Load(), right.Load(), wrong.Load()
	return res
}

// answer sends a fault request until the receiver answers it (not a
// connection error nor a 5xx: the receiver may be restarting) or
// MaxAttempts, and returns the last status.
func (p *Pusher) answer(ctx context.Context, base string, ev PushEvent, count func(int)) int {
	st := 0
	for a := 0; a < p.cfg.MaxAttempts && ctx.Err() == nil; a++ {
		st = p.send(ctx, base, ev)
		count(st)
		if st != 0 && st < 500 {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(p.cfg.Backoff):
		}
	}
	return st
}

// send makes one request and returns its status, 0 on a transport error.
func (p *Pusher) send(ctx context.Context, base string, ev PushEvent) int {
	var req *http.Request
	var err error
	if ev.Body == "" {
		u := base
		if ev.Query != "" {
			u += "?" + ev.Query
		}
		req, err = http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	} else {
		req, err = http.NewRequestWithContext(ctx, http.MethodPost, base, strings.NewReader(ev.Body))
		if err == nil && ev.ContentType != "" {
			req.Header.Set("Content-Type", ev.ContentType)
		}
	}
	if err != nil {
		return 0
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return 0
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func (p *Pusher) malformed(i int) PushEvent {
	if p.cfg.Vendor == "mtt" {
		return PushEvent{Body: fmt.Sprintf(`{"date_time": "2019-03-29-11-37-13", "CallID": "x%d", "event": `, i), ContentType: "application/json"}
	}
	return PushEvent{Query: "STATE=ENDCALL&DT=" + url.QueryEscape("01.01.2012 10:00:40")}
}

// badSecret replaces the URL's last path element (the secret).
func badSecret(u string) string {
	i := strings.LastIndexByte(u, '/')
	return u[:i+1] + "not-the-secret"
}

// VotBoxNotifyExamples are the notifications of votbox-api.txt ("HTTP GET
// NOTIFICATION" table, one call 4654), written as the query strings a GET
// carries, the document's stray spaces included ("& STATE= VOICEMAIL &",
// "PHONE =9110000001", "Rel=19"), and the autocall ENDCALL of §16, whose
// fields the document lists without an example.
var VotBoxNotifyExamples = []PushEvent{
	{Query: "CALLID=4654&STATE=STARTCALL&ANI=9110000000&DNIS=8123350515&DT=01.01.2012+10:00:00"},
	{Query: "CALLID=4654&%20STATE=CALLOUT&%20ANI=9110000000&%20DNIS=8123350515&%20DT=01.01.2012%2010:00:00"},
	{Query: "CALLID=4654&STATE=REDIRECT&DT=01.01.2012+10:00:05&PHONE+=9110000001"},
	{Query: "CALLID=4654&STATE=CALLPROCESS&DT=01.01.2012+10:00:30"},
	{Query: "CALLID=4654&STATE=CALLNOANSWER&DT=01.01.2012+10:00:30&+Rel=19"},
	{Query: "CALLID=4654&STATE=QUEUESTART&DT=01.01.2012+10:00:15"},
	{Query: "CALLID=4654&STATE=QUEUEEND&DT=01.01.2012+10:00:15"},
	{Query: "CALLID=4654&STATE=GETDTMF&DT=01.01.2012+10:00:00&DTMF=1&+ANI=9110000000&DNIS=8123350515"},
	{Query: "CALLID=4654&STATE=ENDCALL&DT=01.01.2012+10:00:40&DURATION=40&+LINKDURATION=10"},
	{Query: "CALLID=4654&STATE=+VOICEMAIL+&DT=01.01.2012+10:00:40+&FILENAME+=VM_8123350515_VM_+9111111111_010120121101010.wav"},
	{Query: "CALLID=4654&STATE=+RECORDTALK+&DT=01.01.2012+10:00:40+&FILENAME+=+RT_8123350515_89211111111_+9111111111_010120121101010.wav"},
	{Query: "CALLID=4654&STATE=ENDCALL&DT=01.01.2012+10:00:40&CALLDURATION=25&OPERCALLDURATION=12&JOBSTATUS=4&CALLPAY=150&OPERCALLPAY=90"},
}

// MTTEventExamples are the call-progress events of mtt-telecom-api.txt:
// follow-me events (JSON), smart-call events (JSON and the form shape) and
// callback progress (GET).
var MTTEventExamples = []PushEvent{
	{Body: `{"date_time": 1558613711, "data": "event=sp_79154368886_2019-05-23-15-15-11", "event": {"type": "sp", "side": "A"}, "h323_conf_id": "BC5F236C 5AD211E9 81BA5CB9 01FED6FC", "numberA": "79154368886", "sip_id": "79586488002", "client_id": "1235"}`, ContentType: "application/json"},
	{Body: `{"date_time": 1558613711, "data": "event=ep_79154368886_2019-05-23-15-15-18", "event": {"type": "ep", "side": "A"}, "h323_conf_id": "BC5F236C 5AD211E9 81BA5CB9 01FED6FC", "numberA": "79154368886", "sip_id": "79586488002", "client_id": "1235"}`, ContentType: "application/json"},
	{Body: `{"date_time": 1558613711, "data": "event=o_79684881033_2019-05-23-15-15-19", "event": {"type": "o"}, "redirect_number": "79684881033", "h323_conf_id": "BC5F236C 5AD211E9 81BA5CB9 01FED6FC", "numberA": "79154368886", "sip_id": "79586488002", "client_id": "1235"}`, ContentType: "application/json"},
	{Body: `{"date_time": 1558624521, "data": "event=s_79684881033_2019-05-23-15-15-30&cause=16", "event": {"type": "s"}, "redirect_number": "79684881033", "h323_conf_id": "BC5F236C 5AD211E9 81BA5CB9 01FED6FC", "numberA": "79154368886", "sip_id": "79586488002", "client_id": "1235"}`, ContentType: "application/json"},
	{Body: `{"date_time": 1558613711, "data": "event=sp_79684881033_2019-05-23-15-15-30", "event": {"type": "sp", "side": "B"}, "redirect_number": "79684881033", "h323_conf_id": "BC5F236C 5AD211E9 81BA5CB9 01FED6FC", "numberA": "79154368886", "sip_id": "79586488002", "client_id": "1235"}`, ContentType: "application/json"},
	{Body: `{"date_time": "2019-03-29-11-37-13", "id": "1255490", "CallID": "00035c7d92bb0971", "event": "o_79103880489"}`, ContentType: "application/json"},
	{Body: `{"date_time": "2019-03-29-11-37-20", "id": "1255490", "CallID": "00035c7d92bb0971", "event": "h_79103880489_16_4"}`, ContentType: "application/json"},
	{Body: `{"date_time": "2019-03-29-11-38-00", "id": "1255490", "CallID": "00035c7d92bb0971", "dtmf": "2", "type": "transfer", "event": "o_78001000101"}`, ContentType: "application/json"},
	{Body: `{"date_time": "2019-03-29-11-38-00", "id": "1255490", "CallID": "00035c7d92bb0971", "dtmf": "2", "type": "transfer", "event": "h_78001000101_16_30"}`, ContentType: "application/json"},
	{Body: `{"date_time": "2019-03-29-11-37-13", "id": "1255490", "CallID": "00035c7d92bb0971", "dtmf": "null", "type": "notify", "event": "n_79103880489"}`, ContentType: "application/json"},
	{Body: "date_time=2019-03-29-09-33-46&id=1255490&CallID=00035c7d92bb0935&event=o_7910000000", ContentType: "application/x-www-form-urlencoded"},
	{Body: `{"date_time=2019-03-29-09-41-38&id=1255490&CallID=00035c7d92bb093b&event=h_7910000000_20_0"}`},
	{Query: "event=start_side_A&id=e031c89159fba8b80025cd6fb534a77"},
	{Query: "event=pickup_side_A&id=e031c89159fba8b80025cd6fb534a77&phone_A=%2B79161234567"},
	{Query: "event=end_side_A&id=e031c89159fba8b80025cd6fb534a77"},
	// The follow-me document's examples 6-8, after the others so that the
	// indices tests use stay put: side B's end of premedia, the talk, and
	// the hang-up, whose cause is in the event object as well as in data,
	// with an extension and an h323_conf_id padded with spaces.
	{Body: `{"date_time": 1558613711, "data": "event=ep_79684881033_2019-05-23-15-15-39", "event": {"type": "ep", "side": "B"}, "redirect_number": "79684881033", "h323_conf_id": "BC5F236C 5AD211E9 81BA5CB9 01FED6FC", "numberA": "79154368886", "sip_id": "79586488002", "client_id": "1235"}`, ContentType: "application/json"},
	{Body: `{"date_time": 1558613711, "data": "event=t_79684881033_2019-05-23-15-15-40", "event": {"type": "t"}, "redirect_number": "79684881033", "h323_conf_id": "BC5F236C 5AD211E9 81BA5CB9 01FED6FC", "numberA": "79154368886", "sip_id": "79586488002", "client_id": "1235"}`, ContentType: "application/json"},
	{Body: `{"date_time": 1558624559, "data": "event=h_79684881033_2019-05-23-15-16-59&cause=16", "event": {"type": "h", "cause": "16", "side": "B"}, "redirect_number": "79684881033", "h323_conf_id": " BC5F236C 5AD211E9 81BA5CB9 01FED6FC ", "numberA": "79154368886", "sip_id": "79586488002", "client_id": "1235", "extension": "0001"}`, ContentType: "application/json"},
}

// VotBoxCall is one generated autocall: its events and its costs.
type VotBoxCall struct {
	CallID               string
	CallPay, OperCallPay int // kopecks
	JobStatus            int
}

// GenVotBox generates n autocalls (ids from first), each the documented
// sequence CALLOUT, STARTCALL (or CALLNOANSWER with REL for a call that
// errored or did not talk, which costs nothing), ENDCALL with costs,
// deterministic for seed; it returns the events in sending order and the
// calls.
func GenVotBox(seed uint64, first, n int, start time.Time) ([]PushEvent, []VotBoxCall) {
	r := rand.New(rand.NewPCG(seed, 7))
	evs := make([]PushEvent, 0, 3*n)
	calls := make([]VotBoxCall, 0, n)
	msk := time.FixedZone("MSK", 3*3600)
	for i := range n {
		id := fmt.Sprint(first + i)
		t := start.Add(time.Duration(i) * time.Second).In(msk)
		dt := func(d time.Duration) string { return url.QueryEscape(t.Add(d).Format("02.01.2006 15:04:05")) }
		phone := fmt.Sprintf("89%09d", r.IntN(1e9))
		c := VotBoxCall{CallID: id, CallPay: r.IntN(500), OperCallPay: r.IntN(300), JobStatus: []int{2, 3, 4}[r.IntN(3)]}
		talk := r.IntN(120)
		// STARTCALL is "абонент поднял трубку": a call that errored or
		// did not talk gets CALLNOANSWER with its REL instead.
		second := fmt.Sprintf("CALLID=%s&STATE=STARTCALL&DT=%s", id, dt(5*time.Second))
		if c.JobStatus == 2 || talk == 0 {
			talk, c.CallPay, c.OperCallPay = 0, 0, 0
			second = fmt.Sprintf("CALLID=%s&STATE=CALLNOANSWER&DT=%s&REL=19", id, dt(30*time.Second))
		}
		evs = append(evs,
			PushEvent{Query: fmt.Sprintf("CALLID=%s&STATE=CALLOUT&ANI=74951234567&DNIS=%s&DT=%s", id, phone, dt(0))},
			PushEvent{Query: second},
			PushEvent{Query: fmt.Sprintf("CALLID=%s&STATE=ENDCALL&DT=%s&CALLDURATION=%d&OPERCALLDURATION=%d&JOBSTATUS=%d&CALLPAY=%d&OPERCALLPAY=%d",
				id, dt(time.Duration(35+talk)*time.Second), talk, talk/2, c.JobStatus, c.CallPay, c.OperCallPay)},
		)
		calls = append(calls, c)
	}
	return evs, calls
}

// GenMTT generates n smart calls, each an o and an h event (JSON).
func GenMTT(seed uint64, n int, start time.Time) []PushEvent {
	r := rand.New(rand.NewPCG(seed, 9))
	evs := make([]PushEvent, 0, 2*n)
	msk := time.FixedZone("MSK", 3*3600)
	for i := range n {
		t := start.Add(time.Duration(i) * time.Second).In(msk)
		id := fmt.Sprintf("%016x", seed<<32+uint64(i))
		num := fmt.Sprintf("79%09d", r.IntN(1e9))
		var b bytes.Buffer
		fmt.Fprintf(&b, `{"date_time": %q, "id": "1255490", "CallID": %q, "event": "o_%s"}`, t.Format("2006-01-02-15-04-05"), id, num)
		evs = append(evs, PushEvent{Body: b.String(), ContentType: "application/json"})
		evs = append(evs, PushEvent{Body: fmt.Sprintf(`{"date_time": %q, "id": "1255490", "CallID": %q, "event": "h_%s_16_%d"}`,
			t.Add(20*time.Second).Format("2006-01-02-15-04-05"), id, num, r.IntN(60)), ContentType: "application/json"})
	}
	return evs
}

// VotBoxItemEvents returns the NotifyUrl notifications VotBox sends for the
// items of tasks as they stand (votbox-api.txt §16, CALLID = item.id):
// CALLOUT for every item dialled, and for a final one STARTCALL when the
// subscriber answered, REDIRECT and CALLPROCESS when an operator was
// connected, and ENDCALL with its durations, jobstatus and costs (kopecks).
// Items never dialled have no events. The events depend only on the
// items, so sending them again sends the same events.
func VotBoxItemEvents(tasks []VotBoxTask, ani string) []PushEvent {
	msk := time.FixedZone("MSK", 3*3600)
	dt := func(t time.Time) string { return url.QueryEscape(t.In(msk).Format("02.01.2006 15:04:05")) }
	var evs []PushEvent
	for _, t := range tasks {
		for _, it := range t.Items {
			if it.CallTime.IsZero() {
				continue
			}
			ev := func(state string, at time.Time, extra string) {
				evs = append(evs, PushEvent{Query: fmt.Sprintf("CALLID=%d&STATE=%s&DT=%s%s", it.ID, state, dt(at), extra)})
			}
			ev("CALLOUT", it.CallTime, "&ANI="+ani+"&DNIS="+it.Phone)
			if !VotBoxFinal(it.JobStatus) {
				continue
			}
			// DialEnd is the ring, the subscriber's and the operator's
			// time after CallTime.
			answered := it.DialEnd.Add(-time.Duration(it.CallDuration+it.OperCallDuration) * time.Second)
			if it.CallDuration > 0 {
				ev("STARTCALL", answered, "")
			}
			if it.OperCallDuration > 0 {
				op := answered.Add(time.Duration(it.CallDuration) * time.Second)
				ev("REDIRECT", op, "&PHONE=74951234500")
				ev("CALLPROCESS", op, "")
			}
			ev("ENDCALL", it.DialEnd, fmt.Sprintf("&CALLDURATION=%d&OPERCALLDURATION=%d&JOBSTATUS=%d&CALLPAY=%d&OPERCALLPAY=%d",
				it.CallDuration, it.OperCallDuration, it.JobStatus, it.CallPayKop, it.OperCallPayKop))
		}
	}
	return evs
}
