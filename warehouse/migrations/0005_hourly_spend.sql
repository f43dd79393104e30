-- Schema 5: partial sums per UTC hour, for budgets. A budget's day starts at midnight in
-- its own time zone; where that zone's offset is a whole number of hours, its days are sums
-- of whole UTC hours, so a budget check reads these hours instead of every call of the last
-- two months. Like daily_rollup, one set of rows per billed batch; readers SUM over them.
CREATE TABLE hourly_spend (
    batch_id         BIGINT NOT NULL,
    hour             TIMESTAMPTZ NOT NULL,   -- the UTC hour the calls started in
    provider         VARCHAR NOT NULL,
    model            VARCHAR NOT NULL,
    canonical_model  VARCHAR,
    team             VARCHAR,
    project          VARCHAR,
    api_key_id       VARCHAR,
    currency         VARCHAR,
    calls            BIGINT NOT NULL,
    unpriced_calls   BIGINT NOT NULL,
    total_cost       DECIMAL(38, 15)          -- of the priced calls; NULL when none is priced
);

-- a warehouse billed before this schema: its hours, from the bills it holds
INSERT INTO hourly_spend
SELECT
    c.batch_id, date_trunc('hour', c.ts), c.provider, c.model, b.canonical_model, c.team,
    c.project, c.api_key_id, b.currency, count(*), count(*) FILTER (WHERE NOT b.priced),
    sum(b.total_cost)
FROM calls AS c
JOIN call_costs AS b USING (batch_id, source_line, source_item)
GROUP BY ALL;
