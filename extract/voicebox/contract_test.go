package voicebox

import (
	"net/http"
	"testing"
	"time"

	"github.com/calletl/calletl/extract/registry"
	"github.com/calletl/calletl/extract/sourcetest"
	"github.com/calletl/calletl/model"
	"github.com/calletl/calletl/sandbox"
)

var (
	contractStart = time.Date(2026, 11, 17, 0, 0, 0, 0, Moscow)
	contractNow   = time.Date(2026, 11, 18, 12, 0, 0, 0, Moscow)
)

// contractEmu is sandbox.VoiceBox as the source contract suite drives it:
// one customer, two days of a few calls and one malformed row a day.
type contractEmu struct{ *sandbox.VoiceBox }

func newContractEmu(testing.TB) sourcetest.Emulator {
	return contractEmu{sandbox.NewVoiceBox(sandbox.VoiceBoxConfig{Customers: []string{"1001"}, CallsPerDay: 5, Days: 2,
		BadRowsPerDay: 1, Seed: 13, Start: contractStart})}
}

// Handler mounts the API under /voicebox, as the CLI's sandbox does.
func (e contractEmu) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/voicebox/", http.StripPrefix("/voicebox", e.VoiceBox))
	return mux
}

func (e contractEmu) Config(t testing.TB, base, dir string, _ sourcetest.Options) registry.Config {
	return &Settings{Common: registry.Common{HTTP: sourcetest.HTTP()}, BaseURL: base + "/voicebox",
		ClientID: sandbox.VoiceBoxDefaultClientID, Username: sandbox.VoiceBoxDefaultUsername,
		ClientSecret: sourcetest.SecretFile(t, dir, "voicebox-client-secret", sandbox.VoiceBoxDefaultClientSecret),
		Password:     sourcetest.SecretFile(t, dir, "voicebox-password", sandbox.VoiceBoxDefaultPassword),
		Customers:    []string{"1001"}, PageSize: 4}
}

func (e contractEmu) Truth() sourcetest.Truth {
	tr := sourcetest.Truth{Tables: map[string]int{}, RejectRaws: []string{}}
	for _, cust := range e.VoiceBox.Config().Customers {
		unit := model.StreamKey{Source: Name, Stream: Stream, Account: cust}.Unit()
		for _, c := range e.Calls(cust) {
			id := c.ID
			if id == "" {
				id = HashID([]byte(c.Raw))
			}
			tr.Calls = append(tr.Calls, sourcetest.Call{Unit: unit, Account: cust, Date: model.Day(c.Start, Moscow), CallID: id})
			tr.Tables[CallsTable.Name]++
		}
		// Snapshots replaced within the run's day: one per customer and run day.
		tr.Tables[NumbersTable.Name] += len(e.Numbers(cust))
		tr.Tables[CustomersTable.Name]++
		for _, b := range e.BadRows(cust) {
			tr.Rejects++
			tr.RejectRaws = append(tr.RejectRaws, b.Raw)
		}
	}
	return tr
}

func (e contractEmu) Secrets() []string {
	// The customer objects' password and passwordRL are credentials too.
	return append(append([]string{sandbox.VoiceBoxDefaultClientSecret, sandbox.VoiceBoxDefaultPassword}, e.IssuedTokens()...),
		e.CustomerSecrets()...)
}

// TestSourceContract runs the source contract suite against sandbox.VoiceBox.
func TestSourceContract(t *testing.T) {
	sourcetest.Run(t, sourcetest.Harness{
		Vendor: Vendor(), Location: Moscow, Now: contractNow, StartDay: "2026-11-17", New: newContractEmu,
	})
}
