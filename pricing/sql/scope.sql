-- CTE fragment, the start of every bill, after points.sql: the calls of usage batches
-- $first_batch..$last_batch as `scope`; the price points as `rates`, numbered (rate_id) so
-- that calls can be grouped by the one that prices them, with the number bills name them by
-- (point_id, bill_points.sql), and once more under every wire id that is priced as their
-- model as `wire_rates`; and each call with the price point in force at its ts (range join) and
-- matching its input size (tier) as `matched`, its rate columns NULL when none does (and for
-- a call whose usage is unknown, no_usage_reason: nothing can price it). Rates are per token
-- (the price_rates view, warehouse/schema.sql).

-- Every wire id the sheets know at a provider, with the model it is priced as: a wire id
-- that a sheet lists as an alias (model_aliases) is priced as the model it names, and
-- known when that model has prices.
wire_models AS (
    SELECT a.provider, a.alias AS wire, a.model AS priced_model,
           EXISTS (SELECT 1 FROM price_points AS p
                   WHERE p.provider = a.provider AND p.model = a.model) AS known_model
    FROM model_aliases AS a
    UNION ALL
    SELECT DISTINCT p.provider, p.model, p.model, true
    FROM price_points AS p
    ANTI JOIN model_aliases AS a ON a.provider = p.provider AND a.alias = p.model
),

scope AS (
    SELECT c.batch_id, c.source_line, c.source_item, c.ts, c.provider, c.model,
           c.status, c.team, c.project, c.api_key_id,
           c.input_tokens, c.cache_read_tokens, c.cache_write_tokens, c.cache_write_1h_tokens,
           c.output_tokens, c.reasoning_tokens, c.reported_cost, c.no_usage_reason
    FROM calls AS c
    WHERE c.batch_id BETWEEN $first_batch AND $last_batch
),

-- materialised: both of hour_units.sql's joins must see the same numbers
rates AS MATERIALIZED (
    SELECT
        row_number() OVER (ORDER BY r.provider, r.model, r.effective_from, r.tier_lo) AS rate_id,
        r.* EXCLUDE (point),
        r.point.saved_pt AS saved_pt,
        p.point_id
    FROM rate_points AS r
    LEFT JOIN known_points AS p ON p.point = r.point  -- points.sql: the one match
),

-- each price point under every wire id priced as its model, so that a call finds its price
-- by the id it was logged with in one join, not two. Whether the sheets know an unpriced
-- call's model is looked up in costed.sql, for the unpriced calls only (ADR 0020).
wire_rates AS (
    SELECT w.wire, r.*
    FROM rates AS r
    JOIN wire_models AS w ON w.provider = r.provider AND w.priced_model = r.model
),

matched AS (
    SELECT s.*, r.* EXCLUDE (provider, model, wire)
    FROM scope AS s
    LEFT JOIN wire_rates AS r
        ON  r.provider = s.provider
        AND r.wire = s.model
        AND s.ts >= r.effective_from AND s.ts < r.effective_to
        AND s.input_tokens > r.tier_lo AND s.input_tokens <= r.tier_hi
        AND s.no_usage_reason IS NULL
)
