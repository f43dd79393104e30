-- CTE fragment: the lines read_lines.sql stored, numbered by their position in the file
-- (rn is the line number until a rejected line shifts it; see renumber_after_rejects.sql).
-- Rowids are consecutive in insertion order; counting from the first keeps this right even
-- where DuckDB offsets them (rows written inside a transaction start at 2^55).
lines AS (
    SELECT rowid - (SELECT min(rowid) FROM ingest_lines) + 1 AS rn, line FROM ingest_lines
)
