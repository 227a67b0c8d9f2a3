package mtt

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/calletl/calletl/extract/jsonscan"
)

// CallbackKind names callback calls as pipeline items: the stream of their
// runs rows and the prefix of their lake units ("callback-<id>").
const CallbackKind = "callback"

// CallbackConfig is where the callback calls to extract come from. MTT has
// no request that lists callback calls (makeCallBackCallFollowme returns a
// callBackCall_id and that is all), so their ids are configured, appended
// to a file by whoever places the calls, or remembered by the pipeline
// until final — as Mobilgroup broadcast ids are (extract/itemids).
type CallbackConfig struct {
	// Customer is the customer_name getCallBackFollowmeCallInfo is asked
	// with; Settings.Validate defaults it to the only configured customer.
	Customer string
	IDs      []string // callBackCall_id values
	IDsFile  string   // one id per line, re-read on every run; "" for none
}

// On reports whether callback calls are configured at all.
func (cc CallbackConfig) On() bool { return len(cc.IDs) > 0 || cc.IDsFile != "" }

// CallbackInfo is one callBackFollowmeCallInfo as sent: every documented
// field as text, the record download URLs, the members this version does
// not know, and the element's JSON without the URLs (for rejects: a
// download URL is a credential of sorts and never goes to the lake).
type CallbackInfo struct {
	DestinationA, DestinationB string
	WaitingA, WaitingB         string // waiting_period_A/B, seconds
	ChargedA, RealA            string // call_back_charged_length_A / call_back_real_length_A, seconds
	ChargedB, RealB            string
	Cost                       string // call_back_cost's JSON text: money never passes through float64
	Currency                   string
	Status                     string
	Description                string
	RecordA, RecordB           []string // download URLs, in order
	Extras                     string   // unknown members as a JSON object, "" when none
	Raw                        string   // the element's JSON with the record URL members left out
	NotObject                  bool     // the element is not a JSON object (Raw is its JSON)
}

// CallbackAnswer is what getCallBackFollowmeCallInfo says of one call:
// the call's info (usually one element), or, for a call that ended before
// both sides talked, the documented -32001 answer's reason in Ended ("Call
// ended by timeout on side A").
type CallbackAnswer struct {
	Calls []CallbackInfo
	Ended string
}

// endedPattern matches the documented -32001 data texts of a callback
// that ended without a conversation: "Call ended by timeout on side A",
// "Call ended by cancel on side A", "Call ended by cancel on side B". The
// reason and side are taken generally (a timeout on side B is as final).
var endedPattern = regexp.MustCompile(`(?i)^\s*call ended by ([a-z_ -]+?) on side ([ab])\s*\.?\s*$`)

// EndedOutcome returns the outcome of an Ended reason, "<reason>_<side>"
// in lower case ("timeout_a", "cancel_b"), and whether data is one.
func EndedOutcome(data string) (string, bool) {
	m := endedPattern.FindStringSubmatch(data)
	if m == nil {
		return "", false
	}
	reason := strings.ReplaceAll(strings.ToLower(strings.TrimSpace(m[1])), " ", "_")
	return reason + "_" + strings.ToLower(m[2]), true
}

// Callback calls getCallBackFollowmeCallInfo for one callback id. The
// documented "Call ended by …" -32001 answers are results (Ended), not
// errors. Any other -32001 is returned as an error wrapping ErrNoData:
// MTT answers the same for a call still in progress and for an id it does
// not know, so the caller asks again later.
func (c *Client) Callback(ctx context.Context, customer, id string) (CallbackAnswer, error) {
	var a CallbackAnswer
	op := "getCallBackFollowmeCallInfo " + customer + " " + id
	params := map[string]any{"customer_name": customer, "callBackCall_id": id}
	err := c.call(ctx, op, "getCallBackFollowmeCallInfo", params, func(s *jsonscan.Scanner) error {
		var err error
		a, err = scanCallback(s)
		return err
	})
	if ended, ok := endedAnswer(err); ok {
		return ended, nil
	}
	if err != nil {
		return CallbackAnswer{}, fmt.Errorf("mtt: %s: %w", op, err)
	}
	return a, nil
}

// endedAnswer turns a documented "Call ended by …" -32001 error into the
// answer it stands for.
func endedAnswer(err error) (CallbackAnswer, bool) {
	var rpc *RPCError
	if errors.As(err, &rpc) && rpc.Code == codeDataNotFound {
		if _, ok := EndedOutcome(rpc.Data); ok {
			return CallbackAnswer{Ended: strings.TrimSpace(rpc.Data)}, true
		}
	}
	return CallbackAnswer{}, false
}

// errResultError is a result that reports an error inside it, as
// makeCallBackCallFollowme's failures do ({"error": 1, "message": …}).
var errResultError = errors.New("the result reports an error")

// scanCallback reads the result of getCallBackFollowmeCallInfo:
// {"callBackFollowmeCallInfoStruct": info}, where the document's table
// says info is an array of callBackFollowmeCallInfo and its example sends
// one object: both are read, and null or a missing member is no call.
// A result with "error" (and no info) is an error naming its message.
func scanCallback(s *jsonscan.Scanner) (CallbackAnswer, error) {
	var a CallbackAnswer
	var errFlag, message string
	err := s.Object(func(key []byte) error {
		switch string(key) {
		case "callBackFollowmeCallInfoStruct":
			switch s.Peek() {
			case jsonscan.Null:
				return s.Skip()
			case jsonscan.Array:
				return s.Array(func() error {
					info, err := scanCallbackInfo(s)
					a.Calls = append(a.Calls, info)
					return err
				})
			}
			info, err := scanCallbackInfo(s)
			a.Calls = append(a.Calls, info)
			return err
		case "error", "message":
			kind, raw, err := s.Value()
			if err != nil {
				return err
			}
			text, ok, err := jsonscan.Text(kind, raw)
			if !ok {
				text = string(raw)
			}
			if string(key) == "error" {
				errFlag = text
			} else {
				message = text
			}
			return err
		}
		return s.Skip()
	})
	if err != nil {
		return CallbackAnswer{}, err
	}
	if len(a.Calls) == 0 && errFlag != "" && errFlag != "0" && errFlag != "false" {
		return CallbackAnswer{}, fmt.Errorf("%w: error %s, message %q", errResultError, errFlag, message)
	}
	return a, nil
}

// scanCallbackInfo reads one callBackFollowmeCallInfo. An element that is
// not an object is consumed and returned with NotObject set.
func scanCallbackInfo(s *jsonscan.Scanner) (CallbackInfo, error) {
	var info CallbackInfo
	if s.Peek() != jsonscan.Object {
		_, raw, err := s.Value()
		info.Raw, info.NotObject = string(raw), true
		return info, err
	}
	var raw, extras strings.Builder
	err := s.Object(func(key []byte) error {
		k := string(key)
		switch k {
		case "call_back_record_URL_A", "call_back_record_URL_B":
			urls, err := scanRecordURLs(s)
			if k == "call_back_record_URL_A" {
				info.RecordA = append(info.RecordA, urls...)
			} else {
				info.RecordB = append(info.RecordB, urls...)
			}
			return err
		}
		kind, v, err := s.Value()
		if err != nil {
			return err
		}
		appendMember(&raw, k, v)
		text, ok, err := jsonscan.Text(kind, v)
		if err != nil {
			return err
		}
		if !ok {
			text = string(v)
		}
		dst := info.field(k)
		if dst == nil {
			appendMember(&extras, k, v)
			return nil
		}
		if *dst == "" || k != "waiting_period_" { // the table's "waiting_period_" is B's, when B's is absent
			*dst = text
		}
		return nil
	})
	if raw.Len() == 0 {
		raw.WriteByte('{')
	}
	raw.WriteByte('}')
	info.Raw = raw.String()
	if extras.Len() > 0 {
		extras.WriteByte('}')
		info.Extras = extras.String()
	}
	return info, err
}

// appendMember appends "key":value to a JSON object being built in b
// (opened on the first member; the caller closes it).
func appendMember(b *strings.Builder, key string, value []byte) {
	if b.Len() == 0 {
		b.WriteByte('{')
	} else {
		b.WriteByte(',')
	}
	writeJSONString(b, key)
	b.WriteByte(':')
	b.Write(value)
}

// field returns the destination of a documented member, nil for others.
func (info *CallbackInfo) field(key string) *string {
	switch key {
	case "destination_A":
		return &info.DestinationA
	case "destination_B":
		return &info.DestinationB
	case "waiting_period_A":
		return &info.WaitingA
	case "waiting_period_B", "waiting_period_":
		return &info.WaitingB
	case "call_back_charged_length_A":
		return &info.ChargedA
	case "call_back_real_length_A":
		return &info.RealA
	case "call_back_charged_length_B":
		return &info.ChargedB
	case "call_back_real_length_B":
		return &info.RealB
	case "call_back_cost":
		return &info.Cost
	case "call_back_currency":
		return &info.Currency
	case "call_back_status":
		return &info.Status
	case "callDescription":
		return &info.Description
	}
	return nil
}

// scanRecordURLs reads a call_back_record_URL member. The document's table
// says "array" and its example sends {"downloadURL": "…"}: an object with
// downloadURL, a string, or an array of either is read; null, "", {} and []
// are no recording. Other values are skipped.
func scanRecordURLs(s *jsonscan.Scanner) ([]string, error) {
	var urls []string
	var one func() error
	one = func() error {
		switch s.Peek() {
		case jsonscan.String:
			kind, raw, err := s.Value()
			if err != nil {
				return err
			}
			if u, _, err := jsonscan.Text(kind, raw); err != nil {
				return err
			} else if u = strings.TrimSpace(u); u != "" {
				urls = append(urls, u)
			}
			return nil
		case jsonscan.Object:
			return s.Object(func(key []byte) error {
				if string(key) != "downloadURL" && string(key) != "downloadUrl" && string(key) != "url" {
					return s.Skip()
				}
				return one()
			})
		}
		return s.Skip()
	}
	if s.Peek() == jsonscan.Array {
		return urls, s.Array(one)
	}
	return urls, one()
}

// DecodeCallback decodes a whole getCallBackFollowmeCallInfo answer as
// Callback does: the call's info, the Ended reason of a documented
// "Call ended by …" answer, or the error (other JSON-RPC errors as
// *RPCError).
func DecodeCallback(body []byte) (CallbackAnswer, error) {
	var a CallbackAnswer
	err := envelope(body, func(s *jsonscan.Scanner) error {
		var err error
		a, err = scanCallback(s)
		return err
	})
	if ended, ok := endedAnswer(err); ok {
		return ended, nil
	}
	return a, err
}
