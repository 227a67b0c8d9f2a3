-- missed_calls: Missed calls per multichannel number and hour, with the callback gap.
-- From t2_missed_calls (statistics/missing): missed calls, distinct callers, wait-time
-- p50/p90 in seconds, and how many of those callers nobody called back within
-- callback_hours: no t2 outgoing call to the caller's number (calls.callee) that started
-- after the missed call and within callback_hours of it. The hour is the start hour
-- in the business time zone.
-- param: callback_hours INTEGER = 2  Hours within which a callback counts
-- param: from DATE = NULL             First day, inclusive (business time zone); default: all
-- param: to DATE = NULL               Last day, inclusive; default: all
-- chart: x=date y=missed series=mcn_number
WITH missed AS (
    SELECT m.id, m.date, m.destination_number, m.caller, m.start_date, m.wait_duration
    FROM t2_missed_calls m
    WHERE ($from IS NULL OR m.date >= $from)
      AND ($to IS NULL OR m.date <= $to)
),
flagged AS (
    SELECT
        m.*,
        EXISTS (
            SELECT 1
            FROM calls c
            WHERE c.source = 't2'
              AND c.direction = 'outgoing'
              AND c.callee = m.caller
              AND m.caller <> ''
              AND c.started_at >= m.start_date
              AND c.started_at < m.start_date + to_hours(CAST($callback_hours AS BIGINT))
        ) AS called_back
    FROM missed m
)
SELECT
    date,
    date_trunc('hour', start_date)                         AS hour,
    destination_number                                     AS mcn_number,
    count(*)                                               AS missed,
    count(DISTINCT caller)                                 AS callers,
    quantile_cont(wait_duration, 0.5)                      AS wait_p50_s,
    quantile_cont(wait_duration, 0.9)                      AS wait_p90_s,
    count(DISTINCT caller) FILTER (WHERE NOT called_back)  AS not_called_back
FROM flagged
GROUP BY date, hour, mcn_number
ORDER BY date, hour, mcn_number
