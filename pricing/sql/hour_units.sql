-- CTE fragment, after scope.sql and before costed.sql: the calls of the scope summed per
-- UTC hour, attribution, status, input-size band and the price point that prices them, as
-- units to bill. Used when some price starts or ends within an hour or has a tier threshold
-- inside an input-size band; otherwise grid_units.sql reads the same sums from call_hours
-- (pricing/engine.py chooses). A bill is linear in the token counts, so a unit's tokens at
-- its point's rates cost exactly what its calls cost one by one (rollup.sql); per call only
-- the price point is looked up and integers added, not eight exact amounts computed and
-- summed (ADR 0025).
--
-- Grouping keys are kept few: a call's status is 'ok' or 'failed' (the calls table checks
-- it), grouped as a boolean.
--
-- The hour is the call's UTC hour counted in microseconds (utc_hour_us, warehouse/schema.sql)
-- and made a time once per unit, ADR 0026.
hour_calls AS (
    SELECT
        *,
        utc_hour_us(ts) AS hour_us
    FROM matched
),

hour_sums AS (
    SELECT
        batch_id, hour_us, provider, model, team, project, api_key_id,
        status = 'failed' AS failed,
        input_band(input_tokens) AS input_band,  -- warehouse/schema.sql
        no_usage_reason,
        rate_id,
        count(*) AS calls,
        sum(COLUMNS(lambda c: list_contains(token_counts(), c)))::HUGEINT,  -- each token count
        sum(reported_cost) AS reported_cost
    FROM hour_calls
    GROUP BY ALL
),

units AS (
    SELECT
        h.* EXCLUDE (hour_us, rate_id, failed),
        make_timestamptz(h.hour_us) AS hour,
        CASE WHEN h.failed THEN 'failed' ELSE 'ok' END AS status,
        r.* EXCLUDE (provider, model)
    FROM hour_sums AS h
    LEFT JOIN rates AS r USING (rate_id)
)
