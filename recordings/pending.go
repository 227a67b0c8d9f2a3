package recordings

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	_ "github.com/duckdb/duckdb-go/v2" // registers the "duckdb" driver

	"github.com/calletl/calletl/lakeread"
	"github.com/calletl/calletl/load"
)

// Call is one recording to fetch: a row of the calls table with
// has_recording, and what earlier attempts left.
type Call struct {
	Source string
	Date   string // the call's date partition, YYYY-MM-DD
	CallID string
	Ref    string // recording_ref: what the vendor API takes

	Attempts  int       // earlier attempts (0 for a first fetch)
	LastTry   time.Time // fetched_at of the latest attempt, zero if none
	LastState string    // status of the latest attempt, "" if none
	// TranscriptOK: an earlier attempt stored the call's transcript (a
	// manifest row of part TranscriptPart with status ok), so it is
	// neither fetched nor its words written again.
	TranscriptOK bool
	// Backfill: the call's recording is resolved (latest attempt ok or
	// missing) but that attempt has no transcript row, because it was made
	// before the source had transcripts. This attempt only resolves the
	// transcript; Carried are the latest attempt's recording rows (part
	// >= 0), repeated in it unchanged but for attempts, fetched_at and
	// run_id, so that the latest attempt still describes the whole call.
	Backfill bool
	Carried  []Entry
}

// openDuck opens an in-memory DuckDB of one connection, in UTC, that
// loads no extension. The caller closes it.
func openDuck(ctx context.Context) (*sql.DB, error) {
	db, err := sql.Open("duckdb", "")
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	for _, s := range []string{"SET autoinstall_known_extensions = false", "SET autoload_known_extensions = false", "SET TimeZone = 'UTC'"} {
		if _, err := db.ExecContext(ctx, s); err != nil {
			db.Close()
			return nil, err
		}
	}
	return db, nil
}

// pending returns the calls of sources that still need fetching: has a
// recording, and no latest attempt that is complete (ok or missing), nor a
// failed one at maxAttempts; plus, for the transcripts sources (a subset of
// sources), the calls whose latest attempt is complete but has no
// transcript row (Call.Backfill). Backoff is applied by the caller. Order:
// date, source, call_id.
func pending(ctx context.Context, lakeDir string, sources, transcripts []string, maxAttempts int) ([]Call, error) {
	if len(sources) == 0 {
		return nil, nil
	}
	if has, err := lakeread.HasData(lakeDir, load.Calls.Name); err != nil || !has {
		return nil, err
	}
	db, err := openDuck(ctx)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	// The lake's tables as the reports see them: views named after the
	// tables (calls, and Manifest.Name), the manifest's empty while it has
	// no file.
	calls, man := lakeread.QuoteIdent(load.Calls.Name), lakeread.QuoteIdent(Manifest.Name)
	for _, t := range []load.TableInfo{load.Calls.Info(), Manifest.Info()} {
		if _, err := lakeread.CreateView(ctx, db, lakeDir, t); err != nil {
			return nil, fmt.Errorf("recordings: pending: %w", err)
		}
	}

	in := func(list []string) string {
		if len(list) == 0 {
			return "NULL" // IN (NULL) matches nothing
		}
		quoted := make([]string, len(list))
		for i, s := range list {
			quoted[i] = lakeread.QuoteString(s)
		}
		return strings.Join(quoted, ",")
	}
	// The state of a call is its latest attempt; within it, failed beats
	// missing beats ok. A failed transcript row makes the call failed
	// (retried); has_transcript is whether the latest attempt has a
	// transcript row at all; transcript_ok is over every attempt.
	latest := `SELECT source, call_id, fetched_at, run_id,
	        CASE WHEN bool_or(status = 'failed') THEN 'failed'
	             WHEN bool_or(status = 'missing') THEN 'missing' ELSE 'ok' END AS status,
	        max(attempts) AS attempts,
	        bool_or(part = ` + fmt.Sprint(TranscriptPart) + `) AS has_transcript,
	        bool_or(bool_or(part = ` + fmt.Sprint(TranscriptPart) + ` AND status = 'ok')) OVER (PARTITION BY source, call_id) AS transcript_ok
	    FROM ` + man + `
	    WHERE source IN (` + in(sources) + `)
	    GROUP BY source, call_id, fetched_at, run_id
	    QUALIFY row_number() OVER (PARTITION BY source, call_id ORDER BY fetched_at DESC, run_id DESC) = 1`
	q := `WITH c AS (
		SELECT source, strftime(date, '%Y-%m-%d') AS date, call_id, min(recording_ref) AS ref
		FROM ` + calls + `
		WHERE has_recording AND recording_ref <> '' AND source IN (` + in(sources) + `)
		GROUP BY source, date, call_id
	), m AS (` + latest + `)
	SELECT c.source, c.date, c.call_id, c.ref, coalesce(m.attempts, 0), m.fetched_at, coalesce(m.status, ''),
	       coalesce(m.transcript_ok, false), coalesce(m.status IN ('ok', 'missing'), false) AS backfill
	FROM c LEFT JOIN m ON m.source = c.source AND m.call_id = c.call_id
	WHERE m.status IS NULL OR (m.status = 'failed' AND m.attempts < $max)
	   OR (m.status IN ('ok', 'missing') AND NOT m.has_transcript AND c.source IN (` + in(transcripts) + `))
	ORDER BY c.date, c.source, c.call_id`
	rows, err := db.QueryContext(ctx, q, sql.Named("max", maxAttempts))
	if err != nil {
		return nil, fmt.Errorf("recordings: pending: %w", err)
	}
	defer rows.Close()
	var out []Call
	backfill := map[[2]string]int{} // (source, call_id) → index in out
	for rows.Next() {
		var c Call
		var last sql.NullTime
		if err := rows.Scan(&c.Source, &c.Date, &c.CallID, &c.Ref, &c.Attempts, &last, &c.LastState, &c.TranscriptOK, &c.Backfill); err != nil {
			return nil, fmt.Errorf("recordings: pending: %w", err)
		}
		if last.Valid {
			c.LastTry = last.Time
		}
		if c.Backfill {
			backfill[[2]string{c.Source, c.CallID}] = len(out)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("recordings: pending: %w", err)
	}
	if len(backfill) == 0 {
		return out, nil
	}
	if err := carried(ctx, db, man, latest, in(transcripts), out, backfill); err != nil {
		return nil, fmt.Errorf("recordings: pending: transcript backfill: %w", err)
	}
	return out, nil
}

// carried fills Call.Carried of the backfill calls (out[backfill[k]]) with
// the recording rows of their latest attempt; man is the manifest's view.
func carried(ctx context.Context, db *sql.DB, man, latest, transcripts string, out []Call, backfill map[[2]string]int) error {
	q := `WITH m AS (` + latest + `)
	SELECT r.source, r.call_id, r.recording_ref, r.part, r.key, r.bytes, r.sha256, r.content_type, r.status, r.error
	FROM ` + man + ` r
	JOIN m ON m.source = r.source AND m.call_id = r.call_id AND m.fetched_at = r.fetched_at AND m.run_id = r.run_id
	WHERE r.part >= 0 AND m.status IN ('ok', 'missing') AND NOT m.has_transcript AND r.source IN (` + transcripts + `)
	ORDER BY r.source, r.call_id, r.part`
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var e Entry
		if err := rows.Scan(&e.Source, &e.CallID, &e.RecordingRef, &e.Part, &e.Key, &e.Bytes, &e.SHA256, &e.ContentType, &e.Status, &e.Error); err != nil {
			return err
		}
		i, ok := backfill[[2]string{e.Source, e.CallID}]
		if !ok {
			continue // a call no longer in the calls table
		}
		e.Date = out[i].Date
		out[i].Carried = append(out[i].Carried, e)
	}
	return rows.Err()
}
