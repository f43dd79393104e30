-- Calls whose provider-reported cost (Runware includeCost, OpenRouter usage.cost) differs
-- from ratecard's bill by more than $tolerance, or that ratecard could not price, with what
-- the bill would have been under the likely causes, so reconcile.py can name the one that
-- explains the difference:
--   cost_without_cache_discount  the cached tokens at the input rate (discount not applied)
--   cost_if_charged              a failed call billed as if it had succeeded
WITH

reported AS (
    SELECT
        c.call_id, c.ts, c.provider, c.model, c.status, c.reported_cost,
        c.cache_read_tokens,
        c.priced, c.unpriced_reason, c.total_cost, c.price_from, c.tier_above,
        coalesce(a.model, c.model) AS priced_model
    FROM calls_costed AS c  -- each call with its bill (warehouse/migrations/0010)
    LEFT JOIN model_aliases AS a ON a.provider = c.provider AND a.alias = c.model
    WHERE c.billed AND c.reported_cost IS NOT NULL
      AND ($start IS NULL OR c.ts >= $start) AND ($end IS NULL OR c.ts < $end)
),

rated AS (
    SELECT
        p.*,
        p.total_cost + p.cache_read_tokens * (r.input_pt - r.cache_read_pt)
            AS cost_without_cache_discount
    FROM reported AS p
    LEFT JOIN price_rates AS r
        ON  r.provider = p.provider
        AND r.model = p.priced_model
        AND r.effective_from = p.price_from
        AND r.above_input_tokens IS NOT DISTINCT FROM p.tier_above
)

SELECT
    call_id, ts, provider, model, status, reported_cost, total_cost, unpriced_reason,
    cache_read_tokens, cost_without_cache_discount
FROM rated
WHERE NOT priced OR abs(reported_cost - total_cost) > $tolerance
ORDER BY ts, call_id
