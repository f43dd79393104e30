-- Schema 2: what billing derives from the facts. Both tables are rebuilt by `bill --rebill`.

-- Every price point as per-token rates over the input-size range it prices, read by billing
-- (pricing/sql/bill.sql) and repricing (pricing/sql/reprice.sql) alike.
-- A point covers input_tokens in (tier_lo, tier_hi]: the base price from -1 up to the lowest
-- tier threshold, each tier up to the next one. So a call matches exactly one point, and a
-- tier prices the whole call (all-or-nothing) when its input is above the threshold.
CREATE VIEW price_rates AS
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
    CAST(coalesce(request_rate, 0) AS DECIMAL(38, 15)) AS request_fee
FROM points;

-- One row per call: the price point that applied and each cost component, at full
-- precision. priced = false means no price point covered the call: costs are NULL, never 0.
-- (batch_id, source_line) identifies the call as well as call_id does (a batch is one file,
-- a line one record) and joins to calls far faster than the text id at millions of rows.
CREATE TABLE call_costs (
    call_id           VARCHAR NOT NULL,
    batch_id          BIGINT NOT NULL,
    source_line       BIGINT NOT NULL,
    priced            BOOLEAN NOT NULL,
    unpriced_reason   VARCHAR,
    canonical_model   VARCHAR,
    variant           VARCHAR,
    unit_tokens       INTEGER,
    currency          VARCHAR,
    price_from        TIMESTAMPTZ,   -- effective_from of the price point used
    tier_above        BIGINT,        -- its tier threshold; NULL for the base price
    input_cost        DECIMAL(38, 15),
    cache_read_cost   DECIMAL(38, 15),
    cache_write_cost  DECIMAL(38, 15),
    output_cost       DECIMAL(38, 15),
    request_cost      DECIMAL(38, 15),
    total_cost        DECIMAL(38, 15),
    cache_savings     DECIMAL(38, 15)   -- cache reads at the input rate minus what they cost
);

-- Partial daily sums, one set of rows per billed batch; readers SUM over them. Appending a
-- batch's sums keeps incremental billing proportional to the batch, not the warehouse.
CREATE TABLE daily_rollup (
    batch_id            BIGINT NOT NULL,
    day                 DATE NOT NULL,       -- UTC day of the call
    provider            VARCHAR NOT NULL,
    model               VARCHAR NOT NULL,
    canonical_model     VARCHAR,             -- NULL for unpriced calls
    variant             VARCHAR,
    team                VARCHAR,
    project             VARCHAR,
    api_key_id          VARCHAR,
    currency            VARCHAR,
    unpriced_reason     VARCHAR,             -- NULL for priced calls
    calls               BIGINT NOT NULL,
    failed_calls        BIGINT NOT NULL,
    unpriced_calls      BIGINT NOT NULL,
    input_tokens        HUGEINT NOT NULL,
    cache_read_tokens   HUGEINT NOT NULL,
    cache_write_tokens  HUGEINT NOT NULL,
    output_tokens       HUGEINT NOT NULL,
    reasoning_tokens    HUGEINT NOT NULL,
    input_cost          DECIMAL(38, 15),
    cache_read_cost     DECIMAL(38, 15),
    cache_write_cost    DECIMAL(38, 15),
    output_cost         DECIMAL(38, 15),
    request_cost        DECIMAL(38, 15),
    total_cost          DECIMAL(38, 15),
    cache_savings       DECIMAL(38, 15),
    reported_cost       DECIMAL(38, 15)
);

-- The price load each usage batch was last billed with: a batch billed before the latest
-- price load carries stale costs until `ratecard bill --rebill`, and reports say so.
ALTER TABLE batches ADD COLUMN billed_with_prices BIGINT;
