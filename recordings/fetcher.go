package recordings

import "github.com/calletl/calletl/recordings/fetch"

// The fetcher contract is package fetch's, a leaf that the vendor packages
// import to implement it beside their clients (extract/mtt, extract/t2,
// extract/votbox); these names keep this package's API.
type (
	// Part is one file of a call's recording, not downloaded yet.
	Part = fetch.Part
	// Fetcher finds the recordings of one source.
	Fetcher = fetch.Fetcher
	// TranscriptFetcher is a Fetcher whose vendor also serves transcripts.
	TranscriptFetcher = fetch.TranscriptFetcher
)

// ErrMissing is wrapped by fetcher errors meaning the vendor holds no such
// recording (a 404): the call is recorded missing and not retried.
var ErrMissing = fetch.ErrMissing

// ErrContent marks a body whose first bytes are not what was expected (an
// HTML or JSON error page served with status 200): it is never stored.
var ErrContent = fetch.ErrContent

// Kinds of content the fetcher accepts.
const (
	KindAudio = fetch.KindAudio // WAV or MP3
	KindJSON  = fetch.KindJSON  // a transcript
)

// TranscriptPart is the manifest part number of a call's transcript row.
const TranscriptPart = fetch.TranscriptPart
