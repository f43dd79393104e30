-- bill_points rows (warehouse/schema.sql): a number for each price point of the
-- current sheets that bills do not name yet, after the highest in use. A point is the whole
-- price a bill uses, rates included, so that a bill's amounts follow from it and the call's
-- counts (the calls_costed view); a sheet that changes a rate makes a new point.
INSERT INTO bill_points BY NAME
SELECT
    (SELECT coalesce(max(point_id), 0) FROM bill_points)
        + row_number() OVER (
            ORDER BY canonical_model, variant, price_from, tier_above, input_pt,
                     cache_read_pt, cache_write_pt, cache_write_1h_pt, output_pt, request_fee,
                     failed_calls_billed, unit_tokens, currency
        ) AS point_id,
    *
FROM (
    SELECT canonical_model, variant, unit_tokens, currency, effective_from AS price_from,
           above_input_tokens AS tier_above, failed_calls_billed, input_pt, cache_read_pt,
           cache_write_pt, cache_write_1h_pt, output_pt, request_fee,
           input_pt - cache_read_pt AS saved_pt
    FROM price_rates
    EXCEPT  -- set semantics: NULL tiers match
    SELECT canonical_model, variant, unit_tokens, currency, price_from, tier_above,
           failed_calls_billed, input_pt, cache_read_pt, cache_write_pt, cache_write_1h_pt,
           output_pt, request_fee, saved_pt
    FROM bill_points
)
