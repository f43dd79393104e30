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

-- Where each paginated usage pull stopped: the cursor of the next page to fetch, saved in the
-- transaction that loads the page before it, so a pull resumes without duplicates or gaps.
CREATE TABLE pull_cursors (
    url         VARCHAR PRIMARY KEY,
    next_cursor VARCHAR,            -- NULL: the export was read to its end
    pages       BIGINT NOT NULL,
    records     BIGINT NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);
