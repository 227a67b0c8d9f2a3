-- daily_summary: Calls per day, source and direction.
-- Calls, answered calls (talk time > 0), answer rate, talk and billed minutes, and cost.
-- The day is the call's date partition: its start day in the business time zone.
-- Cost is summed within one currency: where a row's calls were billed in several
-- currencies, cost is NULL and currency lists them all (e.g. "RUB,USD").
-- param: from DATE = NULL  First day, inclusive (business time zone); default: all
-- param: to DATE = NULL    Last day, inclusive; default: all
-- chart: x=date y=calls series=direction
SELECT
    date,
    source,
    direction,
    count(*)                                               AS calls,
    count(*) FILTER (WHERE talk_s > 0)                     AS answered,
    CAST(round(count(*) FILTER (WHERE talk_s > 0) / count(*), 4)
         AS DECIMAL(5,4))                                  AS answer_rate,
    CAST(sum(talk_s) / 60 AS DECIMAL(18,2))                AS talk_min,
    CAST(sum(billed_s) / 60 AS DECIMAL(18,2))              AS billed_min,
    CASE WHEN count(DISTINCT currency) FILTER (WHERE cost IS NOT NULL AND currency <> '') <= 1
         THEN sum(cost)
    END                                                    AS cost,
    string_agg(DISTINCT currency, ',' ORDER BY currency)
        FILTER (WHERE cost IS NOT NULL AND currency <> '') AS currency
FROM calls
WHERE ($from IS NULL OR date >= $from)
  AND ($to IS NULL OR date <= $to)
GROUP BY date, source, direction
ORDER BY date, source, direction
