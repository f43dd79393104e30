-- CTE fragment and query, after points.sql: the bill_points rows (warehouse/schema.sql) to
-- add, a number for each price point of the current sheets that bills do not name yet,
-- after the highest in use. A point is the whole price a bill uses, rates included, so that
-- a bill's amounts follow from it and the call's counts (the calls_costed view); a sheet
-- that changes a rate makes a new point.
new_points AS (
    SELECT point FROM rate_points
    EXCEPT  -- set semantics: NULL tiers match
    SELECT point FROM known_points
)

SELECT
    (SELECT coalesce(max(point_id), 0) FROM bill_points)
        + row_number() OVER (ORDER BY point) AS point_id,
    point.*
FROM new_points
