package t2

import (
	"bytes"
	"context"
	"encoding/json"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/calletl/calletl/extract/httpx"
	"github.com/calletl/calletl/load"
	"github.com/calletl/calletl/model"
	"github.com/calletl/calletl/pipeline"
	"github.com/calletl/calletl/queries"
	"github.com/calletl/calletl/report"
	"github.com/calletl/calletl/sandbox"
	"github.com/calletl/calletl/secret"
)

// The vendor document's example, with the quotes around the timestamps that
// the document lost.
const docExample = `[{
  "callTimestamp": "2022-07-15T07:27:06.348Z",
  "callType": "SINGLE_CHANNEL",
  "destinationNumber": "79104739472",
  "callerNumber": "79000258890",
  "callerName": "Анастасия Исаева",
  "calleeNumber": "79104739472",
  "calleeName": "Оля Заплаткина",
  "callDuration": 25,
  "callStatus": "NOT_ANSWERED_COMMON",
  "recordFileName": "2022-08-12/mo_166030706109315379"
},
{
  "callTimestamp": "2022-07-15T07:27:06.348Z",
  "callType": "SINGLE_CHANNEL",
  "destinationNumber": "79104739472",
  "callerNumber": "79000258890",
  "callerName": "Анастасия Исаева",
  "calleeNumber": "79104739472",
  "calleeName": "Оля Заплаткина",
  "callDuration": 20,
  "conversationDuration": 6,
  "callStatus": "ANSWERED_BY_ORIGINAL_CLIENT",
  "recordFileName": "2022-08-12/mo_166030684915821522"
}]`

func TestMapDocExample(t *testing.T) {
	var rows []json.RawMessage
	if err := json.Unmarshal([]byte(docExample), &rows); err != nil {
		t.Fatal(err)
	}
	mc := &MapContext{Business: moscow(), RunID: "r1", ExtractedAt: time.Unix(0, 0).UTC()}
	want := []struct {
		dir, status, ref string
		dur, talk        int32
		rec              bool
	}{
		{model.Missed, "NOT_ANSWERED_COMMON", "", 25, 0, false},
		{model.Incoming, "ANSWERED_BY_ORIGINAL_CLIENT", "2022-08-12/mo_166030684915821522", 20, 6, true},
	}
	for i, raw := range rows {
		r, err := DecodeRecord(raw)
		if err != nil {
			t.Fatal(err)
		}
		c, d, err := Map(mc, &r)
		if err != nil {
			t.Fatal(err)
		}
		w := want[i]
		if c.Source != "t2" || c.Account != Account || c.Date != "2022-07-15" ||
			!c.StartedAt.Equal(time.Date(2022, 7, 15, 7, 27, 6, 348e6, time.UTC)) ||
			c.Caller != "79000258890" || c.Callee != "79104739472" ||
			c.Direction != w.dir || c.Status != w.status || c.RecordingRef != w.ref || c.HasRecording != w.rec ||
			c.DurationS.V != w.dur || !c.TalkS.Valid || c.TalkS.V != w.talk {
			t.Errorf("row %d: call %+v", i, c)
		}
		if d.CallID != r.RecordFileName || d.CallerName != "Анастасия Исаева" || d.CalleeName != "Оля Заплаткина" || d.Extras != "" {
			t.Errorf("row %d: detail %+v", i, d)
		}
	}
}

func TestMapDirectionAndRejects(t *testing.T) {
	mc := &MapContext{Business: moscow()}
	base := `"callTimestamp":"2022-07-15T10:00:00+03:00","callerNumber":"89000000001","destinationNumber":"74950000001"`
	for _, tc := range []struct {
		name, row string
		dir       string // "" = rejected
		reason    string
	}{
		{"internal", `{` + base + `,"callType":"INTERNAL","callStatus":"NOT_ANSWERED_COMMON"}`, model.Internal, ""},
		{"himself", `{` + base + `,"callType":"HIMSELF","callStatus":"ANSWERED_COMMON"}`, model.Internal, ""},
		{"queue", `{` + base + `,"callType":"INTERNAL_QUEUE","callStatus":"ANSWERED_COMMON"}`, model.Internal, ""},
		{"outgoing", `{` + base + `,"callType":"OUTGOING","callStatus":"NOT_ANSWERED_COMMON"}`, model.Outgoing, ""},
		{"crm outgoing", `{` + base + `,"callType":"CRM_OUTGOING","callStatus":"ANSWERED_COMMON"}`, model.Outgoing, ""},
		{"callback", `{` + base + `,"callType":"CALLBACK","callStatus":"ANSWERED_COMMON"}`, model.Outgoing, ""},
		{"crm callback", `{` + base + `,"callType":"CRM_CALLBACK","callStatus":"ANSWERED_COMMON"}`, model.Outgoing, ""},
		{"mcn answered", `{` + base + `,"callType":"MULTI_CHANNEL","callStatus":"ANSWERED_BY_BUSY_FORWARD_CLIENT","conversationDuration":3}`, model.Incoming, ""},
		{"mcn missed", `{` + base + `,"callType":"MULTI_CHANNEL","callStatus":"NOT_ANSWERED_COMMON"}`, model.Missed, ""},
		{"denied", `{` + base + `,"callType":"SINGLE_CHANNEL","callStatus":"DENIED_DUE_TO_NOT_WORK_TIME"}`, model.Missed, ""},
		{"busy", `{` + base + `,"callType":"SINGLE_CHANNEL","callStatus":"DESTINATION_BUSY"}`, model.Missed, ""},
		{"pickup", `{` + base + `,"callType":"SINGLE_CHANNEL","callStatus":"CANCELLED_BY_PICKUP"}`, model.Incoming, ""},
		{"unknown type kept", `{` + base + `,"callType":"CALL_TRANSFER","callStatus":"ANSWERED_COMMON","conversationDuration":9}`, model.Incoming, ""},
		{"unknown status talked", `{` + base + `,"callType":"SINGLE_CHANNEL","callStatus":"QUEUE_TIMEOUT_NEW","conversationDuration":9}`, model.Incoming, ""},
		{"unknown status silent", `{` + base + `,"callType":"SINGLE_CHANNEL","callStatus":"QUEUE_TIMEOUT"}`, model.Missed, ""},
		{"float seconds", `{` + base + `,"callType":"SINGLE_CHANNEL","callStatus":"ANSWERED_COMMON","callDuration":12.0}`, model.Incoming, ""},
		{"no timestamp", `{"callType":"SINGLE_CHANNEL"}`, "", "callTimestamp is missing"},
		{"bad timestamp", `{"callTimestamp":"2022-07-15 10:00:00"}`, "", "not an ISO date-time"},
		{"bad duration", `{` + base + `,"callDuration":"x"}`, "", "callDuration"},
		{"negative", `{` + base + `,"conversationDuration":-1}`, "", "conversationDuration"},
		{"object field", `{` + base + `,"callerName":{"a":1}}`, "", "callerName"},
		{"not object", `[1,2]`, "", "not a JSON object"},
		{"null", `null`, "", "not a JSON object"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := DecodeRecord([]byte(tc.row))
			var c model.Call
			if err == nil {
				c, _, err = Map(mc, &r)
			}
			if tc.dir == "" {
				if err == nil || !strings.Contains(err.Error(), tc.reason) {
					t.Fatalf("err = %v, want %q", err, tc.reason)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Direction != tc.dir {
				t.Fatalf("direction %s, want %s", c.Direction, tc.dir)
			}
			if !strings.Contains(tc.row, `"`+c.Status+`"`) {
				t.Fatalf("status %q not kept as sent", c.Status)
			}
		})
	}
}

func TestKey(t *testing.T) {
	a := Record{CallTimestamp: "t", CallType: "X", CallerNumber: "1", DestinationNumber: "2", CalleeNumber: "3"}
	b := a
	b.CallerName = "other name" // not part of the key
	c := a
	c.CalleeNumber = "4"
	if Key(&a) != Key(&b) || Key(&a) == Key(&c) || !strings.HasPrefix(Key(&a), "sha256:") {
		t.Fatalf("keys %s %s %s", Key(&a), Key(&b), Key(&c))
	}
	a.RecordFileName = "2022-08-12/mo_1"
	if Key(&a) != "2022-08-12/mo_1" {
		t.Fatal("recordFileName is not the key")
	}
}

func TestMapMissed(t *testing.T) {
	mc := &MapContext{Business: moscow()}
	for _, tc := range []struct {
		row, want string
	}{
		{`{"id": 31495476, "startDate": "2023-08-28T15:03:19.68+03:00", "waitDuration": 1, "callerNumber": "89365113627", "destinationNumber": "79779117670", "calleeCompanyId": 559, "calleeNumber": "79779117670", "calleeName": " "}`, ""},
		{`{"id": 1, "startDate": "2023-08-28T15:03:19+03:00", "callerCompanyId": 7}`, ""},
		{`{"startDate": "2023-08-28T15:03:19+03:00"}`, "id is missing"},
		{`{"id": 2, "startDate": "yesterday"}`, "startDate"},
		{`{"id": 2, "startDate": "2023-08-28T15:03:19+03:00", "calleeCompanyId": "x"}`, "calleeCompanyId"},
	} {
		m, err := DecodeMissed([]byte(tc.row))
		var r MissedRow
		if err == nil {
			r, err = MapMissed(mc, &m)
		}
		if tc.want != "" {
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s: err = %v, want %q", tc.row, err, tc.want)
			}
			continue
		}
		if err != nil || r.Date != "2023-08-28" || !r.CalleeCompanyID.Valid {
			t.Errorf("%s: %+v %v", tc.row, r, err)
		}
		if r.ID == "31495476" && (r.Caller != "79365113627" || r.WaitDuration.V != 1) {
			t.Errorf("%+v", r)
		}
	}
}

func FuzzDecodeRecord(f *testing.F) {
	var rows []json.RawMessage
	_ = json.Unmarshal([]byte(docExample), &rows)
	for _, r := range rows {
		f.Add([]byte(r))
	}
	f.Add([]byte(`{"callTimestamp":1,"callDuration":"1e400","x":[1]}`))
	f.Add([]byte(`null`))
	mc := &MapContext{Business: moscow()}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := DecodeRecord(b)
		if err != nil {
			return
		}
		if !bytes.Equal(r.Raw, b) {
			t.Fatal("Raw is not the input")
		}
		c, d, err := Map(mc, &r)
		if err != nil {
			return
		}
		if c.CallID == "" || c.CallID != d.CallID || c.Date != d.Date || c.Direction == "" {
			t.Fatalf("inconsistent mapping %+v %+v", c, d)
		}
		if c.DurationS.Valid && c.DurationS.V < 0 || c.TalkS.Valid && c.TalkS.V < 0 {
			t.Fatal("negative duration")
		}
	})
}

// e2e runs the source against sandbox.T2 into a lake for the given days.
type e2e struct {
	emu  *sandbox.T2
	src  *Source
	lake *load.Lake
	dir  string
	run  model.Run
}

func newE2E(t *testing.T, days []string, mod func(*sandbox.T2Config)) *e2e {
	t.Helper()
	return newE2EWrapped(t, days, mod, nil)
}

// newE2EWrapped is newE2E with the emulator served through wrap (when not
// nil).
func newE2EWrapped(t *testing.T, days []string, mod func(*sandbox.T2Config), wrap func(http.Handler) http.Handler) *e2e {
	t.Helper()
	from, _ := time.Parse(model.DayLayout, days[0])
	to, _ := time.Parse(model.DayLayout, days[len(days)-1])
	cfg := sandbox.T2Config{Seed: 7, From: from, To: to, CallsPerDay: 40, MissedPerDay: 10, Employees: 5}
	if mod != nil {
		mod(&cfg)
	}
	emu := sandbox.NewT2(cfg)
	var h http.Handler = emu
	if wrap != nil {
		h = wrap(emu)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	access, refresh := emu.IssueTokens()
	dir := t.TempDir()
	c, err := New(Config{
		BaseURL: srv.URL + "/crm/openapi", Access: secret.New(access), Refresh: secret.New(refresh),
		TokenFile: filepath.Join(dir, "t2-tokens.json"), PageSize: 7, PerNumberStats: true,
		HTTP: httpx.Config{Sleep: func(ctx context.Context, _ time.Duration) error { return ctx.Err() }},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	lake, err := load.Open(filepath.Join(dir, "lake"), load.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// The emulator generates traffic by UTC day; its answers carry +03:00.
	loc := time.UTC
	return &e2e{emu: emu, src: NewSource(c), lake: lake, dir: dir,
		run: model.Run{ID: "run1", Mode: "run", StartedAt: to.Add(36 * time.Hour), Location: loc}}
}

func (e *e2e) extract(t *testing.T, days []string) model.Counts {
	t.Helper()
	var total model.Counts
	for _, key := range e.src.Streams() {
		for _, day := range days {
			w, _ := model.DayWindow(day, e.run.Location)
			n, err := pipeline.ExtractWindow(context.Background(), e.lake, e.src, key, w, e.run)
			if err != nil {
				t.Fatalf("%s %s: %v", key, day, err)
			}
			total.Add(n)
		}
	}
	n, err := e.src.Snapshot(context.Background(), pipeline.LakeBegin(e.lake, Name), e.run)
	if err != nil {
		t.Fatal(err)
	}
	total.Add(n)
	return total
}

func (e *e2e) engine(t *testing.T) *report.Engine {
	t.Helper()
	eng, err := report.Open(context.Background(), report.Options{
		Lake: e.lake.Root(), TimeZone: "UTC",
		Tables: append(load.CanonicalTables(), Tables()...),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	return eng
}

// TestE2ETokenExpiresMidRun: the emulator expires every access token after
// the first window; the run refreshes once and finishes, and a fresh source
// on the same token file goes on without refreshing.
func TestE2ETokenExpiresMidRun(t *testing.T) {
	days := []string{"2026-03-02", "2026-03-03"}
	e := newE2E(t, days, nil)
	e.extract(t, days[:1])
	e.emu.ExpireAccessTokens()
	e.extract(t, days[1:])
	if e.emu.Refreshes() != 1 {
		t.Fatalf("%d refreshes, want 1", e.emu.Refreshes())
	}
	c2, err := New(Config{BaseURL: e.src.c.cfg.BaseURL, TokenFile: e.src.c.cfg.TokenFile,
		HTTP: httpx.Config{MaxAttempts: 1}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c2.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	if e.emu.Refreshes() != 1 {
		t.Fatalf("%d refreshes after restart, want 1", e.emu.Refreshes())
	}
}

// TestQueries runs the T2 reports on an empty lake and on emulator data.
func TestQueries(t *testing.T) {
	days := []string{"2026-03-02"}
	empty := newE2E(t, days, nil)
	full := newE2E(t, days, nil)
	full.extract(t, days)
	for _, name := range []string{"missed_calls", "agent_activity"} {
		r, err := report.Find(queries.FS(), name)
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Params) == 0 || r.Title == "" {
			t.Fatalf("%s: header not parsed: %+v", name, r)
		}
		for _, e := range []*e2e{empty, full} {
			res, err := e.engine(t).Query(context.Background(), r, nil)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			var b bytes.Buffer
			if err := res.Write(&b, "csv"); err != nil {
				t.Fatal(err)
			}
			lines := strings.Count(strings.TrimSpace(b.String()), "\n")
			if e == full && lines == 0 {
				t.Errorf("%s: no rows on emulator data", name)
			}
			if e == empty && lines != 0 {
				t.Errorf("%s: rows on an empty lake:\n%s", name, b.String())
			}
		}
	}
	if _, err := fs.Stat(queries.FS(), "missed_calls.sql"); err != nil {
		t.Fatal(err)
	}
}

// TestEmployeeNumbersFromSnapshot: in the pipeline's order (snapshots,
// then windows) the per-number streams ask statistics for the numbers of
// the run's employees snapshot, without another GET /employees; a run
// without a snapshot asks once for all its windows; the rows are the same.
func TestEmployeeNumbersFromSnapshot(t *testing.T) {
	days := []string{"2026-03-02", "2026-03-03"}
	var employees atomic.Int64
	e := newE2EWrapped(t, days, nil, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasSuffix(r.URL.Path, "/employees") {
				employees.Add(1)
			}
			h.ServeHTTP(w, r)
		})
	})
	perNumber := func(run model.Run) model.Counts {
		var total model.Counts
		for _, key := range e.src.Streams() {
			if key.Stream != StreamJournal && key.Stream != StreamEmployeeStats {
				continue
			}
			for _, day := range days {
				w, _ := model.DayWindow(day, run.Location)
				n, err := pipeline.ExtractWindow(context.Background(), e.lake, e.src, key, w, run)
				if err != nil {
					t.Fatalf("%s %s: %v", key, day, err)
				}
				total.Add(n)
			}
		}
		return total
	}
	if _, err := e.src.Snapshot(context.Background(), pipeline.LakeBegin(e.lake, Name), e.run); err != nil {
		t.Fatal(err)
	}
	if n := employees.Load(); n != 1 {
		t.Fatalf("the snapshot asked GET /employees %d times, want 1", n)
	}
	first := perNumber(e.run)
	if n := employees.Load(); n != 1 {
		t.Errorf("%d GET /employees after the windows, want 1: the windows did not use the snapshot's numbers", n)
	}
	if first.Rows == 0 {
		t.Fatal("the per-number streams wrote no rows")
	}
	run2 := e.run
	run2.ID = "run2"
	if second := perNumber(run2); second.Rows != first.Rows {
		t.Errorf("without a snapshot: %d rows, with one %d", second.Rows, first.Rows)
	}
	if n := employees.Load(); n != 2 {
		t.Errorf("%d GET /employees after a run without a snapshot, want 2 (one for all its windows)", n)
	}
}
