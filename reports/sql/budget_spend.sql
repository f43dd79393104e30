-- One budget's spend from its period's start to the check's time, the unpriced calls in that
-- span, and the first local day its scope has any calls (where forecast history begins).
WITH

in_scope AS (
    SELECT c.ts, b.total_cost, b.priced, b.currency
    FROM calls AS c
    JOIN call_costs AS b USING (batch_id, source_line)
    WHERE c.ts < $as_of
      AND ($team IS NULL OR c.team = $team)
      AND ($project IS NULL OR c.project = $project)
      AND ($key IS NULL OR c.api_key_id = $key)
      AND ($provider IS NULL OR c.provider = $provider)
      AND ($model IS NULL OR c.model = $model OR b.canonical_model = $model)
),

final AS (
    SELECT
        coalesce(sum(total_cost) FILTER (WHERE ts >= $period_start AND currency = $currency), 0)
            AS spend,
        count(*) FILTER (WHERE ts >= $period_start AND NOT priced) AS unpriced_calls,
        CAST(timezone($tz, min(ts)) AS DATE) AS first_local_day
    FROM in_scope
)

SELECT * FROM final
