-- Flat CSV: one normalised call per row under a header (ARCHITECTURE.md), from the rows and
-- rejects that read_flat_csv.sql left. Optional columns may be left out: UNION ALL BY NAME
-- with an empty row of every column fills them with NULL.
WITH

every_column AS (
    SELECT
        NULL::BIGINT AS rn,
        NULL::VARCHAR AS call_id, NULL::VARCHAR AS ts, NULL::VARCHAR AS provider,
        NULL::VARCHAR AS model, NULL::VARCHAR AS status, NULL::VARCHAR AS status_code,
        NULL::VARCHAR AS error_type, NULL::VARCHAR AS input_tokens,
        NULL::VARCHAR AS cache_read_tokens, NULL::VARCHAR AS cache_write_tokens,
        NULL::VARCHAR AS output_tokens, NULL::VARCHAR AS reasoning_tokens,
        NULL::VARCHAR AS reported_cost, NULL::VARCHAR AS team, NULL::VARCHAR AS project,
        NULL::VARCHAR AS api_key, NULL::VARCHAR AS api_key_id, NULL::VARCHAR AS tags
    WHERE false
),

csv_rows AS (
    SELECT * FROM every_column
    UNION ALL BY NAME
    SELECT * FROM ingest_csv_rows
),

rejects AS (
    -- the reader logs one row per error, and a line can have several: keep one per line
    SELECT line AS line_no, min(error_type) AS error_type,
           min(error_message) AS error_message, any_value(csv_line) AS csv_line
    FROM ingest_rejects
    GROUP BY line
),

-- as in records_from_lines.sql: rejected rows shift the row numbers after them
ranked_rejects AS (
    SELECT
        line_no - 1 - row_number() OVER (ORDER BY line_no) AS kept_before,
        row_number() OVER (ORDER BY line_no) AS rejects_so_far
    FROM rejects
),

kept AS (
    SELECT
        c.rn + 1 + coalesce(r.rejects_so_far, 0) AS source_line,  -- + 1: the header line
        CAST(to_json(c) AS VARCHAR) AS raw,
        NULL::VARCHAR AS problem,
        c.call_id, c.ts AS ts_txt, c.provider, c.model,
        c.status AS status_txt, c.status_code AS http_status_txt, c.error_type,
        c.input_tokens IS NOT NULL OR c.output_tokens IS NOT NULL AS usage_present,
        c.input_tokens AS input_txt, c.cache_read_tokens AS cache_read_txt,
        c.cache_write_tokens AS cache_write_txt, c.output_tokens AS output_txt,
        c.reasoning_tokens AS reasoning_txt, c.reported_cost AS reported_cost_txt,
        c.team, c.project, c.api_key, c.api_key_id,
        CASE WHEN json_valid(c.tags) THEN c.tags::JSON ELSE to_json(c.tags) END AS tags
    FROM csv_rows AS c
    ASOF LEFT JOIN ranked_rejects AS r ON c.rn > r.kept_before
),

rejected AS (
    SELECT
        line_no AS source_line,
        csv_line AS raw,
        CASE error_type
            WHEN 'INVALID ENCODING' THEN 'not valid UTF-8 text'
            WHEN 'TOO MANY COLUMNS' THEN 'more cells than the header has columns'
            WHEN 'MISSING COLUMNS' THEN 'fewer cells than the header has columns'
            ELSE 'unreadable row: ' || error_message
        END AS problem,
        NULL AS call_id, NULL AS ts_txt, NULL AS provider, NULL AS model, NULL AS status_txt,
        NULL AS http_status_txt, NULL AS error_type, false AS usage_present,
        NULL AS input_txt, NULL AS cache_read_txt, NULL AS cache_write_txt,
        NULL AS output_txt, NULL AS reasoning_txt, NULL AS reported_cost_txt,
        NULL AS team, NULL AS project, NULL AS api_key, NULL AS api_key_id, NULL::JSON AS tags
    FROM rejects
),

final AS (
    SELECT * FROM kept
    UNION ALL BY NAME
    SELECT * FROM rejected
)

SELECT * FROM final
