package mobilgroup

import (
	"net/http"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/calletl/calletl/extract/registry"
	"github.com/calletl/calletl/extract/sourcetest"
	"github.com/calletl/calletl/model"
	"github.com/calletl/calletl/sandbox"
)

const contractKey = "mg-contract-K3y-0a1b2c3d"

var contractNow = time.Date(2025, 3, 10, 12, 0, 0, 0, Moscow)

// contractEmu is sandbox.Mobilgroup as the source contract suite drives
// it: three broadcasts of a few subscribers, every fifth one malformed,
// advanced so that some subscribers were called and some not.
type contractEmu struct{ *sandbox.Mobilgroup }

func newContractEmu(testing.TB) sourcetest.Emulator {
	m := sandbox.NewMobilgroup(sandbox.MobilgroupConfig{APIKey: contractKey, Seed: 17, Broadcasts: 3,
		SubscribersPerBroadcast: 6, Start: emuStart, BadEvery: 5, Now: func() time.Time { return contractNow }})
	m.Advance()
	m.Advance()
	return contractEmu{m}
}

func (e contractEmu) Handler() http.Handler { return e.Mobilgroup }

func (e contractEmu) Config(t testing.TB, base, dir string, o sourcetest.Options) registry.Config {
	return &Settings{Common: registry.Common{HTTP: sourcetest.HTTP()}, BaseURL: base,
		Account: "acme", APIKey: sourcetest.SecretFile(t, dir, "mobilgroup-key", contractKey), BroadcastIDs: slices.Concat(e.IDs(), o.ExtraItems)}
}

func (e contractEmu) Truth() sourcetest.Truth {
	tr := sourcetest.Truth{Tables: map[string]int{}}
	for _, b := range e.Broadcasts() {
		tr.Tables[BroadcastsTable.Name]++
		for _, s := range b.Subscribers {
			if s.Bad {
				tr.Rejects++
				continue
			}
			tr.Tables[CallsTable.Name]++
			if !s.Date.IsZero() {
				tr.Calls = append(tr.Calls, sourcetest.Call{Unit: Kind + "-" + b.ID, Account: "acme", Date: model.Day(s.Date, Moscow),
					CallID: b.ID + "-" + strconv.Itoa(s.Seq)})
			}
		}
	}
	return tr
}

func (e contractEmu) Secrets() []string { return []string{contractKey} }

func (e contractEmu) Revoke() { e.SetDisabled(true) }

// TestSourceContract runs the source contract suite against
// sandbox.Mobilgroup.
func TestSourceContract(t *testing.T) {
	sourcetest.Run(t, sourcetest.Harness{
		Vendor: Vendor(), Location: Moscow, Now: contractNow, New: newContractEmu, UnknownItem: "no-such-broadcast",
	})
}
