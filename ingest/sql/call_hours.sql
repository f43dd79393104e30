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
    no_usage_reason,
    count(*) AS calls,
    sum(COLUMNS(lambda c: list_contains(token_counts(), c)))::HUGEINT,  -- each token count
    sum(reported_cost) AS reported_cost
FROM calls
WHERE batch_id = $batch
GROUP BY ALL
