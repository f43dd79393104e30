-- After number_lines.sql, when a line holds several calls (Runware results, OTLP spans): a
-- line's second and later calls, counted in order, shift every row from them on back by
-- their count so far.
WITH

extra AS (
    SELECT rowid AS r, row_number() OVER (ORDER BY rowid) AS extras_so_far
    FROM ingest_scratch.staged
    WHERE source_item > 0
),

shift AS (
    SELECT s.rowid AS r, e.extras_so_far
    FROM ingest_scratch.staged AS s
    ASOF JOIN extra AS e ON s.rowid >= e.r
)

UPDATE ingest_scratch.staged AS s
SET source_line = s.source_line - shift.extras_so_far
FROM shift
WHERE s.rowid = shift.r
