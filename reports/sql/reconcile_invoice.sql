-- What ratecard computed for one invoice line: the calls of provider $provider whose wire or
-- canonical model (with its variant) is $model in [$start, $end), with the sums the likely
-- causes of a
-- difference need (see reconcile.py):
--   cost                  ratecard's bill of the priced calls
--   cache_discount        what the cache-read discount took off (cache_savings)
--   failed_if_charged     the failed calls billed as if they had succeeded
--   reported              the provider's own per-call costs, where the log carries them
WITH

scoped AS (
    SELECT
        c.status, c.reported_cost, c.input_tokens, c.cache_read_tokens, c.cache_write_tokens,
        c.cache_write_1h_tokens, c.output_tokens, c.priced, c.total_cost, c.cache_savings,
        c.point_id
    FROM calls_costed AS c  -- each call with its bill (warehouse/schema.sql)
    WHERE c.billed AND c.provider = $provider
      -- the wire id, or the canonical model with its variant (minimax-m2.5-highspeed);
      -- invoices are typed by people: case does not matter
      AND (lower(c.model) = lower($model)
           OR lower(c.canonical_model || CASE WHEN c.variant = 'standard' THEN ''
                                              ELSE '-' || c.variant END) = lower($model))
      AND c.ts >= $start AND c.ts < $end
)

SELECT
    count(*) AS calls,
    count(*) FILTER (WHERE NOT s.priced) AS unpriced_calls,
    coalesce(sum(s.total_cost), 0) AS cost,
    coalesce(sum(s.cache_savings), 0) AS cache_discount,
    -- the bill's formula (bill_amounts, warehouse/schema.sql) as if charged
    coalesce(sum(
        CASE WHEN s.status = 'failed' THEN bill_amounts(
            charged := true, priced := true, calls := 1, input_tokens := s.input_tokens,
            cache_read_tokens := s.cache_read_tokens, cache_write_tokens := s.cache_write_tokens,
            cache_write_1h_tokens := s.cache_write_1h_tokens, output_tokens := s.output_tokens,
            input_pt := r.input_pt, cache_read_pt := r.cache_read_pt,
            cache_write_pt := r.cache_write_pt, cache_write_1h_pt := r.cache_write_1h_pt,
            output_pt := r.output_pt, request_fee := r.request_fee
        ).total_cost END), 0) AS failed_if_charged,
    count(*) FILTER (WHERE s.status = 'failed') AS failed_calls,
    count(s.reported_cost) AS reported_calls,
    sum(s.reported_cost) AS reported
FROM scoped AS s
-- the rates of the price point each call was billed at: a sheet loaded since does not
-- change what its bill would have been
LEFT JOIN bill_points AS r USING (point_id)
