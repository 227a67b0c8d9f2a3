-- demo_event_costs: The demo's VotBox calls dialled and final, those whose autocall.check answer has no cost, and how many of those an ENDCALL notification costs (as cost_reconciliation takes it: for an item with neither cost in the check answer).
WITH endcall AS (
    SELECT source, call_id,
           arg_max(coalesce(call_pay, 0) + coalesce(oper_call_pay, 0), received_at) AS cost
    FROM votbox_events
    WHERE state = 'ENDCALL' AND (call_pay IS NOT NULL OR oper_call_pay IS NOT NULL)
    GROUP BY ALL
)
SELECT c.source,
       count(*)                                                               AS final_calls,
       count(*) FILTER (WHERE c.call_pay IS NULL AND c.oper_call_pay IS NULL) AS no_cost_in_check,
       count(e.call_id) FILTER (WHERE c.call_pay IS NULL AND c.oper_call_pay IS NULL) AS costed_by_endcall,
       CAST(coalesce(sum(e.cost) FILTER (WHERE c.call_pay IS NULL AND c.oper_call_pay IS NULL), 0) AS DECIMAL(18,2)) AS endcall_cost
FROM votbox_calls c
LEFT JOIN endcall e ON e.source = c.source AND e.call_id = c.item_id
WHERE c.job_status NOT IN (0, 1) AND c.attempts > 0
GROUP BY ALL
ORDER BY 1
