-- call_bills rows (warehouse/schema.sql): the price point that priced each call, by
-- its number, or why none did, from `costed` (scope.sql, call_units.sql and costed.sql,
-- which the engine puts in front of this query). The amounts are not stored: the
-- calls_costed view computes them from the point's rates and the call's counts with the
-- formula of costed.sql, so DuckDB does not compute them here.
SELECT batch_id, source_line, source_item, point_id, unpriced_reason
FROM costed
