-- Partial sums per UTC hour and attribution of the `billed` CTE (billed.sql, which the engine
-- puts in front of this query), into a temporary table from which rollup_days.sql and
-- rollup_hours.sql fill daily_rollup and hourly_spend: the bill is computed once for both.
-- Amounts stay exact (sums of sums of DECIMAL). Failed calls and each input-size band
-- (warehouse/migrations/0006) are kept apart, for repricing (rollup_reprice.sql).
SELECT
    batch_id,
    date_trunc('hour', ts) AS hour,  -- the session runs in UTC
    provider, model, canonical_model, variant, team, project, api_key_id, currency,
    unpriced_reason,
    status = 'failed' AS failed,
    input_band(input_tokens) AS input_band,
    count(*) AS calls,
    count(*) FILTER (WHERE status = 'failed') AS failed_calls,
    count(*) FILTER (WHERE NOT priced) AS unpriced_calls,
    sum(input_tokens)::HUGEINT AS input_tokens,
    sum(cache_read_tokens)::HUGEINT AS cache_read_tokens,
    sum(cache_write_tokens)::HUGEINT AS cache_write_tokens,
    sum(output_tokens)::HUGEINT AS output_tokens,
    sum(reasoning_tokens)::HUGEINT AS reasoning_tokens,
    sum(input_cost) AS input_cost,
    sum(cache_read_cost) AS cache_read_cost,
    sum(cache_write_cost) AS cache_write_cost,
    sum(output_cost) AS output_cost,
    sum(request_cost) AS request_cost,
    sum(total_cost) AS total_cost,
    sum(cache_savings) AS cache_savings,
    sum(reported_cost) AS reported_cost
FROM billed
GROUP BY ALL
