-- Schema 1: the facts. Calls as ingested, quarantined records, ingest batches, price points.
-- Money: rates are DECIMAL(18,9) in the sheet's unit (per 1K or per 1M tokens);
-- amounts are DECIMAL(38,15), exact for any per-token rate derived from such a rate.

CREATE TABLE schema_migrations (
    version     INTEGER PRIMARY KEY,
    name        VARCHAR NOT NULL,
    applied_at  TIMESTAMPTZ NOT NULL
);

CREATE SEQUENCE batch_id_seq START 1;

-- One row per ingest run (usage file or price-sheet load), with its conservation counts:
-- records_read = loaded + duplicates + quarantined.
CREATE TABLE batches (
    batch_id      BIGINT PRIMARY KEY,
    kind          VARCHAR NOT NULL CHECK (kind IN ('usage', 'prices')),
    source        VARCHAR NOT NULL,
    format        VARCHAR NOT NULL,
    started_at    TIMESTAMPTZ NOT NULL,
    finished_at   TIMESTAMPTZ NOT NULL,
    records_read  BIGINT NOT NULL,
    loaded        BIGINT NOT NULL,
    duplicates    BIGINT NOT NULL,
    quarantined   BIGINT NOT NULL,
    CHECK (records_read = loaded + duplicates + quarantined)
);

-- The normalised call (ARCHITECTURE.md). call_id is unique: ingest guarantees it with an
-- anti-join rather than an index, which would cost memory and load time at 10M rows.
CREATE TABLE calls (
    call_id             VARCHAR NOT NULL,
    ts                  TIMESTAMPTZ NOT NULL,
    provider            VARCHAR NOT NULL,
    model               VARCHAR NOT NULL,
    status              VARCHAR NOT NULL CHECK (status IN ('ok', 'failed')),
    http_status         SMALLINT,
    error_type          VARCHAR,
    input_tokens        BIGINT NOT NULL,   -- all input, cached included
    cache_read_tokens   BIGINT NOT NULL,   -- part of input_tokens
    cache_write_tokens  BIGINT NOT NULL,   -- part of input_tokens
    output_tokens       BIGINT NOT NULL,   -- all output, reasoning included
    reasoning_tokens    BIGINT NOT NULL,   -- part of output_tokens
    reported_cost       DECIMAL(38, 15),   -- the provider's own figure, when the log has one
    team                VARCHAR,
    project             VARCHAR,
    api_key_id          VARCHAR,           -- a fingerprint of the key, never the key
    tags                JSON,
    source              VARCHAR NOT NULL,
    source_line         BIGINT,
    batch_id            BIGINT NOT NULL
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
    record_hash  VARCHAR NOT NULL
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
    source               VARCHAR,            -- where the price comes from (URL or document)
    checked_on           DATE,
    note                 VARCHAR,
    sheet                VARCHAR NOT NULL,       -- the file it was loaded from
    batch_id             BIGINT NOT NULL
);
