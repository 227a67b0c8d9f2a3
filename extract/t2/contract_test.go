package t2

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/calletl/calletl/extract/registry"
	"github.com/calletl/calletl/extract/sourcetest"
	"github.com/calletl/calletl/model"
	"github.com/calletl/calletl/sandbox"
)

// contractFrom is the first of the contract emulator's two days.
var contractFrom = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)

var contractNow = contractFrom.Add(36 * time.Hour)

// contractEmu is sandbox.T2 as the source contract suite drives it: two
// days of a few calls and missed calls, every fifth call record malformed,
// and one token pair issued for the config.
type contractEmu struct {
	*sandbox.T2
	access, refresh string
	tokenFile       string
}

func newContractEmu(testing.TB) sourcetest.Emulator {
	emu := sandbox.NewT2(sandbox.T2Config{Seed: 5, From: contractFrom, To: contractFrom.AddDate(0, 0, 1),
		CallsPerDay: 6, MissedPerDay: 3, Employees: 3, Managers: 3, BadEvery: 5, Now: func() time.Time { return contractNow }})
	e := &contractEmu{T2: emu}
	e.access, e.refresh = emu.IssueTokens()
	return e
}

func (e *contractEmu) Handler() http.Handler { return e.T2 }

func (e *contractEmu) Config(t testing.TB, base, dir string, _ sourcetest.Options) registry.Config {
	e.tokenFile = filepath.Join(dir, "t2-tokens.json")
	return &Settings{Common: registry.Common{HTTP: sourcetest.HTTP()}, BaseURL: base + "/crm/openapi",
		AccessToken:  sourcetest.SecretFile(t, dir, "t2-access", e.access),
		RefreshToken: sourcetest.SecretFile(t, dir, "t2-refresh", e.refresh),
		TokenFile:    e.tokenFile, PageSize: 4}
}

func (e *contractEmu) Truth() sourcetest.Truth {
	tr := sourcetest.Truth{Tables: map[string]int{}}
	unit := model.StreamKey{Source: Name, Stream: StreamCallRecords, Account: Account}.Unit()
	bad := map[int64]bool{} // missed ids whose call record is rejected
	good := 0
	for _, c := range e.Calls() {
		if c.Bad {
			tr.Rejects++
			bad[c.MissedID] = true
			continue
		}
		good++
		tr.Calls = append(tr.Calls, sourcetest.Call{Unit: unit, Account: Account, Date: model.Day(c.Timestamp, time.UTC)})
	}
	missed := e.Missed()
	for _, m := range missed {
		if !m.AlsoInCallRecords || bad[m.ID] {
			tr.Calls = append(tr.Calls, sourcetest.Call{Unit: unit, Account: Account, Date: model.Day(m.StartDate, time.UTC),
				CallID: "missed:" + strconv.FormatInt(m.ID, 10)})
		}
	}
	tr.Tables[CallsTable.Name] = good
	tr.Tables[MissedTable.Name] = len(missed)
	tr.Tables[DailyStatsTable.Name] = 2
	tr.Tables[EmployeesTable.Name] = len(e.EmployeeList())
	// One row per valid customer, or per manager without customers; the
	// document's placeholder customer is a reject.
	for _, m := range e.ManagerList() {
		if len(m.Customers) == 0 {
			tr.Tables[ManagersTable.Name]++
		}
		for _, c := range m.Customers {
			if c.Bad {
				tr.Rejects++
				continue
			}
			tr.Tables[ManagersTable.Name]++
		}
	}
	// One row per employee number and day (two days).
	tr.Tables[JournalTable.Name] = 2 * len(e.EmployeeList())
	tr.Tables[EmployeeStatsTable.Name] = 2 * len(e.EmployeeList())
	return tr
}

// Secrets are the configured pair and the live pair of the token file.
func (e *contractEmu) Secrets() []string {
	out := []string{e.access, e.refresh}
	var pair struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
	}
	if b, err := os.ReadFile(e.tokenFile); err == nil && json.Unmarshal(b, &pair) == nil {
		out = append(out, pair.AccessToken, pair.RefreshToken)
	}
	return out
}

func (e *contractEmu) Revoke() { e.RevokeTokens() }

// TestSourceContract runs the source contract suite against sandbox.T2.
func TestSourceContract(t *testing.T) {
	sourcetest.Run(t, sourcetest.Harness{
		Vendor: Vendor(), Now: contractNow, StartDay: contractFrom.Format(model.DayLayout),
		New: newContractEmu,
	})
}
