-- demo_snapshots: What the demo's per-run snapshots hold for its day: VotBox and VoiceBox balances, VoiceBox numbers with their monthly fees, VoiceBox customers.
-- param: day DATE  The business day of the demo's run
SELECT 'balances' AS snapshot, source, account, CAST(arg_max(balance, taken_at) AS VARCHAR) || ' ' || arg_max(currency, taken_at) AS detail
FROM balances
WHERE date = $day AND source IN ('votbox', 'voicebox')
GROUP BY ALL
UNION ALL
SELECT 'voicebox_numbers', source, customer_id,
       count(*) || ' numbers, monthly fees ' || CAST(sum(monthly_fee) AS VARCHAR) || ' ' || string_agg(DISTINCT currency, ',')
FROM voicebox_numbers
WHERE date = $day
GROUP BY ALL
UNION ALL
SELECT 'voicebox_customers', source, customer_id, any_value(name) || ', personal account ' || any_value(personal_account)
FROM voicebox_customers
WHERE date = $day
GROUP BY ALL
ORDER BY 1, 2, 3
