-- The baseline schema: what the fifteen migrations written before the first release built,
-- as one file (ADR 0060). A warehouse made by those migrations is at version 15 with exactly
-- this schema, so it opens as it is; later changes are numbered migrations after this one.
-- warehouse/schema.sql is the generated description of the current schema.
--
-- Money: rates are DECIMAL(18,9) in the sheet's unit (per 1K or per 1M tokens); per-token
-- rates and amounts are DECIMAL(38,15), exact for any per-token rate derived from such a
-- rate (ADR 0004). Columns stand in the order the migrations added them, so that a
-- warehouse built by either path has the same tables.

CREATE TABLE schema_migrations (
    version     INTEGER PRIMARY KEY,
    name        VARCHAR NOT NULL,
    applied_at  TIMESTAMPTZ NOT NULL
);


-- Facts -------------------------------------------------------------------------------------

CREATE SEQUENCE batch_id_seq START 1;

-- One row per ingest run (usage file or price-sheet load), with its conservation counts:
-- records_read = loaded + duplicates + quarantined (ADR 0007). billed_with_prices: the price
-- load the usage batch was last billed with (NULL until billed); a batch billed before its
-- calls' prices changed is stale until `ratecard bill --rebill` (ADR 0029).
CREATE TABLE batches (
    batch_id            BIGINT PRIMARY KEY,
    kind                VARCHAR NOT NULL CHECK (kind IN ('usage', 'prices')),
    source              VARCHAR NOT NULL,
    format              VARCHAR NOT NULL,
    started_at          TIMESTAMPTZ NOT NULL,
    finished_at         TIMESTAMPTZ NOT NULL,
    records_read        BIGINT NOT NULL,
    loaded              BIGINT NOT NULL,
    duplicates          BIGINT NOT NULL,
    quarantined         BIGINT NOT NULL,
    billed_with_prices  BIGINT,
    CHECK (records_read = loaded + duplicates + quarantined)
);

-- The normalised call (ARCHITECTURE.md). call_id is unique: ingest, the only writer,
-- guarantees it instead of an index, finding a new file's ids among every call loaded by
-- their 64-bit call_key, which scans far cheaper than the text ids, and confirming each
-- match on call_id itself, so two ids sharing a key are never taken for one call (ADR 0015).
-- A line can hold several calls (a Runware body with numberResults > 1, an OTLP export with
-- many spans): source_item numbers them from 0, and (batch_id, source_line, source_item)
-- identifies a call's row.
CREATE TABLE calls (
    call_id                VARCHAR NOT NULL,
    ts                     TIMESTAMPTZ NOT NULL,
    provider               VARCHAR NOT NULL,
    model                  VARCHAR NOT NULL,
    status                 VARCHAR NOT NULL CHECK (status IN ('ok', 'failed')),
    http_status            SMALLINT,
    error_type             VARCHAR,
    input_tokens           BIGINT NOT NULL,   -- all input, cached included
    cache_read_tokens      BIGINT NOT NULL,   -- part of input_tokens
    cache_write_tokens     BIGINT NOT NULL,   -- part of input_tokens
    output_tokens          BIGINT NOT NULL,   -- all output, reasoning included
    reasoning_tokens       BIGINT NOT NULL,   -- part of output_tokens
    reported_cost          DECIMAL(38, 15),   -- the provider's own figure, when the log has one
    team                   VARCHAR,
    project                VARCHAR,
    api_key_id             VARCHAR,           -- a fingerprint of the key, never the key
    tags                   JSON,
    source                 VARCHAR NOT NULL,
    source_line            BIGINT,
    batch_id               BIGINT NOT NULL,
    source_item            INTEGER DEFAULT 0,
    call_key               UBIGINT,           -- id_key(call_id); set by ingest
    -- the part of cache_write_tokens written for an hour (Anthropic's 1-hour lifetime, at its
    -- own list price); the rest were written for 5 minutes
    cache_write_1h_tokens  BIGINT NOT NULL DEFAULT 0,
    -- why the call's usage is unknown (a stream that ended normally without usage: charged,
    -- but what it cost cannot be told); NULL: the counts are the call's usage. Such a call
    -- is loaded with counts 0 and billed as unpriced with this reason, never as free.
    no_usage_reason        VARCHAR
);

-- Records that could not be loaded, each with a reason a person can act on. Secrets are
-- redacted from raw before it is stored; record_hash (md5 of the record as read) lets a
-- re-ingest count a record quarantined before as a duplicate instead of quarantining it twice.
CREATE TABLE quarantine (
    batch_id     BIGINT NOT NULL,
    source       VARCHAR NOT NULL,
    source_line  BIGINT,
    call_id      VARCHAR,
    reason       VARCHAR NOT NULL,
    raw          VARCHAR,
    record_hash  VARCHAR NOT NULL,
    source_item  INTEGER DEFAULT 0
);

-- One row per price point: a (provider, model) price over [effective_from, effective_to),
-- optionally a long-context tier that applies when input_tokens > above_input_tokens.
CREATE TABLE price_points (
    provider             VARCHAR NOT NULL,
    model                VARCHAR NOT NULL,   -- wire id at this provider
    canonical_model      VARCHAR NOT NULL,
    variant              VARCHAR NOT NULL,
    unit_tokens          INTEGER NOT NULL CHECK (unit_tokens IN (1000, 1000000)),
    currency             VARCHAR NOT NULL,
    effective_from       TIMESTAMPTZ NOT NULL,
    effective_to         TIMESTAMPTZ NOT NULL,   -- exclusive; 'infinity' while current
    above_input_tokens   BIGINT,                 -- NULL: the base price; else a tier threshold
    input_rate           DECIMAL(18, 9) NOT NULL,
    output_rate          DECIMAL(18, 9) NOT NULL,
    cache_read_rate      DECIMAL(18, 9),         -- NULL: no cache discount, input rate applies
    cache_write_rate     DECIMAL(18, 9),         -- NULL: cache writes bill at the input rate
    request_rate         DECIMAL(18, 9),         -- per call; NULL: no per-call fee
    failed_calls_billed  BOOLEAN NOT NULL,
    example_rate         BOOLEAN NOT NULL,       -- true where the provider publishes no rate
    source               VARCHAR,                -- where the price comes from (URL or document)
    checked_on           DATE,
    note                 VARCHAR,
    sheet                VARCHAR NOT NULL,       -- the file it was loaded from
    batch_id             BIGINT NOT NULL,
    -- NULL: 1-hour cache writes bill at the cache-write rate (and without one, the input rate)
    cache_write_1h_rate  DECIMAL(18, 9)
);

-- Other wire ids of a priced model at one provider (`minimax:m3@0` is `minimax-m3` at
-- runware), from the `aliases` of the price sheets; replaced with the provider's prices.
-- Billing lists each price under every id priced as its model, so a call finds its price in
-- one join (ADR 0020).
CREATE TABLE model_aliases (
    provider  VARCHAR NOT NULL,
    alias     VARCHAR NOT NULL,
    model     VARCHAR NOT NULL,   -- the model id its price points carry
    batch_id  BIGINT NOT NULL,
    PRIMARY KEY (provider, alias)
);

-- Which price load last changed what bills each provider's calls. A load that gives a
-- provider the same prices (the same sheets again, or a catalog of another provider) leaves
-- its row alone; one that changes a rate, a period, a tier, a model's canonical name or
-- variant, or an alias moves it to that load (ingest/sql/changed_prices.sql). A usage batch
-- billed before its calls' provider's row is stale until `ratecard bill --rebill`
-- (pricing/engine.py stale_calls, ADR 0029).
CREATE TABLE price_changes (
    provider    VARCHAR PRIMARY KEY,
    changed_by  BIGINT NOT NULL      -- batch_id of the price load
);

-- Where each paginated usage pull stands, saved in the transaction that loads a page, so an
-- interrupted pull resumes without gaps or double loads. `cursor` is the cursor of the next
-- page to fetch (NULL: the first page); once the export has been read to its end it stays at
-- the last page's cursor, so the next pull re-reads that page (its calls are duplicates) and
-- picks up whatever the export has appended since (ADR 0037).
CREATE TABLE pull_cursors (
    url         VARCHAR PRIMARY KEY,
    cursor      VARCHAR,
    finished    BOOLEAN NOT NULL,   -- the last page fetched said there was no next one
    pages       BIGINT NOT NULL,
    records     BIGINT NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);


-- Bills --------------------------------------------------------------------------------------

-- The price points bills name: a number for each price that has priced a call, rates
-- included, so that a bill's amounts follow from its point and the call's counts. Billing
-- adds the points of the current sheets (pricing/sql/bill_points.sql); a rebill numbers them
-- afresh. A point stays after its sheet is replaced, so a call billed before the change
-- (stale until `ratecard bill --rebill`) keeps its amounts. A bill names its point by number
-- and stores no total: writing the point's text columns and the total with every bill, at
-- every ingest and rebill, was a large part of billing (ADR 0023).
CREATE TABLE bill_points (
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
    saved_pt             DECIMAL(38, 15),        -- what the cache saves per token read
    cache_write_1h_pt    DECIMAL(38, 15)         -- per token written to the cache for an hour
);

-- One row per billed call: the point that priced it, or why none did. A bill stores only its
-- price point, whose per-token rates give every amount exactly; the views below compute the
-- amounts on read, which costs less than writing and reading them (ADR 0024). Bills are
-- joined to their calls on (batch_id, source_line, source_item), so they do not repeat the
-- text call_id, which only cost every rebill time (ADR 0022).
CREATE TABLE call_bills (
    batch_id          BIGINT NOT NULL,
    source_line       BIGINT NOT NULL,
    source_item       INTEGER NOT NULL,
    point_id          INTEGER,        -- NULL: no price point covered the call
    unpriced_reason   VARCHAR
);


-- Partial sums (ADR 0028): one set of rows per usage or billed batch; readers SUM over them,
-- so that a new batch appends rows in proportion to its size. ---------------------------------

-- Partial daily sums of the billed calls, for reports and the dashboard.
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

-- Partial sums per UTC hour, for budgets. A budget's day starts at midnight in its own time
-- zone; where that zone's offset is a whole number of hours, its days are sums of whole UTC
-- hours, so a budget check reads these hours instead of every call (ADR 0031).
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

-- The input-size band of a call with this many input tokens: the band's lower edge,
-- exclusive, as price_rates' tier_lo (-1 below the first edge). The edges are the tier
-- thresholds providers use (decimal and binary 32K, 128K, 256K, 512K and 1M; 200K; 272K): a
-- band never straddles a tier whose thresholds are edges. A price with another threshold is
-- priced and repriced per call. Changing the edges needs a migration that rebuilds
-- call_hours and reprice_hours.
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

-- Token sums per UTC hour and input-size band of the priced calls, for repricing. "What
-- would these calls have cost at another provider?" prices every call at the other
-- provider's rates; the price of a call is linear in its token counts, so the calls of one
-- hour whose input sizes fall in one tier of the other provider's prices cost that tier's
-- rates times their summed tokens, exactly. Sums per hour and band let repricing read far
-- fewer rows than calls whenever that is exact (pricing/reprice.py says when), ADR 0030.
CREATE TABLE reprice_hours (
    batch_id               BIGINT NOT NULL,
    hour                   TIMESTAMPTZ NOT NULL,   -- the UTC hour the calls started in
    provider               VARCHAR NOT NULL,       -- where the calls ran
    canonical_model        VARCHAR NOT NULL,
    variant                VARCHAR NOT NULL,
    team                   VARCHAR,
    project                VARCHAR,
    failed                 BOOLEAN NOT NULL,
    input_band             BIGINT NOT NULL,        -- input_band(input_tokens)
    calls                  BIGINT NOT NULL,
    input_tokens           HUGEINT NOT NULL,
    cache_read_tokens      HUGEINT NOT NULL,
    cache_write_tokens     HUGEINT NOT NULL,
    output_tokens          HUGEINT NOT NULL,
    total_cost             DECIMAL(38, 15) NOT NULL,  -- what the calls cost where they ran
    cache_write_1h_tokens  HUGEINT NOT NULL DEFAULT 0
);

-- The calls' token sums per usage batch, UTC hour, attribution, failure and input-size band,
-- written by ingest with the calls (pricing/sql/hour_sums.sql), so that billing can price an
-- hour's calls from their sums instead of looking up the price of every call again. When
-- every price starts and ends on a whole UTC hour and every tier threshold is a band edge,
-- all the calls of one row fall under one price point, so the row's sums at that point's
-- rates cost exactly what its calls cost one by one (pricing/sql/grid_units.sql;
-- pricing/engine.py checks the sheets with price_on_the_grid and otherwise sums the calls).
-- A rebill then prices these rows instead of grouping every call by its price point
-- (ADR 0027). Every call is counted, priced or not: the sums do not depend on the prices. A
-- row's calls are all with usage or all without (no_usage_reason), so that billing its sums
-- prices them or leaves them unpriced together.
CREATE TABLE call_hours (
    batch_id               BIGINT NOT NULL,
    hour                   TIMESTAMPTZ NOT NULL,   -- the UTC hour the calls started in
    provider               VARCHAR NOT NULL,
    model                  VARCHAR NOT NULL,       -- as the provider named it
    team                   VARCHAR,
    project                VARCHAR,
    api_key_id             VARCHAR,
    failed                 BOOLEAN NOT NULL,       -- status = 'failed'
    input_band             BIGINT NOT NULL,        -- input_band(input_tokens)
    calls                  BIGINT NOT NULL,
    input_tokens           HUGEINT NOT NULL,
    cache_read_tokens      HUGEINT NOT NULL,
    cache_write_tokens     HUGEINT NOT NULL,
    output_tokens          HUGEINT NOT NULL,
    reasoning_tokens       HUGEINT NOT NULL,
    reported_cost          DECIMAL(38, 15),        -- NULL when no call of the row reported one
    cache_write_1h_tokens  HUGEINT NOT NULL DEFAULT 0,
    no_usage_reason        VARCHAR
);


-- Budgets and alerts (ratecard budgets check) ---------------------------------------------

-- Each check of each budget: its period, spend to date, forecast and state.
CREATE TABLE budget_checks (
    budget          VARCHAR NOT NULL,
    period_start    TIMESTAMPTZ NOT NULL,
    period_end      TIMESTAMPTZ NOT NULL,
    as_of           TIMESTAMPTZ NOT NULL,
    amount          DECIMAL(38, 15) NOT NULL,
    currency        VARCHAR NOT NULL,
    spend           DECIMAL(38, 15) NOT NULL,
    forecast        DECIMAL(38, 15) NOT NULL,
    unpriced_calls  BIGINT NOT NULL,
    state           VARCHAR NOT NULL,
    checked_at      TIMESTAMPTZ NOT NULL
);

-- One row per alert that ever fired. alert_key makes an alert unique: a threshold fires
-- once per (budget, period, threshold), a forecast once per episode, an anomaly once per day.
CREATE TABLE alerts (
    alert_key     VARCHAR PRIMARY KEY,
    kind          VARCHAR NOT NULL,   -- threshold | forecast | anomaly | unpriced | failure_spike
    budget        VARCHAR,
    message       VARCHAR NOT NULL,
    payload       JSON NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL
);

-- Delivery of each alert to each of its channels; retried on every run until delivered. A
-- channel is `hook_` and the first 16 hex digits of the SHA-256 of its whole URL (never the
-- URL: a Slack URL is a secret), or `env:NAME` for a URL read from an environment variable.
-- A delivery still pending from before channels were named by their whole URL is named
-- `host:<scheme://host>`, and the next `budgets check --notify` hands it to every channel of
-- its own alert's budget (or the hygiene channels) on that host (reports/alerts.py,
-- rehome_legacy), so none is lost and none goes to another team.
CREATE TABLE alert_deliveries (
    alert_key      VARCHAR NOT NULL,
    channel        VARCHAR NOT NULL,
    attempts       INTEGER NOT NULL,
    delivered_at   TIMESTAMPTZ,
    last_error     VARCHAR,
    -- the body's format (slack | json), chosen per budget: two budgets can send one URL
    -- different formats; NULL on deliveries recorded before it was kept (the channel's
    -- format in the budgets file then applies)
    format         VARCHAR,
    -- the fingerprint of the URL the delivery went to: an alert goes to one URL once, even
    -- when two of its channels (say two environment variables) hold the same URL
    target         VARCHAR,
    -- sends that got no answer in time after the request went out: the hook may have the
    -- alert. Such a send is not repeated within a run; the next run sends it again with the
    -- same idempotency key (at least once).
    unconfirmed    INTEGER DEFAULT 0,
    -- a run claims the deliveries it is about to send, commits, and sends without holding
    -- the warehouse; another run skips claimed deliveries until claimed_until (a crashed
    -- run's claims lapse, and what it may have sent is sent again: at least once)
    claimed_by     VARCHAR,
    claimed_until  TIMESTAMPTZ,
    PRIMARY KEY (alert_key, channel)
);

-- "forecast to exceed" episodes: open while the forecast stays above the budget; a new one,
-- and a new alert, only after it has cleared.
CREATE TABLE forecast_episodes (
    budget        VARCHAR NOT NULL,
    period_start  TIMESTAMPTZ NOT NULL,
    episode       INTEGER NOT NULL,
    opened_at     TIMESTAMPTZ NOT NULL,
    closed_at     TIMESTAMPTZ,
    PRIMARY KEY (budget, period_start, episode)
);


-- Macros --------------------------------------------------------------------------------------

-- true when a price (a price_rates row) covers whole UTC hours and whole input-size bands:
-- it starts and ends on the hour, and each tier threshold is a band edge (tier_lo = -1:
-- no lower threshold; tier_hi = the largest BIGINT: no upper one). Sessions run in UTC.
CREATE MACRO price_on_the_grid(effective_from, effective_to, tier_lo, tier_hi) AS
    date_trunc('hour', effective_from) = effective_from
    AND (isinf(effective_to) OR date_trunc('hour', effective_to) = effective_to)
    AND (tier_lo = -1 OR input_band(tier_lo + 1) = tier_lo)
    AND (tier_hi = 9223372036854775807 OR input_band(tier_hi + 1) = tier_hi);

-- A UBIGINT with its eight bytes in reverse order.
CREATE MACRO byte_swap_64(v) AS
    ((v & 255::UBIGINT) << 56) | (((v >> 8) & 255::UBIGINT) << 48)
    | (((v >> 16) & 255::UBIGINT) << 40) | (((v >> 24) & 255::UBIGINT) << 32)
    | (((v >> 32) & 255::UBIGINT) << 24) | (((v >> 40) & 255::UBIGINT) << 16)
    | (((v >> 48) & 255::UBIGINT) << 8) | (v >> 56);

-- The key of a call_id (calls.call_key): the first 64 bits of its MD5 read big-endian, a
-- function every DuckDB version computes alike, so a key stored today matches one computed
-- by a later ratecard (a test compares the keys with Python's hashlib). md5_number holds the
-- digest's bytes little-endian, so its low 64 bits are the first eight bytes in reverse
-- order: id_key reads the digest as a number instead of formatting and parsing hex digits,
-- the same keys for less work. The macro names its argument 15 times: call it in a plain
-- projection, never under CASE, where DuckDB computes md5_number once per reference
-- (ADR 0015).
CREATE MACRO id_key(id) AS
    byte_swap_64((md5_number(id) & 18446744073709551615::UHUGEINT)::UBIGINT);

-- The bill of `calls` calls with these token counts at a price point's per-token rates
-- (price_rates, bill_points), exactly, each amount DECIMAL(38, 15): the bill's one formula,
-- for billing (pricing/sql/costed.sql), the calls_costed view, repricing
-- (pricing/sql/reprice.sql) and the reconciliation's what-ifs (ADR 0025).
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
-- free, NULL when unpriced (ADR 0018, ADR 0021). Arguments are named
-- (bill_amounts(charged := ..., ...)); one left out is NULL, and so are the amounts that
-- need it.

-- one amount: the product when charged, 0 when priced but free, NULL when unpriced
CREATE MACRO bill_charge(amount, charged, priced) AS
    CASE WHEN charged THEN amount WHEN priced THEN 0 END::DECIMAL(38, 15);

CREATE MACRO bill_parts(
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

CREATE MACRO bill_total(parts) AS struct_insert(
    parts,
    total_cost := parts.input_cost + parts.cache_read_cost + parts.cache_write_cost
                  + parts.output_cost + parts.request_cost
);

CREATE MACRO bill_amounts(
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


-- Views ---------------------------------------------------------------------------------------

-- Every call with its bill: `billed` says whether it has one; `priced` whether a price
-- point covered it (NULL until billed). The amounts are bill_amounts for one call: its
-- counts times its point's rates when it is charged, 0 when it is priced but free (a failed
-- call at a provider that does not bill failures), NULL when it is unpriced. Readers that
-- join calls to their costs read this instead, in one join (ADR 0032).
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

-- Each billed call's costs, with the price point named in full: the columns of the table
-- of this name that bills were stored in before they named their point, for compatibility;
-- no ratecard code reads it.
CREATE VIEW call_costs AS
SELECT
    batch_id, source_line, source_item, priced, unpriced_reason, canonical_model, variant,
    unit_tokens, currency, price_from, tier_above, input_cost, cache_read_cost,
    cache_write_cost, output_cost, request_cost, total_cost, cache_savings,
    cache_write_1h_cost
FROM calls_costed
WHERE billed;

-- Every price point as per-token rates over the input-size range it prices, read by billing
-- (pricing/sql/scope.sql) and repricing (pricing/sql/reprice.sql) alike. A point covers
-- input_tokens in (tier_lo, tier_hi]: the base price from -1 up to the lowest tier
-- threshold, each tier up to the next one. So a call matches exactly one point, and a tier
-- prices the whole call (all-or-nothing) when its input is above the threshold (ADR 0018).
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
    CAST(coalesce(request_rate, 0) AS DECIMAL(38, 15)) AS request_fee,
    -- no 1-hour rate: the cache-write rate, else the input rate
    CAST(CAST(coalesce(cache_write_1h_rate, cache_write_rate, input_rate) AS DECIMAL(38, 9))
         * per_token AS DECIMAL(38, 15)) AS cache_write_1h_pt
FROM points;
