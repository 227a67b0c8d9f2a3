-- agent_activity: Calls per T2 employee: answered, missed and talk time.
-- An employee's calls are the t2_calls rows whose callee_number (incoming) or
-- caller_number (outgoing) is the employee's full or short number in the latest
-- t2_employees snapshot. Answered counts calls with a conversation; missed counts
-- calls offered to the employee that were not answered; talk time is the sum of
-- conversation_duration in minutes.
-- param: from DATE = NULL  First day, inclusive (business time zone); default: all
-- param: to DATE = NULL    Last day, inclusive; default: all
-- chart: x=employee y=calls kind=bar
WITH employees AS (
    SELECT employee_id, name, surname,
           nullif(full_number, '') AS full_number, nullif(short_number, '') AS short_number
    FROM t2_employees
    WHERE date = (SELECT max(date) FROM t2_employees)
),
numbers AS (
    -- Each employee's numbers, one row per distinct number.
    SELECT employee_id, full_number AS number FROM employees WHERE full_number IS NOT NULL
    UNION
    SELECT employee_id, short_number FROM employees WHERE short_number IS NOT NULL
),
calls_in AS (
    SELECT callee_number, caller_number, conversation_duration
    FROM t2_calls
    WHERE ($from IS NULL OR date >= $from)
      AND ($to IS NULL OR date <= $to)
),
matched AS (
    -- Calls offered to the employee (callee is one of their numbers)...
    SELECT n.employee_id, c.conversation_duration, true AS offered
    FROM calls_in c
    JOIN numbers n ON c.callee_number = n.number
    UNION ALL
    -- ...and calls they placed, unless already counted as offered to them.
    SELECT n.employee_id, c.conversation_duration, false AS offered
    FROM calls_in c
    JOIN numbers n ON c.caller_number = n.number
    JOIN employees e ON e.employee_id = n.employee_id
    WHERE c.callee_number IS DISTINCT FROM e.full_number
      AND c.callee_number IS DISTINCT FROM e.short_number
)
SELECT
    e.employee_id,
    trim(coalesce(e.name, '') || ' ' || coalesce(e.surname, ''))  AS employee,
    count(m.employee_id)                                           AS calls,
    count(m.employee_id) FILTER (WHERE m.conversation_duration > 0)         AS answered,
    count(m.employee_id) FILTER (WHERE m.offered
                       AND coalesce(m.conversation_duration, 0) = 0) AS missed,
    CAST(coalesce(sum(m.conversation_duration), 0) / 60
         AS DECIMAL(18,2))                                         AS talk_min
FROM employees e
LEFT JOIN matched m ON m.employee_id = e.employee_id
GROUP BY e.employee_id, employee
ORDER BY e.employee_id
