-- One budget's calls per local day (in the budget's time zone) from $history_start to the
-- check's time: the spend of its priced calls in its currency, and its unpriced calls. The
-- period's spend to date and the forecast's weekday history both come from these days.
WITH

in_scope AS (
    SELECT CAST(timezone($tz, c.ts) AS DATE) AS local_day, b.total_cost, b.priced, b.currency
    FROM calls AS c
    JOIN call_costs AS b USING (batch_id, source_line, source_item)
    WHERE c.ts >= $history_start AND c.ts < $as_of
      AND ($team IS NULL OR c.team = $team)
      AND ($project IS NULL OR c.project = $project)
      AND ($key IS NULL OR c.api_key_id = $key)
      AND ($provider IS NULL OR c.provider = $provider)
      AND ($model IS NULL OR c.model = $model OR b.canonical_model = $model)
),

final AS (
    SELECT
        local_day,
        coalesce(sum(total_cost) FILTER (WHERE priced AND currency = $currency), 0) AS spend,
        count(*) FILTER (WHERE NOT priced) AS unpriced_calls
    FROM in_scope
    GROUP BY local_day
)

SELECT * FROM final ORDER BY local_day
