-- The records of a JSONL file: one per non-blank line, with its physical line number, plus
-- one per line the reader rejected (bad bytes, too long) carrying the reader's reason.
WITH

-- Rejected lines vanish from ingest_lines and shift the row numbers after them: the rn-th
-- surviving line sits at rn + (number of rejects whose line is reached by then).
rejects AS (
    -- the reader logs one row per error, and a line can have several: keep one per line
    SELECT line AS line_no, min(error_type) AS error_type,
           min(error_message) AS error_message, any_value(csv_line) AS csv_line
    FROM ingest_rejects
    GROUP BY line
),

-- For the i-th reject (by line), kept_before lines survived ahead of it.
ranked_rejects AS (
    SELECT
        line_no - row_number() OVER (ORDER BY line_no) AS kept_before,
        row_number() OVER (ORDER BY line_no) AS rejects_so_far
    FROM rejects
),

kept AS (
    SELECT
        l.rn + coalesce(r.rejects_so_far, 0) AS source_line,
        l.line AS raw,
        NULL::VARCHAR AS read_error
    FROM ingest_lines AS l
    ASOF LEFT JOIN ranked_rejects AS r ON l.rn > r.kept_before
    WHERE l.line IS NOT NULL AND trim(l.line) <> ''
),

rejected AS (
    SELECT
        line_no AS source_line,
        csv_line AS raw,
        CASE error_type
            WHEN 'INVALID ENCODING' THEN 'not valid UTF-8 text'
            WHEN 'LINE SIZE OVER MAXIMUM' THEN 'line longer than 64 MiB'
            ELSE 'unreadable line: ' || error_message
        END AS read_error
    FROM rejects
),

final AS (
    SELECT * FROM kept
    UNION ALL
    SELECT * FROM rejected
)

SELECT * FROM final
