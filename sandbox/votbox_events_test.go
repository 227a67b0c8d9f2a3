package sandbox

import (
	"net/url"
	"reflect"
	"strconv"
	"testing"
)

// NoCostEvery serves every Nth item of a task without callpay and
// opercallpay (check and detail alike), and VotBoxItemEvents sends each
// dialled item's notifications: its ENDCALL carries the costs the check
// answer may lack, for every final dialled item and no other.
func TestVotBoxNoCostAndItemEvents(t *testing.T) {
	for _, tc := range []struct {
		name        string
		every, step int // NoCostEvery; Advance calls (-1: until final)
	}{
		{"costs in check, final", 0, -1},
		{"every 3rd without cost, final", 3, -1},
		{"every 2nd without cost, part-way", 2, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := vbConfig(11, VotBoxAttr, VotBoxUTF8)
			cfg.NoCostEvery = tc.every
			v := NewVotBox(cfg)
			for i := 0; tc.step < 0 && !v.Final() || i < tc.step; i++ {
				v.Advance()
			}
			tasks := v.Tasks()
			noCost, final := 0, 0
			endcalls := map[string]url.Values{}
			callouts := map[string]bool{}
			for _, ev := range VotBoxItemEvents(tasks, "74951234567") {
				q, err := url.ParseQuery(ev.Query)
				if err != nil {
					t.Fatalf("event %q: %v", ev.Query, err)
				}
				switch q.Get("STATE") {
				case "ENDCALL":
					if endcalls[q.Get("CALLID")] != nil {
						t.Errorf("item %s: two ENDCALLs", q.Get("CALLID"))
					}
					endcalls[q.Get("CALLID")] = q
				case "CALLOUT":
					callouts[q.Get("CALLID")] = true
				}
			}
			for _, tk := range tasks {
				got := vbMustDecode(t, vbPost(t, v, "/api/autocall.check.api.php", vbForm("taskid", strconv.FormatInt(tk.ID, 10))))
				for j, it := range tk.Items {
					if want := tc.every > 0 && (j+1)%tc.every == 0; it.NoCost != want {
						t.Errorf("item %d (#%d): NoCost %v, want %v", it.ID, j+1, it.NoCost, want)
					}
					if !reflect.DeepEqual(got[1+j], vbWantItem(it, false)) {
						t.Errorf("check item %d: got %v, want %v", it.ID, got[1+j].Fields, vbWantItem(it, false).Fields)
					}
					id := strconv.FormatInt(it.ID, 10)
					if it.NoCost {
						noCost++
						d := vbMustDecode(t, vbPost(t, v, "/api/autocall.detail.api.php", vbForm("itemid", id)))
						if want := []vbRec{vbWantItem(it, true)}; !reflect.DeepEqual(d, want) {
							t.Errorf("detail of item %s without cost: got %v, want %v", id, d, want)
						}
					}
					if callouts[id] != !it.CallTime.IsZero() {
						t.Errorf("item %s dialled %v: CALLOUT %v", id, !it.CallTime.IsZero(), callouts[id])
					}
					e := endcalls[id]
					if !VotBoxFinal(it.JobStatus) || it.CallTime.IsZero() {
						if e != nil {
							t.Errorf("item %s (jobstatus %d, never dialled %v) has an ENDCALL", id, it.JobStatus, it.CallTime.IsZero())
						}
						continue
					}
					final++
					if e == nil || e.Get("CALLPAY") != strconv.FormatInt(it.CallPayKop, 10) || e.Get("OPERCALLPAY") != strconv.FormatInt(it.OperCallPayKop, 10) ||
						e.Get("JOBSTATUS") != strconv.Itoa(it.JobStatus) || e.Get("CALLDURATION") != strconv.Itoa(it.CallDuration) {
						t.Errorf("item %+v: ENDCALL %v", it, e)
					}
				}
			}
			if len(endcalls) != final || final == 0 || (tc.every > 0) != (noCost > 0) {
				t.Errorf("%d ENDCALLs for %d final dialled items, %d items without cost", len(endcalls), final, noCost)
			}
		})
	}
}
