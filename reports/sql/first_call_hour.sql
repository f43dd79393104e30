-- The UTC hour of a selection's first call before $as_of, from the hourly sums (cheap at any
-- size); reports/forecast.py uses it to leave the days before a selection's first call out of
-- the forecast's history. The list parameters ($teams, …) are a selection (in_selection,
-- warehouse/schema.sql).
SELECT min(hour)
FROM hourly_spend
WHERE hour < $as_of
  AND in_selection(
      teams := $teams, projects := $projects, keys := $keys, providers := $providers,
      models := $models, team := team, project := project, api_key_id := api_key_id,
      provider := provider, model := model, canonical_model := canonical_model)
