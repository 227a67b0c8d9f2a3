package recordings

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "github.com/duckdb/duckdb-go/v2" // registers the "duckdb" driver
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
}

// parquetGlob returns the glob of a lake table's files, or "" when the
// table has none yet (read_parquet fails on an empty glob).
func parquetGlob(lakeDir, table string) (string, error) {
	dir := filepath.Join(lakeDir, table)
	if _, err := os.Stat(dir); os.IsNotExist(err) {
		return "", nil
	}
	glob := filepath.Join(dir, "*", "*", "*.parquet")
	m, err := filepath.Glob(glob)
	if err != nil || len(m) == 0 {
		return "", err
	}
	return glob, nil
}

// sqlString quotes s as a SQL string literal (paths cannot be bound).
func sqlString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func readParquet(glob string) string {
	return "read_parquet(" + sqlString(glob) +
		", hive_partitioning=true, union_by_name=true, hive_types={'source':VARCHAR,'date':DATE})"
}

// pending returns the calls of sources that still need fetching: has a
// recording, and no latest attempt that is complete (ok or missing), nor a
// failed one at maxAttempts. Backoff is applied by the caller. Order: date,
// source, call_id.
func pending(ctx context.Context, lakeDir string, sources []string, maxAttempts int) ([]Call, error) {
	callsGlob, err := parquetGlob(lakeDir, "calls")
	if err != nil || callsGlob == "" || len(sources) == 0 {
		return nil, err
	}
	manGlob, err := parquetGlob(lakeDir, Manifest.Name)
	if err != nil {
		return nil, err
	}
	db, err := sql.Open("duckdb", "")
	if err != nil {
		return nil, err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	for _, s := range []string{"SET autoinstall_known_extensions = false", "SET autoload_known_extensions = false", "SET TimeZone = 'UTC'"} {
		if _, err := db.ExecContext(ctx, s); err != nil {
			return nil, err
		}
	}

	quoted := make([]string, len(sources))
	for i, s := range sources {
		quoted[i] = sqlString(s)
	}
	latest := `SELECT NULL::VARCHAR AS source, NULL::VARCHAR AS call_id, NULL::TIMESTAMPTZ AS fetched_at,
	        NULL::VARCHAR AS status, NULL::INTEGER AS attempts, NULL::BOOLEAN AS transcript_ok WHERE false`
	if manGlob != "" {
		// The state of a call is its latest attempt; within it, failed
		// beats missing beats ok. A failed transcript row makes the call
		// failed (retried); transcript_ok is over every attempt.
		latest = `SELECT source, call_id, fetched_at,
		        CASE WHEN bool_or(status = 'failed') THEN 'failed'
		             WHEN bool_or(status = 'missing') THEN 'missing' ELSE 'ok' END AS status,
		        max(attempts) AS attempts,
		        bool_or(bool_or(part = ` + fmt.Sprint(TranscriptPart) + ` AND status = 'ok')) OVER (PARTITION BY source, call_id) AS transcript_ok
		    FROM ` + readParquet(manGlob) + `
		    WHERE source IN (` + strings.Join(quoted, ",") + `)
		    GROUP BY source, call_id, fetched_at, run_id
		    QUALIFY row_number() OVER (PARTITION BY source, call_id ORDER BY fetched_at DESC, run_id DESC) = 1`
	}
	q := `WITH c AS (
		SELECT source, strftime(date, '%Y-%m-%d') AS date, call_id, min(recording_ref) AS ref
		FROM ` + readParquet(callsGlob) + `
		WHERE has_recording AND recording_ref <> '' AND source IN (` + strings.Join(quoted, ",") + `)
		GROUP BY source, date, call_id
	), m AS (` + latest + `)
	SELECT c.source, c.date, c.call_id, c.ref, coalesce(m.attempts, 0), m.fetched_at, coalesce(m.status, ''),
	       coalesce(m.transcript_ok, false)
	FROM c LEFT JOIN m ON m.source = c.source AND m.call_id = c.call_id
	WHERE m.status IS NULL OR (m.status = 'failed' AND m.attempts < $max)
	ORDER BY c.date, c.source, c.call_id`
	rows, err := db.QueryContext(ctx, q, sql.Named("max", maxAttempts))
	if err != nil {
		return nil, fmt.Errorf("recordings: pending: %w", err)
	}
	defer rows.Close()
	var out []Call
	for rows.Next() {
		var c Call
		var last sql.NullTime
		if err := rows.Scan(&c.Source, &c.Date, &c.CallID, &c.Ref, &c.Attempts, &last, &c.LastState, &c.TranscriptOK); err != nil {
			return nil, fmt.Errorf("recordings: pending: %w", err)
		}
		if last.Valid {
			c.LastTry = last.Time
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("recordings: pending: %w", err)
	}
	return out, nil
}
