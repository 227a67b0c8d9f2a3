-- data_quality: Data-quality findings per day, source and account.
-- One row per finding; no rows when every check passes. `etl run` runs this over the days it extracted and
-- logs each row as a warning (data_quality.fail_run: exit 5). The findings:
--   calls_low: the day's calls (each call once) are below low_ratio x the median of the same weekday over
--     the baseline_days before it (a vendor silently returning nothing). Days a stream of the account
--     committed count as 0 when they have no calls. Skipped while the median is below min_baseline or has
--     no day, and for today (not over yet: the business time zone).
--   stream_zero_rows: a run committed windows of a stream, at least one of them a whole past day, and loaded
--     no row and no reject, though the stream's runs over the baseline_days before loaded min_baseline rows
--     or more. date is the run's last window; stream names the stream.
--   reject_rate: rejects / (calls + rejects) of the day above max_reject_rate.
--   cost_without_talk: more than max_cost_without_talk calls priced (cost > 0) without talk time.
--   recording_coverage_drop: stored / recorded calls of the day (recording_days; per source, account '')
--     is more than coverage_drop below the median of the baseline_days before it. Needs 10 recorded calls.
-- observed and expected are the figures compared: calls against the median, a rate against the threshold.
-- param: from DATE = NULL              First day checked, inclusive; default: all
-- param: to DATE = NULL                Last day checked, inclusive; default: all
-- param: baseline_days INTEGER = 14    Days before each day that its baseline (median) is taken over
-- param: low_ratio DOUBLE = 0.2        calls_low below this share of the weekday median
-- param: min_baseline INTEGER = 20     No calls_low or stream_zero_rows for an account or stream smaller than this
-- param: max_reject_rate DOUBLE = 0.01 reject_rate above this share of the day's rows
-- param: max_cost_without_talk INTEGER = 0  cost_without_talk above this many calls
-- param: coverage_drop DOUBLE = 0.2    recording_coverage_drop when coverage falls more than this below its median
WITH
daily AS (
    SELECT source, account, date,
           count(*) FILTER (WHERE NOT coalesce(duplicate, false))                                     AS calls,
           count(*) FILTER (WHERE NOT coalesce(duplicate, false) AND cost > 0 AND coalesce(talk_s, 0) = 0) AS cost_without_talk
    FROM calls
    WHERE ($from IS NULL OR date >= CAST($from AS DATE) - $baseline_days)
      AND ($to IS NULL OR date <= $to)
    GROUP BY source, account, date
),
run_days AS (
    SELECT source, account, status, TRY_CAST(last_day AS DATE) AS last_day,
           CAST(unnest(generate_series(CAST(TRY_CAST(first_day AS DATE) AS TIMESTAMP),
                                       CAST(TRY_CAST(last_day AS DATE) AS TIMESTAMP), INTERVAL 1 DAY)) AS DATE) AS date
    FROM runs
    WHERE windows > 0 AND TRY_CAST(first_day AS DATE) IS NOT NULL AND TRY_CAST(last_day AS DATE) IS NOT NULL
),
extracted AS (  -- days some stream of the account committed
    SELECT DISTINCT source, account, date
    FROM run_days
    WHERE (status = 'ok' OR date < last_day)
      AND ($from IS NULL OR date >= CAST($from AS DATE) - $baseline_days)
      AND ($to IS NULL OR date <= $to)
),
days AS (
    SELECT source, account, date, coalesce(d.calls, 0) AS calls, coalesce(d.cost_without_talk, 0) AS cost_without_talk
    FROM extracted e FULL JOIN daily d USING (source, account, date)
),
baseline AS (
    SELECT d.source, d.account, d.date, d.calls, median(b.calls) AS median_calls, count(b.date) AS samples
    FROM days d
    LEFT JOIN days b ON b.source = d.source AND b.account = d.account
                    AND b.date < d.date AND b.date >= d.date - $baseline_days
                    AND dayofweek(b.date) = dayofweek(d.date)
    WHERE ($from IS NULL OR d.date >= $from) AND ($to IS NULL OR d.date <= $to)
      AND d.date < CAST(now() AS DATE)
    GROUP BY d.source, d.account, d.date, d.calls
),
stream_runs AS (
    SELECT source, account, stream, started_at, rows, rejects, windows, status,
           TRY_CAST(first_day AS DATE) AS first_day, TRY_CAST(last_day AS DATE) AS last_day
    FROM runs
),
zero_streams AS (
    SELECT r.last_day AS date, r.source, r.account, r.stream, sum(p.rows) AS baseline_rows
    FROM stream_runs r
    JOIN stream_runs p ON p.source = r.source AND p.account = r.account AND p.stream = r.stream
                      AND p.started_at < r.started_at
                      AND p.started_at >= r.started_at - to_days($baseline_days)
    WHERE r.status = 'ok' AND r.windows > 0 AND r.rows = 0 AND r.rejects = 0
      AND r.first_day < CAST(r.started_at AS DATE)
      AND ($from IS NULL OR r.last_day >= $from) AND ($to IS NULL OR r.last_day <= $to)
    GROUP BY r.last_day, r.source, r.account, r.stream, r.started_at
    HAVING sum(p.rows) >= $min_baseline
),
rejects_daily AS (
    SELECT source, account, date, count(*) AS rejects
    FROM rejects
    WHERE ($from IS NULL OR date >= $from) AND ($to IS NULL OR date <= $to)
    GROUP BY source, account, date
),
coverage AS (
    SELECT c.source, c.date, count(*) AS recorded, coalesce(any_value(r.stored), 0) AS stored,
           coalesce(any_value(r.stored), 0) / count(*) AS rate
    FROM calls c
    LEFT JOIN recording_days r ON r.source = c.source AND r.date = c.date
    WHERE c.has_recording AND NOT coalesce(c.duplicate, false)
      AND ($from IS NULL OR c.date >= CAST($from AS DATE) - $baseline_days)
      AND ($to IS NULL OR c.date <= $to)
    GROUP BY c.source, c.date
),
coverage_baseline AS (
    SELECT c.source, c.date, c.recorded, c.rate, median(b.rate) AS median_rate
    FROM coverage c
    JOIN coverage b ON b.source = c.source AND b.date < c.date AND b.date >= c.date - $baseline_days
                   AND b.recorded >= 10
    WHERE ($from IS NULL OR c.date >= $from) AND ($to IS NULL OR c.date <= $to)
      AND c.recorded >= 10
    GROUP BY c.source, c.date, c.recorded, c.rate
),
findings AS (
    SELECT date, source, account, NULL AS stream, 'calls_low' AS finding,
           CAST(calls AS DOUBLE) AS observed, CAST(median_calls AS DOUBLE) AS expected,
           format('{} calls; the median of the same weekday over the {} days before is {}', calls, $baseline_days, median_calls) AS detail
    FROM baseline
    WHERE samples > 0 AND median_calls >= $min_baseline AND calls < median_calls * $low_ratio
    UNION ALL
    SELECT date, source, account, stream, 'stream_zero_rows',
           0, CAST(baseline_rows AS DOUBLE),
           format('the run committed its windows with no row; its runs over the {} days before loaded {} rows', $baseline_days, baseline_rows)
    FROM zero_streams
    UNION ALL
    SELECT r.date, r.source, r.account, NULL, 'reject_rate',
           round(r.rejects / (r.rejects + coalesce(d.calls, 0)), 4), $max_reject_rate,
           format('{} rejects against {} calls (etl report rejects)', r.rejects, coalesce(d.calls, 0))
    FROM rejects_daily r
    LEFT JOIN daily d USING (source, account, date)
    WHERE r.rejects > $max_reject_rate * (r.rejects + coalesce(d.calls, 0))
    UNION ALL
    SELECT date, source, account, NULL, 'cost_without_talk',
           CAST(cost_without_talk AS DOUBLE), CAST($max_cost_without_talk AS DOUBLE),
           format('{} calls priced without talk time (etl report cost_reconciliation)', cost_without_talk)
    FROM days
    WHERE cost_without_talk > $max_cost_without_talk
      AND ($from IS NULL OR date >= $from) AND ($to IS NULL OR date <= $to)
    UNION ALL
    SELECT date, source, '', NULL, 'recording_coverage_drop',
           round(rate, 4), round(median_rate, 4),
           format('{} of {} recorded calls stored; the median coverage over the {} days before is {}',
                  CAST(round(rate * recorded) AS BIGINT), recorded, $baseline_days, round(median_rate, 4))
    FROM coverage_baseline
    WHERE rate < median_rate - $coverage_drop
)
SELECT date, source, account, stream, finding, observed, expected, detail
FROM findings
ORDER BY date, source, account, finding, stream
