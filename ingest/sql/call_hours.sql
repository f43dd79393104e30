-- call_hours rows (warehouse/schema.sql) for usage batch $batch, written with its calls:
-- their token sums per UTC hour, attribution, failure and input-size band, which billing
-- prices instead of the calls one by one when the prices allow (pricing/sql/grid_units.sql).
--
-- The hour is counted in microseconds since the epoch, rounded down (also before 1970), and
-- made a time once per row: date_trunc('hour', ts) of a TIMESTAMPTZ goes through the
-- time-zone calendar, 1.8 CPU seconds per ten million calls.
SELECT
    batch_id,
    make_timestamptz(
        epoch_us(ts) - (epoch_us(ts) % 3600000000 + 3600000000) % 3600000000
    ) AS hour,
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
