package recordings

import (
	"context"
	"math"
	"time"
)

// Backlog is one source's recordings work list as a Run at a given time
// would see it (see the package documentation's Work list).
type Backlog struct {
	Source string `json:"source"`
	// New: calls with a recording never attempted.
	New int `json:"new"`
	// RetryDue: calls whose latest attempt failed, with attempts left and
	// their backoff over: the next run fetches them.
	RetryDue int `json:"retry_due"`
	// RetryWaiting: failed calls with attempts left whose backoff
	// (fetched_at + RetryBase·2^attempts) is not over; NextRetry is when
	// the first of them becomes due.
	RetryWaiting int       `json:"retry_waiting"`
	NextRetry    time.Time `json:"next_retry,omitzero"`
	// GivenUp: calls that failed MaxAttempts times: never fetched again.
	GivenUp int `json:"given_up"`
	// TranscriptBackfill: calls resolved before their source had
	// transcripts, attempted once more for the transcript alone.
	TranscriptBackfill int `json:"transcript_backfill"`
	// Oldest is the date of the oldest call still to fetch (new, due or
	// waiting); "" when none.
	Oldest string `json:"oldest_date,omitempty"`
}

// InspectBacklog returns the backlog of each of sources (those in
// transcripts have transcripts) in the lake at lakeDir, as Run with
// maxAttempts and retryBase (0: the defaults) would see it at now. It only
// reads the lake: one query, the one Run makes.
func InspectBacklog(ctx context.Context, lakeDir string, sources, transcripts []string, maxAttempts int, retryBase time.Duration, now time.Time) ([]Backlog, error) {
	setDefault(&maxAttempts, DefaultMaxAttempts)
	setDefault(&retryBase, DefaultRetryBase)
	out := make([]Backlog, len(sources))
	at := map[string]*Backlog{}
	for i, s := range sources {
		out[i].Source = s
		at[s] = &out[i]
	}
	// Every failed call, given up or not: pending with no attempt limit.
	calls, err := pending(ctx, lakeDir, sources, transcripts, math.MaxInt32)
	if err != nil {
		return nil, err
	}
	for _, c := range calls {
		b := at[c.Source]
		if b == nil {
			continue
		}
		todo := true
		switch {
		case c.Backfill:
			b.TranscriptBackfill++
			todo = false
		case c.LastState != StatusFailed:
			b.New++
		case c.Attempts >= maxAttempts:
			b.GivenUp++
			todo = false
		case now.Before(c.LastTry.Add(backoff(retryBase, c.Attempts))):
			b.RetryWaiting++
			if due := c.LastTry.Add(backoff(retryBase, c.Attempts)); b.NextRetry.IsZero() || due.Before(b.NextRetry) {
				b.NextRetry = due.UTC()
			}
		default:
			b.RetryDue++
		}
		if todo && (b.Oldest == "" || c.Date < b.Oldest) {
			b.Oldest = c.Date
		}
	}
	return out, nil
}
