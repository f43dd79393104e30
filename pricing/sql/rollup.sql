-- The billed units, priced or not, as partial sums per UTC hour and attribution, from
-- `costed` (scope.sql, grid_units.sql or hour_units.sql, and costed.sql, which the engine
-- puts in front of this query), as `billed_hours`, from which rollup_days.sql,
-- rollup_hours.sql and rollup_reprice.sql fill daily_rollup, hourly_spend and reprice_hours
-- (a CTE of each of them on the grid, a temporary table off it; ADR 0059).
-- Those add the rows up, so the units are not grouped here: an hour's calls of one
-- attribution under several price points (a price change at 12:30, two tiers in one
-- input-size band) are several rows, and grid units, already one per hour, attribution,
-- failure and band, are copied, not grouped again (ADR 0027).
-- Amounts stay exact (sums of DECIMAL). Failed calls and each input-size band
-- (warehouse/schema.sql) are kept apart, for repricing.
SELECT
    batch_id, hour, provider, model, canonical_model, variant, team, project, api_key_id,
    currency, unpriced_reason,
    status = 'failed' AS failed,
    input_band,
    calls,
    CASE WHEN status = 'failed' THEN calls ELSE 0 END AS failed_calls,
    CASE WHEN priced THEN 0 ELSE calls END AS unpriced_calls,
    input_tokens, cache_read_tokens, cache_write_tokens, cache_write_1h_tokens, output_tokens,
    reasoning_tokens, input_cost, cache_read_cost, cache_write_cost, output_cost, request_cost, total_cost,
    cache_savings, reported_cost
FROM costed
