-- hourly_spend rows, for budget checks: the batch's hourly sums (rollup.sql) without the
-- dimensions budgets do not scope by.
SELECT
    batch_id, hour, provider, model, canonical_model, team, project, api_key_id, currency,
    sum(calls) AS calls,
    sum(unpriced_calls) AS unpriced_calls,
    sum(total_cost) AS total_cost
FROM billed_hours
GROUP BY ALL
