-- CTE fragment, after scope.sql (of which it uses `wire_rates`) and before
-- costed.sql: the calls of usage batches $first_batch..$last_batch as their token sums per
-- UTC hour, attribution, failure and input-size band (call_hours, warehouse/schema.sql),
-- each with the price point that prices all its calls, as units to bill.
--
-- Only valid when every price is on the grid (price_on_the_grid: it starts and ends on a
-- whole UTC hour, its tier thresholds are band edges; pricing/engine.py checks): then the
-- calls of a row all fall under one price point, found as the row's smallest call would find
-- it, at the hour's start with one more input token than the band's lower edge, and the
-- row's tokens at that point's rates cost exactly what its calls cost one by one. The units
-- are those hour_units.sql builds from the calls themselves, without reading the calls
-- again (ADR 0027).
units AS (
    SELECT
        h.batch_id, h.hour, h.provider, h.model, h.team, h.project, h.api_key_id,
        h.input_band,
        h.calls, h.input_tokens, h.cache_read_tokens, h.cache_write_tokens,
        h.cache_write_1h_tokens, h.output_tokens, h.reasoning_tokens, h.reported_cost,
        h.no_usage_reason,
        CASE WHEN h.failed THEN 'failed' ELSE 'ok' END AS status,
        r.* EXCLUDE (provider, model, wire)
    FROM call_hours AS h
    LEFT JOIN wire_rates AS r
        ON  r.provider = h.provider
        AND r.wire = h.model
        AND h.hour >= r.effective_from AND h.hour < r.effective_to
        AND h.input_band + 1 > r.tier_lo AND h.input_band + 1 <= r.tier_hi
        AND h.no_usage_reason IS NULL  -- calls whose usage is unknown: unpriced
    WHERE h.batch_id BETWEEN $first_batch AND $last_batch
)
