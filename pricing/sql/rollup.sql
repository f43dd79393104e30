-- daily_rollup rows for usage batches $first_batch..$last_batch: partial sums per UTC day and
-- attribution, from the calls and the costs billing wrote for them. Amounts stay exact.
WITH

billed AS (
    SELECT c.*, b.* EXCLUDE (call_id, batch_id)
    FROM calls AS c
    JOIN call_costs AS b
        ON b.call_id = c.call_id
        AND b.batch_id BETWEEN $first_batch AND $last_batch
    WHERE c.batch_id BETWEEN $first_batch AND $last_batch
),

final AS (
    SELECT
        batch_id,
        CAST(ts AS DATE) AS day,  -- the session runs in UTC
        provider, model, canonical_model, variant, team, project, api_key_id, currency,
        unpriced_reason,
        count(*) AS calls,
        count(*) FILTER (WHERE status = 'failed') AS failed_calls,
        count(*) FILTER (WHERE NOT priced) AS unpriced_calls,
        sum(input_tokens)::HUGEINT AS input_tokens,
        sum(cache_read_tokens)::HUGEINT AS cache_read_tokens,
        sum(cache_write_tokens)::HUGEINT AS cache_write_tokens,
        sum(output_tokens)::HUGEINT AS output_tokens,
        sum(reasoning_tokens)::HUGEINT AS reasoning_tokens,
        sum(input_cost) AS input_cost,
        sum(cache_read_cost) AS cache_read_cost,
        sum(cache_write_cost) AS cache_write_cost,
        sum(output_cost) AS output_cost,
        sum(request_cost) AS request_cost,
        sum(total_cost) AS total_cost,
        sum(cache_savings) AS cache_savings,
        sum(reported_cost) AS reported_cost
    FROM billed
    GROUP BY ALL
)

SELECT * FROM final
