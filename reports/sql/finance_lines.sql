-- The finance report's lines: every call that started in [$start, $end) grouped by the
-- report's dimensions (__GROUPS__, from a fixed list in reports/finance.py) and the currency
-- of its costs, with counts, tokens and the exact sum of each cost component. Amounts in two
-- currencies are never added: a group with calls billed in USD and in JPY has a line for
-- each. Unpriced calls are counted and add no cost; a group with no priced call has NULL
-- costs, never 0.
WITH

scoped AS (
    SELECT
        __GROUPS__,
        c.status, c.priced, c.input_tokens, c.cache_read_tokens, c.cache_write_tokens,
        c.cache_write_1h_tokens, c.output_tokens, c.reasoning_tokens, c.input_cost,
        c.cache_read_cost, c.cache_write_cost, c.cache_write_1h_cost, c.output_cost,
        c.request_cost, c.total_cost,
        -- an unpriced call has no currency: it is counted on its group's line when the
        -- group's priced calls are all in one currency, else on a line without a currency
        coalesce(
            c.currency,
            CASE WHEN min(c.currency) OVER g = max(c.currency) OVER g
                 THEN min(c.currency) OVER g END
        ) AS line_currency
    FROM calls_costed AS c  -- each call with its bill, if it has one (warehouse/schema.sql)
    WHERE c.ts >= $start AND c.ts < $end
    WINDOW g AS (PARTITION BY __PARTITION__)
),

final AS (
    SELECT
        __NAMES__,
        line_currency AS currency,
        count(*) AS calls,
        count(*) FILTER (WHERE status = 'failed') AS failed_calls,
        count(*) FILTER (WHERE NOT coalesce(priced, false)) AS unpriced_calls,
        sum(input_tokens) AS input_tokens,
        sum(cache_read_tokens) AS cache_read_tokens,
        sum(cache_write_tokens) AS cache_write_tokens,
        sum(cache_write_1h_tokens) AS cache_write_1h_tokens,  -- a part of cache_write_tokens
        sum(output_tokens) AS output_tokens,
        sum(reasoning_tokens) AS reasoning_tokens,
        sum(input_cost) AS input_cost,
        sum(cache_read_cost) AS cache_read_cost,
        sum(cache_write_cost) AS cache_write_cost,
        sum(cache_write_1h_cost) AS cache_write_1h_cost,  -- a part of cache_write_cost
        sum(output_cost) AS output_cost,
        sum(request_cost) AS request_cost,
        sum(total_cost) AS total_cost
    FROM scoped
    GROUP BY ALL
)

SELECT * FROM final
ORDER BY total_cost DESC NULLS LAST, __ORDER__, currency NULLS LAST
