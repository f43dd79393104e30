-- The finance report's lines: every call that started in [$start, $end) grouped by the
-- report's dimensions (__GROUPS__, from a fixed list in reports/finance.py), with counts,
-- tokens and the exact sum of each cost component. Unpriced calls are counted and add no
-- cost; a group with no priced call has NULL costs, never 0.
SELECT
    __GROUPS__,
    count(*) AS calls,
    count(*) FILTER (WHERE c.status = 'failed') AS failed_calls,
    count(*) FILTER (WHERE NOT coalesce(c.priced, false)) AS unpriced_calls,
    sum(c.input_tokens) AS input_tokens,
    sum(c.cache_read_tokens) AS cache_read_tokens,
    sum(c.cache_write_tokens) AS cache_write_tokens,
    sum(c.cache_write_1h_tokens) AS cache_write_1h_tokens,  -- a part of cache_write_tokens
    sum(c.output_tokens) AS output_tokens,
    sum(c.reasoning_tokens) AS reasoning_tokens,
    sum(c.input_cost) AS input_cost,
    sum(c.cache_read_cost) AS cache_read_cost,
    sum(c.cache_write_cost) AS cache_write_cost,
    sum(c.cache_write_1h_cost) AS cache_write_1h_cost,  -- a part of cache_write_cost
    sum(c.output_cost) AS output_cost,
    sum(c.request_cost) AS request_cost,
    sum(c.total_cost) AS total_cost,
    string_agg(DISTINCT c.currency, ',') AS currencies
FROM calls_costed AS c  -- each call with its bill, if it has one (warehouse/schema.sql)
WHERE c.ts >= $start AND c.ts < $end
GROUP BY ALL
ORDER BY sum(c.total_cost) DESC NULLS LAST, __ORDER__
