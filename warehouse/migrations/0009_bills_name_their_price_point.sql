-- Schema 9: each call's bill names the price point that priced it by a number instead of
-- repeating its canonical model, variant, unit, currency, start and tier, and no longer
-- stores its total, the sum of its five components. Writing those text columns and the
-- total took a third of writing the costs of ten million calls (5.6-6.6 s with them,
-- 3.7-4.1 s without), at every ingest and rebill.
--
-- `call_costs`, which every reader uses, is now a view with the same columns and values.

-- The price points bills name: a number for each (canonical model, variant, unit,
-- currency, start, tier) that has priced a call. Billing adds the points of the current
-- sheets (pricing/engine.py); a rebill starts the numbering afresh. A point stays here
-- after its sheet is replaced, so a call billed before the change (stale until
-- `ratecard bill --rebill`) still says which point priced it.
CREATE TABLE bill_points (
    point_id         INTEGER NOT NULL,
    canonical_model  VARCHAR,
    variant          VARCHAR,
    unit_tokens      INTEGER,
    currency         VARCHAR,
    price_from       TIMESTAMPTZ,            -- effective_from of the price point
    tier_above       BIGINT                  -- its tier threshold; NULL for the base price
);

-- One row per call: the point that priced it and each cost component, at full precision.
-- point_id NULL means no price point covered the call: costs are NULL, never 0, and
-- unpriced_reason says why.
CREATE TABLE call_bills (
    batch_id          BIGINT NOT NULL,
    source_line       BIGINT NOT NULL,
    source_item       INTEGER NOT NULL,
    point_id          INTEGER,
    unpriced_reason   VARCHAR,
    input_cost        DECIMAL(38, 15),
    cache_read_cost   DECIMAL(38, 15),
    cache_write_cost  DECIMAL(38, 15),
    output_cost       DECIMAL(38, 15),
    request_cost      DECIMAL(38, 15),
    cache_savings     DECIMAL(38, 15)   -- cache reads at the input rate minus what they cost
);

INSERT INTO bill_points
SELECT
    row_number() OVER (
        ORDER BY canonical_model, variant, unit_tokens, currency, price_from, tier_above
    ),
    *
FROM (
    SELECT DISTINCT canonical_model, variant, unit_tokens, currency, price_from, tier_above
    FROM call_costs
    WHERE priced
);

-- the bills so far, each total being the sum of its components as billing computed it
INSERT INTO call_bills
SELECT
    b.batch_id, b.source_line, coalesce(b.source_item, 0), p.point_id, b.unpriced_reason,
    b.input_cost, b.cache_read_cost, b.cache_write_cost, b.output_cost, b.request_cost,
    b.cache_savings
FROM call_costs AS b
LEFT JOIN bill_points AS p
    ON  b.priced
    AND p.canonical_model IS NOT DISTINCT FROM b.canonical_model
    AND p.variant IS NOT DISTINCT FROM b.variant
    AND p.unit_tokens IS NOT DISTINCT FROM b.unit_tokens
    AND p.currency IS NOT DISTINCT FROM b.currency
    AND p.price_from IS NOT DISTINCT FROM b.price_from
    AND p.tier_above IS NOT DISTINCT FROM b.tier_above;

DROP TABLE call_costs;

-- Each call's costs as billing computed them, with the price point named in full: the
-- table it was before schema 9, column for column.
CREATE VIEW call_costs AS
SELECT
    b.batch_id,
    b.source_line,
    b.source_item,
    b.point_id IS NOT NULL AS priced,
    b.unpriced_reason,
    p.canonical_model,
    p.variant,
    p.unit_tokens,
    p.currency,
    p.price_from,
    p.tier_above,
    b.input_cost,
    b.cache_read_cost,
    b.cache_write_cost,
    b.output_cost,
    b.request_cost,
    b.input_cost + b.cache_read_cost + b.cache_write_cost + b.output_cost + b.request_cost
        AS total_cost,
    b.cache_savings
FROM call_bills AS b
LEFT JOIN bill_points AS p USING (point_id);
