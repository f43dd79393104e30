-- call_bills rows (warehouse/migrations/0009): the costs of each call, from `costed`
-- (scope.sql, call_units.sql and costed.sql, which the engine puts in front of this query).
-- The point that priced it is named by its number; the total is the call_costs view's sum.
SELECT
    batch_id, source_line, source_item, point_id, unpriced_reason, input_cost, cache_read_cost,
    cache_write_cost, output_cost, request_cost, cache_savings
FROM costed
