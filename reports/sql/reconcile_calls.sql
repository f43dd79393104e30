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
        c.cache_read_tokens, c.priced, c.unpriced_reason, c.total_cost,
        c.currency,  -- of the bill; the provider reports its cost in its sheet's currency
        -- the rates of the price point the call was billed at (a sheet loaded since does
        -- not change what its bill would have been)
        c.total_cost + c.cache_read_tokens * r.saved_pt AS cost_without_cache_discount
    FROM calls_costed AS c  -- each call with its bill (warehouse/schema.sql)
    LEFT JOIN bill_points AS r USING (point_id)
    WHERE c.billed AND c.reported_cost IS NOT NULL
      AND ($start IS NULL OR c.ts >= $start) AND ($end IS NULL OR c.ts < $end)
)

SELECT
    call_id, ts, provider, model, status, reported_cost, total_cost, unpriced_reason,
    cache_read_tokens, cost_without_cache_discount, currency
FROM reported
WHERE NOT priced OR abs(reported_cost - total_cost) > $tolerance
ORDER BY ts, call_id
