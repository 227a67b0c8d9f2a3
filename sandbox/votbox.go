package sandbox

import (
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// VotBoxConfig configures a VotBox emulator.
type VotBoxConfig struct {
	Seed     int64
	Username string
	// Password is the plain password. Every request must post the form
	// field password = lowercase hex MD5(Password); the plain password is
	// refused.
	Password string
	// Tasks is the number of tasks; default 3.
	Tasks int
	// ItemsPerTask is the mean number of items (calls) per task; default
	// 200. A task gets between 3/4 and 5/4 of it, at least 1.
	ItemsPerTask int
	// TaskItems, when not empty, gives the exact item count of every task
	// and overrides Tasks and ItemsPerTask (e.g. {10001} for a task that
	// spans two autocall.check pages).
	TaskItems []int
	// Start is the first task's start; tasks start a few hours apart.
	// Default 2025-01-13 09:00 Moscow time.
	Start time.Time
	// Form is "attr" (default: every field an attribute) or "elem" (every
	// field a child element, some element names in CamelCase).
	Form string
	// Charset is "utf-8" (default) or "windows-1251": the body is encoded in
	// it and the XML declaration names it.
	Charset string
	// BadEvery, when positive, serves every BadEvery-th item of a task
	// with attempts "—", marked Bad in the ground truth: an extractor must
	// reject it (and so never see its task final).
	BadEvery int
	// NoCostEvery, when positive, serves every NoCostEvery-th item of a
	// task without callpay and opercallpay, marked NoCost in the ground
	// truth: its costs come only in its ENDCALL notification
	// ([VotBoxItemEvents]), as the document allows (§16 lists CALLPAY and
	// OPERCALLPAY there; nothing says autocall.check always has them).
	NoCostEvery int
}

// Answer forms and charsets of VotBoxConfig.
const (
	VotBoxAttr    = "attr"
	VotBoxElem    = "elem"
	VotBoxUTF8    = "utf-8"
	VotBoxCP1251  = "windows-1251"
	votboxPage    = 10000 // items per autocall.check page
	votboxDefTask = 3
	votboxDefItem = 200
)

// jobstatus values of autocall.check.api.php.
const (
	VotBoxQueued     = 0
	VotBoxInProgress = 1
	VotBoxError      = 2
	VotBoxSuccess    = 3
	VotBoxOperator   = 4
	VotBoxBilling    = 5
	VotBoxExpired    = 7
	VotBoxUserEnded  = 11
)

// Task statuses. The document does not list taskstatus values; these are
// the emulator's decision (testdata/votbox/README.md).
const (
	VotBoxTaskWaiting  = 0 // every item queued
	VotBoxTaskRunning  = 1 // some item not final, some started
	VotBoxTaskFinished = 2 // every item final
)

// VotBoxJobStatusStr returns the Russian label of a jobstatus, "" for an
// unknown one.
func VotBoxJobStatusStr(s int) string {
	switch s {
	case VotBoxQueued:
		return "в очереди"
	case VotBoxInProgress:
		return "в процессе"
	case VotBoxError:
		return "ошибка"
	case VotBoxSuccess:
		return "успешно"
	case VotBoxOperator:
		return "соединен с оператором"
	case VotBoxBilling:
		return "ошибка биллинга"
	case VotBoxExpired:
		return "истекло время жизни"
	case VotBoxUserEnded:
		return "завершено пользователем"
	}
	return ""
}

// VotBoxTaskStatusStr returns the Russian label of a task status.
func VotBoxTaskStatusStr(s int) string {
	switch s {
	case VotBoxTaskWaiting:
		return "ожидает запуска"
	case VotBoxTaskRunning:
		return "выполняется"
	case VotBoxTaskFinished:
		return "завершена"
	}
	return ""
}

// VotBoxFinal reports whether a jobstatus is final (neither 0 nor 1).
func VotBoxFinal(jobStatus int) bool {
	return jobStatus != VotBoxQueued && jobStatus != VotBoxInProgress
}

// VotBoxTask is one autocall task as the emulator knows it now: the ground
// truth an extractor's output is compared against.
type VotBoxTask struct {
	ID        int64
	Name      string    // Cyrillic, with ASCII punctuation that needs escaping
	StartTime time.Time // UTC, whole seconds; taskstarttime is its unix time
	Status    int       // VotBoxTaskWaiting, …Running or …Finished
	StatusStr string
	Items     []VotBoxItem // in item id order, the order of autocall.check
}

// VotBoxItem is one call of a task, as served now.
type VotBoxItem struct {
	ID           int64
	Phone        string // 8XXXXXXXXXX
	JobStatus    int
	JobStatusStr string
	// Attempts is 0 while queued. An item that ends 7 or 11 without ever
	// being dialled keeps 0 and goes from 0 straight to its final status.
	Attempts int
	// CallTime is the start of the last attempt, UTC, whole seconds; zero
	// while queued and for items never dialled. calldate writes it in
	// Moscow time.
	CallTime time.Time
	// Durations in seconds and costs in kopecks are 0 until the item is
	// final.
	CallDuration, OperCallDuration int
	CallPayKop, OperCallPayKop     int64
	// RecFileName is "" unless the item is final, connected to an operator
	// (4) and recorded.
	RecFileName string
	// Bad items are served with the malformed attempts "—" (BadEvery).
	Bad bool
	// NoCost items are served without callpay and opercallpay
	// (NoCostEvery); CallPayKop and OperCallPayKop still hold their costs.
	NoCost bool
	// DialStart, DialEnd and HangupCause are served by autocall.detail
	// only: DialStart = CallTime, DialEnd and HangupCause once final.
	DialStart, DialEnd time.Time
	HangupCause        string
}

// VotBox emulates the VotBox autocall API (https://www.votbox.ru/api/):
// POST form fields to /api/<script>.php, XML answers. It serves
// autocall.get.task, autocall.check, autocall.detail,
// autocall.recordtalk and check.balance (the script name is taken from the last path element,
// so any prefix works). It is safe for concurrent use.
//
// Errors are HTTP 200 with <response><error code="N">text</error></response>
// in both forms: 1 wrong login or password, 2 missing parameter, 3 bad
// parameter value, 4 task not found, 5 call not found, 6 record not found.
// An unknown script is a 404 HTML page.
//
// Everything is generated at construction from Seed; Advance moves a step
// counter and the state of every item is a function of it.
type VotBox struct {
	cfg      VotBoxConfig
	md5      string // lowercase hex MD5 of the password
	moscow   *time.Location
	tasks    []votboxTask
	byItem   map[int64][2]int // item id → task index, item index
	byFile   map[string]int64 // recfilename → item id
	faults   *FaultInjector
	handler  http.Handler
	maxSteps int // steps after which everything is final

	mu       sync.Mutex
	step     int
	requests map[string]int
	revoked  bool // Revoke
}

// NewVotBox returns an emulator for cfg with its tasks generated, every
// clock at step 0.
func NewVotBox(cfg VotBoxConfig) *VotBox {
	if cfg.Tasks <= 0 {
		cfg.Tasks = votboxDefTask
	}
	if cfg.ItemsPerTask <= 0 {
		cfg.ItemsPerTask = votboxDefItem
	}
	cfg.TaskItems = slices.Clone(cfg.TaskItems)
	if cfg.Form == "" {
		cfg.Form = VotBoxAttr
	}
	cfg.Form = strings.ToLower(cfg.Form)
	if cfg.Charset == "" {
		cfg.Charset = VotBoxUTF8
	}
	cfg.Charset = strings.ToLower(cfg.Charset)
	if cfg.Charset == "cp1251" {
		cfg.Charset = VotBoxCP1251
	}
	moscow := t2Moscow()
	if cfg.Start.IsZero() {
		cfg.Start = time.Date(2025, 1, 13, 9, 0, 0, 0, moscow)
	}
	v := &VotBox{
		cfg:      cfg,
		md5:      md5Hex(cfg.Password),
		moscow:   moscow,
		byItem:   make(map[int64][2]int),
		byFile:   make(map[string]int64),
		faults:   NewFaultInjector(Faults{}),
		requests: make(map[string]int),
	}
	v.generate()
	v.handler = v.faults.Wrap(http.HandlerFunc(v.serve))
	return v
}

// ServeHTTP answers API requests after the faults set with SetFaults.
func (v *VotBox) ServeHTTP(w http.ResponseWriter, r *http.Request) { v.handler.ServeHTTP(w, r) }

// SetFaults replaces the faults injected from now on. A malformed answer is
// the real body's first half (cut anywhere, often inside a tag) followed by
// "<html>".
func (v *VotBox) SetFaults(f Faults) { v.faults.SetFaults(f) }

// FaultInjector returns the emulator's injector, for its counters.
func (v *VotBox) FaultInjector() *FaultInjector { return v.faults }

// Advance moves every task's clock one step: items go 0 (queued) → 1 (in
// progress) → a final status (2, 3, 4, 5, 7, 11), deterministic per Seed.
// Items never dialled go from 0 straight to 7 or 11. After a bounded
// number of steps (at most 15) every item is final and every task finished;
// further calls change nothing.
func (v *VotBox) Advance() {
	v.mu.Lock()
	if v.step < v.maxSteps {
		v.step++
	}
	v.mu.Unlock()
}

// Revoke refuses the user's login from now on (the user was blocked or
// the password changed): every request answers error 1.
func (v *VotBox) Revoke() {
	v.mu.Lock()
	v.revoked = true
	v.mu.Unlock()
}

// Final reports whether every item of every task is final.
func (v *VotBox) Final() bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.step >= v.maxSteps
}

// Tasks returns the ground truth now: every task, finished or not, in id
// order, with its items.
func (v *VotBox) Tasks() []VotBoxTask {
	step := v.currentStep()
	out := make([]VotBoxTask, len(v.tasks))
	for i := range v.tasks {
		out[i] = v.taskAt(i, step, true)
	}
	return out
}

// Requests returns how many requests for script reached the emulator
// behind the fault injector (answered with 503 or 429 ones do not).
// script is the file name, "autocall.check.api.php"; the ".php" may be
// left out.
func (v *VotBox) Requests(script string) int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.requests[strings.TrimSuffix(script, ".php")]
}

func (v *VotBox) currentStep() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.step
}
