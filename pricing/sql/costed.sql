-- CTE fragment, after call_units.sql, hour_units.sql or grid_units.sql: the bill of each
-- unit (one call, or the calls of one hour summed) as `costed`. A unit carries its calls,
-- its token counts and the rates of the price point that prices it (NULL rates: no price
-- point). One formula for both, so the per-call costs and the hourly sums cannot disagree.
--
-- The providers with a sheet and the wire ids they price (wire_models, scope.sql) say why a
-- unit found no price, for the person who has to fix it; looked up only for unpriced units.
-- A failed call is free unless its sheet says the provider bills failures. An unpriced
-- unit's amounts stay NULL, never 0: a NULL, a 0 or a product per unit (bill_amounts).
charged AS (
    SELECT
        *,
        tier_lo IS NOT NULL AS priced,
        bill_charged(tier_lo IS NOT NULL, status = 'failed', failed_calls_billed) AS is_charged
    FROM units
),

amounts AS (
    SELECT
        *,
        CASE
            WHEN priced THEN NULL
            -- a call whose stream carried no usage: what it cost cannot be told
            WHEN no_usage_reason IS NOT NULL THEN no_usage_reason
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
        -- the bill's one formula (warehouse/schema.sql)
        bill_amounts(
            charged := is_charged, priced := priced, calls := calls,
            input_tokens := input_tokens, cache_read_tokens := cache_read_tokens,
            cache_write_tokens := cache_write_tokens,
            cache_write_1h_tokens := cache_write_1h_tokens, output_tokens := output_tokens,
            input_pt := input_pt, cache_read_pt := cache_read_pt,
            cache_write_pt := cache_write_pt, cache_write_1h_pt := cache_write_1h_pt,
            output_pt := output_pt, request_fee := request_fee, saved_pt := saved_pt
        ) AS bill
    FROM charged
),

costed AS (
    SELECT
        * EXCLUDE (bill),
        bill.input_cost, bill.cache_read_cost, bill.cache_write_cost, bill.cache_write_1h_cost,
        bill.output_cost, bill.request_cost, bill.total_cost, bill.cache_savings
    FROM amounts
)
