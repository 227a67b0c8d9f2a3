package sandbox

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"time"
)

// Personal managers (GET /managers) and per-number statistics (GET
// /statistics/journal) of the T2 emulator.

// T2Manager is one element of GET /managers ("Менеджер"): an employee who
// handles calls from the customers listed.
type T2Manager struct {
	ID         int64
	EmployeeID int64 // an employee of /employees (the document's example: 440, which may not be)
	CompanyID  int64
	Name       string
	Customers  []T2Customer
	// HandleAllCustomers: the manager takes calls from every customer; such
	// a manager has no customers of its own in the emulator.
	HandleAllCustomers bool
}

// T2Customer is one customer of a manager. Fields are as on the wire;
// Info and Name are left out of the answer when empty, as in the
// document's example.
type T2Customer struct {
	ID          int64
	RealNumber  string // 7XXXXXXXXXX, in the spelling the PBX stores it
	CompanyName string
	Info        string
	Name        string // ФИО клиента (the object table's name; the examples omit it)
	IsVip       bool
	// Bad marks the document's own placeholder customer (realNumber
	// "string"): not a phone number, so an extractor must reject it.
	Bad bool
}

// t2DocManager is the document's example answer of GET /managers, verbatim:
// the emulator always serves it first.
var t2DocManager = T2Manager{
	ID: 26, EmployeeID: 440, CompanyID: 391, Name: "r",
	Customers: []T2Customer{
		{ID: 92, RealNumber: "79081581621", CompanyName: "ММММ", Info: "специалист"},
		{ID: 73, RealNumber: "79518045856", CompanyName: "P&G"},
		{ID: 449, RealNumber: "string", CompanyName: "string", Info: "string", IsVip: true, Bad: true},
	},
}

var t2CustomerCompanies = []string{"ООО Ромашка", "АО Вектор", "ИП Соколов", "ООО Север", "P&G", "ЗАО Орбита", "ООО Сфера"}

// t2Managers derives the document's example manager and n generated ones.
// Generated managers are employees (cycling through them); each has 2–6
// customers with distinct outside numbers, about a third VIP, some with
// info or a contact name. With three or more, the last handles all
// customers and has none of its own.
func t2Managers(seed, companyID int64, employees []T2Employee, n int) []T2Manager {
	out := []T2Manager{t2DocManager}
	out[0].Customers = slices.Clone(t2DocManager.Customers)
	if n <= 0 || len(employees) == 0 {
		return out
	}
	r := rng{newHasher(seed).str("t2-managers").sum()}
	used := map[string]bool{}
	custID := int64(1000 + r.intn(500))
	for i := range n {
		e := &employees[i%len(employees)]
		emp, _ := strconv.ParseInt(e.EmployeeID, 10, 64)
		m := T2Manager{ID: int64(100 + 3*i + r.intn(3)), EmployeeID: emp, CompanyID: companyID, Name: e.fullName()}
		if n >= 3 && i == n-1 {
			m.HandleAllCustomers = true
			out = append(out, m)
			continue
		}
		for range 2 + r.intn(5) {
			num := r.externalNumber()
			for used[num] {
				num = r.externalNumber()
			}
			used[num] = true
			custID += 1 + int64(r.intn(9))
			c := T2Customer{ID: custID, RealNumber: num, CompanyName: t2CustomerCompanies[r.intn(len(t2CustomerCompanies))],
				IsVip: r.chance(350)}
			if r.chance(400) {
				c.Info = []string{"специалист", "закупки", "директор", "бухгалтерия"}[r.intn(4)]
			}
			if r.chance(300) {
				first, last := r.t2Name()
				c.Name = last + " " + first
			}
			m.Customers = append(m.Customers, c)
		}
		out = append(out, m)
	}
	return out
}

// customerNumbers are the numbers of the generated managers' customers
// (not the document's example): the callers and callees the traffic uses
// for customer calls.
func (t *T2) customerNumbers() []string {
	var out []string
	for _, m := range t.managers[1:] {
		for _, c := range m.Customers {
			out = append(out, c.RealNumber)
		}
	}
	return out
}

// ManagerList returns the managers in the order GET /managers serves
// them: the document's example first.
func (t *T2) ManagerList() []T2Manager {
	out := slices.Clone(t.managers)
	for i := range out {
		out[i].Customers = slices.Clone(out[i].Customers)
	}
	return out
}

// t2CustomerRow and t2ManagerRow are the wire forms, in the document's key
// order.
type t2CustomerRow struct {
	ID          int64  `json:"id"`
	RealNumber  string `json:"realNumber"`
	CompanyName string `json:"companyName"`
	Info        string `json:"info,omitempty"`
	Name        string `json:"name,omitempty"`
	IsVip       bool   `json:"isVip"`
}

type t2ManagerRow struct {
	ID                 int64           `json:"id"`
	EmployeeID         int64           `json:"employeeId"`
	CompanyID          int64           `json:"companyId"`
	Name               string          `json:"name"`
	Customers          []t2CustomerRow `json:"customers"`
	HandleAllCustomers bool            `json:"handleAllCustomers"`
}

// managersAnswer answers GET /managers: every manager, customers [] when
// none.
func (t *T2) managersAnswer(w http.ResponseWriter, _ url.Values) {
	rows := make([]t2ManagerRow, len(t.managers))
	for i, m := range t.managers {
		cs := make([]t2CustomerRow, len(m.Customers))
		for j, c := range m.Customers {
			cs[j] = t2CustomerRow{c.ID, c.RealNumber, c.CompanyName, c.Info, c.Name, c.IsVip}
		}
		rows[i] = t2ManagerRow{m.ID, m.EmployeeID, m.CompanyID, m.Name, cs, m.HandleAllCustomers}
	}
	t2JSON(w, http.StatusOK, rows)
}

// t2NumberFormat is the document's "в формате 7XXXXXXXXXX".
var t2NumberFormat = regexp.MustCompile(`^7[0-9]{10}$`)

// numberParam reads an optional number parameter in the documented format
// 7XXXXXXXXXX; anything else (8…, +7…, an extension) is 400 "Wrong
// parameter", the harsh reading of the format the document states.
func numberParam(q url.Values, name string) (string, *t2BadRequest) {
	v, ok := q[name]
	if !ok || v[0] == "" {
		return "", nil
	}
	if !t2NumberFormat.MatchString(v[0]) {
		return "", wrongParam(name)
	}
	return v[0], nil
}

// t2JournalRow is the answer of /statistics/journal, in the document's key
// order; timestamps are Unix seconds, as in its example.
type t2JournalRow struct {
	Number               string `json:"number,omitempty"`
	StartTimestamp       int64  `json:"startTimestamp"`
	EndTimestamp         int64  `json:"endTimestamp"`
	NumberOfCalls        int    `json:"numberOfCalls"`
	NumberOfSuccessCalls int    `json:"numberOfSuccessCalls"`
}

// T2Involves reports whether number (7XXXXXXXXXX) is the caller, callee or
// destination of c after normalisation: the calls /statistics/journal and
// /statistics/common with subscriberNumber count for a number.
func T2Involves(c *T2Call, number string) bool {
	return t2Norm(c.CallerNumber) == number || t2Norm(c.CalleeNumber) == number || t2Norm(c.DestinationNumber) == number
}

// journal answers GET /statistics/journal: the call records with start <=
// callTimestamp < end that involve number (T2Involves; all of them
// without number), and how many were answered.
func (t *T2) journal(w http.ResponseWriter, q url.Values) {
	start, bad := timeParam(q, "start")
	var end time.Time
	if bad == nil {
		end, bad = timeParam(q, "end")
	}
	var number string
	if bad == nil {
		number, bad = numberParam(q, "number")
	}
	if bad != nil {
		bad.write(w)
		return
	}
	row := t2JournalRow{Number: number, StartTimestamp: start.Unix(), EndTimestamp: end.Unix()}
	calls := t.callsBetween(start, end)
	for i := range calls {
		c := &calls[i]
		if number != "" && !T2Involves(c, number) {
			continue
		}
		row.NumberOfCalls++
		if c.Answered() {
			row.NumberOfSuccessCalls++
		}
	}
	t2JSON(w, http.StatusOK, row)
}
