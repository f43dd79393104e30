-- The calls billed before the prices that bill them changed: those of a usage batch billed
-- (billed_with_prices: the latest price load then; NULL before any) before the load that
-- last changed its calls' provider's prices (price_changes, ingest/sql/changed_prices.sql).
-- A load that changed no price of a provider leaves its calls current. Only the batches
-- behind some change are joined to their calls, so a current warehouse reads no calls.
WITH
behind AS (
    SELECT batch_id, coalesce(billed_with_prices, 0) AS billed_with
    FROM batches
    WHERE kind = 'usage'
      AND coalesce(billed_with_prices, 0) < (SELECT coalesce(max(changed_by), 0) FROM price_changes)
),

final AS (
    SELECT c.provider, count(*) AS calls
    FROM calls AS c
    JOIN behind AS b ON b.batch_id = c.batch_id
    JOIN price_changes AS p ON p.provider = c.provider AND b.billed_with < p.changed_by
    GROUP BY c.provider
)

SELECT provider, calls FROM final ORDER BY provider
