-- A rejected line vanishes from the reader's output and shifts the row numbers after it.
-- For the i-th rejected line L_i, L_i - i lines were read ahead of it; a record read as row
-- rn sits at rn + (number of rejects with L_i - i < rn); rn is the staged source_line as
-- number_lines.sql (JSONL) or the CSV reader's row number set it. Run before reject_lines.sql
-- adds the rejects themselves; $header is 1 for CSV (its rn already counts the header), else 0.
WITH

rejects AS (SELECT DISTINCT line FROM ingest_rejects),

numbered AS (
    SELECT
        line - $header - row_number() OVER (ORDER BY line) AS read_before,
        row_number() OVER (ORDER BY line) AS rejects_so_far
    FROM rejects
),

-- consecutive rejected lines share read_before: keep the last, which counts them all
ranked AS (
    SELECT read_before, max(rejects_so_far) AS rejects_so_far
    FROM numbered
    GROUP BY read_before
),

shift AS (
    SELECT DISTINCT s.source_line, r.rejects_so_far
    FROM ingest_scratch.staged AS s
    ASOF JOIN ranked AS r ON s.source_line - $header > r.read_before
)

UPDATE ingest_scratch.staged AS s
SET source_line = s.source_line + shift.rejects_so_far
FROM shift
WHERE s.source_line = shift.source_line
