-- CTE fragment, after lines.sql: each line parsed once into its format's JSON shape
-- (__SHAPE__: the FormatSpec's shape, ingest/formats.py) as `r`, and whether it is JSON at
-- all. Two steps, so that json_line_valid reads the parsed value instead of parsing again.
parsed AS (
    SELECT
        line,
        blank,
        json_line(line, __SHAPE__) AS r  -- macros.sql
    FROM lines
),

checked_json AS (
    SELECT *, json_line_valid(line, r) AS is_json
    FROM parsed
)
