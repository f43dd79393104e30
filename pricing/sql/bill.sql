-- call_costs rows: the costs of each call, from `costed` (scope.sql, call_units.sql and
-- costed.sql, which the engine puts in front of this query).
SELECT
    batch_id, source_line, source_item, priced, unpriced_reason, canonical_model, variant,
    unit_tokens, currency, price_from, tier_above, input_cost, cache_read_cost, cache_write_cost,
    output_cost, request_cost, total_cost, cache_savings
FROM costed
