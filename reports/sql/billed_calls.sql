-- Every call of the period with its bill: the normalised columns (ARCHITECTURE.md), then the
-- cost components at full precision, the currency and whether a price was found.
WITH

scoped AS (
    SELECT *
    FROM calls_costed  -- each call with its bill, if it has one (warehouse/schema.sql)
    WHERE ($start IS NULL OR ts >= $start) AND ($end IS NULL OR ts < $end)
),

final AS (
    SELECT
        c.call_id,
        c.ts,
        c.provider, c.model, c.status, c.http_status, c.error_type,
        c.input_tokens, c.cache_read_tokens, c.cache_write_tokens, c.cache_write_1h_tokens,
        c.output_tokens, c.reasoning_tokens, c.reported_cost,
        c.team, c.project, c.api_key_id, c.tags,
        c.source, c.source_line, c.batch_id,
        c.canonical_model, c.variant,
        c.input_cost, c.cache_read_cost, c.cache_write_cost, c.cache_write_1h_cost,
        c.output_cost, c.request_cost, c.total_cost, c.currency,
        coalesce(c.priced, false) AS priced,
        coalesce(c.unpriced_reason, CASE WHEN NOT c.billed THEN 'not billed yet' END)
            AS unpriced_reason
    FROM scoped AS c
    ORDER BY c.ts, c.call_id
)

SELECT * FROM final
