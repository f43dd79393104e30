-- The first day a budget's scope has any calls, from the daily rollup (cheap at any size).
-- Its days are UTC days, so in another time zone this can be a day early or late; it only
-- decides whether the forecast counts a quiet day before it as a zero-spend day.
SELECT min(day)
FROM daily_rollup
WHERE day < CAST($as_of AS DATE) + 1
  AND ($team IS NULL OR team = $team)
  AND ($project IS NULL OR project = $project)
  AND ($key IS NULL OR api_key_id = $key)
  AND ($provider IS NULL OR provider = $provider)
  AND ($model IS NULL OR model = $model OR canonical_model = $model)
