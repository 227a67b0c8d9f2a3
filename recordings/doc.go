// Package recordings fetches call recordings (and T2 transcripts) into a
// blob store: streamed from the vendor's response body to [storage.Store.Put]
// with no whole-file buffering, checked (content sniffed from the first
// bytes, Content-Length verified, size and SHA-256 computed by the store),
// never fetched twice, and recorded in the `recordings` manifest table of
// the lake.
//
// # Work list
//
// [Run] reads the backlog from the lake itself: every call WHERE
// has_recording (DuckDB read_parquet over LAKE/calls), minus the calls whose
// latest manifest attempt is complete (ok or missing), minus failed calls
// that reached MaxAttempts or whose backoff (fetched_at + RetryBase·2^attempts)
// has not elapsed yet; plus, for a source with transcripts, the calls whose
// latest attempt is complete but has no transcript row (see Transcript
// backfill).
//
// # Failures: the vendor's or the store's
//
// A failure at the vendor (an error answer, a body cut short or not audio)
// is the call's: it is recorded failed and retried with backoff, up to
// MaxAttempts. A failure of the blob store (S3 unreachable or answering
// errors after the SDK's retries, a local disk full or failing) is
// everybody's: Run stops fetching at the first one, records nothing for the
// call that met it nor for the calls in flight (their objects already
// stored are found by the next run), and returns one error wrapping
// [ErrStore] that names the store and says what to check. No call uses up
// an attempt on an outage of the store, and no backoff is started. A Put
// that fails is blamed on the vendor when the vendor's body failed, on the
// store otherwise.
//
// # Manifest design: append per run, latest attempt wins
//
// Each run writes, per source, the lake unit "manifest-<run id>" in the
// date partition of each call it attempted (recordings/source=S/date=D/
// manifest-<run id>.parquet). Files are never rewritten by later runs, so a
// run cannot damage what an earlier one recorded, and the history of
// attempts stays queryable. One attempt of one call writes, with the same
// fetched_at and run_id:
//
//   - one row per part (part ≥ 1) with status ok, missing or failed; or
//   - one part-0 row (missing or failed) when the call failed before its
//     parts were known (the MTT URL list answered 404, the API was down);
//   - for T2, besides, one part -1 row: the transcript (see Transcripts).
//
// The state of a call is the set of rows of its latest attempt: the rows
// with the greatest (fetched_at, run_id) for (source, call_id). This is "the
// latest row per (source, call_id, part) wins" lifted to the call, which is
// needed because the number of parts is only known once the vendor answers:
// a part-0 failure must not outlive the later attempt that stored parts
// 1..n. A retry re-lists the call's parts, so the latest attempt always
// describes the whole call; parts already in the store are recorded ok
// again without being downloaded.
//
// # Transcripts (T2)
//
// For a source whose fetcher is a [TranscriptFetcher] (T2), every attempt
// of a call also resolves its speech transcript, after the recording's
// parts and whatever became of them. The transcript is one more manifest
// row of the same attempt, part -1 ([TranscriptPart]), with the same
// statuses: ok (the raw JSON stored at .../<call_id>/transcript.json),
// missing (404 "Transcription not found for filename": not retried) or
// failed (anything else, including a body that is not a JSON array of
// {channel, startTime, endTime, word} with every field present: nothing is
// stored). A part -1 row was chosen over a kind column because the
// manifest's key, bytes, sha256 and status already describe a stored
// object and part 0 already means "no part": no schema change was needed.
//
// The transcript row does not change the recording's state in reports
// (recording_coverage ignores part -1 for stored/missing/failed and counts
// transcribed calls from it) nor the run's Summary counts of calls; it has
// its own Summary fields. It does count in the backlog: a failed transcript
// makes the call's latest attempt failed, so the call is retried with the
// usual backoff and MaxAttempts, its stored recording parts being recorded
// ok again without a download.
//
// Unlike recordings, a transcript body is read whole (up to
// MaxTranscriptBytes) so that it is validated before anything is stored.
// Its words go to the `transcript_words` table (seq = index in the array)
// in the same lake transaction, unit "manifest-<run id>", as the manifest
// rows of the run, manifest first. Words are written only by the attempt
// that stores the transcript: once any attempt of the call has its part -1
// row ok, later attempts Stat the stored object and record the row ok
// again, without asking the vendor or writing words, so rows never double.
// A transcript.json found in the store without such a row (a crash before
// the commit) is read back from the store and its words written then.
// A crash between the two renames of a commit (manifest committed, words
// not) would leave a stored transcript without words; its raw JSON stays
// in the store.
//
// # Transcript backfill
//
// Calls fetched before their source had transcripts have a complete latest
// attempt without a part -1 row. Such a call is attempted once more for its
// transcript alone: the new attempt repeats the latest attempt's recording
// rows unchanged (but for attempts, fetched_at and run_id), so that the
// latest attempt still describes the whole call, and adds the transcript
// row. Nothing is asked of the vendor but the transcript, and nothing is
// uploaded but the transcript: a missing recording is not asked for again.
// These calls are counted in Summary.Backfilled, not in Summary.Calls; a
// failed transcript makes the call failed, retried as usual.
//
// # SHA-256 of stored objects
//
// The manifest's sha256 is what Put computed while storing. For an object
// this attempt did not upload (stored by an attempt whose manifest was
// lost, or concurrently), it is the store's (Stat), or, where the store
// keeps none (S3 objects uploaded in parts), computed by reading the object
// back.
//
// Replace-per-date was rejected: a run that fetches one call of an old day
// would have to rewrite that day's whole manifest, and a crash in between
// would lose rows of other runs.
//
// The manifest is committed at the end of a run and every CheckpointEvery
// calls (re-committing the same unit, which replaces its files). Should the
// process die before that, the objects already stored are found by listing
// the call's key prefix on the next run and recorded without re-downloading.
//
// # Recording days
//
// Reports read recording state per day, and grouping millions of manifest
// rows by call at query time is slow, so [Run] keeps the `recording_days`
// table ([Days]): one row per (source, date) of the manifest with the
// calls attempted, stored, missing and failed (by their latest attempt,
// the transcript row ignored), the bytes stored and the calls transcribed.
// Each source's rows are one lake unit, "days", with one file per date,
// replaced whole when that date is recomputed from its manifest files
// (never from other dates: a call's latest attempt is taken within its
// (source, date) partition).
//
// At the end of every run that could read its work list, also one that had
// nothing to fetch and one whose store failed (not one whose context
// ended), Run recomputes a
// (source, date) when the run committed manifest rows there, when
// recording_days has no file there (the first run after an upgrade fills
// the whole history once), when the manifest has no file left there (the
// row is removed), or when the newest modification time of the manifest
// partition (its directory, which every commit's rename touches, and its
// files) is not before that of the recording_days file. That last rule is
// what repairs a crash or failure between a manifest commit and the
// recording_days commit, in this run or any earlier one: the stale date's
// manifest stays newer than its row until a run recomputes it. Equal
// times (coarse file system clocks) count as stale, so the rule errs
// towards one more recomputation, never towards a stale row. It relies on
// the manifest and recording_days sharing one file system clock. Several
// processes may write the lake at once (the shards of a run, each fetching
// the calls Config.Owns gives it and committing its own manifest unit):
// they recompute recording_days one at a time (Config.DaysLock), every
// shard recomputes the dates it committed after committing them, and a
// days file's modification time is set to when its inputs were listed,
// so a manifest another shard committed during a recomputation leaves the
// date stale for the next run even if that shard died before recomputing. Finding the stale
// dates lists partition directories only; the Parquet read, the grouping
// and the writes are proportional to the dates recomputed.
//
// # Keys
//
//	recordings/source=<s>/date=<YYYY-MM-DD>/<call_id>/part-<n>.<ext>
//	recordings/source=<s>/date=<YYYY-MM-DD>/<call_id>/transcript.json
//
// Every segment is sanitised by [Segment]: bytes outside [A-Za-z0-9._-]
// become '_', a leading '.' becomes '_', and when anything had to change a
// short hash of the original is appended so two different call ids cannot
// collide. A vendor value such as "../../x" can therefore never leave the
// prefix.
//
// # Security
//
// Vendor credentials are added by a transport that knows the one configured
// scheme and host; requests anywhere else (MTT download URLs on other hosts,
// redirects) carry no Authorization header.
package recordings
