-- The providers whose prices a load changes ($providers, the ones it covers): those with a
-- price point or an alias in the warehouse that the load does not have, or the other way
-- round. A point is compared on what bills a call: every column but where it came from
-- (source, sheet, checked_on, note), whether its rate is an example, and the load that
-- wrote it, so that reloading the same sheets, or the same rates written as 0.3 instead of
-- 0.30, changes nothing. `incoming_points` and `incoming_aliases` hold the load
-- (ingest/prices.py), already in price_points' types.
WITH
old_points AS (
    SELECT * EXCLUDE (source, sheet, checked_on, note, example_rate, batch_id)
    FROM price_points
    WHERE list_contains($providers, provider)
),

new_points AS (
    SELECT * EXCLUDE (source, sheet, checked_on, note, example_rate, batch_id)
    FROM incoming_points
),

old_aliases AS (
    SELECT provider, alias, model
    FROM model_aliases
    WHERE list_contains($providers, provider)
),

new_aliases AS (
    SELECT provider, alias, model
    FROM incoming_aliases
),

differences AS (  -- EXCEPT compares NULLs as equal: an absent rate matches an absent rate
    SELECT provider FROM (FROM old_points EXCEPT FROM new_points)
    UNION ALL
    SELECT provider FROM (FROM new_points EXCEPT FROM old_points)
    UNION ALL
    SELECT provider FROM (FROM old_aliases EXCEPT FROM new_aliases)
    UNION ALL
    SELECT provider FROM (FROM new_aliases EXCEPT FROM old_aliases)
),

final AS (
    SELECT DISTINCT provider
    FROM differences
)

SELECT provider FROM final ORDER BY provider
