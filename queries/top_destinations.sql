-- top_destinations: Cost and minutes by destination.
-- Calls, billed minutes and cost per source, destination and currency, most expensive
-- first. MTT destinations are mtt_calls.destination (the destination name MTT sends),
-- with mtt_calls' charged_time, charged and curr (calls' billed_s, cost, currency); each
-- call counts once (a row the vendor sent twice is mtt_calls.duplicate). mtt_calls files
-- written before those columns were kept again (duplicate NULL) are joined to calls on
-- source, date, account = customer_name, direction (dialed = outgoing) and call_id
-- instead. Other sources have no destination name: their outgoing calls count under the
-- callee number (for T2, the callee or else the destination_number). Calls without a
-- destination are left out. Costs in different currencies are never added up: each
-- currency is a row of its own.
-- param: from DATE = NULL      First day, inclusive (business time zone); default: all
-- param: to DATE = NULL        Last day, inclusive; default: all
-- param: limit INTEGER = 20    Rows: at most this many
WITH mtt_older AS (
    SELECT DISTINCT source, date, customer_name, CASE type WHEN 'dialed' THEN 'outgoing' ELSE type END AS direction,
           call_id, destination
    FROM mtt_calls
    WHERE duplicate IS NULL
      AND destination <> ''
      AND ($from IS NULL OR date >= $from)
      AND ($to IS NULL OR date <= $to)
),
legs AS (
    SELECT source, destination, CASE WHEN charged IS NULL THEN '' ELSE curr END AS currency, charged_time AS billed_s, charged AS cost
    FROM mtt_calls
    WHERE NOT duplicate
      AND destination <> ''
      AND ($from IS NULL OR date >= $from)
      AND ($to IS NULL OR date <= $to)
    UNION ALL
    SELECT c.source, m.destination, CASE WHEN c.cost IS NULL THEN '' ELSE c.currency END AS currency, c.billed_s, c.cost
    FROM mtt_older m
    JOIN calls c
      ON c.source = m.source AND c.date = m.date AND c.account = m.customer_name
     AND c.direction = m.direction AND c.call_id = m.call_id
    WHERE c.source = 'mtt' AND NOT coalesce(c.duplicate, false)
    UNION ALL
    SELECT source, callee AS destination, CASE WHEN cost IS NULL THEN '' ELSE currency END AS currency, billed_s, cost
    FROM calls
    WHERE source <> 'mtt'
      AND direction = 'outgoing'
      AND callee <> ''
      AND ($from IS NULL OR date >= $from)
      AND ($to IS NULL OR date <= $to)
)
SELECT
    source,
    destination,
    currency,
    count(*)                                                AS calls,
    CAST(coalesce(sum(billed_s), 0) / 60 AS DECIMAL(18,2))  AS billed_min,
    sum(cost)                                               AS cost
FROM legs
GROUP BY source, destination, currency
ORDER BY cost DESC NULLS LAST, billed_min DESC, source, destination, currency
LIMIT $limit
