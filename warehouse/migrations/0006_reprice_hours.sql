-- Schema 6: token sums per UTC hour and input-size band, for repricing. "What would these
-- calls have cost at another provider?" prices every call at the other provider's rates;
-- the price of a call is linear in its token counts, so the calls of one hour whose input
-- sizes fall in one tier of the other provider's prices cost that tier's rates times their
-- summed tokens, exactly. Sums per hour and band let the dashboard reprice ten million
-- calls from about a hundred thousand rows (pricing/reprice.py says when it can).

-- The input-size band of a call with this many input tokens: the band's lower edge,
-- exclusive, as price_rates' tier_lo (-1 below the first edge). The edges are the tier
-- thresholds providers use (decimal and binary 32K, 128K, 256K, 512K and 1M; 200K; 272K): a
-- band never straddles a tier whose thresholds are edges. A price with another threshold is
-- repriced per call. Changing the edges needs a new migration that rebuilds reprice_hours.
CREATE MACRO input_band(tokens) AS
    CASE
        WHEN tokens <= 32000 THEN -1
        WHEN tokens <= 32768 THEN 32000
        WHEN tokens <= 128000 THEN 32768
        WHEN tokens <= 131072 THEN 128000
        WHEN tokens <= 200000 THEN 131072
        WHEN tokens <= 256000 THEN 200000
        WHEN tokens <= 262144 THEN 256000
        WHEN tokens <= 272000 THEN 262144
        WHEN tokens <= 512000 THEN 272000
        WHEN tokens <= 524288 THEN 512000
        WHEN tokens <= 1000000 THEN 524288
        WHEN tokens <= 1048576 THEN 1000000
        ELSE 1048576
    END;

-- Like daily_rollup, one set of rows per billed batch; only priced calls (a repricing
-- compares what calls cost with what they would have cost).
CREATE TABLE reprice_hours (
    batch_id            BIGINT NOT NULL,
    hour                TIMESTAMPTZ NOT NULL,   -- the UTC hour the calls started in
    provider            VARCHAR NOT NULL,       -- where the calls ran
    canonical_model     VARCHAR NOT NULL,
    variant             VARCHAR NOT NULL,
    team                VARCHAR,
    project             VARCHAR,
    failed              BOOLEAN NOT NULL,
    input_band          BIGINT NOT NULL,        -- input_band(input_tokens)
    calls               BIGINT NOT NULL,
    input_tokens        HUGEINT NOT NULL,
    cache_read_tokens   HUGEINT NOT NULL,
    cache_write_tokens  HUGEINT NOT NULL,
    output_tokens       HUGEINT NOT NULL,
    total_cost          DECIMAL(38, 15) NOT NULL  -- what the calls cost where they ran
);

-- a warehouse billed before this schema: its hours, from the bills it holds
INSERT INTO reprice_hours
SELECT
    c.batch_id, date_trunc('hour', c.ts), c.provider, b.canonical_model, b.variant, c.team,
    c.project, c.status = 'failed', input_band(c.input_tokens), count(*),
    sum(c.input_tokens), sum(c.cache_read_tokens), sum(c.cache_write_tokens),
    sum(c.output_tokens), sum(b.total_cost)
FROM calls AS c
JOIN call_costs AS b USING (batch_id, source_line, source_item)
WHERE b.priced
GROUP BY ALL;
