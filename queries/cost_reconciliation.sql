-- cost_reconciliation: Rated cost and number fees against balance movement per day, source and account.
-- For finance: per day, source and account, the cost rated on the calls (sum of cost; a
-- VotBox call whose autocall.check answer has no cost takes CALLPAY + OPERCALLPAY of its
-- ENDCALL notification, votbox_events, received by etl receive),
-- billed calls (cost > 0), billed minutes, the monthly number fees charged that day, and the
-- balance movement from the balance snapshots: the day's last balance minus the previous
-- day's last balance, NULL when either is missing (from the balances table: MTT, Mobilgroup,
-- VoiceBox and VotBox (check.balance) take one per account per run; T2 has no balance
-- endpoint, so its movement is NULL). The day of a snapshot is taken_at in the business time
-- zone. number_fees (VoiceBox only, from voicebox_numbers: each number's monthly fee from
-- GET /customers/{id}/numbers/{number_id}/price) charges a number's whole monthly fee on the
-- FIRST day of each calendar month the number appears in a snapshot of voicebox_numbers (its
-- date partition, the run's business day), at that day's price: with a nightly run that is the
-- 1st for a number held all month, or the day a new number first appears. It is not prorated:
-- the document names no charge day, and a whole fee on one day is how a monthly debit moves
-- a balance. NULL on days no fee is charged. A month is charged once even when the query's
-- from falls after its first day (the fee then shows on that earlier day, outside the range).
-- difference is -movement - cost - number_fees (a day without rated cost or fees counts them
-- as 0): zero when the balance fell by exactly the rated cost and fees, NULL when movement is
-- NULL. Days with a movement or a fee but no calls are listed.
-- Anomaly counts: cost_without_talk (cost > 0, no connected time), billed_over_talk
-- (billed seconds > talk + 60 and > 2 x talk), duplicate_ids (rows flagged calls.duplicate:
-- the vendor sent the same account, direction and call id twice in one extraction of the
-- day; flagged when the lake is written, so this costs nothing); currency lists the currencies
-- of the priced calls and of the fees, and mixed_currency flags several (cost then sums several
-- currencies). flags lists the anomalies present, comma-separated, '' when none.
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
held AS (
    -- The days each VoiceBox number was in a snapshot, with that day's fee.
    SELECT DISTINCT date, source, customer_id AS account, number_id, monthly_fee, currency
    FROM voicebox_numbers
    WHERE monthly_fee IS NOT NULL
),
charged AS (
    -- A monthly fee is charged on the first snapshot day of each calendar month.
    SELECT date, source, account, monthly_fee, currency
    FROM held
    QUALIFY row_number() OVER (
        PARTITION BY source, account, number_id, date_trunc('month', date) ORDER BY date, monthly_fee) = 1
),
fees AS (
    SELECT
        date,
        source,
        account,
        sum(monthly_fee)                                            AS number_fees,
        list(DISTINCT currency) FILTER (WHERE currency <> '')       AS currencies
    FROM charged
    WHERE ($from IS NULL OR date >= $from)
      AND ($to IS NULL OR date <= $to)
    GROUP BY date, source, account
),
keyed AS (
    SELECT
        coalesce(r.date, m.date)                                    AS date,
        coalesce(r.source, m.source)                                AS source,
        coalesce(r.account, m.account)                              AS account,
        r.calls, r.billed_calls, r.billed_min, r.cost, r.currencies,
        r.cost_without_talk, r.billed_over_talk, r.duplicate_ids,
        m.movement
    FROM rated r
    FULL JOIN movement m
      ON m.date = r.date AND m.source = r.source AND m.account = r.account
),
joined AS (
    SELECT
        coalesce(k.date, f.date)                                    AS date,
        coalesce(k.source, f.source)                                AS source,
        coalesce(k.account, f.account)                              AS account,
        coalesce(k.calls, 0)                                        AS calls,
        coalesce(k.billed_calls, 0)                                 AS billed_calls,
        coalesce(k.billed_min, 0)                                   AS billed_min,
        k.cost,
        f.number_fees,
        array_to_string(list_sort(list_distinct(list_concat(
            coalesce(k.currencies, []), coalesce(f.currencies, [])))), ',')
                                                                    AS currency,
        k.movement                                                  AS balance_movement,
        CAST(-k.movement - coalesce(k.cost, 0) - coalesce(f.number_fees, 0) AS DECIMAL(38,4))
                                                                    AS difference,
        coalesce(k.cost_without_talk, 0)                            AS cost_without_talk,
        coalesce(k.billed_over_talk, 0)                             AS billed_over_talk,
        coalesce(k.duplicate_ids, 0)                                AS duplicate_ids,
        len(list_distinct(list_concat(coalesce(k.currencies, []), coalesce(f.currencies, [])))) > 1
                                                                    AS mixed_currency
    FROM keyed k
    FULL JOIN fees f
      ON f.date = k.date AND f.source = k.source AND f.account = k.account
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
