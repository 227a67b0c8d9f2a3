-- reference: Calls with T2 personal managers' customers per day, manager and VIP flag.
-- Joins the t2 calls to the latest t2_managers snapshot (GET /managers) on the customer's
-- number (customer_number, E.164 digits): the caller of incoming and missed calls, the
-- callee of outgoing ones; internal calls and calls with no customer are left out. A
-- customer listed under two managers counts once, for the lower manager id; vip is the
-- customer's isVip (false when not sent). answered: talk time > 0; missed: direction
-- missed, each missed call once (a statistics/missing call that is also a call record is
-- one calls row). The day is the call's start day in the business time zone.
-- param: vip BOOLEAN = NULL  Only VIP (true) or other (false) customers; default: both
-- param: from DATE = NULL    First day, inclusive (business time zone); default: all
-- param: to DATE = NULL      Last day, inclusive; default: all
WITH customers AS (
    SELECT manager_id, manager_name, customer_id, customer_number, coalesce(is_vip, false) AS vip
    FROM t2_managers
    WHERE date = (SELECT max(date) FROM t2_managers)
      AND customer_number <> ''
    QUALIFY row_number() OVER (PARTITION BY customer_number ORDER BY manager_id, customer_id) = 1
),
customer_calls AS (
    SELECT c.date, c.direction, c.talk_s, m.manager_id, m.manager_name, m.vip, m.customer_number
    FROM calls c
    JOIN customers m
      ON m.customer_number = CASE WHEN c.direction = 'outgoing' THEN c.callee ELSE c.caller END
    WHERE c.source = 't2'
      AND c.direction IN ('incoming', 'missed', 'outgoing')
      AND ($from IS NULL OR c.date >= $from)
      AND ($to IS NULL OR c.date <= $to)
      AND ($vip IS NULL OR m.vip = $vip)
)
SELECT
    date,
    manager_id,
    manager_name,
    vip,
    count(DISTINCT customer_number)                    AS customers,
    count(*)                                           AS calls,
    count(*) FILTER (WHERE direction <> 'outgoing')    AS incoming,
    count(*) FILTER (WHERE direction = 'outgoing')     AS outgoing,
    count(*) FILTER (WHERE talk_s > 0)                 AS answered,
    count(*) FILTER (WHERE direction = 'missed')       AS missed,
    CAST(coalesce(sum(talk_s), 0) / 60 AS DECIMAL(18,2)) AS talk_min
FROM customer_calls
GROUP BY date, manager_id, manager_name, vip
ORDER BY date, manager_id, vip
