-- CTE fragment, after call_units.sql or hour_units.sql: the bill of each unit (one call, or
-- the calls of one hour summed) as `costed`. A unit carries its calls, its token counts and
-- the rates of the price point that prices it (NULL rates: no price point). One formula for
-- both, so the per-call costs and the hourly sums cannot disagree.
--
-- known_model (scope.sql) and known_providers say why a unit found no price, for the person
-- who has to fix it. A failed call is free unless its sheet says the provider bills failures. An
-- unpriced unit's amounts stay NULL, never 0.
known_providers AS (SELECT DISTINCT provider FROM price_points),

charged AS (
    SELECT
        *,
        tier_lo IS NOT NULL AS priced,
        tier_lo IS NOT NULL AND (status = 'ok' OR failed_calls_billed) AS is_charged
    FROM units
),

components AS (
    SELECT
        *,
        CASE WHEN is_charged
             THEN (input_tokens - cache_read_tokens - cache_write_tokens) * input_pt
             ELSE 0 END::DECIMAL(38, 15) AS charged_input,
        CASE WHEN is_charged THEN cache_read_tokens * cache_read_pt
             ELSE 0 END::DECIMAL(38, 15) AS charged_cache_read,
        CASE WHEN is_charged THEN cache_write_tokens * cache_write_pt
             ELSE 0 END::DECIMAL(38, 15) AS charged_cache_write,
        CASE WHEN is_charged THEN output_tokens * output_pt
             ELSE 0 END::DECIMAL(38, 15) AS charged_output,
        CASE WHEN is_charged THEN calls * request_fee
             ELSE 0 END::DECIMAL(38, 15) AS charged_request,
        -- what the cache saved: cache reads at the input rate minus at the cache-read rate
        CASE WHEN is_charged THEN cache_read_tokens * saved_pt
             ELSE 0 END::DECIMAL(38, 15) AS charged_savings
    FROM charged
),

costed AS (
    SELECT
        c.* EXCLUDE (charged_input, charged_cache_read, charged_cache_write, charged_output,
                     charged_request, charged_savings),
        CASE
            WHEN c.priced THEN NULL
            WHEN kp.provider IS NULL THEN 'no price sheet for provider ' || c.provider
            WHEN NOT c.known_model THEN 'no price for model ' || c.model || ' at ' || c.provider
            ELSE 'no price for ' || c.provider || '/' || c.model || ' in force at the call''s time'
        END AS unpriced_reason,
        c.effective_from AS price_from,
        c.above_input_tokens AS tier_above,
        CASE WHEN c.priced THEN c.charged_input END AS input_cost,
        CASE WHEN c.priced THEN c.charged_cache_read END AS cache_read_cost,
        CASE WHEN c.priced THEN c.charged_cache_write END AS cache_write_cost,
        CASE WHEN c.priced THEN c.charged_output END AS output_cost,
        CASE WHEN c.priced THEN c.charged_request END AS request_cost,
        CASE WHEN c.priced
             THEN c.charged_input + c.charged_cache_read + c.charged_cache_write
                  + c.charged_output + c.charged_request
        END AS total_cost,
        CASE WHEN c.priced THEN c.charged_savings END AS cache_savings
    FROM components AS c
    LEFT JOIN known_providers AS kp ON kp.provider = c.provider
)
