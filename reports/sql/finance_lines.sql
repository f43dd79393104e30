-- The finance report's lines: every call that started in [$start, $end) grouped by the
-- report's dimensions (__GROUPS__, from a fixed list in reports/finance.py), with counts,
-- tokens and the exact sum of each cost component. Unpriced calls are counted and add no
-- cost; a group with no priced call has NULL costs, never 0.
SELECT
    __GROUPS__,
    count(*) AS calls,
    count(*) FILTER (WHERE c.status = 'failed') AS failed_calls,
    count(*) FILTER (WHERE NOT coalesce(b.priced, false)) AS unpriced_calls,
    sum(c.input_tokens) AS input_tokens,
    sum(c.cache_read_tokens) AS cache_read_tokens,
    sum(c.cache_write_tokens) AS cache_write_tokens,
    sum(c.output_tokens) AS output_tokens,
    sum(c.reasoning_tokens) AS reasoning_tokens,
    sum(b.input_cost) AS input_cost,
    sum(b.cache_read_cost) AS cache_read_cost,
    sum(b.cache_write_cost) AS cache_write_cost,
    sum(b.output_cost) AS output_cost,
    sum(b.request_cost) AS request_cost,
    sum(b.total_cost) AS total_cost,
    string_agg(DISTINCT b.currency, ',') AS currencies
FROM calls AS c
LEFT JOIN call_costs AS b USING (batch_id, source_line, source_item)
WHERE c.ts >= $start AND c.ts < $end
GROUP BY ALL
ORDER BY sum(b.total_cost) DESC NULLS LAST, __ORDER__
