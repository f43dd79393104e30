-- call_hours rows (warehouse/schema.sql) for usage batch $batch, written with its calls:
-- their token sums per UTC hour, attribution, failure and input-size band, which billing
-- prices instead of the calls one by one when the prices allow (pricing/sql/grid_units.sql).
--
-- The hour is the call's UTC hour (utc_hour, warehouse/schema.sql), ADR 0026.
SELECT
    batch_id,
    utc_hour(ts) AS hour,
    provider, model, team, project, api_key_id,
    status = 'failed' AS failed,
    input_band(input_tokens) AS input_band,
    count(*) AS calls,
    sum(input_tokens)::HUGEINT AS input_tokens,
    sum(cache_read_tokens)::HUGEINT AS cache_read_tokens,
    sum(cache_write_tokens)::HUGEINT AS cache_write_tokens,
    sum(output_tokens)::HUGEINT AS output_tokens,
    sum(reasoning_tokens)::HUGEINT AS reasoning_tokens,
    sum(reported_cost) AS reported_cost,
    -- after reported_cost, as in the table
    sum(cache_write_1h_tokens)::HUGEINT AS cache_write_1h_tokens,
    no_usage_reason
FROM calls
WHERE batch_id = $batch
GROUP BY ALL
