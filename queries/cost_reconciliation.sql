-- cost_reconciliation: Rated cost against balance movement per day, source and account.
-- For finance: per day, source and account, the cost rated on the calls (sum of cost; a
-- VotBox call whose autocall.check answer has no cost takes CALLPAY + OPERCALLPAY of its
-- ENDCALL notification, votbox_events, received by etl receive),
-- billed calls (cost > 0), billed minutes, and the balance movement from the balance
-- snapshots: the day's last balance minus the previous day's last balance, NULL when
-- either is missing (from the balances table: MTT, Mobilgroup and VoiceBox take one per
-- account per run; T2 has no balance endpoint and VotBox's, check.balance.api.php, is
-- not extracted yet (issue #15), so their movement is NULL). The day
-- of a snapshot is taken_at in the business time zone. difference is -movement - cost
-- (a day without rated cost counts as 0): zero when the balance fell by exactly the
-- rated cost, NULL when movement is NULL. Days with a movement but no calls are listed.
-- Anomaly counts: cost_without_talk (cost > 0, no connected time), billed_over_talk
-- (billed seconds > talk + 60 and > 2 x talk), duplicate_ids (rows flagged calls.duplicate:
-- the vendor sent the same account, direction and call id twice in one extraction of the
-- day; flagged when the lake is written, so this costs nothing); currency lists the currencies of the priced calls, and
-- mixed_currency flags several (cost then sums several currencies). flags lists the
-- anomalies present, comma-separated, '' when none.
-- param: from DATE = NULL  First day, inclusive (business time zone); default: all
-- param: to DATE = NULL    Last day, inclusive; default: all
-- chart: x=date y=cost series=account yunit=account_currency
WITH per_direction AS (
    SELECT
        date,
        source,
        account,
        count(*)                                                    AS calls,
        count(*) FILTER (WHERE cost > 0)                            AS billed_calls,
        sum(billed_s)                                               AS billed_s,
        sum(cost)                                                   AS cost,
        count(*) FILTER (WHERE cost > 0 AND coalesce(talk_s, 0) = 0) AS cost_without_talk,
        count(*) FILTER (WHERE billed_s > talk_s + 60 AND billed_s > 2 * talk_s)
                                                                    AS billed_over_talk,
        count(*) FILTER (WHERE duplicate)                           AS duplicate_ids,
        list(DISTINCT currency) FILTER (WHERE cost IS NOT NULL AND currency <> '')
                                                                    AS currencies
    FROM (
        SELECT c.* REPLACE (coalesce(c.cost, e.cost) AS cost)
        FROM calls c
        LEFT JOIN (
            SELECT source, call_id,
                   CAST(arg_max(coalesce(call_pay, 0) + coalesce(oper_call_pay, 0), received_at) AS DECIMAL(18,4)) AS cost
            FROM votbox_events
            WHERE state = 'ENDCALL' AND (call_pay IS NOT NULL OR oper_call_pay IS NOT NULL)
            GROUP BY source, call_id
        ) e ON c.direction = 'autocall' AND e.source = c.source AND e.call_id = c.call_id
    ) calls
    WHERE ($from IS NULL OR date >= $from)
      AND ($to IS NULL OR date <= $to)
    GROUP BY date, source, account, direction
),
rated AS (
    SELECT
        date,
        source,
        account,
        CAST(sum(calls) AS BIGINT)                                  AS calls,
        CAST(sum(billed_calls) AS BIGINT)                           AS billed_calls,
        CAST(sum(billed_s) / 60 AS DECIMAL(18,2))                   AS billed_min,
        sum(cost)                                                   AS cost,
        CAST(sum(cost_without_talk) AS BIGINT)                      AS cost_without_talk,
        CAST(sum(billed_over_talk) AS BIGINT)                       AS billed_over_talk,
        CAST(sum(duplicate_ids) AS BIGINT)                          AS duplicate_ids,
        list_sort(list_distinct(flatten(list(currencies))))         AS currencies
    FROM per_direction
    GROUP BY date, source, account
),
closing AS (
    -- The last known balance of each day.
    SELECT
        source,
        account,
        CAST(taken_at AS DATE)                                      AS date,
        arg_max(balance, taken_at)                                  AS balance
    FROM balances
    GROUP BY ALL
),
movement AS (
    SELECT
        cur.date,
        cur.source,
        cur.account,
        CAST(cur.balance - prev.balance AS DECIMAL(38,4))           AS movement
    FROM closing cur
    JOIN closing prev
      ON prev.source = cur.source
     AND prev.account = cur.account
     AND prev.date = cur.date - 1
    WHERE cur.balance IS NOT NULL AND prev.balance IS NOT NULL
      AND ($from IS NULL OR cur.date >= $from)
      AND ($to IS NULL OR cur.date <= $to)
),
joined AS (
    SELECT
        coalesce(r.date, m.date)                                    AS date,
        coalesce(r.source, m.source)                                AS source,
        coalesce(r.account, m.account)                              AS account,
        coalesce(r.calls, 0)                                        AS calls,
        coalesce(r.billed_calls, 0)                                 AS billed_calls,
        coalesce(r.billed_min, 0)                                   AS billed_min,
        r.cost,
        array_to_string(coalesce(r.currencies, []), ',')            AS currency,
        m.movement                                                  AS balance_movement,
        CAST(-m.movement - coalesce(r.cost, 0) AS DECIMAL(38,4))    AS difference,
        coalesce(r.cost_without_talk, 0)                            AS cost_without_talk,
        coalesce(r.billed_over_talk, 0)                             AS billed_over_talk,
        coalesce(r.duplicate_ids, 0)                                AS duplicate_ids,
        len(coalesce(r.currencies, [])) > 1                         AS mixed_currency
    FROM rated r
    FULL JOIN movement m
      ON m.date = r.date AND m.source = r.source AND m.account = r.account
)
SELECT
    *,
    concat_ws(',',
        CASE WHEN cost_without_talk > 0 THEN 'cost_without_talk' END,
        CASE WHEN billed_over_talk > 0 THEN 'billed_over_talk' END,
        CASE WHEN duplicate_ids > 0 THEN 'duplicate_ids' END,
        CASE WHEN mixed_currency THEN 'mixed_currency' END)         AS flags
FROM joined
ORDER BY date, source, account
