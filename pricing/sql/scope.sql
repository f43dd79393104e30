-- CTE fragment, the start of every bill: the calls of usage batches $first_batch..$last_batch
-- as `scope`, and the price points as `rates`, numbered (rate_id) so that calls can be
-- grouped by the one that prices them. A wire id that a sheet lists as an alias
-- (model_aliases) is priced as the model it names. Rates are per token (the price_rates
-- view, warehouse/migrations/0002).
scope AS (
    SELECT c.batch_id, c.source_line, c.source_item, c.ts, c.provider, c.model,
           coalesce(a.model, c.model) AS priced_model,
           c.status, c.team, c.project, c.api_key_id,
           c.input_tokens, c.cache_read_tokens, c.cache_write_tokens, c.output_tokens,
           c.reasoning_tokens, c.reported_cost
    FROM calls AS c
    LEFT JOIN model_aliases AS a ON a.provider = c.provider AND a.alias = c.model
    WHERE c.batch_id BETWEEN $first_batch AND $last_batch
),

-- materialised: both of hour_units.sql's joins must see the same numbers
rates AS MATERIALIZED (
    SELECT
        row_number() OVER (ORDER BY provider, model, effective_from, tier_lo) AS rate_id,
        *
    FROM price_rates
)
