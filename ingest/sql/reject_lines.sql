-- Lines the file reader could not read (bad bytes, too long, wrong number of CSV cells), and
-- the marker lines of a repaired copy (ingest/repair.py: a line with a raw CR, over-long, or
-- cut off by the end of a truncated .gz), added to the staged records as quarantined, each
-- with its reason. A marker is $marker then base64 of {"reason": ..., "raw": ..., "hash": ...},
-- its raw text redacted before it was written, the hash that of the line as it was. Every raw text and reason is redacted
-- (redact_secrets, macros.sql) before it is stored, and cut to $raw_limit characters after.
-- A CSV row the reader could not split has no JSON names to find a key by: every cell that
-- may be the api_key column's ($key_column, counted from 0 of the header's $width) is
-- redacted, the window widened by as many cells as the row has too many or too few.
WITH

rejected AS (  -- one row per error, and a line can have several
    -- the CSV reader takes the blank lines before a line it rejects into its text
    SELECT line, min(error_type) AS error_type, min(error_message) AS error_message,
           ltrim(any_value(csv_line), chr(10)) AS csv_line
    FROM ingest_rejects
    GROUP BY line
),

marked AS (
    SELECT
        *,
        CASE WHEN starts_with(csv_line, $marker)
            THEN CAST(decode(from_base64(substr(csv_line, length($marker) + 1))) AS JSON)
        END AS marker
    FROM rejected
),

explained AS (
    SELECT
        line,
        CASE
            WHEN marker IS NOT NULL THEN marker ->> 'reason'
            WHEN error_type = 'INVALID ENCODING' THEN 'not valid UTF-8 text'
            WHEN error_type = 'LINE SIZE OVER MAXIMUM' THEN 'line longer than 64 MiB'
            WHEN error_type = 'TOO MANY COLUMNS' THEN CASE WHEN $csv
                THEN 'more cells than the header has columns'
                ELSE 'not valid JSON (raw control characters in the line)' END
            WHEN error_type = 'MISSING COLUMNS' THEN 'fewer cells than the header has columns'
            ELSE 'unreadable line: ' || error_message
        END AS reason,
        coalesce(marker ->> 'raw', csv_line) AS raw,
        coalesce(marker ->> 'hash', md5(csv_line)) AS record_hash
    FROM marked
),

-- the cells a CSV row splits into at every delimiter (quotes or not: a quoted delimiter only
-- widens the window), and the window of those that may hold the key
cells AS (
    SELECT
        *,
        string_split(raw, $csv_delim) AS cell,
        $key_column - greatest($width - len(string_split(raw, $csv_delim)), 0) AS first_key,
        $key_column + greatest(len(string_split(raw, $csv_delim)) - $width, 0) AS last_key
    FROM explained
),

final AS (
    SELECT
        line,
        redact_secrets(reason) AS reason,
        left(redact_secrets(CASE
            WHEN $key_column IS NULL OR raw IS NULL THEN raw
            ELSE array_to_string(
                list_transform(cell, lambda c, i: CASE
                    WHEN i - 1 BETWEEN first_key AND last_key THEN '<redacted>' ELSE c END),
                $csv_delim)
        END), $raw_limit) AS raw,
        record_hash
    FROM cells
)

INSERT INTO ingest_scratch.staged (source_line, source_item, reason, raw, record_hash)
SELECT line, 0, reason, raw, record_hash
FROM final
