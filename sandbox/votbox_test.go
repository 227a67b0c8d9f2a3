package sandbox

import (
	"bytes"
	"encoding/xml"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

var votboxUpdate = flag.Bool("votbox.update", false, "rewrite testdata/votbox samples")

const vbUser, vbPass = "demo", "s3cret"

func vbConfig(seed int64, form, charset string) VotBoxConfig {
	return VotBoxConfig{Seed: seed, Username: vbUser, Password: vbPass, Tasks: 4, ItemsPerTask: 30,
		Form: form, Charset: charset}
}

// vbForm returns the form of a call with valid credentials and kv pairs.
func vbForm(kv ...string) url.Values {
	f := url.Values{"username": {vbUser}, "password": {md5Hex(vbPass)}}
	for i := 0; i+1 < len(kv); i += 2 {
		f.Set(kv[i], kv[i+1])
	}
	return f
}

func vbPost(t *testing.T, h http.Handler, path string, form url.Values) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// vbRec is one child of <response>, decoded independently of the form:
// attributes and child elements alike, names lower-cased, empty values
// dropped.
type vbRec struct {
	Tag    string
	Fields map[string]string
	Text   string // an <error>'s text
}

// vbDecode decodes an answer with encoding/xml, honouring a windows-1251
// declaration.
func vbDecode(body []byte) ([]vbRec, error) {
	d := xml.NewDecoder(bytes.NewReader(body))
	d.CharsetReader = func(label string, in io.Reader) (io.Reader, error) {
		if strings.EqualFold(label, "windows-1251") {
			b, err := io.ReadAll(in)
			return strings.NewReader(cp1251Decode(b)), err
		}
		return nil, fmt.Errorf("charset %q", label)
	}
	var recs []vbRec
	var field string
	var text strings.Builder
	depth := 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			if depth != 0 {
				return nil, io.ErrUnexpectedEOF
			}
			return recs, nil
		}
		if err != nil {
			return nil, err
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			depth++
			name := strings.ToLower(tok.Name.Local)
			switch depth {
			case 1:
				if name != "response" {
					return nil, fmt.Errorf("root <%s>", tok.Name.Local)
				}
			case 2:
				r := vbRec{Tag: name, Fields: map[string]string{}}
				for _, a := range tok.Attr {
					if a.Value != "" {
						r.Fields[strings.ToLower(a.Name.Local)] = a.Value
					}
				}
				recs = append(recs, r)
			case 3:
				field = name
			}
			text.Reset()
		case xml.CharData:
			text.Write(tok)
		case xml.EndElement:
			switch depth {
			case 3:
				if s := text.String(); s != "" {
					recs[len(recs)-1].Fields[field] = s
				}
			case 2:
				recs[len(recs)-1].Text = strings.TrimSpace(text.String())
			}
			text.Reset()
			depth--
		}
	}
}

func vbMustDecode(t *testing.T, rec *httptest.ResponseRecorder) []vbRec {
	t.Helper()
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	recs, err := vbDecode(rec.Body.Bytes())
	if err != nil {
		t.Fatalf("decode: %v\n%.300s", err, rec.Body)
	}
	return recs
}

// vbWantTask and vbWantItem write the ground truth the way the README says
// the wire carries it, independently of the emulator's writer.
func vbWantTask(tk VotBoxTask) vbRec {
	return vbRec{Tag: "task", Fields: map[string]string{
		"id": strconv.FormatInt(tk.ID, 10), "taskname": tk.Name,
		"taskstarttime": strconv.FormatInt(tk.StartTime.Unix(), 10),
		"taskstatus":    strconv.Itoa(tk.Status), "taskstatusstr": tk.StatusStr,
	}}
}

func vbWantItem(it VotBoxItem, detail bool) vbRec {
	msk := time.FixedZone("MSK", 3*3600)
	f := map[string]string{
		"id": strconv.FormatInt(it.ID, 10), "phonenumber": it.Phone,
		"jobstatus": strconv.Itoa(it.JobStatus), "jobstatusstr": it.JobStatusStr,
		"attempts": strconv.Itoa(it.Attempts),
	}
	if !it.CallTime.IsZero() {
		f["calldate"] = it.CallTime.In(msk).Format("02.01.2006 15:04:05")
	}
	if VotBoxFinal(it.JobStatus) {
		f["callduration"] = strconv.Itoa(it.CallDuration)
		f["opercallduration"] = strconv.Itoa(it.OperCallDuration)
		if !it.NoCost {
			f["callpay"] = strconv.FormatInt(it.CallPayKop, 10)
			f["opercallpay"] = strconv.FormatInt(it.OperCallPayKop, 10)
		}
	}
	if it.RecFileName != "" {
		f["recfilename"] = it.RecFileName
	}
	if detail {
		if !it.DialStart.IsZero() {
			f["dialstart"] = it.DialStart.In(msk).Format("02.01.2006 15:04:05")
		}
		if !it.DialEnd.IsZero() {
			f["dialend"] = it.DialEnd.In(msk).Format("02.01.2006 15:04:05")
		}
		if it.HangupCause != "" {
			f["hangupcause"] = it.HangupCause
		}
	}
	return vbRec{Tag: "item", Fields: f}
}

func vbErrCode(t *testing.T, rec *httptest.ResponseRecorder) (int, string) {
	t.Helper()
	recs := vbMustDecode(t, rec)
	if len(recs) != 1 || recs[0].Tag != "error" {
		t.Fatalf("want one <error>, got %+v", recs)
	}
	code, _ := strconv.Atoi(recs[0].Fields["code"])
	return code, recs[0].Text
}

// TestVotBoxForms walks every step of every form and charset and checks
// that get.task, check and detail decode to the ground truth.
func TestVotBoxForms(t *testing.T) {
	for _, form := range []string{VotBoxAttr, VotBoxElem} {
		for _, cs := range []string{VotBoxUTF8, VotBoxCP1251} {
			t.Run(form+"/"+cs, func(t *testing.T) {
				v := NewVotBox(vbConfig(7, form, cs))
				sawCamel := false
				for step := 0; ; step++ {
					truth := v.Tasks()
					rec := vbPost(t, v, "/api/autocall.get.task.api.php", vbForm())
					body := rec.Body.Bytes()
					if !bytes.HasPrefix(body, []byte(`<?xml version="1.0" encoding="`+cs+`"?>`)) {
						t.Fatalf("declaration: %.60s", body)
					}
					var want []vbRec
					for _, tk := range truth {
						if tk.Status != VotBoxTaskFinished {
							want = append(want, vbWantTask(tk))
						}
					}
					if got := vbMustDecode(t, rec); !reflect.DeepEqual(got, want) {
						t.Fatalf("step %d get.task:\n got %+v\nwant %+v", step, got, want)
					}
					for _, tk := range truth {
						rec := vbPost(t, v, "/api/autocall.check.api.php", vbForm("taskid", strconv.FormatInt(tk.ID, 10), "page", "1"))
						if cs == VotBoxCP1251 && utf8.Valid(rec.Body.Bytes()) {
							t.Fatal("windows-1251 body is valid UTF-8: not encoded")
						}
						sawCamel = sawCamel || bytes.Contains(rec.Body.Bytes(), []byte("<PhoneNumber>"))
						want := []vbRec{vbWantTask(tk)}
						for _, it := range tk.Items {
							want = append(want, vbWantItem(it, false))
						}
						if got := vbMustDecode(t, rec); !reflect.DeepEqual(got, want) {
							t.Fatalf("step %d check %d:\n got %+v\nwant %+v", step, tk.ID, got[:2], want[:2])
						}
						for _, it := range tk.Items[:5] {
							rec := vbPost(t, v, "/api/autocall.detail.api.php", vbForm("itemid", strconv.FormatInt(it.ID, 10)))
							want := []vbRec{vbWantItem(it, true)}
							if got := vbMustDecode(t, rec); !reflect.DeepEqual(got, want) {
								t.Fatalf("step %d detail %d:\n got %+v\nwant %+v", step, it.ID, got, want)
							}
						}
					}
					if v.Final() {
						break
					}
					v.Advance()
				}
				if form == VotBoxElem && !sawCamel {
					t.Error("elem form never used a CamelCase element name")
				}
			})
		}
	}
}

func vbRank(s int) int {
	switch s {
	case VotBoxQueued:
		return 0
	case VotBoxInProgress:
		return 1
	}
	return 2
}

var vbPhone = regexp.MustCompile(`^8\d{10}$`)

// TestVotBoxAdvance checks that items only move forward, that everything is
// final within votboxStepBound steps, and the ground truth's invariants.
func TestVotBoxAdvance(t *testing.T) {
	v := NewVotBox(VotBoxConfig{Seed: 3, Username: vbUser, Password: vbPass, Tasks: 8, ItemsPerTask: 300})
	prev := map[int64]VotBoxItem{}
	seen := map[int]int{}
	steps := 0
	for ; ; steps++ {
		final := true
		for _, tk := range v.Tasks() {
			for _, it := range tk.Items {
				seen[it.JobStatus]++
				if !vbPhone.MatchString(it.Phone) || it.JobStatusStr != VotBoxJobStatusStr(it.JobStatus) || it.JobStatusStr == "" {
					t.Fatalf("bad item %+v", it)
				}
				if it.RecFileName != "" && (it.JobStatus != VotBoxOperator || it.OperCallDuration == 0) {
					t.Fatalf("recording on %+v", it)
				}
				if it.CallPayKop != int64((it.CallDuration+59)/60)*votboxRateKop {
					t.Fatalf("callpay of %+v", it)
				}
				if it.JobStatus == VotBoxQueued && (it.Attempts != 0 || !it.CallTime.IsZero()) {
					t.Fatalf("queued item with a call: %+v", it)
				}
				final = final && VotBoxFinal(it.JobStatus)
				if p, ok := prev[it.ID]; ok {
					switch {
					case vbRank(it.JobStatus) < vbRank(p.JobStatus),
						VotBoxFinal(p.JobStatus) && !reflect.DeepEqual(p, it),
						it.Attempts < p.Attempts,
						!p.CallTime.IsZero() && !p.CallTime.Equal(it.CallTime):
						t.Fatalf("step %d: item moved back:\n%+v\n→ %+v", steps, p, it)
					}
				}
				prev[it.ID] = it
			}
			if (tk.Status == VotBoxTaskFinished) != allFinal(tk.Items) {
				t.Fatalf("task %d status %d", tk.ID, tk.Status)
			}
		}
		if final != v.Final() {
			t.Fatalf("step %d: Final() = %v, items final = %v", steps, v.Final(), final)
		}
		if final {
			break
		}
		if steps > votboxStepBound {
			t.Fatalf("not final after %d steps", steps)
		}
		v.Advance()
	}
	if steps < 3 {
		t.Errorf("final after %d steps: too quick to test polling", steps)
	}
	for _, s := range []int{0, 1, 2, 3, 4, 5, 7, 11} {
		if seen[s] == 0 {
			t.Errorf("jobstatus %d never seen", s)
		}
	}
	before := v.Tasks()
	v.Advance()
	if !reflect.DeepEqual(before, v.Tasks()) {
		t.Error("Advance after Final changed the truth")
	}
	recs := vbMustDecode(t, vbPost(t, v, "/api/autocall.get.task.api.php", vbForm()))
	if len(recs) != 0 {
		t.Errorf("get.task after final: %+v", recs)
	}
}

func allFinal(items []VotBoxItem) bool {
	for _, it := range items {
		if !VotBoxFinal(it.JobStatus) {
			return false
		}
	}
	return true
}

func TestVotBoxPaging(t *testing.T) {
	v := NewVotBox(VotBoxConfig{Seed: 5, Username: vbUser, Password: vbPass, TaskItems: []int{10001, 2}, Form: VotBoxElem})
	tk := v.Tasks()[0]
	if len(tk.Items) != 10001 {
		t.Fatalf("%d items", len(tk.Items))
	}
	id := strconv.FormatInt(tk.ID, 10)
	for _, c := range []struct {
		page     string
		from, to int
	}{{"0", 0, 0}, {"1", 0, 10000}, {"", 0, 10000}, {"2", 10000, 10001}, {"3", 0, 0}, {"99", 0, 0}} {
		form := vbForm("taskid", id)
		if c.page != "" {
			form.Set("page", c.page)
		}
		recs := vbMustDecode(t, vbPost(t, v, "/api/autocall.check.api.php", form))
		if len(recs) == 0 || !reflect.DeepEqual(recs[0], vbWantTask(tk)) {
			t.Fatalf("page %q: task %+v", c.page, recs)
		}
		if len(recs)-1 != c.to-c.from {
			t.Fatalf("page %q: %d items, want %d", c.page, len(recs)-1, c.to-c.from)
		}
		for k, r := range recs[1:] {
			if want := vbWantItem(tk.Items[c.from+k], false); !reflect.DeepEqual(r, want) {
				t.Fatalf("page %q item %d: %+v, want %+v", c.page, k, r, want)
			}
		}
	}
}

func TestVotBoxAuthAndErrors(t *testing.T) {
	v := NewVotBox(vbConfig(11, VotBoxAttr, VotBoxCP1251))
	tk := v.Tasks()[0]
	taskID := strconv.FormatInt(tk.ID, 10)
	plain := vbForm("taskid", taskID)
	plain.Set("password", vbPass)
	upper := vbForm("taskid", taskID)
	upper.Set("username", "other")
	noPass := vbForm("taskid", taskID)
	noPass.Del("password")
	var unrecorded int64
	for _, it := range tk.Items {
		if it.RecFileName == "" {
			unrecorded = it.ID
			break
		}
	}
	cases := []struct {
		name, script string
		form         url.Values
		code         int
		text         string
	}{
		{"plain password", votboxCheck, plain, 1, "Неверный логин или пароль"},
		{"wrong user", votboxGetTask, upper, 1, "Неверный логин или пароль"},
		{"balance plain password", votboxBalance, plain, 1, "Неверный логин или пароль"},
		{"balance no password", votboxBalance, noPass, 2, "Не указан обязательный параметр password"},
		{"no password", votboxGetTask, noPass, 2, "Не указан обязательный параметр password"},
		{"no taskid", votboxCheck, vbForm(), 2, "Не указан обязательный параметр taskid"},
		{"bad taskid", votboxCheck, vbForm("taskid", "abc"), 3, "Неверное значение параметра taskid"},
		{"bad page", votboxCheck, vbForm("taskid", taskID, "page", "-1"), 3, "Неверное значение параметра page"},
		{"unknown task", votboxCheck, vbForm("taskid", "1"), 4, "Задача не найдена"},
		{"unknown item", votboxDetail, vbForm("itemid", "1"), 5, "Звонок не найден"},
		{"no itemid", votboxDetail, vbForm(), 2, "Не указан обязательный параметр itemid"},
		{"no callid", votboxRecordTalk, vbForm(), 2, "Не указан обязательный параметр callid или filename"},
		{"unknown call", votboxRecordTalk, vbForm("callid", "1"), 5, "Звонок не найден"},
		{"not recorded", votboxRecordTalk, vbForm("callid", strconv.FormatInt(unrecorded, 10)), 6, "Запись разговора не найдена"},
		{"unknown file", votboxRecordTalk, vbForm("filename", "x.wav"), 6, "Запись разговора не найдена"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, text := vbErrCode(t, vbPost(t, v, "/api/"+c.script+".php", c.form))
			if code != c.code || text != c.text {
				t.Errorf("got %d %q, want %d %q", code, text, c.code, c.text)
			}
		})
	}
	if rec := vbPost(t, v, "/api/autocall.check.api.php", vbForm("taskid", taskID)); len(vbMustDecode(t, rec)) < 2 {
		t.Error("MD5 password refused")
	}
	if rec := vbPost(t, v, "/api/autocall.nosuch.api.php", vbForm()); rec.Code != http.StatusNotFound {
		t.Errorf("unknown script: %d", rec.Code)
	}
	// Query parameters are not form fields.
	req := httptest.NewRequest(http.MethodGet, "/api/autocall.get.task.api.php?"+vbForm().Encode(), nil)
	rec := httptest.NewRecorder()
	v.ServeHTTP(rec, req)
	if code, _ := vbErrCode(t, rec); code != 2 {
		t.Errorf("GET with query: code %d", code)
	}
}

func TestVotBoxRecordTalk(t *testing.T) {
	v := NewVotBox(vbConfig(13, VotBoxAttr, VotBoxUTF8))
	var it VotBoxItem
	for !v.Final() {
		v.Advance()
	}
	for _, tk := range v.Tasks() {
		for _, x := range tk.Items {
			if x.RecFileName != "" && it.ID == 0 {
				it = x
			}
		}
	}
	if it.ID == 0 {
		t.Fatal("no recorded item")
	}
	byID := vbPost(t, v, "/api/autocall.recordtalk.api.php", vbForm("callid", strconv.FormatInt(it.ID, 10)))
	byName := vbPost(t, v, "/api/autocall.recordtalk.api.php", vbForm("filename", it.RecFileName))
	for _, rec := range []*httptest.ResponseRecorder{byID, byName} {
		b := rec.Body.Bytes()
		if rec.Code != 200 || rec.Header().Get("Content-Type") != "audio/wav" ||
			len(b) < 44 || string(b[:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
			t.Fatalf("%d %s %.12q", rec.Code, rec.Header().Get("Content-Type"), b)
		}
	}
	if !bytes.Equal(byID.Body.Bytes(), byName.Body.Bytes()) {
		t.Error("callid and filename give different audio")
	}
	// At step 0 the same call is not recorded yet.
	v0 := NewVotBox(vbConfig(13, VotBoxAttr, VotBoxUTF8))
	if code, _ := vbErrCode(t, vbPost(t, v0, "/api/autocall.recordtalk.api.php", vbForm("filename", it.RecFileName))); code != 6 {
		t.Errorf("recording before the call ended: code %d", code)
	}
}

func TestVotBoxDeterminism(t *testing.T) {
	run := func(seed int64) ([]VotBoxTask, []byte) {
		v := NewVotBox(vbConfig(seed, VotBoxElem, VotBoxUTF8))
		v.Advance()
		v.Advance()
		var b bytes.Buffer
		for _, tk := range v.Tasks() {
			b.Write(vbPost(t, v, "/api/autocall.check.api.php", vbForm("taskid", strconv.FormatInt(tk.ID, 10))).Body.Bytes())
		}
		return v.Tasks(), b.Bytes()
	}
	t1, b1 := run(21)
	t2, b2 := run(21)
	if !reflect.DeepEqual(t1, t2) || !bytes.Equal(b1, b2) {
		t.Error("same seed, different traffic")
	}
	if t3, _ := run(22); reflect.DeepEqual(t1, t3) {
		t.Error("different seeds, same traffic")
	}
}

// TestVotBoxServer goes through a real server: any path prefix, multipart
// forms, request counters and faults.
func TestVotBoxServer(t *testing.T) {
	v := NewVotBox(vbConfig(17, VotBoxAttr, VotBoxUTF8))
	srv := httptest.NewServer(v)
	defer srv.Close()
	post := func(path string) (*http.Response, []byte, error) {
		resp, err := http.PostForm(srv.URL+path, vbForm())
		if err != nil {
			return nil, nil, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp, b, err
	}
	for _, p := range []string{"/api/autocall.get.task.api.php", "/votbox/x/autocall.get.task.api.php", "/autocall.get.task.api.php"} {
		_, b, err := post(p)
		if err != nil {
			t.Fatal(err)
		}
		if recs, err := vbDecode(b); err != nil || len(recs) != 4 {
			t.Fatalf("%s: %v %+v", p, err, recs)
		}
	}
	if n := v.Requests("autocall.get.task.api.php"); n != 3 || v.Requests("autocall.get.task.api") != 3 {
		t.Errorf("Requests = %d", n)
	}

	v.SetFaults(Faults{TruncateEvery: 1})
	if _, _, err := post("/api/autocall.get.task.api.php"); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("truncate: %v", err)
	}
	v.SetFaults(Faults{MalformedEvery: 1})
	_, b, err := post("/api/autocall.get.task.api.php")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := vbDecode(b); err == nil {
		t.Errorf("malformed body decoded: %q", b)
	}
	v.SetFaults(Faults{TooManyEvery: 1, RetryAfter: time.Second})
	resp, _, err := post("/api/autocall.get.task.api.php")
	if err != nil || resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("429: %v %v", err, resp)
	}
	v.SetFaults(Faults{})
	if c := v.FaultInjector().Counts(); c != (FaultCounts{Requests: 6, Truncate: 1, Malformed: 1, TooMany: 1}) {
		t.Errorf("counts %+v", c)
	}
	if n := v.Requests("autocall.get.task.api.php"); n != 5 {
		t.Errorf("Requests after faults = %d, want 5 (429 does not reach)", n)
	}
}

// vbSamples are the answers kept in testdata/votbox, one per answer type
// and form: Seed 15, two tasks of 4 and 3 items, after 4 steps (check,
// get.task) or once final (detail, recordtalk).
func vbSamples(t *testing.T) map[string][]byte {
	out := map[string][]byte{}
	for _, form := range []string{VotBoxAttr, VotBoxElem} {
		for _, cs := range []string{VotBoxUTF8, VotBoxCP1251} {
			if cs == VotBoxCP1251 && form == VotBoxElem {
				continue
			}
			sfx := "." + form + ".xml"
			if cs == VotBoxCP1251 {
				sfx = "." + form + ".windows-1251.xml"
			}
			cfg := VotBoxConfig{Seed: 15, Username: vbUser, Password: vbPass, TaskItems: []int{4, 3}, Form: form, Charset: cs}
			v := NewVotBox(cfg)
			for range 4 {
				v.Advance()
			}
			tasks := v.Tasks()
			id := strconv.FormatInt(tasks[len(tasks)-1].ID, 10)
			get := func(script string, kv ...string) []byte {
				return vbPost(t, v, "/api/"+script+".php", vbForm(kv...)).Body.Bytes()
			}
			out["get.task"+sfx] = get(votboxGetTask)
			out["check"+sfx] = get(votboxCheck, "taskid", id, "page", "1")
			out["check.page0"+sfx] = get(votboxCheck, "taskid", id, "page", "0")
			out["error-1"+sfx] = vbPost(t, v, "/api/autocall.check.api.php", url.Values{"username": {vbUser}, "password": {vbPass}}).Body.Bytes()
			out["error-4"+sfx] = get(votboxCheck, "taskid", "1")
			out["balance"+sfx] = get(votboxBalance)
			for !v.Final() {
				v.Advance()
			}
			for _, tk := range v.Tasks() {
				for _, it := range tk.Items {
					if it.RecFileName != "" && out["detail"+sfx] == nil {
						out["detail"+sfx] = get(votboxDetail, "itemid", strconv.FormatInt(it.ID, 10))
						out["recordtalk.wav"] = get(votboxRecordTalk, "callid", strconv.FormatInt(it.ID, 10))
					}
				}
			}
			if out["detail"+sfx] == nil {
				t.Fatal("no recorded item for the detail sample")
			}
			out["recordtalk.error-6"+sfx] = get(votboxRecordTalk, "filename", "nosuch.wav")
		}
	}
	return out
}

func TestVotBoxTestdata(t *testing.T) {
	dir := filepath.Join("testdata", "votbox")
	samples := vbSamples(t)
	if *votboxUpdate {
		for name, b := range samples {
			if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	onDisk := map[string]bool{}
	for _, f := range files {
		if filepath.Base(f) != "README.md" {
			onDisk[filepath.Base(f)] = true
		}
	}
	for _, name := range slices.Sorted(maps.Keys(samples)) {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Errorf("%v (run with -votbox.update)", err)
			continue
		}
		if !bytes.Equal(b, samples[name]) {
			t.Errorf("%s differs from the emulator's answer (run with -votbox.update)", name)
		}
		if strings.HasSuffix(name, ".xml") {
			if _, err := vbDecode(b); err != nil {
				t.Errorf("%s: %v", name, err)
			}
		}
		delete(onDisk, name)
	}
	for name := range onDisk {
		t.Errorf("testdata/votbox/%s is not produced by the emulator", name)
	}
	readme, err := os.ReadFile(filepath.Join(dir, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for name := range samples {
		if !bytes.Contains(readme, []byte(name)) {
			t.Errorf("README.md does not mention %s", name)
		}
	}
}

func TestPHPFloat(t *testing.T) {
	for in, want := range map[string]string{"49873.40": "49873.4", "49873.00": "49873", "49873.05": "49873.05", "100,00": "100", "0.10": "0.1"} {
		if got := phpFloat(in, in[len(in)-3]); got != want {
			t.Errorf("phpFloat(%q) = %q, want %q", in, got, want)
		}
	}
}

// check.balance answers the opening balance less the cost of every final
// item, in roubles (decimal comma in windows-1251), in both forms; it falls
// as items become final and stops once every item is.
func TestVotBoxBalance(t *testing.T) {
	for _, tc := range []struct{ form, charset, sep string }{
		{VotBoxAttr, VotBoxUTF8, "."}, {VotBoxElem, VotBoxUTF8, "."}, {VotBoxAttr, VotBoxCP1251, ","},
	} {
		t.Run(tc.form+"/"+tc.charset, func(t *testing.T) {
			v := NewVotBox(vbConfig(12, tc.form, tc.charset))
			read := func() string {
				t.Helper()
				recs := vbMustDecode(t, vbPost(t, v, "/api/check.balance.api.php", vbForm()))
				var amount, cur string
				for _, r := range recs {
					switch r.Tag {
					case "balance":
						amount = r.Fields["value"] + r.Text
						cur += r.Fields["currency"]
					case "currency":
						cur += r.Text
					}
				}
				if bare := tc.form == VotBoxElem && v.currentStep()%2 == 1; cur != "RUB" && !(bare && cur == "") {
					t.Errorf("currency %q in %v", cur, recs)
				}
				return amount
			}
			want := func() string {
				b := v.votboxOpening()
				for _, tk := range v.Tasks() {
					for _, it := range tk.Items {
						b -= it.CallPayKop + it.OperCallPayKop // 0 until final
					}
				}
				s := fmt.Sprintf("%d%s%02d", b/100, tc.sep, b%100)
				if tc.form == VotBoxElem && v.currentStep()%2 == 1 {
					s = phpFloat(s, tc.sep[0])
				}
				return s
			}
			first := read()
			if first != want() || v.Balance() != v.votboxOpening() {
				t.Fatalf("opening balance %s, want %s", first, want())
			}
			prev := v.Balance()
			for !v.Final() {
				v.Advance()
				if got := read(); got != want() {
					t.Fatalf("balance %s, want %s", got, want())
				}
				if v.Balance() > prev {
					t.Fatalf("the balance rose from %d to %d", prev, v.Balance())
				}
				prev = v.Balance()
			}
			if prev == v.votboxOpening() {
				t.Error("no call was charged")
			}
			v.Advance()
			if v.Balance() != prev {
				t.Error("the balance moved after every item was final")
			}
		})
	}
}
