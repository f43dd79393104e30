-- The successful calls of $canonical in the scope whose logs carry no token usage
-- (calls.no_usage_reason): unpriced, so not in any comparison, but the model's traffic all
-- the same. A call's model is its wire id priced as the sheets price it (an alias names the
-- model it is priced as), whatever the variant.
WITH

wire_canonical AS (
    SELECT DISTINCT p.provider, coalesce(a.alias, p.model) AS wire
    FROM price_points AS p
    LEFT JOIN model_aliases AS a ON a.provider = p.provider AND a.model = p.model
    WHERE p.canonical_model = $canonical
    UNION
    SELECT DISTINCT provider, model FROM price_points WHERE canonical_model = $canonical
),

final AS (
    SELECT count(*) AS calls
    FROM calls AS c
    SEMI JOIN wire_canonical AS w ON w.provider = c.provider AND w.wire = c.model
    WHERE c.no_usage_reason IS NOT NULL
      AND ($start IS NULL OR c.ts >= $start)
      AND ($end IS NULL OR c.ts < $end)
      AND in_selection(
          providers := $providers, teams := $teams, projects := $projects,
          provider := c.provider, team := c.team, project := c.project)
)

SELECT calls FROM final
