-- What ratecard computed for one invoice line: the calls of provider $provider whose wire or
-- canonical model (with its variant) is $model in [$start, $end), with the sums the likely
-- causes of a
-- difference need (see reconcile.py):
--   cost                  ratecard's bill of the priced calls
--   cache_discount        what the cache-read discount took off (cache_savings)
--   failed_if_charged     the failed calls billed as if they had succeeded
--   reported              the provider's own per-call costs, where the log carries them
--   elsewhere_calls       priced calls billed in a currency no line of this provider, month
--                         and model is in ($invoiced): never compared with this line's amount
--   other_currencies      the currencies of the calls billed in another than $currency
-- An invoice line is in one currency ($currency): only the calls billed in it (and the
-- unpriced ones, which have none) are set against it; ratecard does not convert currencies.
WITH

matched AS (
    SELECT
        c.status, c.reported_cost, c.input_tokens, c.cache_read_tokens, c.cache_write_tokens,
        c.cache_write_1h_tokens, c.output_tokens, c.priced, c.total_cost, c.cache_savings,
        c.point_id, c.currency
    FROM calls_costed AS c  -- each call with its bill (warehouse/schema.sql)
    WHERE c.billed AND c.provider = $provider
      -- the wire id, or the canonical model with its variant (minimax-m2.5-highspeed);
      -- invoices are typed by people: case does not matter
      AND (lower(c.model) = lower($model)
           OR lower(c.canonical_model || CASE WHEN c.variant = 'standard' THEN ''
                                              ELSE '-' || c.variant END) = lower($model))
      AND c.ts >= $start AND c.ts < $end
),

scoped AS (
    SELECT * FROM matched WHERE currency IS NULL OR currency = $currency
),

elsewhere AS (
    SELECT
        count(*) FILTER (WHERE NOT list_contains($invoiced, currency)) AS elsewhere_calls,
        string_agg(DISTINCT currency, ', ' ORDER BY currency)
            FILTER (WHERE NOT list_contains($invoiced, currency)) AS elsewhere_currencies,
        string_agg(DISTINCT currency, ', ' ORDER BY currency) AS other_currencies
    FROM matched WHERE currency <> $currency
),

own AS (
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
)

SELECT own.*, e.elsewhere_calls, e.elsewhere_currencies, e.other_currencies
FROM own CROSS JOIN elsewhere AS e
