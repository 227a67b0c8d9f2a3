package mtt

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/calletl/calletl/extract/itemids"
	"github.com/calletl/calletl/model"
	"github.com/calletl/calletl/pipeline"
	"github.com/calletl/calletl/transform"
)

var (
	_ pipeline.ItemSource  = (*Callbacks)(nil)
	_ pipeline.ItemPlanner = (*Callbacks)(nil)
)

// Callbacks is the MTT callback calls as a pipeline item source: each
// callBackCall_id is an item, extracted whole on every run until final. It
// is a value of its own beside Source (which takes the per-run snapshots),
// so a run that drives both takes them once.
type Callbacks struct{ c *Client }

// ItemSource returns the callback item source, nil when no callback ids
// (nor an ids file) are configured.
func (s *Source) ItemSource() pipeline.ItemSource {
	if !s.c.cfg.Callbacks.On() {
		return nil
	}
	return &Callbacks{c: s.c}
}

// Name returns "mtt".
func (cb *Callbacks) Name() string { return Name }

// Kind returns "callback".
func (cb *Callbacks) Kind() string { return CallbackKind }

// Concurrency is the HTTP concurrency: one request per callback.
func (cb *Callbacks) Concurrency() int { return max(1, cb.c.cfg.HTTP.Concurrency) }

// Items returns, sorted and without duplicates, the configured callback
// ids, those in the ids file (read now; a missing file has none) and
// pending.
func (cb *Callbacks) Items(_ context.Context, pending []string) ([]string, error) {
	cc := cb.c.cfg.Callbacks
	keys, err := itemids.Merge(cb.c.log, "callback id", cc.IDs, cc.IDsFile, pending)
	if err != nil {
		return nil, fmt.Errorf("%s: callback ids file: %w", Name, err)
	}
	return keys, nil
}

// PlanItems implements pipeline.ItemPlanner: Items asks MTT nothing.
func (cb *Callbacks) PlanItems(pending []string) ([]string, bool, error) {
	keys, err := cb.Items(context.Background(), pending)
	return keys, false, err
}

// ExtractItem asks getCallBackFollowmeCallInfo about callback id and
// writes, on the run's business day, an mtt_callbacks row and a canonical
// calls row (direction callback) per element of the answer, or one of each
// for a documented "Call ended by …" answer. final is true when every
// element's call_back_status is "ok", or the call ended. A -32001 answer
// of any other text (MTT's answer for a call in progress, and for an id it
// does not know) writes nothing and is not final: the id is asked again
// next run, until the pipeline's item_max_age_days gives it up. Elements
// that fail validation are rejects, and keep the callback pending.
func (cb *Callbacks) ExtractItem(ctx context.Context, id string, sink *pipeline.Sink) (int64, bool, error) {
	run := sink.Run()
	if run.Location == nil {
		run.Location = time.UTC
	}
	cust := cb.c.cfg.Callbacks.Customer
	sink.SetAccount(cust)
	details := pipeline.Detail(sink, CallbacksTable)
	a, err := cb.c.Callback(ctx, cust, id)
	if errors.Is(err, ErrNoData) {
		cb.c.log.Warn("callback not finished, or not known to MTT: asked again next run",
			"source", Name, "customer", cust, "callback", id, "err", err)
		return 1, false, nil
	}
	if err != nil {
		return 0, false, err // already "mtt: getCallBackFollowmeCallInfo …"
	}
	day := run.Day()
	if err := sink.Cover(day); err != nil {
		return 1, false, err
	}
	mc := callbackContext{customer: cust, id: id, runID: run.ID, at: run.StartedAt.UTC(), day: day}
	if a.Ended != "" {
		row, call := mc.ended(a.Ended)
		if err := details.Add(day, &row); err != nil {
			return 1, false, err
		}
		return 1, true, sink.Call(&call)
	}
	if len(a.Calls) == 0 {
		cb.c.log.Warn("callback answer without callBackFollowmeCallInfoStruct: asked again next run",
			"source", Name, "customer", cust, "callback", id)
		return 1, false, nil
	}
	final := true
	for i := range a.Calls {
		row, call, err := mc.mapInfo(&a.Calls[i], int32(i+1), len(a.Calls))
		if err != nil {
			final = false
			if err := sink.Reject(day, "getCallBackFollowmeCallInfo", err.Error(), a.Calls[i].Raw); err != nil {
				return 1, false, err
			}
			continue
		}
		if !row.Final {
			final = false
			cb.c.log.Info("callback not final: asked again next run", "source", Name, "callback", id, "status", row.Status)
		}
		if err := details.Add(day, &row); err != nil {
			return 1, false, err
		}
		if err := sink.Call(&call); err != nil {
			return 1, false, err
		}
	}
	return 1, final, nil
}

// callbackContext is what mapping one callback answer needs.
type callbackContext struct {
	customer, id, runID, day string
	at                       time.Time
}

// callbackCallID is calls.call_id of element seq of an answer with
// several elements; an answer with one has the id alone.
func callbackCallID(id string, seq int32) string { return id + "-" + strconv.Itoa(int(seq)) }

// CallbackRef is calls.recording_ref of a callback call: what the
// recordings fetcher needs to ask for its download URLs again.
func CallbackRef(customer, id string, seq int32) string {
	return callbackRefPrefix + customer + "/" + id + "/" + strconv.Itoa(int(seq))
}

const callbackRefPrefix = "callback/"

// parseCallbackRef splits a CallbackRef.
func parseCallbackRef(ref string) (customer, id string, seq int, ok bool) {
	rest, ok := strings.CutPrefix(ref, callbackRefPrefix)
	if !ok {
		return "", "", 0, false
	}
	parts := strings.Split(rest, "/")
	if len(parts) != 3 || !ValidCustomer(parts[0]) || !itemids.Valid(parts[1]) {
		return "", "", 0, false
	}
	n, err := strconv.Atoi(parts[2])
	if err != nil || n < 1 {
		return "", "", 0, false
	}
	return parts[0], parts[1], n, true
}

// ended maps a documented "Call ended by …" answer.
func (mc *callbackContext) ended(text string) (CallbackRow, model.Call) {
	outcome, _ := EndedOutcome(text)
	row := CallbackRow{Customer: mc.customer, CallbackID: mc.id, Seq: 1, CallID: mc.id, Outcome: outcome, Status: text,
		Final: true, RunID: mc.runID, ExtractedAt: mc.at}
	call := model.Call{Source: Name, Date: mc.day, Account: mc.customer, CallID: mc.id, Direction: model.Callback,
		Status: text, RunID: mc.runID, ExtractedAt: mc.at}
	return row, call
}

// mapInfo validates one callBackFollowmeCallInfo and maps it. n is the
// number of elements in the answer.
func (mc *callbackContext) mapInfo(info *CallbackInfo, seq int32, n int) (CallbackRow, model.Call, error) {
	var row CallbackRow
	if info.NotObject {
		return row, model.Call{}, errors.New("callBackFollowmeCallInfo is not a JSON object")
	}
	row = CallbackRow{Customer: mc.customer, CallbackID: mc.id, Seq: seq, Status: info.Status,
		DestinationA: info.DestinationA, DestinationB: info.DestinationB,
		Currency: cmp.Or(strings.ToUpper(strings.TrimSpace(info.Currency)), "RUB"),
		RecordsA: int32(len(info.RecordA)), RecordsB: int32(len(info.RecordB)),
		Description: info.Description, Extras: info.Extras, RunID: mc.runID, ExtractedAt: mc.at}
	for _, f := range []struct {
		name, text string
		dst        *sql.Null[int32]
	}{
		{"waiting_period_A", info.WaitingA, &row.WaitingA}, {"waiting_period_B", info.WaitingB, &row.WaitingB},
		{"call_back_charged_length_A", info.ChargedA, &row.ChargedA}, {"call_back_real_length_A", info.RealA, &row.RealA},
		{"call_back_charged_length_B", info.ChargedB, &row.ChargedB}, {"call_back_real_length_B", info.RealB, &row.RealB},
	} {
		v, err := parseSeconds(f.text)
		if err != nil {
			return row, model.Call{}, fmt.Errorf("%s: %w", f.name, err)
		}
		*f.dst = v
	}
	if t := strings.TrimSpace(info.Cost); t != "" {
		m, err := transform.Money(t)
		if err != nil {
			return row, model.Call{}, fmt.Errorf("call_back_cost: %w", err)
		}
		if m < 0 {
			return row, model.Call{}, fmt.Errorf("call_back_cost %q is negative", info.Cost)
		}
		row.Cost = sql.Null[model.Money]{V: m, Valid: true}
	}
	row.Outcome = OutcomeUnknown
	if strings.EqualFold(strings.TrimSpace(info.Status), "ok") {
		row.Outcome, row.Final = OutcomeCompleted, true
	}
	callID := mc.id
	if n > 1 {
		callID = callbackCallID(mc.id, seq)
	}
	call := model.Call{Source: Name, Date: mc.day, Account: mc.customer, CallID: callID, Direction: model.Callback,
		Caller: transform.Phone(info.DestinationA), CallerRaw: info.DestinationA,
		Callee: transform.Phone(info.DestinationB), CalleeRaw: info.DestinationB,
		Cost: row.Cost, Status: info.Status, RunID: mc.runID, ExtractedAt: mc.at}
	// Both legs summed, as the history sums them: its charged_time is "the
	// sum of charged_time of all legs of the aggregated call" and its
	// used_quantity "the total time of connections in the session" (calls
	// duration_s and talk_s), so billed and connected seconds of a callback
	// compare like a history call's. The legs are in mtt_callbacks.
	call.BilledS = sumLegs(row.ChargedA, row.ChargedB)
	call.DurationS = sumLegs(row.RealA, row.RealB)
	call.TalkS = call.DurationS
	if row.Cost.Valid {
		call.Currency = row.Currency
	}
	if row.RecordsA+row.RecordsB > 0 {
		call.HasRecording, call.RecordingRef = true, CallbackRef(mc.customer, mc.id, seq)
	}
	row.CallID = callID
	return row, call, nil
}

// sumLegs is a + b, NULL when neither leg says.
func sumLegs(a, b sql.Null[int32]) sql.Null[int32] {
	if !a.Valid && !b.Valid {
		return sql.Null[int32]{}
	}
	return sql.Null[int32]{V: a.V + b.V, Valid: true}
}

// parseSeconds parses a non-negative whole number of seconds sent as a
// string or a number ("60", 60, "60.0"); "" is NULL.
func parseSeconds(s string) (sql.Null[int32], error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return sql.Null[int32]{}, nil
	}
	whole, frac, _ := strings.Cut(s, ".")
	if strings.Trim(frac, "0") != "" {
		return sql.Null[int32]{}, fmt.Errorf("%q is not a whole number of seconds", s)
	}
	v, err := strconv.ParseInt(whole, 10, 32)
	if err != nil || v < 0 {
		return sql.Null[int32]{}, fmt.Errorf("%q is not a whole number of seconds", s)
	}
	return sql.Null[int32]{V: int32(v), Valid: true}, nil
}
