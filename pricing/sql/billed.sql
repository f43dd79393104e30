-- CTE fragment: the bill of every call of usage batches $first_batch..$last_batch, with the
-- call's attribution, as `billed`. Each call is priced by the price point in force at its ts
-- (range join) and matching its input size (tier), at the per-token rates of the price_rates
-- view (warehouse/migrations/0002). bill.sql keeps the costs; rollup.sql sums them by day,
-- both from this one computation, so no join of calls back to their costs is needed.
-- A wire id that a sheet lists as an alias (model_aliases) is priced as the model it names.
scope AS (
    SELECT c.call_id, c.batch_id, c.source_line, c.source_item, c.ts, c.provider, c.model,
           coalesce(a.model, c.model) AS priced_model,
           c.status, c.team, c.project, c.api_key_id,
           c.input_tokens, c.cache_read_tokens, c.cache_write_tokens, c.output_tokens,
           c.reasoning_tokens, c.reported_cost
    FROM calls AS c
    LEFT JOIN model_aliases AS a ON a.provider = c.provider AND a.alias = c.model
    WHERE c.batch_id BETWEEN $first_batch AND $last_batch
),

matched AS (
    SELECT s.*, r.* EXCLUDE (provider, model)
    FROM scope AS s
    LEFT JOIN price_rates AS r
        ON  r.provider = s.provider
        AND r.model = s.priced_model
        AND s.ts >= r.effective_from AND s.ts < r.effective_to
        AND s.input_tokens > r.tier_lo AND s.input_tokens <= r.tier_hi
),

-- why a call found no price, for the person who has to fix it
known_models AS (SELECT DISTINCT provider, model FROM price_points),
known_providers AS (SELECT DISTINCT provider FROM price_points),

-- a failed call is free unless its sheet says the provider bills failures
charged AS (
    SELECT *, (status = 'ok' OR failed_calls_billed) AS is_charged
    FROM matched
),

components AS (
    SELECT
        call_id, batch_id, source_line, source_item, ts, provider, model, priced_model, status,
        team, project, api_key_id, input_tokens, cache_read_tokens, cache_write_tokens, output_tokens, reasoning_tokens,
        reported_cost, canonical_model, variant, unit_tokens, currency,
        effective_from, above_input_tokens, tier_lo,
        CASE WHEN is_charged
             THEN (input_tokens - cache_read_tokens - cache_write_tokens) * input_pt
             ELSE 0 END::DECIMAL(38, 15) AS input_cost,
        CASE WHEN is_charged THEN cache_read_tokens * cache_read_pt
             ELSE 0 END::DECIMAL(38, 15) AS cache_read_cost,
        CASE WHEN is_charged THEN cache_write_tokens * cache_write_pt
             ELSE 0 END::DECIMAL(38, 15) AS cache_write_cost,
        CASE WHEN is_charged THEN output_tokens * output_pt
             ELSE 0 END::DECIMAL(38, 15) AS output_cost,
        CASE WHEN is_charged THEN request_fee ELSE 0 END::DECIMAL(38, 15) AS request_cost,
        -- what the cache saved: cache reads at the input rate minus at the cache-read rate
        CASE WHEN is_charged THEN cache_read_tokens * (input_pt - cache_read_pt)
             ELSE 0 END::DECIMAL(38, 15) AS cache_savings
    FROM charged
),

billed AS (
    SELECT
        c.call_id,
        c.batch_id,
        c.source_line,
        c.source_item,
        c.ts, c.provider, c.model, c.status, c.team, c.project, c.api_key_id,
        c.input_tokens, c.cache_read_tokens, c.cache_write_tokens, c.output_tokens,
        c.reasoning_tokens, c.reported_cost,
        c.tier_lo IS NOT NULL AS priced,
        CASE
            WHEN c.tier_lo IS NOT NULL THEN NULL
            WHEN kp.provider IS NULL THEN 'no price sheet for provider ' || c.provider
            WHEN km.model IS NULL THEN 'no price for model ' || c.model || ' at ' || c.provider
            ELSE 'no price for ' || c.provider || '/' || c.model || ' in force at the call''s time'
        END AS unpriced_reason,
        c.canonical_model,
        c.variant,
        c.unit_tokens,
        c.currency,
        c.effective_from AS price_from,
        c.above_input_tokens AS tier_above,
        -- unpriced: every amount stays NULL, never 0
        CASE WHEN c.tier_lo IS NOT NULL THEN c.input_cost END AS input_cost,
        CASE WHEN c.tier_lo IS NOT NULL THEN c.cache_read_cost END AS cache_read_cost,
        CASE WHEN c.tier_lo IS NOT NULL THEN c.cache_write_cost END AS cache_write_cost,
        CASE WHEN c.tier_lo IS NOT NULL THEN c.output_cost END AS output_cost,
        CASE WHEN c.tier_lo IS NOT NULL THEN c.request_cost END AS request_cost,
        CASE WHEN c.tier_lo IS NOT NULL
             THEN c.input_cost + c.cache_read_cost + c.cache_write_cost + c.output_cost
                  + c.request_cost
        END AS total_cost,
        CASE WHEN c.tier_lo IS NOT NULL THEN c.cache_savings END AS cache_savings
    FROM components AS c
    LEFT JOIN known_providers AS kp ON kp.provider = c.provider
    LEFT JOIN known_models AS km ON km.provider = c.provider AND km.model = c.priced_model
)
