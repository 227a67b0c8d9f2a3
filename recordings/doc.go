// Package recordings fetches call recordings (and T2 transcripts) into a
// blob store: streamed from the vendor's response body to [blob.Store.Put]
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
// has not elapsed yet.
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
//     parts were known (the MTT URL list answered 404, the API was down).
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
// Replace-per-date was rejected: a run that fetches one call of an old day
// would have to rewrite that day's whole manifest, and a crash in between
// would lose rows of other runs.
//
// The manifest is committed at the end of a run and every CheckpointEvery
// calls (re-committing the same unit, which replaces its files). Should the
// process die before that, the objects already stored are found by listing
// the call's key prefix on the next run and recorded without re-downloading.
//
// # Keys
//
//	recordings/source=<s>/date=<YYYY-MM-DD>/<call_id>/part-<n>.<ext>
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
