-- recording_coverage: Recording coverage per day and source.
-- Calls the vendor says were recorded (has_recording), and of those how many are stored,
-- missing at the vendor, failed (still retried or given up) or not attempted yet, with stored bytes.
-- A call's state is its latest attempt in the recordings manifest (max fetched_at, run_id).
-- The recording's state ignores the transcript row (part -1) of the attempt; transcript columns
-- count T2 calls whose latest attempt has the transcript stored (an empty transcript counts),
-- NULL for other sources.
-- param: from DATE = NULL  First day, inclusive (the call's date partition); default: all
-- param: to DATE = NULL    Last day, inclusive; default: all
WITH recorded AS (
    SELECT DISTINCT source, date, call_id
    FROM calls
    WHERE has_recording
      AND ($from IS NULL OR date >= $from)
      AND ($to IS NULL OR date <= $to)
),
latest AS (
    SELECT source, call_id,
           CASE WHEN bool_or(status = 'failed') FILTER (WHERE part >= 0) THEN 'failed'
                WHEN bool_or(status = 'missing') FILTER (WHERE part >= 0) THEN 'missing'
                ELSE 'ok' END                          AS status,
           sum(bytes) FILTER (WHERE status = 'ok' AND part >= 0) AS bytes,
           bool_or(status = 'ok') FILTER (WHERE part = -1) AS transcribed
    FROM recordings
    GROUP BY source, call_id, fetched_at, run_id
    QUALIFY row_number() OVER (PARTITION BY source, call_id ORDER BY fetched_at DESC, run_id DESC) = 1
)
SELECT
    r.date,
    r.source,
    count(*)                                                   AS recorded,
    count(*) FILTER (WHERE l.status = 'ok')                    AS stored,
    count(*) FILTER (WHERE l.status = 'missing')               AS missing,
    count(*) FILTER (WHERE l.status = 'failed')                AS failed,
    count(*) FILTER (WHERE l.status IS NULL)                   AS not_attempted,
    CAST(round(count(*) FILTER (WHERE l.status = 'ok') / count(*), 4)
         AS DECIMAL(5,4))                                      AS stored_rate,
    coalesce(sum(l.bytes), 0)                                  AS stored_bytes,
    CASE WHEN r.source = 't2' THEN count(*) FILTER (WHERE l.transcribed) END AS transcribed,
    CASE WHEN r.source = 't2' THEN CAST(round(count(*) FILTER (WHERE l.transcribed) / count(*), 4)
         AS DECIMAL(5,4)) END                                  AS transcribed_rate
FROM recorded r
LEFT JOIN latest l ON l.source = r.source AND l.call_id = r.call_id
GROUP BY r.date, r.source
ORDER BY r.date, r.source
