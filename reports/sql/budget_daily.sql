-- One budget's calls per local day (in the budget's time zone) from $history_start to the
-- check's time: the spend of its priced calls in its currency, its unpriced calls, and its
-- calls priced in another currency (not counted: two currencies are never added). The
-- period's spend to date and the forecast's weekday history both come from these days.
-- Whole UTC hours before $hours_end come from hourly_spend (each lies within one local day
-- when the zone's offset is a whole number of hours; budgets.py only sets $hours_end past
-- $history_start then), the rest from the calls themselves. $hours_end is past $as_of when
-- no call is at or after $as_of: then the calls are not read at all.
WITH

from_hours AS (
    SELECT
        CAST(timezone($tz, h.hour) AS DATE) AS local_day,
        sum(h.total_cost) FILTER (WHERE h.currency = $currency) AS spend,
        sum(h.unpriced_calls) AS unpriced_calls,
        sum(h.calls) FILTER (WHERE h.currency <> $currency) AS other_currency_calls
    FROM hourly_spend AS h
    WHERE h.hour >= $history_start AND h.hour < $hours_end
      AND ($team IS NULL OR h.team = $team)
      AND ($project IS NULL OR h.project = $project)
      AND ($key IS NULL OR h.api_key_id = $key)
      AND ($provider IS NULL OR h.provider = $provider)
      AND ($model IS NULL OR h.model = $model OR h.canonical_model = $model)
    GROUP BY 1
),

from_calls AS (
    SELECT
        CAST(timezone($tz, c.ts) AS DATE) AS local_day,
        sum(c.total_cost) FILTER (WHERE c.priced AND c.currency = $currency) AS spend,
        count(*) FILTER (WHERE NOT c.priced) AS unpriced_calls,
        count(*) FILTER (WHERE c.priced AND c.currency <> $currency) AS other_currency_calls
    FROM calls_costed AS c  -- each call with its bill (warehouse/migrations/0010)
    WHERE c.billed AND $hours_end < $as_of
      AND c.ts >= greatest($history_start, $hours_end) AND c.ts < $as_of
      AND ($team IS NULL OR c.team = $team)
      AND ($project IS NULL OR c.project = $project)
      AND ($key IS NULL OR c.api_key_id = $key)
      AND ($provider IS NULL OR c.provider = $provider)
      AND ($model IS NULL OR c.model = $model OR c.canonical_model = $model)
    GROUP BY 1
)

SELECT local_day, coalesce(sum(spend), 0) AS spend, coalesce(sum(unpriced_calls), 0),
       coalesce(sum(other_currency_calls), 0)
FROM (SELECT * FROM from_hours UNION ALL SELECT * FROM from_calls)
GROUP BY local_day
ORDER BY local_day
