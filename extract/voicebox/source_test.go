package voicebox

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/calletl/calletl/extract/httpx"
	"github.com/calletl/calletl/extract/sourcetest"
	"github.com/calletl/calletl/load"
	"github.com/calletl/calletl/model"
	"github.com/calletl/calletl/pipeline"
	"github.com/calletl/calletl/report"
	"github.com/calletl/calletl/sandbox"
	"github.com/calletl/calletl/secret"
	"github.com/calletl/calletl/state"
)

// The end-to-end scenario: three customers, calls on 17–20 November 2026
// (Moscow), a nightly run on the 21st from StartDay the 16th.
var (
	e2eCustomers = []string{"1001", "1002", "1003"}
	e2eStart     = time.Date(2026, 11, 17, 0, 0, 0, 0, Moscow)
	e2eNow       = time.Date(2026, 11, 21, 9, 0, 0, 0, Moscow)
	e2eRunDay    = "2026-11-21"
)

type e2e struct {
	emu  *sandbox.VoiceBox
	base string
	lake *load.Lake
	dir  string
	logs *sourcetest.SyncBuffer
	log  *slog.Logger
}

func newE2E(t *testing.T) *e2e { return newE2EWith(t, nil) }

// newE2EWith is newE2E with the emulator's config changed by mod.
func newE2EWith(t *testing.T, mod func(*sandbox.VoiceBoxConfig)) *e2e {
	t.Helper()
	cfg := sandbox.VoiceBoxConfig{
		Customers: e2eCustomers, CallsPerDay: 40, Days: 4, BadRowsPerDay: 2, Seed: 11, Start: e2eStart,
	}
	if mod != nil {
		mod(&cfg)
	}
	emu, base := emulator(t, cfg)
	dir := t.TempDir()
	lake, err := load.Open(filepath.Join(dir, "lake"), load.Options{})
	if err != nil {
		t.Fatal(err)
	}
	logs := &sourcetest.SyncBuffer{}
	return &e2e{emu: emu, base: base, lake: lake, dir: dir, logs: logs,
		log: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
}

func (e *e2e) source(t *testing.T, mod func(*Config)) *Source {
	t.Helper()
	cfg := testConfig(e.base)
	cfg.Customers = e2eCustomers
	cfg.PageSize = 25
	cfg.HTTP = httpx.Config{Concurrency: 3, MaxAttempts: 8, Sleep: noSleep}
	if mod != nil {
		mod(&cfg)
	}
	return NewSource(newClient(t, cfg, e.log))
}

// run runs the pipeline with the state in dir/<stateDir>.
func (e *e2e) run(t *testing.T, src pipeline.Source, stateDir string) *pipeline.Summary {
	t.Helper()
	st, err := state.Open(filepath.Join(e.dir, stateDir))
	if err != nil {
		t.Fatal(err)
	}
	p := pipeline.New(pipeline.Config{Lake: e.lake, State: st, Location: Moscow, LookbackDays: 1,
		StartDay: "2026-11-16", Now: func() time.Time { return e2eNow }, Logger: e.log})
	sum, err := p.Run(context.Background(), []pipeline.Source{src})
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

// query reads the lake with DuckDB.
func (e *e2e) query(t *testing.T, sql string) [][]any {
	t.Helper()
	eng, err := report.Open(context.Background(), report.Options{Lake: e.lake.Root(), TimeZone: "Europe/Moscow",
		Tables: append(load.CanonicalTables(), Tables()...)})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	res, err := eng.Query(context.Background(), report.Report{Name: "t", SQL: sql}, nil)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return res.Rows
}

// text renders rows one line each, values joined by " | ".
func text(rows [][]any) string {
	var b strings.Builder
	for _, r := range rows {
		for i, v := range r {
			if i > 0 {
				b.WriteString(" | ")
			}
			fmt.Fprint(&b, v)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// wantPerDay is the emulator's truth per customer and day: calls, priced
// calls and the sum of cost in kopecks.
func (e *e2e) wantPerDay() string {
	type agg struct{ n, priced, kop int64 }
	m := map[[2]string]*agg{}
	for _, cust := range e2eCustomers {
		for _, c := range e.emu.Calls(cust) {
			k := [2]string{cust, model.Day(c.Start, Moscow)}
			if m[k] == nil {
				m[k] = &agg{}
			}
			m[k].n++
			if c.HasCost {
				m[k].priced++
				m[k].kop += c.CostKopecks
			}
		}
	}
	var lines []string
	for k, a := range m {
		lines = append(lines, fmt.Sprintf("%s | %s | %d | %d | %d", k[0], k[1], a.n, a.priced, a.kop))
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n") + "\n"
}

// wantCalls lists customer | call_id | direction | raw of the truth.
func (e *e2e) wantCalls() string {
	var lines []string
	for _, cust := range e2eCustomers {
		for _, c := range e.emu.Calls(cust) {
			id := c.ID
			if id == "" {
				id = HashID([]byte(c.Raw))
			}
			dir := model.Autocall
			if c.Direction == sandbox.VoiceBoxIncoming {
				dir = model.Incoming
			}
			lines = append(lines, cust+" | "+id+" | "+dir+" | "+c.Raw)
		}
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n") + "\n"
}

// wantRejects lists account | date | reason kind | raw of the bad rows.
func (e *e2e) wantRejects() string {
	var lines []string
	for _, cust := range e2eCustomers {
		for _, b := range e.emu.BadRows(cust) {
			day, kind := b.Day, "cost"
			if day == "" {
				day, kind = e2eRunDay, "startTime"
			}
			lines = append(lines, cust+" | "+day+" | "+kind+" | "+b.Raw)
		}
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n") + "\n"
}

// check compares the lake with the emulator's truth; runs is the number of
// runs so far (one balance row per customer each).
func (e *e2e) check(t *testing.T, runs int) {
	t.Helper()
	perDay := `SELECT account, CAST(date AS VARCHAR), count(*), count(cost), CAST(coalesce(sum(cost), 0) * 100 AS BIGINT)
		FROM calls WHERE source = 'voicebox' GROUP BY ALL ORDER BY ALL`
	if got, want := text(e.query(t, perDay)), e.wantPerDay(); got != want {
		t.Errorf("calls per day:\n%s\nwant\n%s", got, want)
	}
	detail := strings.NewReplacer("FROM calls WHERE source = 'voicebox'", "FROM voicebox_calls", "account", "customer_id").Replace(perDay)
	if got, want := text(e.query(t, detail)), e.wantPerDay(); got != want {
		t.Errorf("voicebox_calls per day:\n%s\nwant\n%s", got, want)
	}
	got := text(e.query(t, `SELECT customer_id || ' | ' || call_id || ' | ' || direction || ' | ' || raw FROM voicebox_calls ORDER BY 1`))
	if want := e.wantCalls(); got != want {
		t.Errorf("voicebox_calls rows differ from the emulator's (%d vs %d lines)", strings.Count(got, "\n"), strings.Count(want, "\n"))
	}
	// calls and voicebox_calls hold the same calls, same day and start.
	if r := e.query(t, `SELECT count(*) FROM calls c FULL JOIN voicebox_calls v
			ON c.account = v.customer_id AND c.call_id = v.call_id AND c.date = v.date AND c.started_at = v.started_at
			WHERE c.source = 'voicebox' AND (c.call_id IS NULL OR v.call_id IS NULL)`); r[0][0] != int64(0) {
		t.Errorf("calls and voicebox_calls differ in %v rows", r[0][0])
	}
	got = text(e.query(t, `SELECT account || ' | ' || CAST(date AS VARCHAR) || ' | ' ||
			CASE WHEN reason LIKE 'startTime%' THEN 'startTime' WHEN reason LIKE 'cost%' THEN 'cost' ELSE reason END || ' | ' || raw
		FROM rejects WHERE source = 'voicebox' AND endpoint = 'GET /customers/{id}/callhistory' AND stream = 'callhistory'
		ORDER BY 1`))
	if want := e.wantRejects(); got != want {
		t.Errorf("rejects:\n%s\nwant\n%s", got, want)
	}
	var wantBal []string
	for _, cust := range e2eCustomers {
		wantBal = append(wantBal, fmt.Sprintf("%s | %d | RUB | %d", cust, e.emu.Balance(cust), runs))
	}
	if got := text(e.query(t, `SELECT account, CAST(balance * 100 AS BIGINT), currency, count(*) FROM balances
			WHERE source = 'voicebox' GROUP BY ALL ORDER BY ALL`)); got != strings.Join(wantBal, "\n")+"\n" {
		t.Errorf("balances:\n%s", got)
	}
	var wantCamp []string
	for _, cust := range e2eCustomers {
		listed, withCalls := 0, map[int64]bool{}
		for _, c := range e.emu.Campaigns(cust) {
			if !c.Deleted {
				listed++
			}
		}
		for _, c := range e.emu.Calls(cust) {
			withCalls[c.CampaignID] = true
		}
		wantCamp = append(wantCamp, fmt.Sprintf("%s | %s | callhistory | %d", cust, e2eRunDay, len(withCalls)),
			fmt.Sprintf("%s | %s | campaigns | %d", cust, e2eRunDay, listed))
	}
	if got := text(e.query(t, `SELECT customer_id, CAST(date AS VARCHAR), listed_in, count(*) FROM voicebox_campaigns
			GROUP BY ALL ORDER BY ALL`)); got != strings.Join(wantCamp, "\n")+"\n" {
		t.Errorf("campaigns:\n%s\nwant\n%s", got, strings.Join(wantCamp, "\n"))
	}
	e.checkNumbers(t)
}

// checkNumbers compares voicebox_numbers and voicebox_customers with the
// emulator's truth: every number once on the run's day with its fee to the
// kopeck and its rows as served; one customer row each, without the
// credentials the API hands out.
func (e *e2e) checkNumbers(t *testing.T) {
	t.Helper()
	var want, wantCust []string
	for _, cust := range e2eCustomers {
		for _, n := range e.emu.Numbers(cust) {
			want = append(want, fmt.Sprintf("%s | %s | %s | %s | %d | %s | RUB | %s | %s", cust, e2eRunDay, n.ID, n.Number,
				n.FeeKopecks, n.FeeWire, n.Raw, n.PriceRaw))
		}
		c := e.emu.Customer(cust)
		wantCust = append(wantCust, fmt.Sprintf("%s | %s | %s | %s | %s | %s", cust, e2eRunDay, c.ID, c.Name, c.PersonalAccount, c.Status))
	}
	slices.Sort(want)
	if got := text(e.query(t, `SELECT customer_id || ' | ' || CAST(date AS VARCHAR) || ' | ' || number_id || ' | ' || number || ' | ' ||
			CAST(monthly_fee * 100 AS BIGINT) || ' | ' || fee_raw || ' | ' || currency || ' | ' || raw || ' | ' || price_raw
			FROM voicebox_numbers ORDER BY 1`)); got != strings.Join(want, "\n")+"\n" {
		t.Errorf("voicebox_numbers:\n%s\nwant\n%s", got, strings.Join(want, "\n"))
	}
	if got := text(e.query(t, `SELECT customer_id || ' | ' || CAST(date AS VARCHAR) || ' | ' || id || ' | ' || name || ' | ' ||
			personal_account || ' | ' || status FROM voicebox_customers ORDER BY 1`)); got != strings.Join(wantCust, "\n")+"\n" {
		t.Errorf("voicebox_customers:\n%s\nwant\n%s", got, strings.Join(wantCust, "\n"))
	}
	raws := text(e.query(t, `SELECT raw FROM voicebox_customers ORDER BY 1`))
	for _, sec := range e.emu.CustomerSecrets() {
		if strings.Contains(raws, sec) {
			t.Errorf("a customer's password is in voicebox_customers.raw: %s", raws)
		}
	}
	if !strings.Contains(raws, `"personalAccount"`) || strings.Contains(raws, `"password`) {
		t.Errorf("customer raw: %s", raws)
	}
}

// TestE2E: a nightly run through the pipeline loads exactly the emulator's
// truth; a second run (lookback) and a run from scratch change nothing; the
// whole history is read once per customer per run.
func TestE2E(t *testing.T) {
	e := newE2E(t)
	src := e.source(t, nil)
	sum := e.run(t, src, "state")
	if err := sum.Err(); err != nil {
		t.Fatal(err)
	}
	windows, c := sum.Totals()
	if windows != 6*3 {
		t.Fatalf("%d windows, want 18", windows)
	}
	var good, bad int
	pages := 0
	for _, cust := range e2eCustomers {
		good += len(e.emu.Calls(cust))
		bad += len(e.emu.BadRows(cust))
		pages += (len(e.emu.Calls(cust)) + len(e.emu.BadRows(cust)) + 24) / 25
	}
	numbers := 0
	for _, cust := range e2eCustomers {
		numbers += len(e.emu.Numbers(cust))
	}
	if c.Rows != int64(good)+3 /* balances */ +int64(len(e2eCustomers))*(9 /* campaigns */ +1 /* customer */)+int64(numbers) || c.Rejects != int64(bad) {
		t.Errorf("counts %+v, want %d calls and %d rejects", c, good, bad)
	}
	if n := e.emu.Requests()["callhistory"]; n != pages {
		t.Errorf("%d callhistory requests, want %d: one scan per customer per run", n, pages)
	}
	e.check(t, 1)

	// The next run re-extracts the lookback days from its cursor.
	e.run(t, e.source(t, nil), "state")
	e.check(t, 2)
	// A run from scratch re-extracts every day: same rows, no duplicates.
	e.run(t, e.source(t, nil), "state-fresh")
	e.check(t, 3)
	if e.emu.PasswordGrants() != 3 {
		t.Errorf("%d password grants for 3 runs", e.emu.PasswordGrants())
	}
}

// TestNumberIDs: the price path's {number_id} is, by the document, an
// integer id the numbers list does not show. A server that lists an "id"
// per number is priced by it; one that prices by an id it never lists
// fails the customer's snapshot with an error that says so — after writing the
// numbers with NULL fees — instead of leaving cost_reconciliation silently
// without VoiceBox fees; the calls are loaded either way.
func TestNumberIDs(t *testing.T) {
	t.Run("listed", func(t *testing.T) {
		e := newE2EWith(t, func(c *sandbox.VoiceBoxConfig) { c.NumberIDs = sandbox.VoiceBoxIDListed })
		if err := e.run(t, e.source(t, nil), "state").Err(); err != nil {
			t.Fatal(err)
		}
		for _, n := range e.emu.Numbers(e2eCustomers[0]) {
			if n.ID == n.Number || !strings.HasPrefix(n.Raw, `{"id":`+n.ID+`,`) {
				t.Fatalf("the emulator lists no separate id: %+v", n)
			}
		}
		e.check(t, 1)
	})
	t.Run("unlisted", func(t *testing.T) {
		e := newE2EWith(t, func(c *sandbox.VoiceBoxConfig) { c.NumberIDs = sandbox.VoiceBoxIDUnlisted })
		err := e.run(t, e.source(t, nil), "state").Err()
		if err == nil {
			t.Fatal("the run succeeded without a single price")
		}
		numbers := 0
		for _, cust := range e2eCustomers {
			numbers += len(e.emu.Numbers(cust))
			want := "customer " + cust + ": all " + fmt.Sprint(len(e.emu.Numbers(cust))) +
				" numbers answered HTTP 404 to GET /customers/{id}/numbers/{number_id}/price"
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not say %q", err, want)
			}
		}
		if got := text(e.query(t, `SELECT count(*), count(monthly_fee), count(DISTINCT number) FROM voicebox_numbers`)); got != fmt.Sprintf("%d | 0 | %d\n", numbers, numbers) {
			t.Errorf("voicebox_numbers count, fees, numbers: %s, want every number once without a fee", got)
		}
		if got, want := text(e.query(t, `SELECT account, CAST(date AS VARCHAR), count(*), count(cost), CAST(coalesce(sum(cost), 0) * 100 AS BIGINT)
				FROM calls WHERE source = 'voicebox' GROUP BY ALL ORDER BY ALL`)), e.wantPerDay(); got != want {
			t.Errorf("calls per day:\n%s\nwant\n%s", got, want)
		}
	})
}

// TestE2EUnknownTotal: a server that caps its pages at 7 rows (the client
// asks 25) and names no total ("numbers 0-6/*") is read to its 416: the
// lake holds every row, not the first page of each list.
func TestE2EUnknownTotal(t *testing.T) {
	e := newE2EWith(t, func(c *sandbox.VoiceBoxConfig) { c.MaxPageSize, c.UnknownTotal = 7, true })
	sum := e.run(t, e.source(t, nil), "state")
	if err := sum.Err(); err != nil {
		t.Fatal(err)
	}
	e.check(t, 1)
	pages := 0
	for _, cust := range e2eCustomers {
		pages += (len(e.emu.Calls(cust))+len(e.emu.BadRows(cust))+6)/7 + 1 // and the 416
	}
	if n := e.emu.Requests()["callhistory"]; n != pages {
		t.Errorf("%d callhistory requests, want %d: pages of 7 rows, then a 416, once per customer", n, pages)
	}
}

// TestE2EUnprovenListFails: a server that answers 416 in the middle of a
// list whose total it named (rows 25.. are never served) fails the
// customer's stream loudly, naming the source, the endpoint and the range,
// and writes none of its days; the other customers load.
func TestE2EUnprovenListFails(t *testing.T) {
	e := newE2E(t)
	inner := e.base
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/customers/1002/callhistory" && r.Header.Get("Range") == "numbers=25-49" {
			w.Header().Set("Content-Range", "numbers */"+strconv.Itoa(len(e.emu.Calls("1002"))+len(e.emu.BadRows("1002"))))
			w.WriteHeader(http.StatusRequestedRangeNotSatisfiable)
			return
		}
		proxy(t, w, r, inner+r.URL.Path)
	}))
	t.Cleanup(srv.Close)
	e.base = srv.URL
	sum := e.run(t, e.source(t, nil), "state")
	failed := sum.Failed()
	if len(failed) == 0 {
		t.Fatal("the run succeeded with rows 25.. of customer 1002 never read")
	}
	for _, f := range failed {
		if f.Account != "1002" || !strings.Contains(f.Error, "voicebox: GET /customers/1002/callhistory numbers=25-49: answered 416") ||
			!strings.Contains(f.Error, "at row 25 of a list of") {
			t.Errorf("failed stream %s/%s: %s", f.Stream, f.Account, f.Error)
		}
	}
	if got := text(e.query(t, `SELECT DISTINCT account FROM calls WHERE source = 'voicebox' ORDER BY 1`)); got != "1001\n1003\n" {
		t.Errorf("customers in calls:\n%s", got)
	}
}

// proxy forwards r to url and copies the answer back.
func proxy(t *testing.T, w http.ResponseWriter, r *http.Request, url string) {
	req, err := http.NewRequestWithContext(r.Context(), r.Method, url, r.Body)
	if err != nil {
		t.Error(err)
		return
	}
	req.Header = r.Header.Clone()
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = io.Copy(w, resp.Body)
}

// TestE2EFaults: 5xx, 429 with Retry-After, truncated and malformed bodies,
// on the API and the token endpoint alike, change nothing.
func TestE2EFaults(t *testing.T) {
	e := newE2E(t)
	e.emu.SetFaults(sandbox.Faults{Error5xxEvery: 5, TooManyEvery: 7, RetryAfter: time.Second, TruncateEvery: 11, MalformedEvery: 13, MaxInARow: 3})
	sum := e.run(t, e.source(t, nil), "state")
	if err := sum.Err(); err != nil {
		t.Fatal(err)
	}
	fc := e.emu.FaultInjector().Counts()
	if fc.Error5xx == 0 || fc.TooMany == 0 || fc.Truncate == 0 || fc.Malformed == 0 {
		t.Fatalf("faults %+v", fc)
	}
	e.check(t, 1)
	if !strings.Contains(e.logs.String(), "retrying request") {
		t.Error("no retry was logged")
	}
}

// TestE2ETokenTrouble: tokens expiring by the server's clock between runs
// and revoked in the middle of a run are renewed; the run loads everything.
func TestE2ETokenTrouble(t *testing.T) {
	e := newE2E(t)
	src := e.source(t, nil)
	if err := src.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	e.emu.Advance(2 * time.Hour) // the token from Ping is dead by the server's clock
	revoked := false
	e.emu.SetFaults(sandbox.Faults{})
	sum := e.run(t, &revokingSource{Source: src, revoke: func() {
		if !revoked {
			revoked = true
			e.emu.RevokeTokens()
		}
	}}, "state")
	if err := sum.Err(); err != nil {
		t.Fatal(err)
	}
	e.check(t, 1)
	if e.emu.RefreshGrants() < 1 || e.emu.PasswordGrants() != 2 || e.emu.Unauthorized() < 2 {
		t.Fatalf("refresh %d password %d 401 %d", e.emu.RefreshGrants(), e.emu.PasswordGrants(), e.emu.Unauthorized())
	}
}

// revokingSource revokes the emulator's tokens before the second window.
type revokingSource struct {
	*Source
	mu     sync.Mutex
	n      int
	revoke func()
}

func (r *revokingSource) Extract(ctx context.Context, key model.StreamKey, w model.Window, sink *pipeline.Sink) (int64, error) {
	r.mu.Lock()
	r.n++
	if r.n == 2 {
		r.revoke()
	}
	r.mu.Unlock()
	return r.Source.Extract(ctx, key, w, sink)
}

// TestSecretsNeverLeak: after a faulty run, a run with a refused password
// and a run with a refused client secret, no secret or token appears in the
// logs, the run summaries or any lake table.
func TestSecretsNeverLeak(t *testing.T) {
	e := newE2E(t)
	e.emu.SetFaults(sandbox.Faults{Error5xxEvery: 4, TruncateEvery: 9, MaxInARow: 3})
	var errs []string
	if err := e.run(t, e.source(t, nil), "s1").Err(); err != nil {
		t.Fatal(err)
	}
	for i, mod := range []func(*Config){
		func(c *Config) { c.Password = secret.New("wrong-Passw0rd-xyz") },
		func(c *Config) { c.ClientSecret = secret.New("wrong-client-secret-xyz") },
	} {
		sum := e.run(t, e.source(t, mod), fmt.Sprintf("bad%d", i))
		err := sum.Err()
		if err == nil || !strings.Contains(err.Error(), "authorization failed") {
			t.Fatalf("bad credentials %d: %v", i, err)
		}
		errs = append(errs, err.Error())
	}
	secrets := append([]string{sandbox.VoiceBoxDefaultClientSecret, sandbox.VoiceBoxDefaultPassword,
		"wrong-Passw0rd-xyz", "wrong-client-secret-xyz"}, e.emu.IssuedTokens()...)
	if len(secrets) < 6 {
		t.Fatalf("only %d secrets to look for", len(secrets))
	}
	var lake strings.Builder
	for _, table := range []string{"calls", "voicebox_calls", "rejects", "runs", "balances", "voicebox_campaigns"} {
		lake.WriteString(text(e.query(t, "SELECT * FROM "+table)))
	}
	if !strings.Contains(lake.String(), "check username and password") {
		t.Fatal("the runs table does not hold the auth error: the check would be empty")
	}
	for _, s := range secrets {
		for where, txt := range map[string]string{"logs": e.logs.String(), "errors": strings.Join(errs, "\n"), "lake": lake.String()} {
			if strings.Contains(txt, s) {
				t.Errorf("%q appears in the %s", s, where)
			}
		}
	}
}

// TestExtractCache drives Extract directly: one history scan serves a
// run's windows; a new run, an earlier day or a day taken already scan
// again; customers run concurrently.
func TestExtractCache(t *testing.T) {
	e := newE2E(t)
	src := e.source(t, nil)
	run := model.Run{ID: "r1", Mode: "run", StartedAt: e2eNow, Location: Moscow}
	scans := func() int { return e.emu.Requests()["callhistory"] }
	extract := func(cust, day string, run model.Run) model.Counts {
		t.Helper()
		key := model.StreamKey{Source: Name, Stream: Stream, Account: cust}
		w, _ := model.DayWindow(day, Moscow)
		n, err := pipeline.ExtractWindow(context.Background(), e.lake, src, key, w, run)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	perDay := map[string]int64{}
	for _, c := range e.emu.Calls("1001") {
		perDay[model.Day(c.Start, Moscow)]++
	}
	first := extract("1001", "2026-11-18", run)
	one := scans()
	if first.Pages == 0 || first.Rows != perDay["2026-11-18"] {
		t.Fatalf("first window %+v", first)
	}
	if n := extract("1001", "2026-11-19", run); n.Pages != 0 || n.Rows != perDay["2026-11-19"] || scans() != one {
		t.Fatalf("second window %+v, %d scans", n, scans())
	}
	if n := extract("1001", "2026-11-17", run); n.Pages == 0 || n.Rows != perDay["2026-11-17"] || scans() != 2*one {
		t.Fatalf("earlier day %+v", n)
	}
	if n := extract("1001", "2026-11-17", run); n.Pages == 0 || n.Rows != perDay["2026-11-17"] {
		t.Fatalf("same day again %+v", n)
	}
	run2 := run
	run2.ID = "r2"
	before := scans()
	if n := extract("1001", "2026-11-20", run2); n.Pages == 0 || n.Rows != perDay["2026-11-20"] || scans() == before {
		t.Fatalf("new run %+v", n)
	}
	// Concurrent customers (run under -race).
	var wg sync.WaitGroup
	for _, cust := range []string{"1002", "1003"} {
		wg.Go(func() {
			for _, day := range []string{"2026-11-17", "2026-11-18", "2026-11-19", "2026-11-20", e2eRunDay} {
				key := model.StreamKey{Source: Name, Stream: Stream, Account: cust}
				w, _ := model.DayWindow(day, Moscow)
				if _, err := pipeline.ExtractWindow(context.Background(), e.lake, src, key, w, run); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	src.mu.Lock()
	for _, cust := range []string{"1002", "1003"} {
		if h := src.hist[cust]; h.loaded || h.days != nil {
			t.Errorf("%s: rows kept after the run's last window", cust)
		}
	}
	src.mu.Unlock()
}

// TestBackfillLeavesUndatedRejects: a backfill writes the dated rejects of
// its days but not the rows without a day (the nightly run files those).
func TestBackfillLeavesUndatedRejects(t *testing.T) {
	e := newE2E(t)
	st, err := state.Open(filepath.Join(e.dir, "state"))
	if err != nil {
		t.Fatal(err)
	}
	p := pipeline.New(pipeline.Config{Lake: e.lake, State: st, Location: Moscow, Now: func() time.Time { return e2eNow }})
	sum, err := p.Backfill(context.Background(), e.source(t, nil), "2026-11-17", "2026-11-20")
	if err != nil || sum.Err() != nil {
		t.Fatal(err, sum.Err())
	}
	dated := 0
	for _, cust := range e2eCustomers {
		for _, b := range e.emu.BadRows(cust) {
			if b.Day != "" {
				dated++
			}
		}
	}
	if r := e.query(t, `SELECT count(*), count(*) FILTER (WHERE reason LIKE 'cost%') FROM rejects`); r[0][0] != int64(dated) || r[0][1] != int64(dated) {
		t.Fatalf("rejects %v, want %d dated", r, dated)
	}
}
