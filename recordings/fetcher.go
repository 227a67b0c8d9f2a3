package recordings

import (
	"context"
	"errors"
	"io"
)

// ErrMissing is wrapped by fetcher errors meaning the vendor holds no such
// recording (a 404): the call is recorded missing and not retried.
var ErrMissing = errors.New("recordings: the vendor has no such recording")

// Part is one file of a call's recording, not downloaded yet.
type Part struct {
	N    int    // 1-based, in the vendor's order
	Host string // host the download goes to: the per-host limit applies to it
	Kind string // KindAudio or KindJSON: what the first bytes must look like
	// Open starts the download and returns the body, which the caller
	// closes, and its Content-Length (-1 when unknown). An error wrapping
	// ErrMissing means the vendor has no such file.
	Open func(ctx context.Context) (body io.ReadCloser, length int64, err error)
}

// Fetcher finds the recordings of one source. Implementations: [MTTFetcher],
// [T2Fetcher], [VotBoxFetcher].
type Fetcher interface {
	// Source is the calls table's source the fetcher serves ("mtt").
	Source() string
	// Parts resolves call's recording into its parts and calls fn for each,
	// in order, in the calling goroutine, stopping at fn's first error,
	// which it returns. Resolving does not download anything: the caller
	// opens the parts it does not hold yet. An error wrapping ErrMissing
	// means the vendor has no recording of the call.
	Parts(ctx context.Context, call Call, fn func(Part) error) error
}
