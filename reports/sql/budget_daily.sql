-- One budget's spend per local day (in the budget's time zone) from $history_start to the
-- check's time: the history its forecast averages by weekday.
WITH

in_scope AS (
    SELECT CAST(timezone($tz, c.ts) AS DATE) AS local_day, b.total_cost
    FROM calls AS c
    JOIN call_costs AS b USING (batch_id, source_line)
    WHERE c.ts >= $history_start AND c.ts < $as_of
      AND b.priced AND b.currency = $currency
      AND ($team IS NULL OR c.team = $team)
      AND ($project IS NULL OR c.project = $project)
      AND ($key IS NULL OR c.api_key_id = $key)
      AND ($provider IS NULL OR c.provider = $provider)
      AND ($model IS NULL OR c.model = $model OR b.canonical_model = $model)
),

final AS (
    SELECT local_day, sum(total_cost) AS spend
    FROM in_scope
    GROUP BY local_day
)

SELECT * FROM final ORDER BY local_day
