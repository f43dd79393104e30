-- The lines of a CSV file's records where some start further down than their row numbers
-- (ingest/csv_lines.py): a blank line or a quoted cell with a line break above them. Record
-- number $records[i] and those after it, up to the next, start $extras[i] lines further
-- down. Run once every record is staged with its number as a record (rejected ones included,
-- reject_lines.sql).
WITH

shifts AS (
    SELECT unnest($records) AS record, unnest($extras) AS extra
),

shift AS (
    SELECT s.source_line, sh.extra
    FROM (SELECT DISTINCT source_line FROM ingest_scratch.staged) AS s
    ASOF JOIN shifts AS sh ON s.source_line >= sh.record
)

UPDATE ingest_scratch.staged AS s
SET source_line = s.source_line + shift.extra
FROM shift
WHERE s.source_line = shift.source_line
