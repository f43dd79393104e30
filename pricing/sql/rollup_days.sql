-- daily_rollup rows: the batch's hourly sums (rollup.sql) added up per UTC day.
SELECT
    batch_id,
    CAST(hour AS DATE) AS day,
    provider, model, canonical_model, variant, team, project, api_key_id, currency,
    unpriced_reason,
    sum(calls) AS calls,
    sum(failed_calls) AS failed_calls,
    sum(unpriced_calls) AS unpriced_calls,
    -- each token count but the 1-hour cache writes, which the daily rollup does not keep
    sum(COLUMNS(lambda c: list_contains(token_counts(), c)
                          AND c <> 'cache_write_1h_tokens'))::HUGEINT,
    sum(input_cost) AS input_cost,
    sum(cache_read_cost) AS cache_read_cost,
    sum(cache_write_cost) AS cache_write_cost,
    sum(output_cost) AS output_cost,
    sum(request_cost) AS request_cost,
    sum(total_cost) AS total_cost,
    sum(cache_savings) AS cache_savings,
    sum(reported_cost) AS reported_cost
FROM billed_hours
GROUP BY ALL
