-- bill_points rows (warehouse/migrations/0009): a number for each price point of the
-- current sheets that bills do not name yet, after the highest in use.
INSERT INTO bill_points
SELECT
    (SELECT coalesce(max(point_id), 0) FROM bill_points)
        + row_number() OVER (ORDER BY canonical_model, variant, effective_from, above_input_tokens),
    *
FROM (
    SELECT canonical_model, variant, unit_tokens, currency, effective_from, above_input_tokens
    FROM price_points
    EXCEPT  -- set semantics: NULL tiers match
    SELECT canonical_model, variant, unit_tokens, currency, price_from, tier_above
    FROM bill_points
)
