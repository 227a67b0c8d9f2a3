package votbox

import (
	"context"
	"fmt"
	"net/http/httptest"
	"slices"
	"strconv"
	"testing"

	"github.com/calletl/calletl/load"
	"github.com/calletl/calletl/model"
	"github.com/calletl/calletl/sandbox"
)

// TestSandbox runs the source against the emulator until every task is
// final: final is reported exactly when the ground truth says so, and the
// last extraction equals the ground truth.
func TestSandbox(t *testing.T) {
	for _, tc := range []struct{ form, charset string }{
		{sandbox.VotBoxAttr, sandbox.VotBoxUTF8},
		{sandbox.VotBoxElem, sandbox.VotBoxCP1251},
		{sandbox.VotBoxAttr, sandbox.VotBoxCP1251},
		{sandbox.VotBoxElem, sandbox.VotBoxUTF8},
	} {
		t.Run(tc.form+"-"+tc.charset, func(t *testing.T) {
			v := sandbox.NewVotBox(sandbox.VotBoxConfig{Seed: 7, Username: testUser, Password: testPassword,
				Tasks: 3, ItemsPerTask: 40, Form: tc.form, Charset: tc.charset})
			srv := httptest.NewServer(v)
			defer srv.Close()
			s := NewSource(testClient(t, srv.URL+"/api", func(c *Config) { c.Detail = true }, nil))
			ctx := context.Background()

			var pending []string
			finalSeen := map[string]bool{}
			var lake *load.Lake
			for poll := 0; ; poll++ {
				if poll > 40 {
					t.Fatal("did not converge")
				}
				keys, err := s.Items(ctx, pending)
				if err != nil {
					t.Fatal(err)
				}
				if poll == 0 && len(keys) != 3 {
					t.Fatalf("first poll lists %v", keys)
				}
				truth := map[string]sandbox.VotBoxTask{}
				for _, tk := range v.Tasks() {
					truth[strconv.FormatInt(tk.ID, 10)] = tk
				}
				lake = openLake(t)
				pending = nil
				for _, k := range keys {
					if finalSeen[k] {
						t.Errorf("poll %d: task %s listed after it was final", poll, k)
					}
					_, final, err := extract(t, s, lake, k)
					if err != nil {
						t.Fatalf("poll %d task %s: %v", poll, k, err)
					}
					want := true
					for _, it := range truth[k].Items {
						want = want && sandbox.VotBoxFinal(it.JobStatus)
					}
					if final != want {
						t.Fatalf("poll %d task %s: final %v, ground truth %v", poll, k, final, want)
					}
					if final {
						finalSeen[k] = true
					} else {
						pending = append(pending, k)
					}
					checkTask(t, lake, truth[k])
				}
				if len(pending) == 0 && v.Final() {
					break
				}
				v.Advance()
			}
			if len(finalSeen) != 3 {
				t.Errorf("final tasks %v", finalSeen)
			}
		})
	}
}

// checkTask compares the lake's votbox_calls and calls rows of task tk with
// the ground truth.
func checkTask(t *testing.T, lake *load.Lake, tk sandbox.VotBoxTask) {
	t.Helper()
	id := strconv.FormatInt(tk.ID, 10)
	rows := map[string]map[string]any{}
	for _, r := range readRows(t, lake, "votbox_calls") {
		if r["task_id"] == id {
			rows[r["item_id"].(string)] = r
		}
	}
	calls := map[string]map[string]any{}
	for _, r := range readRows(t, lake, "calls") {
		calls[r["call_id"].(string)] = r
	}
	if len(rows) != len(tk.Items) {
		t.Fatalf("task %s: %d rows, ground truth %d items", id, len(rows), len(tk.Items))
	}
	money := func(kop int64) string { return model.Money(kop * 100).String() }
	for _, it := range tk.Items {
		r := rows[strconv.FormatInt(it.ID, 10)]
		if r == nil {
			t.Fatalf("item %d missing", it.ID)
		}
		final := sandbox.VotBoxFinal(it.JobStatus)
		got := fmt.Sprint(r["phone_raw"], r["job_status"], r["job_status_str"], r["attempts"], r["rec_filename"])
		want := fmt.Sprint(it.Phone, it.JobStatus, it.JobStatusStr, it.Attempts, it.RecFileName)
		if got != want {
			t.Errorf("item %d: got %s, want %s", it.ID, got, want)
		}
		ct := r["call_time"]
		if it.CallTime.IsZero() != (ct == nil) {
			t.Errorf("item %d: call_time %v, truth %v", it.ID, ct, it.CallTime)
		}
		c := calls[strconv.FormatInt(it.ID, 10)]
		if c == nil {
			t.Fatalf("item %d: no calls row", it.ID)
		}
		if !it.CallTime.IsZero() {
			if d := model.Day(it.CallTime, Moscow); r["date"] != d || c["date"] != d {
				t.Errorf("item %d: date %v/%v, want %s", it.ID, r["date"], c["date"], d)
			}
		}
		if c["status"] != JobLabel(it.JobStatus) || c["direction"] != "autocall" || c["callee_raw"] != it.Phone {
			t.Errorf("item %d: calls row %v", it.ID, c)
		}
		if !final {
			if r["call_pay"] != nil || r["detail"] != nil {
				t.Errorf("item %d not final: call_pay %v detail %v", it.ID, r["call_pay"], r["detail"])
			}
			continue
		}
		got = fmt.Sprint(r["call_duration"], r["oper_call_duration"], decimal(r["call_pay"]), decimal(r["oper_call_pay"]), decimal(c["cost"]), c["talk_s"])
		want = fmt.Sprint(it.CallDuration, it.OperCallDuration, money(it.CallPayKop), money(it.OperCallPayKop), money(it.CallPayKop+it.OperCallPayKop), it.CallDuration)
		if got != want {
			t.Errorf("item %d: got %s, want %s", it.ID, got, want)
		}
		if r["detail"] == nil {
			t.Errorf("item %d: final but no detail", it.ID)
		}
	}
	if !slices.ContainsFunc(readRows(t, lake, "votbox_tasks"), func(r map[string]any) bool {
		return r["task_id"] == id && r["task_name"] == tk.Name && r["items"] == int64(len(tk.Items))
	}) {
		t.Errorf("task %s: no matching votbox_tasks row", id)
	}
}

// decimal formats a DECIMAL(18,4) value read back from Parquet with four
// decimals, like model.Money.String.
func decimal(v any) string {
	s := fmt.Sprint(v)
	whole, frac, _ := cut(s)
	for len(frac) < 4 {
		frac += "0"
	}
	return whole + "." + frac
}

func cut(s string) (string, string, bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == '.' {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}
