-- recording_coverage: Recording coverage per day and source.
-- Calls the vendor says were recorded (has_recording, each call once: NOT duplicate), and of those
-- how many are stored, missing at the vendor, failed (still retried or given up) or not attempted yet,
-- with stored bytes. Stored, missing, failed and transcribed come from recording_days, which every
-- recordings run keeps up to date from the recordings manifest: a call's state is its latest attempt
-- (max fetched_at, run_id); the recording's state ignores the transcript row (part -1) of the attempt.
-- not_attempted is recorded minus the calls with an attempt, floored at 0 (a call whose has_recording
-- was withdrawn by a later extraction keeps its attempts). Transcript columns count T2 calls whose
-- latest attempt has the transcript stored (an empty transcript counts), NULL for other sources.
-- param: from DATE = NULL  First day, inclusive (the call's date partition); default: all
-- param: to DATE = NULL    Last day, inclusive; default: all
WITH recorded AS (
    SELECT source, date, count(*) AS recorded
    FROM calls
    WHERE has_recording AND NOT coalesce(duplicate, false)
      AND ($from IS NULL OR date >= $from)
      AND ($to IS NULL OR date <= $to)
    GROUP BY source, date
)
SELECT
    r.date,
    r.source,
    r.recorded,
    coalesce(d.stored, 0)                                      AS stored,
    coalesce(d.missing, 0)                                     AS missing,
    coalesce(d.failed, 0)                                      AS failed,
    greatest(r.recorded - coalesce(d.calls_attempted, 0), 0)   AS not_attempted,
    CAST(round(coalesce(d.stored, 0) / r.recorded, 4)
         AS DECIMAL(5,4))                                      AS stored_rate,
    coalesce(d.stored_bytes, 0)                                AS stored_bytes,
    CASE WHEN r.source = 't2' THEN coalesce(d.transcribed, 0) END AS transcribed,
    CASE WHEN r.source = 't2' THEN CAST(round(coalesce(d.transcribed, 0) / r.recorded, 4)
         AS DECIMAL(5,4)) END                                  AS transcribed_rate
FROM recorded r
LEFT JOIN recording_days d ON d.source = r.source AND d.date = r.date
ORDER BY r.date, r.source
