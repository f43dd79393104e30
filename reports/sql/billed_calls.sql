-- Every call of the period with its bill: the normalised columns (ARCHITECTURE.md), then the
-- cost components at full precision, the currency and whether a price was found.
WITH

scoped AS (
    SELECT *
    FROM calls
    WHERE ($start IS NULL OR ts >= $start) AND ($end IS NULL OR ts < $end)
),

final AS (
    SELECT
        c.call_id,
        c.ts,
        c.provider, c.model, c.status, c.http_status, c.error_type,
        c.input_tokens, c.cache_read_tokens, c.cache_write_tokens, c.output_tokens,
        c.reasoning_tokens, c.reported_cost,
        c.team, c.project, c.api_key_id, c.tags,
        c.source, c.source_line, c.batch_id,
        b.canonical_model, b.variant,
        b.input_cost, b.cache_read_cost, b.cache_write_cost, b.output_cost, b.request_cost,
        b.total_cost, b.currency,
        coalesce(b.priced, false) AS priced,
        coalesce(b.unpriced_reason, CASE WHEN b.priced IS NULL THEN 'not billed yet' END)
            AS unpriced_reason
    FROM scoped AS c
    LEFT JOIN call_costs AS b USING (batch_id, source_line, source_item)
    ORDER BY c.ts, c.call_id
)

SELECT * FROM final
