-- The UTC hour of a selection's first call before $as_of, from the hourly sums (cheap at any
-- size); reports/forecast.py uses it to leave the days before a selection's first call out of
-- the forecast's history. Each list parameter ($teams, …) is NULL for all.
SELECT min(hour)
FROM hourly_spend
WHERE hour < $as_of
  AND ($teams IS NULL OR list_contains($teams, team))
  AND ($projects IS NULL OR list_contains($projects, project))
  AND ($keys IS NULL OR list_contains($keys, api_key_id))
  AND ($providers IS NULL OR list_contains($providers, provider))
  AND ($models IS NULL OR list_contains($models, model) OR list_contains($models, canonical_model))
