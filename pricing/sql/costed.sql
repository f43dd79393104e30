-- CTE fragment, after call_units.sql, hour_units.sql or grid_units.sql: the bill of each
-- unit (one call, or the calls of one hour summed) as `costed`. A unit carries its calls,
-- its token counts and the rates of the price point that prices it (NULL rates: no price
-- point). One formula for both, so the per-call costs and the hourly sums cannot disagree.
--
-- The providers with a sheet and the wire ids they price (wire_models, scope.sql) say why a
-- unit found no price, for the person who has to fix it; looked up only for unpriced units.
-- A failed call is free unless its sheet says the provider bills failures. An unpriced
-- unit's amounts stay NULL, never 0. Each amount is one CASE: a NULL, a 0 or a product per
-- unit.
charged AS (
    SELECT
        *,
        tier_lo IS NOT NULL AS priced,
        tier_lo IS NOT NULL AND (status = 'ok' OR failed_calls_billed) AS is_charged
    FROM units
),

amounts AS (
    SELECT
        *,
        CASE
            WHEN priced THEN NULL
            WHEN NOT list_contains((SELECT list(DISTINCT provider) FROM price_points), provider)
                THEN 'no price sheet for provider ' || provider
            WHEN NOT list_contains((SELECT list(struct_pack(p := provider, m := wire))
                                    FROM wire_models WHERE known_model),
                                   struct_pack(p := provider, m := model))
                THEN 'no price for model ' || model || ' at ' || provider
            ELSE 'no price for ' || provider || '/' || model || ' in force at the call''s time'
        END AS unpriced_reason,
        effective_from AS price_from,
        above_input_tokens AS tier_above,
        CASE WHEN is_charged
                 THEN (input_tokens - cache_read_tokens - cache_write_tokens) * input_pt
             WHEN priced THEN 0 END::DECIMAL(38, 15) AS input_cost,
        CASE WHEN is_charged THEN cache_read_tokens * cache_read_pt
             WHEN priced THEN 0 END::DECIMAL(38, 15) AS cache_read_cost,
        CASE WHEN is_charged THEN cache_write_tokens * cache_write_pt
             WHEN priced THEN 0 END::DECIMAL(38, 15) AS cache_write_cost,
        CASE WHEN is_charged THEN output_tokens * output_pt
             WHEN priced THEN 0 END::DECIMAL(38, 15) AS output_cost,
        CASE WHEN is_charged THEN calls * request_fee
             WHEN priced THEN 0 END::DECIMAL(38, 15) AS request_cost,
        -- what the cache saved: cache reads at the input rate minus at the cache-read rate
        CASE WHEN is_charged THEN cache_read_tokens * saved_pt
             WHEN priced THEN 0 END::DECIMAL(38, 15) AS cache_savings
    FROM charged
),

costed AS (
    SELECT
        *,
        input_cost + cache_read_cost + cache_write_cost + output_cost + request_cost AS total_cost
    FROM amounts
)
