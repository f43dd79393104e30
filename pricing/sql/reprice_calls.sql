-- CTE fragment for reprice.sql: the billed calls of $canonical/$variant in the scope, one
-- row each, as `scope`. Used when repricing cannot read reprice_hours (pricing/reprice.py).
--
-- $cache_share, when not NULL, is a what-if: that share of every call's input tokens is read
-- from the cache (whole tokens, rounded down) instead of what the logs say.
scope AS (
    SELECT
        c.ts AS at,
        c.input_tokens AS size,
        c.provider AS actual_provider,
        c.status = 'failed' AS failed,
        1 AS calls,
        c.input_tokens,
        CASE WHEN $cache_share IS NULL THEN c.cache_read_tokens
             ELSE least(c.input_tokens - c.cache_write_tokens,
                        CAST(floor(c.input_tokens * $cache_share) AS BIGINT))
        END AS cache_read_tokens,
        c.cache_write_tokens,
        c.cache_write_1h_tokens,
        c.output_tokens,
        c.total_cost AS actual_cost,
        c.currency AS actual_currency
    FROM calls_costed AS c  -- each call with its bill (warehouse/schema.sql)
    WHERE c.priced
      AND c.canonical_model = $canonical
      AND c.variant = $variant
      AND ($start IS NULL OR c.ts >= $start)
      AND ($end IS NULL OR c.ts < $end)
      AND in_selection(
          providers := $providers, teams := $teams, projects := $projects,
          provider := c.provider, team := c.team, project := c.project)
)
