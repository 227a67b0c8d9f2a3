package votbox

import (
	"crypto/md5"
	"encoding/hex"
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

const contractPassword = "votbox-S3cret-pw"

// contractEmu is sandbox.VotBox as the source contract suite drives it:
// two tasks of a few items, every fourth item malformed, advanced so that
// some items are final and some not.
type contractEmu struct{ *sandbox.VotBox }

func newContractEmu(testing.TB) sourcetest.Emulator {
	v := sandbox.NewVotBox(sandbox.VotBoxConfig{Seed: 9, Username: testUser, Password: contractPassword,
		Tasks: 2, ItemsPerTask: 6, BadEvery: 4})
	for range 3 {
		v.Advance()
	}
	return contractEmu{v}
}

func (e contractEmu) Handler() http.Handler { return e.VotBox }

func (e contractEmu) Config(t testing.TB, base, dir string, o sourcetest.Options) registry.Config {
	var ids []string
	for _, tk := range e.Tasks() {
		ids = append(ids, strconv.FormatInt(tk.ID, 10))
	}
	return &Settings{Common: registry.Common{HTTP: sourcetest.HTTP()}, BaseURL: base + "/api", Username: testUser,
		Password: sourcetest.SecretFile(t, dir, "votbox-password", contractPassword), TaskIDs: slices.Concat(ids, o.ExtraItems)}
}

func (e contractEmu) Truth() sourcetest.Truth {
	tr := sourcetest.Truth{Tables: map[string]int{}}
	for _, tk := range e.Tasks() {
		id := strconv.FormatInt(tk.ID, 10)
		tr.Tables[TasksTable.Name]++
		for _, it := range tk.Items {
			if it.Bad {
				tr.Rejects++
				continue
			}
			at := tk.StartTime
			if !it.CallTime.IsZero() {
				at = it.CallTime
			}
			tr.Tables[CallsTable.Name]++
			tr.Calls = append(tr.Calls, sourcetest.Call{Unit: Kind + "-" + id, Account: testUser,
				Date: model.Day(at, time.UTC), CallID: strconv.FormatInt(it.ID, 10)})
		}
	}
	return tr
}

func (e contractEmu) Secrets() []string {
	sum := md5.Sum([]byte(contractPassword))
	return []string{contractPassword, hex.EncodeToString(sum[:])}
}

// TestSourceContract runs the source contract suite against sandbox.VotBox.
func TestSourceContract(t *testing.T) {
	sourcetest.Run(t, sourcetest.Harness{
		Vendor: Vendor(), Now: time.Date(2025, 1, 14, 12, 0, 0, 0, time.UTC), New: newContractEmu,
		UnknownItem: "990001",
		NoInvalidText: "VotBox answers XML, and XML that is not valid in its declared charset is not well-formed: " +
			"the decoder refuses it (retried, then the task fails) rather than guess",
	})
}
