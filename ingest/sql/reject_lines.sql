-- Lines the file reader could not read (bad bytes, too long, wrong number of CSV cells),
-- added to the staged records as quarantined, each with the reader's reason.
INSERT INTO ingest_scratch.staged (source_line, source_item, reason, raw, record_hash)
SELECT
    line,
    0,
    CASE min(error_type)
        WHEN 'INVALID ENCODING' THEN 'not valid UTF-8 text'
        WHEN 'LINE SIZE OVER MAXIMUM' THEN 'line longer than 64 MiB'
        WHEN 'TOO MANY COLUMNS' THEN CASE WHEN $csv
            THEN 'more cells than the header has columns'
            ELSE 'not valid JSON (raw control characters in the line)' END
        WHEN 'MISSING COLUMNS' THEN 'fewer cells than the header has columns'
        ELSE 'unreadable line: ' || min(error_message)
    END,
    left(any_value(csv_line), 100000),
    md5(any_value(csv_line))
FROM ingest_rejects  -- one row per error, and a line can have several
GROUP BY line
