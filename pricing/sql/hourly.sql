-- hourly_spend rows: partial sums per UTC hour and attribution of the `billed` CTE
-- (billed.sql, which the engine puts in front of this query), for budget checks.
SELECT
    batch_id,
    date_trunc('hour', ts) AS hour,
    provider, model, canonical_model, team, project, api_key_id, currency,
    count(*) AS calls,
    count(*) FILTER (WHERE NOT priced) AS unpriced_calls,
    sum(total_cost) AS total_cost
FROM billed
GROUP BY ALL
