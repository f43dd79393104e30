-- DuckDB SQL, run on Spark transpiled (lake/transpile.py): the end of the lake's per-call
-- billing query, after pricing/sql's scope, call_units and costed (the embedded billing's
-- own fragments). Each call's bill with its amounts and the price point that priced it,
-- stored in the lake (bills are Parquet there, not a view), with the point's per-token rates
-- (the fields of a bill_points row, warehouse/schema.sql), which the DuckDB catalog over the
-- lake numbers as the warehouse's bill_points (lake/catalog.py).
SELECT
    batch_id, source_line, source_item, ts, provider, strftime(ts, '%Y-%m') AS month, model,
    status, team, project, api_key_id, canonical_model, variant, unit_tokens, currency,
    price_from, tier_above, priced, unpriced_reason, input_tokens, cache_read_tokens,
    cache_write_tokens, cache_write_1h_tokens, output_tokens, reasoning_tokens, reported_cost,
    input_cost, cache_read_cost, cache_write_cost, cache_write_1h_cost, output_cost,
    request_cost, total_cost, cache_savings, failed_calls_billed, input_pt, cache_read_pt,
    cache_write_pt, output_pt, request_fee, saved_pt, cache_write_1h_pt
FROM costed
