package main

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/calletl/calletl/extract/t2"
	"github.com/calletl/calletl/metrics"
	"github.com/calletl/calletl/model"
	"github.com/calletl/calletl/sandbox"
	"github.com/calletl/calletl/transform"
)

// newT2World serves a T2 emulator (Moscow zone, traffic from four days ago
// to tomorrow, callsPerDay records and missedPerDay missed calls a day, with
// faults) and writes a config that loads the last three days of it.
// access and refresh are the pair the config holds.
func newT2World(t *testing.T, callsPerDay, missedPerDay int) (w *world, emu *sandbox.T2, access, refresh string) {
	return newT2WorldWith(t, t2WorldOptions{callsPerDay: callsPerDay, missedPerDay: missedPerDay})
}

// t2WorldOptions vary newT2World.
type t2WorldOptions struct {
	callsPerDay, missedPerDay int
	accessTTL                 time.Duration                  // the emulator's AccessTTL; 0 = its default
	wrap                      func(*sandbox.T2) http.Handler // serves instead of the emulator when set
	extra                     string                         // config text put before sources:
	faults                    *sandbox.Faults                // nil: 503s, 429s and truncated answers
	pageSize                  int                            // 0: 50
}

func newT2WorldWith(t *testing.T, o t2WorldOptions) (w *world, emu *sandbox.T2, access, refresh string) {
	t.Helper()
	now := time.Now()
	today := now.UTC().Truncate(24 * time.Hour)
	emu = sandbox.NewT2(sandbox.T2Config{Seed: 9, From: today.AddDate(0, 0, -4), To: today.AddDate(0, 0, 1),
		CallsPerDay: o.callsPerDay, MissedPerDay: o.missedPerDay, AccessTTL: o.accessTTL, Managers: 4})
	faults := sandbox.Faults{Error5xxEvery: 7, TooManyEvery: 11, RetryAfter: time.Second, TruncateEvery: 13, MaxInARow: 3}
	if o.faults != nil {
		faults = *o.faults
	}
	emu.SetFaults(faults)
	var h http.Handler = emu
	if o.wrap != nil {
		h = o.wrap(emu)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	access, refresh = emu.IssueTokens()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "access"), []byte(access), 0o600)
	os.WriteFile(filepath.Join(dir, "refresh"), []byte(refresh), 0o600)
	from, to := model.Day(now.AddDate(0, 0, -2), msk), model.Day(now, msk)
	cfg := filepath.Join(dir, "etl.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`lake: lake
state: state
timezone: Europe/Moscow
lookback_days: 1
start_date: %s
%ssources:
  t2:
    base_url: %s
    access_token: {file: access}
    refresh_token: {file: refresh}
    page_size: %d
    http: {concurrency: 3, max_attempts: 10, max_retry_after: 1s, base_backoff: 5ms, max_backoff: 50ms}
`, from, o.extra, srv.URL, cmp.Or(o.pageSize, 50))), 0o644)
	return &world{dir: dir, cfg: cfg, from: from, to: to}, emu, access, refresh
}

// T2 through the real CLI in the Moscow business zone: the lake holds
// exactly the emulator's call records plus the missed calls no record
// matches, every missed call once in t2_missed_calls, through faults and
// an access token that expires between runs; a re-run changes nothing.
func TestT2EndToEndGroundTruth(t *testing.T) {
	w, emu, access, refresh := newT2World(t, 300, 40)
	dir, from, to := w.dir, w.from, w.to

	in := func(ts time.Time) bool { d := model.Day(ts, msk); return d >= from && d <= to }
	wantCalls, wantMissed := 0, 0
	for _, c := range emu.Calls() {
		if in(c.Timestamp) {
			wantCalls++
		}
	}
	for _, m := range emu.Missed() {
		if in(m.StartDate) {
			wantMissed++
			if !m.AlsoInCallRecords {
				wantCalls++ // added to calls by the counted-once rule
			}
		}
	}
	if wantCalls < 300 || wantMissed < 30 {
		t.Fatalf("ground truth too small to mean anything: %d calls, %d missed", wantCalls, wantMissed)
	}
	check := func() {
		t.Helper()
		db := duck(t)
		var calls, distinct, missed, details int
		db.QueryRow(`SELECT count(*), count(DISTINCT call_id) FROM `+w.glob("calls")+` WHERE source = 't2'`).Scan(&calls, &distinct)
		db.QueryRow(`SELECT count(*) FROM ` + w.glob("t2_missed_calls")).Scan(&missed)
		db.QueryRow(`SELECT count(*) FROM ` + w.glob("t2_calls")).Scan(&details)
		if calls != wantCalls || distinct != calls || missed != wantMissed {
			t.Errorf("calls %d (distinct %d), want %d; t2_missed_calls %d, want %d; t2_calls %d", calls, distinct, wantCalls, missed, wantMissed, details)
		}
		checkT2Reference(t, w, emu)
	}
	code, _, stderr := w.etl("run")
	if code != exitOK {
		t.Fatalf("etl run: exit %d\n%s", code, stderr)
	}
	check()
	first := w.dump(t)

	emu.ExpireAccessTokens() // the next run must refresh, save, and go on
	prom := filepath.Join(dir, "calletl.prom")
	code, _, stderr = w.etl("run", "--metrics-file", prom)
	if code != exitOK {
		t.Fatalf("second run: exit %d\n%s", code, stderr)
	}
	// The refresh made the token pair new: its age is exported, and small.
	if mfs, err := metrics.ReadFile(prom); err != nil {
		t.Error(err)
	} else if age, ok := gauge(mfs, metrics.T2RefreshTokenAge, map[string]string{"command": "run"}); !ok || age < 0 || age > 3600 {
		t.Errorf("%s = %v (present %v), want the seconds since this run's refresh", metrics.T2RefreshTokenAge, age, ok)
	}
	check()
	if w.dump(t) != first {
		t.Error("re-running changed the rows")
	}
	if emu.Refreshes() < 1 {
		t.Error("no refresh after the access token expired")
	}
	fi, err := os.Stat(filepath.Join(dir, "state", "t2-tokens.json"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("token file: %v %v", fi, err)
	}
	if strings.Contains(stderr, access) || strings.Contains(stderr, refresh) {
		t.Error("a token appears in the output")
	}
	// With the configured (now dead) pair and the token file, check still works.
	if code, out, _ := w.etl("check"); code != exitOK {
		t.Errorf("check after refresh: exit %d\n%s", code, out)
	}
}

// t2Churn serves the emulator while its tokens keep rotating under the
// CLI. The emulator's access tokens live t2.RefreshAhead + 1s, so the
// client finds each pair due within a second of getting it and refreshes
// it ahead of its exp while other requests are in flight with it. On top:
//   - expiries times during the extraction (call records, missed calls,
//     daily statistics), expireEvery requests after the latest refresh,
//     every access token is expired at the server: the client learns it
//     from a 403 "expired";
//   - holds times during the recordings, holdEvery downloads after the
//     start or the end of the previous hold, the request (on its way with
//     the current pair) is held until another request has refreshed that
//     pair, so it reaches the server superseded and gets "The token has
//     already been updated" (unless the emulator's fault injector picks it
//     for a 503 or 429 instead). One hold at a time leaves the client free
//     slots to refresh with.
type t2Churn struct {
	emu                   *sandbox.T2
	expireEvery, expiries int
	holdEvery, holds      int
	hold                  time.Duration // bound on a hold (reached in a failing run only)

	mu           sync.Mutex
	refreshed    chan struct{} // closed and replaced at every refresh
	sinceRefresh int           // extraction requests since the latest refresh
	files        int           // recording downloads
	nextHold     int           // the download to hold next
	holding      bool
	details      map[string]int
	heldAnswers  map[int]int // status → held requests that got it
	expired      int         // expiries done
	held         int         // holds ended by a refresh
	timeouts     int         // holds that ended by timeout
}

func newT2Churn(emu *sandbox.T2) *t2Churn {
	return &t2Churn{emu: emu, expireEvery: 6, expiries: 3, holdEvery: 10, holds: 3, hold: 5 * time.Second,
		refreshed: make(chan struct{}), details: map[string]int{}, heldAnswers: map[int]int{}, nextHold: 10}
}

func (c *t2Churn) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := &sandbox.Recorder{ResponseWriter: w}
	switch path := r.URL.Path; {
	case strings.HasSuffix(path, "/authorization/refresh/token"):
		c.emu.ServeHTTP(rec, r)
		if rec.Status == http.StatusOK {
			c.mu.Lock()
			close(c.refreshed)
			c.refreshed = make(chan struct{})
			c.sinceRefresh = 0
			c.mu.Unlock()
		}
		return
	case strings.HasSuffix(path, "/call-records/file"):
		c.mu.Lock()
		c.files++
		hold := c.files >= c.nextHold && c.held+c.timeouts < c.holds && !c.holding
		c.holding = c.holding || hold
		ch := c.refreshed
		c.mu.Unlock()
		if hold {
			timeout := time.NewTimer(c.hold)
			select {
			case <-ch:
				c.mu.Lock()
				c.held++
				c.mu.Unlock()
			case <-timeout.C:
				c.mu.Lock()
				c.timeouts++
				c.mu.Unlock()
			}
			timeout.Stop()
			c.mu.Lock()
			c.holding = false
			c.nextHold = c.files + c.holdEvery
			c.mu.Unlock()
			r = r.WithContext(context.WithValue(r.Context(), t2HeldKey{}, true))
		}
	case !strings.HasSuffix(path, "/call-records/file/stt"):
		c.mu.Lock()
		c.sinceRefresh++
		if c.sinceRefresh == c.expireEvery && c.expired < c.expiries {
			c.emu.ExpireAccessTokens()
			c.expired++
		}
		c.mu.Unlock()
	}
	c.emu.ServeHTTP(rec, r)
	c.mu.Lock()
	defer c.mu.Unlock()
	if held, _ := r.Context().Value(t2HeldKey{}).(bool); held {
		c.heldAnswers[rec.Status]++
	}
	if d := rec.T2Details(); d != "" {
		c.details[d]++
	}
}

type t2HeldKey struct{}

// T2 tokens under concurrency, through the real CLI with recordings on:
// call records, missed calls, daily statistics, recordings and transcripts
// share one token transport (the streams' client and the recordings'
// client each up to three requests at a time, eight recordings in progress
// at once), while the pair is refreshed many times mid-run
// (ahead of its exp, after a 403 "expired", and with requests in flight
// carrying the pair being replaced). No stream and no recording may fail,
// and the lake and the blob store must hold exactly the emulator's truth.
func TestT2TokensUnderConcurrencyEndToEnd(t *testing.T) {
	var churn *t2Churn
	w, emu, _, _ := newT2WorldWith(t, t2WorldOptions{callsPerDay: 150, missedPerDay: 20,
		accessTTL: t2.RefreshAhead + time.Second,
		wrap:      func(e *sandbox.T2) http.Handler { churn = newT2Churn(e); return churn },
		extra:     "recordings: {local: blobs, concurrency: 8, per_host: 8}\n",
		pageSize:  15,
		// 503s and 429s come before the API rotates anything. No truncated
		// answers: one on a refresh loses the new pair for good (the vendor
		// has rotated), a lockout that TestRefreshAnswerLost covers.
		faults: &sandbox.Faults{Error5xxEvery: 7, TooManyEvery: 41, RetryAfter: time.Second, MaxInARow: 3}})
	in := func(ts time.Time) bool { d := model.Day(ts, msk); return d >= w.from && d <= w.to }
	wantCalls, wantMissed, wantRecorded := 0, 0, 0
	for _, c := range emu.Calls() {
		if in(c.Timestamp) {
			wantCalls++
			if c.RecordFileName != "" {
				wantRecorded++
			}
		}
	}
	for _, m := range emu.Missed() {
		if in(m.StartDate) {
			wantMissed++
			if !m.AlsoInCallRecords {
				wantCalls++
			}
		}
	}
	if wantRecorded < (churn.holds+1)*churn.holdEvery {
		t.Fatalf("%d recorded calls: too few for the holds", wantRecorded)
	}

	code, _, stderr := w.etl("run")
	if code != exitOK {
		t.Fatalf("etl run: exit %d\n%s", code, stderr)
	}
	if strings.Contains(stderr, "did not finish") || strings.Contains(stderr, "authorization failed") {
		t.Errorf("streams failed:\n%s", stderr)
	}
	m := logRecord(t, stderr, "recordings summary")
	if m == nil {
		t.Fatalf("no recordings summary:\n%s", stderr)
	}
	n := func(k string) int { v, _ := m[k].(float64); return int(v) }
	if n("calls") != wantRecorded || n("stored") != wantRecorded || n("missing") != 0 || n("failed") != 0 {
		t.Errorf("recordings: %v; want %d calls, all stored, none missing or failed", m, wantRecorded)
	}
	if _, ok := m["transcripts_failed"]; !ok || n("transcripts_failed") != 0 {
		t.Errorf("transcripts: %v, want none failed\n%s", m, stderr)
	} else if n("transcripts") == 0 {
		t.Errorf("no transcript stored: %v", m)
	}
	mp3 := 0
	filepath.WalkDir(filepath.Join(w.dir, "blobs"), func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".mp3") {
			mp3++
		}
		return nil
	})
	if mp3 != wantRecorded {
		t.Errorf("%d recordings in the store, want %d", mp3, wantRecorded)
	}

	db := duck(t)
	var calls, distinct, missed int
	db.QueryRow(`SELECT count(*), count(DISTINCT call_id) FROM `+w.glob("calls")+` WHERE source = 't2'`).Scan(&calls, &distinct)
	db.QueryRow(`SELECT count(*) FROM ` + w.glob("t2_missed_calls")).Scan(&missed)
	if calls != wantCalls || distinct != calls || missed != wantMissed {
		t.Errorf("calls %d (distinct %d), want %d; t2_missed_calls %d, want %d", calls, distinct, wantCalls, missed, wantMissed)
	}

	churn.mu.Lock()
	defer churn.mu.Unlock()
	if churn.expired != churn.expiries || churn.held != churn.holds || churn.timeouts != 0 {
		t.Errorf("expiries %d of %d, holds ended by a refresh %d of %d (%d timed out)", churn.expired, churn.expiries, churn.held, churn.holds, churn.timeouts)
	}
	if churn.heldAnswers[http.StatusOK] != 0 {
		t.Errorf("held requests answered %v: a request held until its pair was refreshed was served", churn.heldAnswers)
	}
	if churn.details["The token has already been updated"] == 0 || churn.details["The token is expired"] == 0 {
		t.Errorf("403 answers %v: want both \"already updated\" and \"expired\"", churn.details)
	}
	if r := emu.Refreshes(); r < int(churn.expiries+churn.holds) {
		t.Errorf("%d refreshes, want at least %d", r, churn.expiries+churn.holds)
	}
	t.Logf("%d calls, %d recordings; %d refreshes; 403s %v; held requests answered %v", wantCalls, wantRecorded, emu.Refreshes(), churn.details, churn.heldAnswers)
}

// checkT2Reference: t2_journal and t2_employee_stats hold one row per
// employee number and day of the run, with the counts of the emulator's
// call records involving that number that day (business zone); t2_managers
// holds the run day's snapshot: every valid customer of every manager, and
// a row for the manager without customers; the document's placeholder
// customer is the one managers reject.
func checkT2Reference(t *testing.T, w *world, emu *sandbox.T2) {
	t.Helper()
	db := duck(t)
	want := map[string]string{}
	for d := w.from; d <= w.to; d = nextDay(d) {
		start, _ := time.ParseInLocation(model.DayLayout, d, msk)
		end := start.AddDate(0, 0, 1)
		for _, e := range emu.EmployeeList() {
			calls, ok := 0, 0
			for _, c := range emu.Calls() {
				if !c.Timestamp.Before(start) && c.Timestamp.Before(end) && sandbox.T2Involves(&c, e.FullNumber) {
					calls++
					if c.Answered() {
						ok++
					}
				}
			}
			want[fmt.Sprintf("%s %s %s", d, e.FullNumber, e.EmployeeID)] = fmt.Sprintf("%d %d %d %d", calls, ok, calls, ok)
		}
	}
	rows, err := db.Query(`WITH j AS (SELECT * FROM ` + w.glob("t2_journal") + `), s AS (SELECT * FROM ` + w.glob("t2_employee_stats") + `)
		SELECT strftime(coalesce(j.date, s.date), '%Y-%m-%d'), coalesce(j.number, s.number), coalesce(j.employee_id, s.employee_id),
			j.number_of_calls, j.number_of_success_calls, s.all_call_count, s.success_call_count
		FROM j FULL JOIN s ON j.date = s.date AND j.number = s.number`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	got := map[string]string{}
	for rows.Next() {
		var day, number string
		var id, calls, ok, all, success sql.NullInt64
		if err := rows.Scan(&day, &number, &id, &calls, &ok, &all, &success); err != nil {
			t.Fatal(err)
		}
		k := fmt.Sprintf("%s %s %d", day, number, id.Int64)
		if _, dup := got[k]; dup {
			t.Errorf("journal/employee stats: %s twice", k)
		}
		got[k] = fmt.Sprintf("%d %d %d %d", calls.Int64, ok.Int64, all.Int64, success.Int64)
	}
	if len(want) < 30 || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("t2_journal ⋈ t2_employee_stats per day and number:\n got %v\nwant %v", got, want)
	}

	wantManagers, wantVIP, placeholder := 0, 0, 0
	for _, m := range emu.ManagerList() {
		if len(m.Customers) == 0 {
			wantManagers++
		}
		for _, c := range m.Customers {
			switch {
			case c.Bad:
				placeholder++
			case c.IsVip:
				wantVIP++
				fallthrough
			default:
				wantManagers++
			}
		}
	}
	var managers, vip, dates, rejects int
	db.QueryRow(`SELECT count(*), count(*) FILTER (WHERE is_vip), count(DISTINCT date) FROM `+w.glob("t2_managers")).Scan(&managers, &vip, &dates)
	db.QueryRow(`SELECT count(*) FROM ` + w.glob("rejects") + ` WHERE source = 't2' AND endpoint = 'managers'`).Scan(&rejects)
	if managers != wantManagers || vip != wantVIP || dates != 1 || rejects != placeholder || wantVIP == 0 {
		t.Errorf("t2_managers: %d rows (%d VIP) on %d days, %d rejects; want %d (%d VIP) on one, %d rejects",
			managers, vip, dates, rejects, wantManagers, wantVIP, placeholder)
	}
}

// nextDay is the day after d (YYYY-MM-DD).
func nextDay(d string) string {
	t, _ := time.Parse(model.DayLayout, d)
	return t.AddDate(0, 0, 1).Format(model.DayLayout)
}

// t2Customer is one customer of the managers' reference as the reports
// see it: its manager (the lowest id listing it) and VIP flag.
type t2Customer struct {
	manager int64
	name    string
	vip     bool
}

// t2Customers maps the managers' customers' numbers (E.164) to their
// manager, as queries/reference.sql does.
func t2Customers(emu *sandbox.T2) map[string]t2Customer {
	out := map[string]t2Customer{}
	ms := emu.ManagerList()
	slices.SortFunc(ms, func(a, b sandbox.T2Manager) int { return cmp.Compare(a.ID, b.ID) })
	for _, m := range ms {
		cs := slices.Clone(m.Customers)
		slices.SortFunc(cs, func(a, b sandbox.T2Customer) int { return cmp.Compare(a.ID, b.ID) })
		for _, c := range cs {
			n := transform.Phone(c.RealNumber)
			if _, ok := out[n]; ok || c.Bad || n == "" {
				continue
			}
			out[n] = t2Customer{m.ID, m.Name, c.IsVip}
		}
	}
	return out
}

// The reference report and the README's "missed calls from VIP customers"
// query over the lake a run wrote equal figures computed from the
// emulator's ground truth: every call record and every missed call that
// no call record matches, joined to the managers' customers by number.
func TestT2ReferenceQueriesEqualGroundTruth(t *testing.T) {
	w, emu, _, _ := newT2World(t, 250, 60)
	if code, _, stderr := w.etl("run"); code != exitOK {
		t.Fatalf("etl run: exit %d\n%s", code, stderr)
	}
	customers := t2Customers(emu)
	type call struct {
		day, direction, party string
		talk                  int
		at                    time.Time
	}
	var calls []call
	for _, c := range emu.Calls() {
		talk := sql.Null[int32]{V: int32(c.ConversationDuration), Valid: c.ConversationDuration >= 0}
		dir := t2.Direction(c.CallType, t2.Answered(c.CallStatus, talk))
		party := transform.Phone(c.CallerNumber)
		if dir == model.Outgoing {
			party = transform.Phone(cmp.Or(c.CalleeNumber, c.DestinationNumber))
		}
		calls = append(calls, call{model.Day(c.Timestamp, msk), dir, party, max(c.ConversationDuration, 0), c.Timestamp})
	}
	for _, m := range emu.Missed() {
		if !m.AlsoInCallRecords {
			calls = append(calls, call{model.Day(m.StartDate, msk), model.Missed, transform.Phone(m.CallerNumber), 0, m.StartDate})
		}
	}
	type agg struct {
		name                                              string
		customers                                         map[string]bool
		calls, incoming, outgoing, answered, missed, talk int64
	}
	groups := map[string]*agg{}
	var vipMissed []string
	for _, c := range calls {
		cu, ok := customers[c.party]
		if !ok || c.day < w.from || c.day > w.to || c.direction == model.Internal {
			continue
		}
		k := fmt.Sprintf("%s/%d/%v", c.day, cu.manager, cu.vip)
		g := groups[k]
		if g == nil {
			g = &agg{name: cu.name, customers: map[string]bool{}}
			groups[k] = g
		}
		g.customers[c.party] = true
		g.calls++
		if c.direction == model.Outgoing {
			g.outgoing++
		} else {
			g.incoming++
		}
		if c.talk > 0 {
			g.answered++
		}
		if c.direction == model.Missed {
			g.missed++
			if cu.vip {
				vipMissed = append(vipMissed, c.at.UTC().Format(time.RFC3339)+" "+c.party)
			}
		}
		g.talk += int64(c.talk)
	}
	want := map[string]figures{}
	for k, g := range groups {
		want[k] = figures{"manager_name": g.name, "customers": fmt.Sprint(len(g.customers)), "calls": fmt.Sprint(g.calls),
			"incoming": fmt.Sprint(g.incoming), "outgoing": fmt.Sprint(g.outgoing), "answered": fmt.Sprint(g.answered),
			"missed": fmt.Sprint(g.missed), "talk_min": minutes(g.talk)}
	}
	rows := map[string]figures{}
	for _, r := range w.reportRows(t, "reference", "--from", w.from, "--to", w.to) {
		f := got(t, r, []string{"date", "manager_id", "manager_name", "vip", "customers", "calls", "incoming", "outgoing", "answered", "missed", "talk_min"})
		rows[f["date"]+"/"+f["manager_id"]+"/"+f["vip"]] = f
		for _, c := range []string{"date", "manager_id", "vip"} {
			delete(f, c)
		}
	}
	compare(t, "reference", rows, want)
	missed := 0
	for _, g := range groups {
		missed += int(g.missed)
	}
	if missed == 0 || len(vipMissed) == 0 {
		t.Fatalf("the ground truth has %d missed calls of customers, %d of VIP ones: too small to mean anything", missed, len(vipMissed))
	}
	// vip=true keeps the VIP rows only.
	for _, r := range w.reportRows(t, "reference", "--param", "vip=true") {
		if r["vip"] != true {
			t.Errorf("reference --vip true: row %v", r)
		}
	}

	// The README's one query for "missed calls from VIP customers".
	code, out, stderr := w.etl("sql", "--format", "csv", t2VIPMissedQuery)
	if code != exitOK {
		t.Fatalf("etl sql: exit %d\n%s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")[1:]
	var gotMissed []string
	for _, l := range lines {
		f := strings.Split(l, ",")
		at, err := time.Parse(time.RFC3339Nano, f[0])
		if err != nil {
			t.Fatalf("started_at %q: %v", f[0], err)
		}
		if d := model.Day(at, msk); d >= w.from && d <= w.to {
			gotMissed = append(gotMissed, at.UTC().Truncate(time.Second).Format(time.RFC3339)+" "+f[1])
		}
	}
	slices.Sort(gotMissed)
	slices.Sort(vipMissed)
	if !slices.Equal(gotMissed, vipMissed) {
		t.Errorf("missed calls from VIP customers:\n got %v\nwant %v", gotMissed, vipMissed)
	}
	t.Logf("reference: %d rows (day, manager, vip), %d missed calls of customers, %d from VIP ones", len(want), missed, len(vipMissed))
}

// t2VIPMissedQuery is the README's query: missed calls from VIP customers,
// with their company and manager, from the latest managers snapshot.
const t2VIPMissedQuery = `SELECT c.started_at, c.caller, m.company_name, m.manager_name
FROM calls c
JOIN t2_managers m ON m.customer_number = c.caller
WHERE c.source = 't2' AND c.direction = 'missed' AND m.is_vip
  AND m.date = (SELECT max(date) FROM t2_managers)
ORDER BY c.started_at`
