-- top_destinations: Cost and minutes by destination.
-- Calls, billed minutes and cost per source, destination and currency, most expensive
-- first. MTT destinations are mtt_calls.destination (the destination name MTT sends;
-- billed seconds charged_time, cost charged). Other sources have no destination name:
-- their outgoing calls count under the callee number (for T2, the callee or else the
-- destination_number). Calls without a destination are left out. Costs in different
-- currencies are never added up: each currency is a row of its own.
-- param: from DATE = NULL      First day, inclusive (business time zone); default: all
-- param: to DATE = NULL        Last day, inclusive; default: all
-- param: limit INTEGER = 20    Rows: at most this many
WITH legs AS (
    SELECT source, destination, CASE WHEN charged IS NULL THEN '' ELSE curr END AS currency, charged_time AS billed_s, charged AS cost
    FROM mtt_calls
    WHERE destination <> ''
      AND ($from IS NULL OR date >= $from)
      AND ($to IS NULL OR date <= $to)
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
