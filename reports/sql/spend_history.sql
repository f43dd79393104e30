-- A selection's calls per local day and UTC hour (days in the time zone $tz) from
-- $history_start to $as_of: the spend of its priced calls in $currency, its unpriced calls
-- and its calls priced in another currency (never added: two currencies are not one
-- amount). Spend to date, the forecast's weekday
-- history (reports/forecast.py) and the budget charts' hours all come from these rows.
-- Whole UTC hours before $hours_end come from hourly_spend (each lies within one local day
-- when the zone's offset is a whole number of hours; forecast.py only sets $hours_end past
-- $history_start then), the rest from the calls themselves. $hours_end is past $as_of when
-- no call is at or after $as_of: then the calls are not read at all. The list parameters
-- ($teams, …) are a selection (in_selection, warehouse/schema.sql).
WITH

from_hours AS (
    SELECT
        CAST(timezone($tz, h.hour) AS DATE) AS local_day,
        h.hour,
        sum(h.total_cost) FILTER (WHERE h.currency = $currency) AS spend,
        sum(h.unpriced_calls) AS unpriced_calls,
        coalesce(sum(h.calls - h.unpriced_calls) FILTER (WHERE h.currency <> $currency), 0)
            AS other_currency_calls
    FROM hourly_spend AS h
    WHERE h.hour >= $history_start AND h.hour < $hours_end
      AND in_selection(
          teams := $teams, projects := $projects, keys := $keys, providers := $providers,
          models := $models, team := h.team, project := h.project,
          api_key_id := h.api_key_id, provider := h.provider, model := h.model,
          canonical_model := h.canonical_model)
    GROUP BY 1, 2
),

from_calls AS (
    SELECT
        CAST(timezone($tz, c.ts) AS DATE) AS local_day,
        utc_hour(c.ts) AS hour,  -- the call's UTC hour, as hourly_spend's (warehouse/schema.sql)
        sum(c.total_cost) FILTER (WHERE c.priced AND c.currency = $currency) AS spend,
        count(*) FILTER (WHERE NOT c.priced) AS unpriced_calls,
        count(*) FILTER (WHERE c.priced AND c.currency <> $currency) AS other_currency_calls
    FROM calls_costed AS c  -- each call with its bill (warehouse/schema.sql)
    WHERE c.billed AND $hours_end < $as_of
      AND c.ts >= greatest($history_start, $hours_end) AND c.ts < $as_of
      AND in_selection(
          teams := $teams, projects := $projects, keys := $keys, providers := $providers,
          models := $models, team := c.team, project := c.project,
          api_key_id := c.api_key_id, provider := c.provider, model := c.model,
          canonical_model := c.canonical_model)
    GROUP BY 1, 2
),

final AS (
    SELECT local_day, hour, coalesce(sum(spend), 0) AS spend,
           coalesce(sum(unpriced_calls), 0) AS unpriced_calls,
           coalesce(sum(other_currency_calls), 0) AS other_currency_calls
    FROM (SELECT * FROM from_hours UNION ALL SELECT * FROM from_calls)
    GROUP BY local_day, hour
)

SELECT * FROM final ORDER BY local_day, hour
