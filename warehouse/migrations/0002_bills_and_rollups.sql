-- Schema 2: what billing derives from the facts. Both tables are rebuilt by `bill --rebill`.

-- One row per call: the price point that applied and each cost component, at full
-- precision. priced = false means no price point covered the call: costs are NULL, never 0.
CREATE TABLE call_costs (
    call_id           VARCHAR NOT NULL,
    batch_id          BIGINT NOT NULL,
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
    total_cost        DECIMAL(38, 15)
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
    reported_cost       DECIMAL(38, 15)
);

-- The price load each usage batch was last billed with: a batch billed before the latest
-- price load carries stale costs until `ratecard bill --rebill`, and reports say so.
ALTER TABLE batches ADD COLUMN billed_with_prices BIGINT;
