package mtt

import (
	"encoding/base64"
	"net/http"
	"testing"
	"time"

	"github.com/calletl/calletl/extract/registry"
	"github.com/calletl/calletl/extract/sourcetest"
	"github.com/calletl/calletl/model"
	"github.com/calletl/calletl/sandbox"
)

// contractFrom is the first of the contract emulator's two days;
// contractNow the runs' clock.
var (
	contractFrom = time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	contractNow  = contractFrom.Add(36 * time.Hour)
)

const (
	contractUser     = "calletl-api"
	contractPassword = "mtt-s3cret-Pa55w0rd"
	contractCustomer = "110011256"
)

// contractEmu is sandbox.MTT as the source contract suite drives it: one
// customer, two days of a few calls per type, one malformed row per type
// and day, and a call whose destination is Cyrillic.
type contractEmu struct{ *sandbox.MTT }

func newContractEmu(testing.TB) sourcetest.Emulator {
	m := sandbox.NewMTT(sandbox.MTTConfig{Seed: 3, Customers: []string{contractCustomer},
		From: contractFrom, To: contractFrom.AddDate(0, 0, 1), CallsPerDay: 4, BadRowsPerDay: 1,
		Username: contractUser, Password: contractPassword, CallbacksPerCustomer: 8})
	m.AddCalls(sandbox.MTTCall{Customer: contractCustomer, Type: sandbox.MTTDialed, ConfID: "0C0FFEE0 00000000 00000000 00000001",
		ConnectTime: contractFrom.Add(30 * time.Hour), CLI: "74951234567", CLD: "74957654321", Destination: "Москва, городской",
		ChargedTime: 60, UsedQuantity: 42, CostE4: 24800, DisconnectCause: 16})
	return contractEmu{m}
}

func (e contractEmu) Handler() http.Handler { return e.MTT }

func (e contractEmu) Config(t testing.TB, base, dir string, _ sourcetest.Options) registry.Config {
	return &Settings{Common: registry.Common{HTTP: sourcetest.HTTP()}, BaseURL: base, Username: contractUser,
		Password: sourcetest.SecretFile(t, dir, "mtt-password", contractPassword), Customers: []string{contractCustomer},
		CallbackSettings: CallbackSettings{CallbackIDs: e.callbackIDs()}}
}

// callbackIDs are the emulator's callback ids, configured as callback_ids.
func (e contractEmu) callbackIDs() []string {
	var ids []string
	for _, c := range e.MTT.Callbacks() {
		ids = append(ids, c.ID)
	}
	return ids
}

func (e contractEmu) Truth() sourcetest.Truth {
	var tr sourcetest.Truth
	good := 0
	for _, c := range e.MTT.Truth() {
		if c.Bad {
			tr.Rejects++
			continue
		}
		good++
		tr.Calls = append(tr.Calls, sourcetest.Call{Unit: c.Type + "-" + c.Customer, Account: c.Customer,
			Date: model.Day(c.ConnectTime, time.UTC), CallID: c.ConfID})
	}
	// Callback calls: every one ended, so each is one calls row (direction
	// callback) and one mtt_callbacks row on the run's day.
	cbs := e.MTT.Callbacks()
	for _, c := range cbs {
		tr.Calls = append(tr.Calls, sourcetest.Call{Unit: CallbackKind + "-" + c.ID, Account: c.Customer,
			Date: model.Day(contractNow, time.UTC), CallID: c.ID})
	}
	tr.Tables = map[string]int{CallsTable.Name: good, CallbacksTable.Name: len(cbs)}
	return tr
}

func (e contractEmu) Secrets() []string {
	return []string{contractPassword, base64.StdEncoding.EncodeToString([]byte(contractUser + ":" + contractPassword))}
}

// TestSourceContract runs the source contract suite against sandbox.MTT.
func TestSourceContract(t *testing.T) {
	sourcetest.Run(t, sourcetest.Harness{
		Vendor: Vendor(), Now: contractNow, StartDay: contractFrom.Format(model.DayLayout),
		New: newContractEmu,
	})
}
