-- CTE fragment, the one definition of a price point, before bill_points.sql (which numbers
-- the points bills do not name yet) and scope.sql (which finds each rate's number): every
-- rate of the sheets (the price_rates view) with `point`, the whole price a bill uses: the
-- columns of a bill_points row but its number, by the same names in the same order; and
-- `known_points`, the points bills can name, the same way. Two rates of equal points bill
-- alike; a NULL field (a base price's tier) equals a NULL.
rate_points AS (
    SELECT
        r.*,
        struct_pack(
            canonical_model := r.canonical_model,
            variant := r.variant,
            unit_tokens := r.unit_tokens,
            currency := r.currency,
            price_from := r.effective_from,
            tier_above := r.above_input_tokens,
            failed_calls_billed := r.failed_calls_billed,
            input_pt := r.input_pt,
            cache_read_pt := r.cache_read_pt,
            cache_write_pt := r.cache_write_pt,
            output_pt := r.output_pt,
            request_fee := r.request_fee,
            saved_pt := r.input_pt - r.cache_read_pt,  -- what the cache saves per token read
            cache_write_1h_pt := r.cache_write_1h_pt
        ) AS point
    FROM price_rates AS r
),

known_points AS (
    SELECT b.point_id, k AS point
    FROM bill_points AS b, LATERAL (SELECT b.* EXCLUDE (point_id)) AS k
)
