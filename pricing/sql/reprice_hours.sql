-- CTE fragment for reprice.sql: the same calls as reprice_calls.sql, summed per UTC hour and
-- input-size band (reprice_hours, warehouse/schema.sql), as `scope`. Only valid when
-- $start and $end are whole UTC hours and every target price begins and ends on a whole
-- hour and has its tier thresholds among the band edges (pricing/reprice.py checks): then
-- all the calls of a row fall under one target price, and their bill there is that price's
-- rates times their summed tokens. A row matches prices as its smallest call would: at the
-- hour's start, with one more input token than the band's lower edge. The hourly sums do
-- not say which currency the calls were billed in: each provider's calls of the model are in
-- one currency (the daily rollup's; pricing/reprice.py reads the calls when one is not).
billed_in AS (
    SELECT provider, any_value(currency) AS currency
    FROM daily_rollup
    WHERE canonical_model = $canonical AND variant = $variant AND currency IS NOT NULL
    GROUP BY provider
),

scope AS (
    SELECT
        hour AS at,
        input_band + 1 AS size,
        provider AS actual_provider,
        failed,
        calls,
        input_tokens,
        cache_read_tokens,
        cache_write_tokens,
        cache_write_1h_tokens,
        output_tokens,
        total_cost AS actual_cost,
        b.currency AS actual_currency
    FROM reprice_hours
    LEFT JOIN billed_in AS b USING (provider)
    WHERE canonical_model = $canonical
      AND variant = $variant
      AND ($start IS NULL OR hour >= $start)
      AND ($end IS NULL OR hour < $end)
      AND in_selection(
          providers := $providers, teams := $teams, projects := $projects,
          provider := provider, team := team, project := project)
)
