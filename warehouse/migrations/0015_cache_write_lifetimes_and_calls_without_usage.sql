-- Schema 13: cache writes of two lifetimes, calls whose usage is unknown, and the bill's
-- formula written once.
--
-- Anthropic writes the prompt cache for 5 minutes or for 1 hour, at different list prices
-- (usage.cache_creation.ephemeral_5m_input_tokens / ephemeral_1h_input_tokens). A call's
-- `cache_write_1h_tokens` are the part of its cache_write_tokens written for an hour; a price
-- point's `cache_write_1h_rate` prices them, and without one they bill at the cache-write
-- rate (so every sheet and bill made before stays as it was: no call had such tokens).
--
-- A streamed call that ended normally but carried no usage (an OpenAI chat stream without
-- stream_options.include_usage, the SDK's default) succeeded and was charged, but what it
-- cost cannot be told: it is loaded with `no_usage_reason` (its counts 0) and billed as
-- unpriced with that reason, never as free.
--
-- `bill_amounts` is the bill's formula, for billing (pricing/sql/costed.sql), the
-- calls_costed view, repricing (pricing/sql/reprice.sql) and the reconciliation's what-ifs:
-- before this schema each wrote it out, and a change had to find them all.
--
-- (IF NOT EXISTS and OR REPLACE: the tests that take a warehouse back to an older schema by
-- hand leave this schema's columns in place.)

ALTER TABLE calls ADD COLUMN IF NOT EXISTS cache_write_1h_tokens BIGINT DEFAULT 0;
ALTER TABLE calls ALTER COLUMN cache_write_1h_tokens SET NOT NULL;  -- part of cache_write_tokens
ALTER TABLE calls ADD COLUMN IF NOT EXISTS no_usage_reason VARCHAR;  -- NULL: the counts are the call's usage

-- call_hours (schema 11) keeps the two apart too: a row's calls are all with usage or all
-- without, so that billing its sums prices them or leaves them unpriced together
ALTER TABLE call_hours ADD COLUMN IF NOT EXISTS cache_write_1h_tokens HUGEINT DEFAULT 0;
ALTER TABLE call_hours ALTER COLUMN cache_write_1h_tokens SET NOT NULL;
ALTER TABLE call_hours ADD COLUMN IF NOT EXISTS no_usage_reason VARCHAR;

ALTER TABLE reprice_hours ADD COLUMN IF NOT EXISTS cache_write_1h_tokens HUGEINT DEFAULT 0;
ALTER TABLE reprice_hours ALTER COLUMN cache_write_1h_tokens SET NOT NULL;

-- NULL: 1-hour cache writes bill at the cache-write rate (and without one, the input rate)
ALTER TABLE price_points ADD COLUMN IF NOT EXISTS cache_write_1h_rate DECIMAL(18, 9);

-- per 1-hour cache-write token; the points so far bill them as other cache writes
ALTER TABLE bill_points ADD COLUMN IF NOT EXISTS cache_write_1h_pt DECIMAL(38, 15);
UPDATE bill_points SET cache_write_1h_pt = cache_write_pt WHERE cache_write_1h_pt IS NULL;

-- price_rates as in schema 2, with the 1-hour cache-write rate
CREATE OR REPLACE VIEW price_rates AS
WITH

points AS (
    SELECT
        *,
        coalesce(above_input_tokens, -1) AS tier_lo,
        coalesce(
            lead(above_input_tokens) OVER (
                PARTITION BY provider, model, effective_from
                ORDER BY above_input_tokens ASC NULLS FIRST
            ),
            9223372036854775807
        ) AS tier_hi,
        -- unit change: a rate per 1K or per 1M tokens becomes a rate per token. Multiply,
        -- never divide: DuckDB's DECIMAL / DECIMAL is a DOUBLE.
        CASE unit_tokens WHEN 1000 THEN 0.001 WHEN 1000000 THEN 0.000001 END AS per_token
    FROM price_points
)

SELECT
    provider, model, canonical_model, variant, unit_tokens, currency, effective_from,
    effective_to, above_input_tokens, tier_lo, tier_hi, failed_calls_billed,
    -- per-token rates, DECIMAL(38,15): exact for any DECIMAL(18,9) sheet rate
    CAST(CAST(input_rate AS DECIMAL(38, 9)) * per_token AS DECIMAL(38, 15)) AS input_pt,
    -- no cache-read or cache-write rate: those tokens bill at the input rate
    CAST(CAST(coalesce(cache_read_rate, input_rate) AS DECIMAL(38, 9)) * per_token
         AS DECIMAL(38, 15)) AS cache_read_pt,
    CAST(CAST(coalesce(cache_write_rate, input_rate) AS DECIMAL(38, 9)) * per_token
         AS DECIMAL(38, 15)) AS cache_write_pt,
    CAST(CAST(output_rate AS DECIMAL(38, 9)) * per_token AS DECIMAL(38, 15)) AS output_pt,
    -- per call, not per token; no fee: 0
    CAST(coalesce(request_rate, 0) AS DECIMAL(38, 15)) AS request_fee,
    -- no 1-hour rate: the cache-write rate, else the input rate
    CAST(CAST(coalesce(cache_write_1h_rate, cache_write_rate, input_rate) AS DECIMAL(38, 9))
         * per_token AS DECIMAL(38, 15)) AS cache_write_1h_pt
FROM points;

-- The bill of `calls` calls with these token counts at a price point's per-token rates
-- (price_rates, bill_points), exactly, each amount DECIMAL(38, 15):
--
--   input_cost          (input - cache_read - cache_write) x input_pt
--   cache_read_cost     cache_read x cache_read_pt
--   cache_write_cost    (cache_write - cache_write_1h) x cache_write_pt
--                       + cache_write_1h x cache_write_1h_pt
--   cache_write_1h_cost cache_write_1h x cache_write_1h_pt (a part of cache_write_cost)
--   output_cost         output x output_pt
--   request_cost        calls x request_fee
--   total_cost          input + cache_read + cache_write + output + request costs
--   cache_savings       cache_read x saved_pt (what the cache saved: input minus read rate)
--
-- `charged`: the calls pay (priced, and ok or at a provider that bills failures); `priced`:
-- a price point covers them. An amount is the product when charged, 0 when priced but
-- free, NULL when unpriced. Arguments are named (bill_amounts(charged := ..., ...)); one left
-- out is NULL, and so are the amounts that need it.
-- one amount: the product when charged, 0 when priced but free, NULL when unpriced
CREATE OR REPLACE MACRO bill_charge(amount, charged, priced) AS
    CASE WHEN charged THEN amount WHEN priced THEN 0 END::DECIMAL(38, 15);

CREATE OR REPLACE MACRO bill_parts(
    charged := NULL, priced := NULL, calls := NULL, input_tokens := NULL,
    cache_read_tokens := NULL, cache_write_tokens := NULL, cache_write_1h_tokens := NULL,
    output_tokens := NULL, input_pt := NULL, cache_read_pt := NULL, cache_write_pt := NULL,
    cache_write_1h_pt := NULL, output_pt := NULL, request_fee := NULL, saved_pt := NULL
) AS struct_pack(
    input_cost := bill_charge(
        (input_tokens - cache_read_tokens - cache_write_tokens) * input_pt, charged, priced),
    cache_read_cost := bill_charge(cache_read_tokens * cache_read_pt, charged, priced),
    cache_write_cost := bill_charge(
        (cache_write_tokens - cache_write_1h_tokens) * cache_write_pt
        + cache_write_1h_tokens * cache_write_1h_pt, charged, priced),
    cache_write_1h_cost := bill_charge(cache_write_1h_tokens * cache_write_1h_pt, charged, priced),
    output_cost := bill_charge(output_tokens * output_pt, charged, priced),
    request_cost := bill_charge(calls * request_fee, charged, priced),
    cache_savings := bill_charge(cache_read_tokens * saved_pt, charged, priced)
);

CREATE OR REPLACE MACRO bill_total(parts) AS struct_insert(
    parts,
    total_cost := parts.input_cost + parts.cache_read_cost + parts.cache_write_cost
                  + parts.output_cost + parts.request_cost
);

CREATE OR REPLACE MACRO bill_amounts(
    charged := NULL, priced := NULL, calls := NULL, input_tokens := NULL,
    cache_read_tokens := NULL, cache_write_tokens := NULL, cache_write_1h_tokens := NULL,
    output_tokens := NULL, input_pt := NULL, cache_read_pt := NULL, cache_write_pt := NULL,
    cache_write_1h_pt := NULL, output_pt := NULL, request_fee := NULL, saved_pt := NULL
) AS bill_total(bill_parts(
    charged := charged, priced := priced, calls := calls, input_tokens := input_tokens,
    cache_read_tokens := cache_read_tokens, cache_write_tokens := cache_write_tokens,
    cache_write_1h_tokens := cache_write_1h_tokens, output_tokens := output_tokens,
    input_pt := input_pt, cache_read_pt := cache_read_pt, cache_write_pt := cache_write_pt,
    cache_write_1h_pt := cache_write_1h_pt, output_pt := output_pt, request_fee := request_fee,
    saved_pt := saved_pt
));

-- calls_costed and call_costs as in schema 10, their amounts from bill_amounts, with the
-- 1-hour part of the cache-write cost
DROP VIEW IF EXISTS call_costs;
DROP VIEW IF EXISTS calls_costed;

-- Every call with its bill: `billed` says whether it has one; `priced` whether a price
-- point covered it (NULL until billed). The amounts are bill_amounts for one call: its
-- counts times its point's rates when it is charged, 0 when it is priced but free (a failed
-- call at a provider that does not bill failures), NULL when it is unpriced. Readers that
-- join calls to their costs read this instead, in one join.
CREATE VIEW calls_costed AS
WITH joined AS (
    SELECT
        c.*,
        b.batch_id IS NOT NULL AS billed,
        CASE WHEN b.batch_id IS NOT NULL THEN b.point_id IS NOT NULL END AS priced,
        b.unpriced_reason,
        b.point_id,
        p.point_id IS NOT NULL AND (c.status = 'ok' OR p.failed_calls_billed) AS charged,
        p.* EXCLUDE (point_id)
    FROM calls AS c
    LEFT JOIN call_bills AS b USING (batch_id, source_line, source_item)
    LEFT JOIN bill_points AS p USING (point_id)
),

amounts AS (
    SELECT
        * EXCLUDE (charged, failed_calls_billed, input_pt, cache_read_pt, cache_write_pt,
                   cache_write_1h_pt, output_pt, request_fee, saved_pt),
        bill_amounts(
            charged := charged, priced := priced, calls := 1, input_tokens := input_tokens,
            cache_read_tokens := cache_read_tokens, cache_write_tokens := cache_write_tokens,
            cache_write_1h_tokens := cache_write_1h_tokens, output_tokens := output_tokens,
            input_pt := input_pt, cache_read_pt := cache_read_pt,
            cache_write_pt := cache_write_pt, cache_write_1h_pt := cache_write_1h_pt,
            output_pt := output_pt, request_fee := request_fee, saved_pt := saved_pt
        ) AS bill
    FROM joined
)

SELECT
    * EXCLUDE (bill),
    bill.input_cost, bill.cache_read_cost, bill.cache_write_cost, bill.output_cost,
    bill.request_cost, bill.total_cost, bill.cache_savings, bill.cache_write_1h_cost
FROM amounts;

-- Each billed call's costs, with the price point named in full: the table it was before
-- schema 9, column for column, and the 1-hour part of the cache-write cost.
CREATE VIEW call_costs AS
SELECT
    batch_id, source_line, source_item, priced, unpriced_reason, canonical_model, variant,
    unit_tokens, currency, price_from, tier_above, input_cost, cache_read_cost,
    cache_write_cost, output_cost, request_cost, total_cost, cache_savings,
    cache_write_1h_cost
FROM calls_costed
WHERE billed;
