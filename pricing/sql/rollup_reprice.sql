-- reprice_hours rows, for repricing: the priced calls' hourly sums (rollup.sql) by where
-- they ran, their canonical model and variant, failure and input-size band.
SELECT
    batch_id, hour, provider, canonical_model, variant, team, project, failed, input_band,
    sum(calls) AS calls,
    sum(input_tokens)::HUGEINT AS input_tokens,
    sum(cache_read_tokens)::HUGEINT AS cache_read_tokens,
    sum(cache_write_tokens)::HUGEINT AS cache_write_tokens,
    sum(cache_write_1h_tokens)::HUGEINT AS cache_write_1h_tokens,
    sum(output_tokens)::HUGEINT AS output_tokens,
    sum(total_cost) AS total_cost
FROM billed_hours
WHERE unpriced_reason IS NULL  -- NULL exactly for priced calls (costed.sql)
GROUP BY ALL
