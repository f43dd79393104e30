-- What the calls of one canonical model and variant would have cost at every provider that
-- sells $target_variant of it: each call priced by that provider's point in force at the
-- call's time and matching its input size, with that provider's cache and failure rules.
-- One row per (provider the calls went to, provider they are repriced at).
--
-- $cache_share, when not NULL, is a what-if: that share of every call's input tokens is read
-- from the cache (whole tokens, rounded down) instead of what the logs say.
WITH

scope AS (
    SELECT
        c.call_id, c.ts, c.provider AS actual_provider, c.status, c.input_tokens,
        c.cache_write_tokens, c.output_tokens, b.total_cost AS actual_cost,
        CASE WHEN $cache_share IS NULL THEN c.cache_read_tokens
             ELSE least(c.input_tokens - c.cache_write_tokens,
                        CAST(floor(c.input_tokens * $cache_share) AS BIGINT))
        END AS cache_read_tokens
    FROM calls AS c
    JOIN call_costs AS b USING (batch_id, source_line, source_item)  -- integers: much faster than call_id
    WHERE b.priced
      AND b.canonical_model = $canonical
      AND b.variant = $variant
      AND ($start IS NULL OR c.ts >= $start)
      AND ($end IS NULL OR c.ts < $end)
      AND ($providers IS NULL OR list_contains($providers, c.provider))
      AND ($teams IS NULL OR list_contains($teams, c.team))
      AND ($projects IS NULL OR list_contains($projects, c.project))
),

targets AS (
    SELECT DISTINCT provider AS target_provider
    FROM price_points
    WHERE canonical_model = $canonical AND variant = $target_variant
),

-- every call at every target; no matching point leaves the rates NULL: unpriced there
matched AS (
    SELECT s.*, t.target_provider, r.* EXCLUDE (provider, canonical_model, variant)
    FROM scope AS s
    CROSS JOIN targets AS t
    LEFT JOIN price_rates AS r
        ON  r.provider = t.target_provider
        AND r.canonical_model = $canonical
        AND r.variant = $target_variant
        AND s.ts >= r.effective_from AND s.ts < r.effective_to
        AND s.input_tokens > r.tier_lo AND s.input_tokens <= r.tier_hi
),

-- the same formula as bill.sql, at the target's per-token rates
repriced AS (
    SELECT
        actual_provider, target_provider, actual_cost, currency,
        tier_lo IS NOT NULL AS priced_at_target,
        CASE WHEN tier_lo IS NULL THEN NULL
             WHEN status = 'failed' AND NOT failed_calls_billed THEN 0
             ELSE (input_tokens - cache_read_tokens - cache_write_tokens) * input_pt
                  + cache_read_tokens * cache_read_pt
                  + cache_write_tokens * cache_write_pt
                  + output_tokens * output_pt
                  + request_fee
        END::DECIMAL(38, 15) AS cost
    FROM matched
),

final AS (
    SELECT
        actual_provider,
        target_provider,
        any_value(currency) AS currency,
        count(*) AS calls,
        count(*) FILTER (WHERE priced_at_target) AS priced_calls,
        sum(actual_cost) AS actual_cost,
        -- compare like with like: what the calls priced at the target actually cost
        coalesce(sum(actual_cost) FILTER (WHERE priced_at_target), 0) AS actual_cost_priced,
        coalesce(sum(cost), 0) AS repriced_cost
    FROM repriced
    GROUP BY ALL
)

SELECT * FROM final ORDER BY target_provider, actual_provider
