-- demo_events: What the demo's push receiver landed: events per table, kind and state (VotBox) or event type (MTT), and the calls they name.
SELECT 'votbox_events' AS "table", 'notify' AS kind, state AS event, count(*) AS events, count(DISTINCT call_id) AS calls
FROM votbox_events
GROUP BY ALL
UNION ALL
SELECT 'mtt_events', kind, event, count(*), count(DISTINCT call_id)
FROM mtt_events
GROUP BY ALL
ORDER BY 1, 2, 3
