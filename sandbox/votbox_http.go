package sandbox

import (
	"encoding/xml"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"
)

// HTTP side of the VotBox emulator: scripts, form fields and XML answers.
// The answer shape is the emulator's decision (the vendor document lost its
// examples); testdata/votbox/README.md describes it.

// votboxDateLayout is calldate, dialstart and dialend, in Moscow time.
const votboxDateLayout = "02.01.2006 15:04:05"

// Script names, without ".php".
const (
	votboxGetTask    = "autocall.get.task.api"
	votboxCheck      = "autocall.check.api"
	votboxDetail     = "autocall.detail.api"
	votboxRecordTalk = "autocall.recordtalk.api"
)

// Error codes and texts of the emulator.
const (
	votboxErrAuth     = 1 // Неверный логин или пароль
	votboxErrMissing  = 2
	votboxErrBadValue = 3
	votboxErrNoTask   = 4
	votboxErrNoCall   = 5
	votboxErrNoRecord = 6
)

// votboxCamel are the CamelCase spellings the "elem" form uses for every
// third record (id % 3 == 1); names are matched case-insensitively.
var votboxCamel = map[string]string{
	"id":            "ID",
	"taskname":      "TaskName",
	"taskstarttime": "TaskStartTime",
	"taskstatusstr": "TaskStatusStr",
	"phonenumber":   "PhoneNumber",
	"jobstatusstr":  "JobStatusStr",
	"calldate":      "CallDate",
	"recfilename":   "RecFileName",
	"hangupcause":   "HangupCause",
}

// votboxField is one field of a record; empty fields are left out in the
// "attr" form and written as empty elements in the "elem" form.
type votboxField struct {
	name, value string
	empty       bool
}

func vbInt[T int | int64](name string, v T) votboxField {
	return votboxField{name: name, value: strconv.FormatInt(int64(v), 10)}
}

// serve routes one request that passed the fault injector.
func (v *VotBox) serve(w http.ResponseWriter, r *http.Request) {
	script := strings.TrimSuffix(path.Base(r.URL.Path), ".php")
	v.mu.Lock()
	v.requests[script]++
	step, revoked := v.step, v.revoked
	v.mu.Unlock()
	var h func(http.ResponseWriter, *http.Request, int)
	switch script {
	case votboxGetTask:
		h = v.getTask
	case votboxCheck:
		h = v.check
	case votboxDetail:
		h = v.detail
	case votboxRecordTalk:
		h = v.recordTalk
	case votboxBalance:
		h = func(w http.ResponseWriter, _ *http.Request, step int) {
			var b strings.Builder
			v.balance(&b, step)
			v.writeResponse(w, b.String())
		}
	default:
		writeSimple(w, http.StatusNotFound, "text/html", "<html><head><title>404 Not Found</title></head>"+
			"<body><h1>Not Found</h1><p>The requested URL was not found on this server.</p></body></html>\n")
		return
	}
	user, pass := formValue(r, "username"), formValue(r, "password")
	switch {
	case user == "":
		v.writeError(w, votboxErrMissing, "Не указан обязательный параметр username")
	case pass == "":
		v.writeError(w, votboxErrMissing, "Не указан обязательный параметр password")
	case revoked || user != v.cfg.Username || pass != v.md5:
		v.writeError(w, votboxErrAuth, "Неверный логин или пароль")
	default:
		h(w, r, step)
	}
}

func formValue(r *http.Request, name string) string {
	return strings.TrimSpace(r.PostFormValue(name))
}

// intParam reads a required (or, with def ≥ 0, optional) non-negative
// integer field; ok false means an error answer was written.
func (v *VotBox) intParam(w http.ResponseWriter, r *http.Request, name string, def int64) (int64, bool) {
	s := formValue(r, name)
	if s == "" {
		if def >= 0 {
			return def, true
		}
		v.writeError(w, votboxErrMissing, "Не указан обязательный параметр "+name)
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		v.writeError(w, votboxErrBadValue, "Неверное значение параметра "+name)
		return 0, false
	}
	return n, true
}

// getTask answers autocall.get.task.api.php: the tasks with an item not
// final.
func (v *VotBox) getTask(w http.ResponseWriter, _ *http.Request, step int) {
	var b strings.Builder
	for i := range v.tasks {
		t := v.taskAt(i, step, false)
		if t.Status != VotBoxTaskFinished {
			v.writeRecord(&b, "task", t.ID, taskFields(&t))
		}
	}
	v.writeResponse(w, b.String())
}

// check answers autocall.check.api.php: the task and a page of its items.
func (v *VotBox) check(w http.ResponseWriter, r *http.Request, step int) {
	id, ok := v.intParam(w, r, "taskid", -1)
	if !ok {
		return
	}
	page, ok := v.intParam(w, r, "page", 1)
	if !ok {
		return
	}
	i := v.taskIndex(id)
	if i < 0 {
		v.writeError(w, votboxErrNoTask, "Задача не найдена")
		return
	}
	t := v.taskAt(i, step, page > 0)
	var b strings.Builder
	v.writeRecord(&b, "task", t.ID, taskFields(&t))
	if page > 0 && (page-1)*votboxPage < int64(len(t.Items)) {
		lo := int((page - 1) * votboxPage)
		for _, it := range t.Items[lo:min(lo+votboxPage, len(t.Items))] {
			v.writeRecord(&b, "item", it.ID, v.itemFields(&it, false))
		}
	}
	v.writeResponse(w, b.String())
}

// detail answers autocall.detail.api.php: one item with its dial fields.
func (v *VotBox) detail(w http.ResponseWriter, r *http.Request, step int) {
	id, ok := v.intParam(w, r, "itemid", -1)
	if !ok {
		return
	}
	it, found := v.item(id, step)
	if !found {
		v.writeError(w, votboxErrNoCall, "Звонок не найден")
		return
	}
	var b strings.Builder
	v.writeRecord(&b, "item", it.ID, v.itemFields(&it, true))
	v.writeResponse(w, b.String())
}

// recordTalk answers autocall.recordtalk.api.php: the WAV of a recorded
// call, by callid or filename.
func (v *VotBox) recordTalk(w http.ResponseWriter, r *http.Request, step int) {
	var id int64
	callID, name := formValue(r, "callid"), formValue(r, "filename")
	switch {
	case callID == "" && name == "":
		v.writeError(w, votboxErrMissing, "Не указан обязательный параметр callid или filename")
		return
	case callID == "":
		var found bool
		if id, found = v.byFile[name]; !found {
			v.writeError(w, votboxErrNoRecord, "Запись разговора не найдена")
			return
		}
	default:
		var ok bool
		if id, ok = v.intParam(w, r, "callid", -1); !ok {
			return
		}
	}
	it, found := v.item(id, step)
	if !found {
		v.writeError(w, votboxErrNoCall, "Звонок не найден")
		return
	}
	if it.RecFileName == "" {
		v.writeError(w, votboxErrNoRecord, "Запись разговора не найдена")
		return
	}
	body := votboxWAV(v.cfg.Seed, it.RecFileName)
	w.Header().Set("Content-Disposition", `attachment; filename="`+it.RecFileName+`"`)
	writeSimple(w, http.StatusOK, "audio/wav", string(body))
}

func (v *VotBox) taskIndex(id int64) int {
	for i := range v.tasks {
		if v.tasks[i].id == id {
			return i
		}
	}
	return -1
}

func (v *VotBox) item(id int64, step int) (VotBoxItem, bool) {
	at, ok := v.byItem[id]
	if !ok {
		return VotBoxItem{}, false
	}
	it := v.tasks[at[0]].items[at[1]].at(step)
	it.NoCost = v.cfg.NoCostEvery > 0 && (at[1]+1)%v.cfg.NoCostEvery == 0
	return it, true
}

func taskFields(t *VotBoxTask) []votboxField {
	return []votboxField{
		vbInt("id", t.ID),
		{name: "taskname", value: t.Name},
		vbInt("taskstarttime", t.StartTime.Unix()),
		vbInt("taskstatus", t.Status),
		{name: "taskstatusstr", value: t.StatusStr},
	}
}

// itemFields are an item's fields: calldate once dialled, durations and
// costs once final, recfilename when recorded; with detail, dialstart,
// dialend and hangupcause too.
func (v *VotBox) itemFields(it *VotBoxItem, detail bool) []votboxField {
	final := VotBoxFinal(it.JobStatus)
	date := func(name string, t time.Time) votboxField {
		if t.IsZero() {
			return votboxField{name: name, empty: true}
		}
		return votboxField{name: name, value: t.In(v.moscow).Format(votboxDateLayout)}
	}
	num := func(name string, n int64) votboxField {
		if !final {
			return votboxField{name: name, empty: true}
		}
		return vbInt(name, n)
	}
	cost := func(name string, n int64) votboxField {
		if it.NoCost {
			return votboxField{name: name, empty: true}
		}
		return num(name, n)
	}
	attempts := vbInt("attempts", it.Attempts)
	if it.Bad {
		attempts.value = "—"
	}
	f := []votboxField{
		vbInt("id", it.ID),
		{name: "phonenumber", value: it.Phone},
		vbInt("jobstatus", it.JobStatus),
		{name: "jobstatusstr", value: it.JobStatusStr},
		attempts,
		date("calldate", it.CallTime),
		num("callduration", int64(it.CallDuration)),
		num("opercallduration", int64(it.OperCallDuration)),
		cost("callpay", it.CallPayKop),
		cost("opercallpay", it.OperCallPayKop),
		{name: "recfilename", value: it.RecFileName, empty: it.RecFileName == ""},
	}
	if detail {
		f = append(f, date("dialstart", it.DialStart), date("dialend", it.DialEnd),
			votboxField{name: "hangupcause", value: it.HangupCause, empty: it.HangupCause == ""})
	}
	return f
}

// writeRecord appends one <task> or <item> in the configured form.
func (v *VotBox) writeRecord(b *strings.Builder, tag string, id int64, fields []votboxField) {
	b.WriteString("<" + tag)
	if v.cfg.Form != VotBoxElem {
		for _, f := range fields {
			if !f.empty {
				b.WriteString(" " + f.name + `="`)
				_ = xml.EscapeText(b, []byte(f.value))
				b.WriteString(`"`)
			}
		}
		b.WriteString("/>\n")
		return
	}
	b.WriteString(">")
	for _, f := range fields {
		name := f.name
		if id%3 == 1 && votboxCamel[name] != "" {
			name = votboxCamel[name]
		}
		if f.empty {
			b.WriteString("<" + name + "/>")
			continue
		}
		b.WriteString("<" + name + ">")
		_ = xml.EscapeText(b, []byte(f.value))
		b.WriteString("</" + name + ">")
	}
	b.WriteString("</" + tag + ">\n")
}

// writeError answers HTTP 200 with <error code="N">text</error>, the same
// in both forms.
func (v *VotBox) writeError(w http.ResponseWriter, code int, text string) {
	var b strings.Builder
	b.WriteString(`<error code="` + strconv.Itoa(code) + `">`)
	_ = xml.EscapeText(&b, []byte(text))
	b.WriteString("</error>\n")
	v.writeResponse(w, b.String())
}

// writeResponse wraps inner in the declaration and <response>, encodes it
// in the configured charset and answers 200 text/xml. The Content-Type
// names no charset: the XML declaration alone does.
func (v *VotBox) writeResponse(w http.ResponseWriter, inner string) {
	s := `<?xml version="1.0" encoding="` + v.cfg.Charset + `"?>` + "\n<response>\n" + inner + "</response>\n"
	body := []byte(s)
	if v.cfg.Charset == VotBoxCP1251 {
		body = cp1251Encode(s)
	}
	writeSimple(w, http.StatusOK, "text/xml", string(body))
}
