-- Partial sums per UTC hour and attribution, from `costed` over hourly units (scope.sql,
-- hour_units.sql and costed.sql, which the engine puts in front of this query), into a
-- temporary table from which rollup_days.sql, rollup_hours.sql and rollup_reprice.sql fill
-- daily_rollup, hourly_spend and reprice_hours. An hour's calls of one attribution can fall
-- under several price points (a price change at 12:30, two tiers in one input-size band):
-- their units are added up here. Amounts stay exact (sums of DECIMAL). Failed calls and each
-- input-size band (warehouse/migrations/0006) are kept apart, for repricing.
SELECT
    batch_id, hour, provider, model, canonical_model, variant, team, project, api_key_id,
    currency, unpriced_reason,
    status = 'failed' AS failed,
    input_band,
    sum(calls)::BIGINT AS calls,
    coalesce(sum(calls) FILTER (WHERE status = 'failed'), 0)::BIGINT AS failed_calls,
    coalesce(sum(calls) FILTER (WHERE NOT priced), 0)::BIGINT AS unpriced_calls,
    sum(input_tokens)::HUGEINT AS input_tokens,
    sum(cache_read_tokens)::HUGEINT AS cache_read_tokens,
    sum(cache_write_tokens)::HUGEINT AS cache_write_tokens,
    sum(output_tokens)::HUGEINT AS output_tokens,
    sum(reasoning_tokens)::HUGEINT AS reasoning_tokens,
    sum(input_cost) AS input_cost,
    sum(cache_read_cost) AS cache_read_cost,
    sum(cache_write_cost) AS cache_write_cost,
    sum(output_cost) AS output_cost,
    sum(request_cost) AS request_cost,
    sum(total_cost) AS total_cost,
    sum(cache_savings) AS cache_savings,
    sum(reported_cost) AS reported_cost
FROM costed
GROUP BY ALL
