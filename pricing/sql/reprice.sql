-- What the calls of one canonical model and variant would have cost at every provider that
-- sells $target_variant of it: each call priced by that provider's point in force at the
-- call's time and matching its input size, with that provider's cache and failure rules.
-- One row per (provider the calls went to, the currency they were billed in there, provider
-- they are repriced at): what they cost where they ran is in the currency they ran in, what
-- they would cost at the target in the target's (`currency`).
--
-- The `scope` CTE in front (reprice_calls.sql or reprice_hours.sql) gives rows of `calls`
-- calls that match the same price: at time `at`, of input size `size`, with summed tokens.
-- The price is linear in the tokens, so a row's cost is the same whether it holds one call
-- or the sums of many.
targets AS (
    SELECT DISTINCT provider AS target_provider
    FROM price_points
    WHERE canonical_model = $canonical AND variant = $target_variant
),

-- every row at every target; no matching point leaves the rates NULL: unpriced there
matched AS (
    SELECT s.*, t.target_provider, r.* EXCLUDE (provider, canonical_model, variant)
    FROM scope AS s
    CROSS JOIN targets AS t
    LEFT JOIN price_rates AS r
        ON  r.provider = t.target_provider
        AND r.canonical_model = $canonical
        AND r.variant = $target_variant
        AND s.at >= r.effective_from AND s.at < r.effective_to
        AND s.size > r.tier_lo AND s.size <= r.tier_hi
),

-- the bill's formula (bill_amounts, warehouse/schema.sql) at the target's per-token
-- rates: NULL where the target has no price, 0 for failed calls it does not bill
repriced AS (
    SELECT
        actual_provider, actual_currency, target_provider, calls, actual_cost, currency,
        tier_lo IS NOT NULL AS priced_at_target,
        bill_amounts(
            charged := bill_charged(tier_lo IS NOT NULL, failed, failed_calls_billed),
            priced := tier_lo IS NOT NULL, calls := calls, input_tokens := input_tokens,
            cache_read_tokens := cache_read_tokens, cache_write_tokens := cache_write_tokens,
            cache_write_1h_tokens := cache_write_1h_tokens, output_tokens := output_tokens,
            input_pt := input_pt, cache_read_pt := cache_read_pt,
            cache_write_pt := cache_write_pt, cache_write_1h_pt := cache_write_1h_pt,
            output_pt := output_pt, request_fee := request_fee
        ).total_cost AS cost
    FROM matched
),

final AS (
    SELECT
        actual_provider,
        target_provider,
        any_value(currency) AS currency,
        sum(calls) AS calls,
        coalesce(sum(calls) FILTER (WHERE priced_at_target), 0) AS priced_calls,
        sum(actual_cost) AS actual_cost,
        -- compare like with like: what the calls priced at the target actually cost
        coalesce(sum(actual_cost) FILTER (WHERE priced_at_target), 0) AS actual_cost_priced,
        coalesce(sum(cost), 0) AS repriced_cost,
        actual_currency
    FROM repriced
    GROUP BY ALL
)

SELECT * FROM final ORDER BY target_provider, actual_provider, actual_currency
