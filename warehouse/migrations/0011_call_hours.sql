-- Schema 11: the calls' token sums per usage batch, UTC hour, attribution, failure and
-- input-size band (`call_hours`), written by ingest with the calls, so that billing can
-- price an hour's calls from their sums instead of looking up the price of every call again.
--
-- A call's bill is linear in its token counts. When every price starts and ends on a whole
-- UTC hour and every tier threshold is an edge of the input-size bands (input_band,
-- migration 0006), all the calls of one row fall under one price point, so the row's sums at
-- that point's rates cost exactly what its calls cost one by one (pricing/sql/grid_units.sql;
-- pricing/engine.py checks the sheets with price_on_the_grid and otherwise sums the calls).
-- Rebilling ten million calls then prices about 230,000 rows instead of grouping ten million
-- calls by their price point (2.2 s to 0.2 s).

-- true when a price (a price_rates row) covers whole UTC hours and whole input-size bands:
-- it starts and ends on the hour, and each tier threshold is a band edge (tier_lo = -1:
-- no lower threshold; tier_hi = the largest BIGINT: no upper one). Sessions run in UTC.
CREATE MACRO price_on_the_grid(effective_from, effective_to, tier_lo, tier_hi) AS
    date_trunc('hour', effective_from) = effective_from
    AND (isinf(effective_to) OR date_trunc('hour', effective_to) = effective_to)
    AND (tier_lo = -1 OR input_band(tier_lo + 1) = tier_lo)
    AND (tier_hi = 9223372036854775807 OR input_band(tier_hi + 1) = tier_hi);

-- Like daily_rollup, one set of rows per usage batch, so a new batch appends rows in
-- proportion to its size. Every call is counted, priced or not: the sums do not depend on
-- the prices, and a rebill reads them as they are.
CREATE TABLE call_hours (
    batch_id            BIGINT NOT NULL,
    hour                TIMESTAMPTZ NOT NULL,   -- the UTC hour the calls started in
    provider            VARCHAR NOT NULL,
    model               VARCHAR NOT NULL,       -- as the provider named it
    team                VARCHAR,
    project             VARCHAR,
    api_key_id          VARCHAR,
    failed              BOOLEAN NOT NULL,       -- status = 'failed'
    input_band          BIGINT NOT NULL,        -- input_band(input_tokens)
    calls               BIGINT NOT NULL,
    input_tokens        HUGEINT NOT NULL,
    cache_read_tokens   HUGEINT NOT NULL,
    cache_write_tokens  HUGEINT NOT NULL,
    output_tokens       HUGEINT NOT NULL,
    reasoning_tokens    HUGEINT NOT NULL,
    reported_cost       DECIMAL(38, 15)         -- NULL when no call of the row reported one
);

-- the calls already loaded, summed as ingest/sql/call_hours.sql sums a new batch's
INSERT INTO call_hours
SELECT
    batch_id,
    make_timestamptz(
        epoch_us(ts) - (epoch_us(ts) % 3600000000 + 3600000000) % 3600000000
    ) AS hour,
    provider, model, team, project, api_key_id,
    status = 'failed' AS failed,
    input_band(input_tokens) AS input_band,
    count(*),
    sum(input_tokens), sum(cache_read_tokens), sum(cache_write_tokens), sum(output_tokens),
    sum(reasoning_tokens), sum(reported_cost)
FROM calls
GROUP BY ALL;
