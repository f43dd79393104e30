-- Schema 10: a bill no longer stores its amounts. A call's bill is linear in its token
-- counts, so the price point that priced it, with the per-token rates it was billed at,
-- and the call's own counts give every amount exactly; the views compute them on read
-- with the formula billing uses (pricing/sql/costed.sql). Writing six DECIMAL(38, 15)
-- amounts per call was 2.6 s of the 4.4 s that billing ten million calls took, at every
-- ingest and rebill; computing them while reading costs less than reading them did.
--
-- `bill_points` gain the rates, so a point is the whole price a bill used: two sheets that
-- price the same model, variant and start differently (another provider, or the same sheet
-- before and after a change) are two points, and a bill made before a sheet change keeps
-- its amounts until `ratecard bill --rebill`.
--
-- `calls_costed` is every call with its bill's columns (NULL for a call not billed yet);
-- `call_costs` keeps the columns and values it has had since schema 2.

-- The bills so far stored their amounts. The rates that give back exactly those amounts
-- from each call's counts: an amount divided by its token count, exactly (the division is
-- done on the amounts scaled to integers, 10^15 to the dollar, and checked). A component
-- with no tokens, or a failed call billed nothing, says nothing of its rate: it takes the
-- one rate the other calls of its point were billed at (0 if they disagree or there are
-- none), so that a point billed at one price stays one point. A failed call billed nothing
-- gets a point that does not bill failures, every other call one that does (an ok call is
-- billed either way), so that readers that ask whether a call was charged (the FOCUS
-- export) get the answer its bill gave. Only the distinct rates are made decimals again.
CREATE TEMP MACRO scaled(amount) AS
    CASE WHEN amount < 100000000
         THEN CAST(amount * 1000000000000000 AS HUGEINT)
         ELSE CAST(replace(CAST(amount AS VARCHAR), '.', '') AS HUGEINT) END;

CREATE TEMP MACRO scaled_rate(amount, tokens) AS
    CASE
        WHEN tokens = 0 AND amount <> 0
            THEN error('schema 10 migration: a cost of ' || amount || ' for no tokens')
        WHEN tokens = 0 THEN NULL
        WHEN scaled(amount) % tokens <> 0
            THEN error('schema 10 migration: a cost of ' || amount || ' is not a whole rate for '
                       || tokens || ' tokens')
        ELSE scaled(amount) // tokens
    END;

CREATE TEMP MACRO unscaled_text(digits) AS  -- at least 16 digits, then a point before the last 15
    substring(digits, 1, length(digits) - 15) || '.' || right(digits, 15);

CREATE TEMP MACRO unscaled(rate) AS
    CAST(unscaled_text(repeat('0', greatest(0, 16 - length(CAST(rate AS VARCHAR))))
                       || CAST(rate AS VARCHAR)) AS DECIMAL(38, 15));

CREATE TEMP TABLE migrated_bills AS
SELECT
    b.batch_id, b.source_line, b.source_item, b.point_id,
    c.status = 'ok' OR b.input_cost <> 0 OR b.cache_read_cost <> 0 OR b.cache_write_cost <> 0
        OR b.output_cost <> 0 OR b.request_cost <> 0 OR b.cache_savings <> 0 AS charged,
    CASE WHEN charged THEN scaled_rate(
        b.input_cost, c.input_tokens - c.cache_read_tokens - c.cache_write_tokens) END
        AS input_pt,
    CASE WHEN charged THEN scaled_rate(b.cache_read_cost, c.cache_read_tokens) END
        AS cache_read_pt,
    CASE WHEN charged THEN scaled_rate(b.cache_write_cost, c.cache_write_tokens) END
        AS cache_write_pt,
    CASE WHEN charged THEN scaled_rate(b.output_cost, c.output_tokens) END AS output_pt,
    CASE WHEN charged THEN scaled(b.request_cost) END AS request_fee,
    CASE WHEN charged THEN scaled_rate(b.cache_savings, c.cache_read_tokens) END AS saved_pt
FROM call_bills AS b
JOIN calls AS c USING (batch_id, source_line, source_item)
WHERE b.point_id IS NOT NULL;

-- each old point's rate for a component, where all its calls that say agree
CREATE TEMP TABLE point_rates AS
SELECT
    point_id,
    CASE WHEN count(DISTINCT input_pt) = 1 THEN min(input_pt) ELSE 0 END AS input_pt,
    CASE WHEN count(DISTINCT cache_read_pt) = 1 THEN min(cache_read_pt) ELSE 0 END
        AS cache_read_pt,
    CASE WHEN count(DISTINCT cache_write_pt) = 1 THEN min(cache_write_pt) ELSE 0 END
        AS cache_write_pt,
    CASE WHEN count(DISTINCT output_pt) = 1 THEN min(output_pt) ELSE 0 END AS output_pt,
    CASE WHEN count(DISTINCT request_fee) = 1 THEN min(request_fee) ELSE 0 END AS request_fee,
    CASE WHEN count(DISTINCT saved_pt) = 1 THEN min(saved_pt) ELSE 0 END AS saved_pt
FROM migrated_bills
GROUP BY point_id;

CREATE TEMP TABLE migrated_rates AS
SELECT
    m.batch_id, m.source_line, m.source_item, p.canonical_model, p.variant, p.unit_tokens,
    p.currency, p.price_from, p.tier_above,
    m.charged AS failed_calls_billed,
    coalesce(m.input_pt, d.input_pt) AS input_pt,
    coalesce(m.cache_read_pt, d.cache_read_pt) AS cache_read_pt,
    coalesce(m.cache_write_pt, d.cache_write_pt) AS cache_write_pt,
    coalesce(m.output_pt, d.output_pt) AS output_pt,
    coalesce(m.request_fee, d.request_fee) AS request_fee,
    coalesce(m.saved_pt, d.saved_pt) AS saved_pt
FROM migrated_bills AS m
JOIN point_rates AS d USING (point_id)
JOIN bill_points AS p USING (point_id);

CREATE TEMP TABLE migrated_points AS
SELECT
    row_number() OVER (
        ORDER BY canonical_model, variant, price_from, tier_above, input_pt, cache_read_pt,
                 cache_write_pt, output_pt, request_fee, saved_pt, failed_calls_billed,
                 unit_tokens, currency
    )::INTEGER AS point_id,
    *
FROM (
    SELECT DISTINCT canonical_model, variant, unit_tokens, currency, price_from, tier_above,
           failed_calls_billed, input_pt, cache_read_pt, cache_write_pt, output_pt,
           request_fee, saved_pt
    FROM migrated_rates
);

CREATE TABLE bill_points_v10 (
    point_id             INTEGER NOT NULL,
    canonical_model      VARCHAR,
    variant              VARCHAR,
    unit_tokens          INTEGER,
    currency             VARCHAR,
    price_from           TIMESTAMPTZ,            -- effective_from of the price point
    tier_above           BIGINT,                 -- its tier threshold; NULL for the base price
    failed_calls_billed  BOOLEAN,                -- does the provider bill failed calls?
    input_pt             DECIMAL(38, 15),        -- per input token (not read from cache)
    cache_read_pt        DECIMAL(38, 15),        -- per token read from the cache
    cache_write_pt       DECIMAL(38, 15),        -- per token written to the cache
    output_pt            DECIMAL(38, 15),        -- per output token
    request_fee          DECIMAL(38, 15),        -- per call
    saved_pt             DECIMAL(38, 15)         -- what the cache saves per token read
);

INSERT INTO bill_points_v10
SELECT
    point_id, canonical_model, variant, unit_tokens, currency, price_from, tier_above,
    failed_calls_billed,
    unscaled(input_pt), unscaled(cache_read_pt), unscaled(cache_write_pt),
    unscaled(output_pt), unscaled(request_fee), unscaled(saved_pt)
FROM migrated_points;

-- One row per billed call: the point that priced it, or why none did.
CREATE TABLE call_bills_v10 (
    batch_id          BIGINT NOT NULL,
    source_line       BIGINT NOT NULL,
    source_item       INTEGER NOT NULL,
    point_id          INTEGER,        -- NULL: no price point covered the call
    unpriced_reason   VARCHAR
);

INSERT INTO call_bills_v10
SELECT b.batch_id, b.source_line, b.source_item, p.point_id, b.unpriced_reason
FROM call_bills AS b
LEFT JOIN migrated_rates AS m USING (batch_id, source_line, source_item)
LEFT JOIN migrated_points AS p
    ON  m.batch_id IS NOT NULL
    AND p.canonical_model IS NOT DISTINCT FROM m.canonical_model
    AND p.variant IS NOT DISTINCT FROM m.variant
    AND p.unit_tokens IS NOT DISTINCT FROM m.unit_tokens
    AND p.currency IS NOT DISTINCT FROM m.currency
    AND p.price_from IS NOT DISTINCT FROM m.price_from
    AND p.tier_above IS NOT DISTINCT FROM m.tier_above
    AND p.failed_calls_billed = m.failed_calls_billed
    AND p.input_pt = m.input_pt
    AND p.cache_read_pt = m.cache_read_pt
    AND p.cache_write_pt = m.cache_write_pt
    AND p.output_pt = m.output_pt
    AND p.request_fee = m.request_fee
    AND p.saved_pt = m.saved_pt;

DROP VIEW call_costs;
DROP TABLE call_bills;
DROP TABLE bill_points;
DROP TABLE migrated_rates;
DROP TABLE migrated_bills;
DROP TABLE point_rates;
DROP TABLE migrated_points;
DROP MACRO scaled_rate;
DROP MACRO unscaled;
DROP MACRO unscaled_text;
DROP MACRO scaled;
ALTER TABLE bill_points_v10 RENAME TO bill_points;
ALTER TABLE call_bills_v10 RENAME TO call_bills;

-- Every call with its bill: `billed` says whether it has one; `priced` whether a price
-- point covered it (NULL until billed). The amounts are the formula of costed.sql for one
-- call: its counts times its point's rates when it is charged, 0 when it is priced but free
-- (a failed call at a provider that does not bill failures), NULL when it is unpriced.
-- Readers that join calls to their costs read this instead, in one join.
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
                   output_pt, request_fee, saved_pt),
        CASE WHEN charged
                 THEN (input_tokens - cache_read_tokens - cache_write_tokens) * input_pt
             WHEN priced THEN 0 END::DECIMAL(38, 15) AS input_cost,
        CASE WHEN charged THEN cache_read_tokens * cache_read_pt
             WHEN priced THEN 0 END::DECIMAL(38, 15) AS cache_read_cost,
        CASE WHEN charged THEN cache_write_tokens * cache_write_pt
             WHEN priced THEN 0 END::DECIMAL(38, 15) AS cache_write_cost,
        CASE WHEN charged THEN output_tokens * output_pt
             WHEN priced THEN 0 END::DECIMAL(38, 15) AS output_cost,
        CASE WHEN charged THEN 1 * request_fee
             WHEN priced THEN 0 END::DECIMAL(38, 15) AS request_cost,
        CASE WHEN charged THEN cache_read_tokens * saved_pt
             WHEN priced THEN 0 END::DECIMAL(38, 15) AS cache_savings
    FROM joined
)

SELECT
    * EXCLUDE (cache_savings),
    input_cost + cache_read_cost + cache_write_cost + output_cost + request_cost AS total_cost,
    cache_savings
FROM amounts;

-- Each billed call's costs, with the price point named in full: the table it was before
-- schema 9, column for column.
CREATE VIEW call_costs AS
SELECT
    batch_id, source_line, source_item, priced, unpriced_reason, canonical_model, variant,
    unit_tokens, currency, price_from, tier_above, input_cost, cache_read_cost,
    cache_write_cost, output_cost, request_cost, total_cost, cache_savings
FROM calls_costed
WHERE billed;
