-- autocall_results: Autocall (VotBox) results per task.
-- Items by final status, success rate, operator-connect rate, cost and cost per successful call,
-- from the latest extraction of each task. A task's day is its start day in the business time zone.
-- Rates are over all items (pending ones included); success = jobstatus 3, operator = jobstatus 4.
-- Cost is callpay + opercallpay in roubles; cost_per_success is NULL when no call succeeded.
-- Where the autocall.check answer lacks an item's callpay or opercallpay, the item's ENDCALL
-- notification supplies it (votbox_events, received by etl receive; the latest one received).
-- param: from DATE = NULL  First task start day, inclusive (business time zone); default: all
-- param: to DATE = NULL    Last task start day, inclusive; default: all
-- chart: x=date y=success yunit=successful_calls
WITH tasks AS (
    SELECT source, task_id, task_name, date, start_time, status_text, final,
           row_number() OVER (PARTITION BY source, task_id ORDER BY extracted_at DESC) AS rn
    FROM votbox_tasks
),
event_costs AS (
    SELECT source, call_id,
           arg_max(call_pay, received_at) FILTER (WHERE call_pay IS NOT NULL)           AS call_pay,
           arg_max(oper_call_pay, received_at) FILTER (WHERE oper_call_pay IS NOT NULL) AS oper_call_pay
    FROM votbox_events
    WHERE state = 'ENDCALL'
    GROUP BY source, call_id
),
items AS (
    SELECT c.source, c.task_id,
           count(*)                                            AS items,
           count(*) FILTER (WHERE c.job_status = 0)            AS queued,
           count(*) FILTER (WHERE c.job_status = 1)            AS in_progress,
           count(*) FILTER (WHERE c.job_status = 2)            AS error,
           count(*) FILTER (WHERE c.job_status = 3)            AS success,
           count(*) FILTER (WHERE c.job_status = 4)            AS operator,
           count(*) FILTER (WHERE c.job_status = 5)            AS billing_error,
           count(*) FILTER (WHERE c.job_status = 7)            AS expired,
           count(*) FILTER (WHERE c.job_status = 11)             AS stopped_by_user,
           count(*) FILTER (WHERE c.job_status NOT IN (0, 1, 2, 3, 4, 5, 7, 11)) AS other,
           sum(coalesce(c.call_pay, e.call_pay, 0) + coalesce(c.oper_call_pay, e.oper_call_pay, 0)) AS cost
    FROM votbox_calls c
    LEFT JOIN event_costs e ON e.source = c.source AND e.call_id = c.item_id
    GROUP BY c.source, c.task_id
)
SELECT
    t.date,
    t.task_id,
    t.task_name,
    t.start_time,
    t.status_text,
    t.final,
    coalesce(i.items, 0)                                   AS items,
    coalesce(i.queued, 0)                                  AS queued,
    coalesce(i.in_progress, 0)                             AS in_progress,
    coalesce(i.error, 0)                                   AS error,
    coalesce(i.success, 0)                                 AS success,
    coalesce(i.operator, 0)                                AS operator,
    coalesce(i.billing_error, 0)                           AS billing_error,
    coalesce(i.expired, 0)                                 AS expired,
    coalesce(i.stopped_by_user, 0)                         AS stopped_by_user,
    coalesce(i.other, 0)                                   AS other,
    CAST(round(i.success / nullif(i.items, 0), 4) AS DECIMAL(5,4))  AS success_rate,
    CAST(round(i.operator / nullif(i.items, 0), 4) AS DECIMAL(5,4)) AS operator_rate,
    CAST(coalesce(i.cost, 0) AS DECIMAL(18,4))             AS cost,
    CAST(i.cost / nullif(i.success, 0) AS DECIMAL(18,4))   AS cost_per_success
FROM tasks t
LEFT JOIN items i USING (source, task_id)
WHERE t.rn = 1
  AND ($from IS NULL OR t.date >= $from)
  AND ($to IS NULL OR t.date <= $to)
ORDER BY t.date, t.task_id
