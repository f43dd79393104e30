-- Schema 4: several calls per source line, model aliases, resumable HTTP pulls.

-- A line can hold several calls (a Runware body with numberResults > 1, an OTLP export with
-- many spans): source_item numbers them from 0, and (batch_id, source_line, source_item)
-- identifies a call's row. A line with one call has source_item 0.
ALTER TABLE calls ADD COLUMN source_item INTEGER DEFAULT 0;
ALTER TABLE quarantine ADD COLUMN source_item INTEGER DEFAULT 0;
ALTER TABLE call_costs ADD COLUMN source_item INTEGER DEFAULT 0;

-- Other wire ids of a priced model at one provider (`minimax:m3@0` is `minimax-m3` at
-- runware), from the `aliases` of the price sheets; replaced with the provider's prices.
CREATE TABLE model_aliases (
    provider  VARCHAR NOT NULL,
    alias     VARCHAR NOT NULL,
    model     VARCHAR NOT NULL,   -- the model id its price points carry
    batch_id  BIGINT NOT NULL,
    PRIMARY KEY (provider, alias)
);

-- Where each paginated usage pull stands, saved in the transaction that loads a page, so an
-- interrupted pull resumes without gaps or double loads. `cursor` is the cursor of the next
-- page to fetch (NULL: the first page); once the export has been read to its end it stays at
-- the last page's cursor, so the next pull re-reads that page (its calls are duplicates) and
-- picks up whatever the export has appended since.
CREATE TABLE pull_cursors (
    url         VARCHAR PRIMARY KEY,
    cursor      VARCHAR,
    finished    BOOLEAN NOT NULL,   -- the last page fetched said there was no next one
    pages       BIGINT NOT NULL,
    records     BIGINT NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);
