// Package model holds the canonical types every calletl package shares: the
// call record all sources map into, the reject record for rows that fail
// validation, and the per-stream run record. It knows nothing about vendors,
// Arrow or Parquet.
package model

import (
	"database/sql"
	"fmt"
	"time"
)

// Money is an amount in ten-thousandths of the currency unit: the unscaled
// value of a DECIMAL(18,4). 2.48 RUB is Money(24800). Money never passes
// through float64.
type Money int64

// String formats m with four decimals, e.g. "2.4800".
func (m Money) String() string {
	sign := ""
	v := int64(m)
	if v < 0 {
		sign, v = "-", -v
	}
	return fmt.Sprintf("%s%d.%04d", sign, v/10000, v%10000)
}

// Directions of a call in the canonical model.
const (
	Incoming  = "incoming"
	Outgoing  = "outgoing"
	Missed    = "missed"
	Forwarded = "forwarded"
	Internal  = "internal"
	Autocall  = "autocall"
	// Callback is a call the vendor placed to two parties on request
	// (MTT callback: leg A, then leg B).
	Callback = "callback"
)

// Call is one row of the canonical `calls` table, shared by every source.
// Source and Date are the Hive partition (`calls/source=…/date=…`) and are
// not stored inside the Parquet files.
type Call struct {
	Source string // partition: "mtt", "t2", …
	Date   string // partition: YYYY-MM-DD of StartedAt in the business time zone

	Account   string // the vendor account the call belongs to (MTT customer_name, …)
	CallID    string // the source's natural key, unique within (source, account, direction)
	Direction string // one of the direction constants
	StartedAt time.Time

	Caller, CallerRaw string // E.164 digits (or the extension as it is) and the raw value
	Callee, CalleeRaw string

	DurationS sql.Null[int32] // whole call, seconds
	TalkS     sql.Null[int32] // connected time, seconds
	BilledS   sql.Null[int32] // billed time, seconds
	Cost      sql.Null[Money]
	Currency  string

	Status          string // the source's own status word, kept as it is
	DisconnectCause sql.Null[int16]
	DisconnectLabel string

	HasRecording bool
	RecordingRef string // what the recordings fetcher needs to find the file

	RunID       string
	ExtractedAt time.Time

	// Duplicate is set by the lake writer on a row whose (Account,
	// Direction, CallID) an earlier row of the same extraction and day had.
	Duplicate bool
}

// Reject is a row that failed validation, kept with its raw payload so that
// nothing is lost. Date is the partition: the window's day.
type Reject struct {
	Source string // partition
	Date   string // partition

	Stream     string // e.g. "dialed"
	Account    string
	Endpoint   string // e.g. "getServiceHistoryByCustomer"
	Window     string // e.g. "2026-11-20 [2026-11-19T21:00:00Z, 2026-11-20T21:00:00Z)"
	Reason     string
	Raw        string // the row exactly as the vendor sent it
	RunID      string
	RejectedAt time.Time
}

// Balance is one row of the canonical `balances` table: an account's
// balance as a vendor reported it at one moment. Every source with a balance
// endpoint (MTT, Mobilgroup, VoiceBox) writes one per account per run, so
// finance follows balance movement across vendors in one table.
type Balance struct {
	Source string // partition
	Date   string // partition: the run's day in the business time zone

	Account  string
	Balance  Money
	Currency string // ISO 4217 code, upper case: "RUB"
	Raw      string // the balance as the vendor wrote it, e.g. "273,50"
	RunID    string
	TakenAt  time.Time
}

// Run statuses.
const (
	RunOK       = "ok"
	RunFailed   = "failed"
	RunCanceled = "canceled"
)

// RunStream is one row of the `runs` table: what one run did for one stream
// of one account.
type RunStream struct {
	Source string // partition
	Date   string // partition: the run's start day in the business time zone

	RunID      string
	Mode       string // "run" or "backfill"
	Stream     string
	Account    string
	StartedAt  time.Time
	FinishedAt time.Time
	FirstDay   string // first window (YYYY-MM-DD), "" when none ran
	LastDay    string // last window attempted
	Windows    int64  // windows committed
	Pages      int64
	Rows       int64
	Rejects    int64
	Status     string
	Error      string
}

// Duration returns how long the stream ran.
func (r RunStream) Duration() time.Duration { return r.FinishedAt.Sub(r.StartedAt) }

// DayLayout is the layout of partition dates.
const DayLayout = "2006-01-02"

// Day returns the YYYY-MM-DD date of t in loc.
func Day(t time.Time, loc *time.Location) string { return t.In(loc).Format(DayLayout) }

// Origin says where a row came from: the stream (or item kind) and account
// it was extracted for, what was asked ("2026-11-20 [...)" for a window,
// "task 123" for an item, "" for a snapshot) and the vendor endpoint that
// answered.
type Origin struct {
	Key      StreamKey
	Window   string
	Endpoint string
}

// NewReject returns the reject of one row from o that failed validation:
// raw exactly as the vendor sent it, reason why, in the date partition day,
// stamped with the run's id and its start time (the run's clock, never the
// wall clock, so one run's rows carry one time).
func NewReject(run Run, o Origin, day, reason, raw string) *Reject {
	return &Reject{
		Source: o.Key.Source, Date: day, Stream: o.Key.Stream, Account: o.Key.Account,
		Endpoint: o.Endpoint, Window: o.Window, Reason: reason, Raw: raw,
		RunID: run.ID, RejectedAt: run.StartedAt.UTC(),
	}
}
