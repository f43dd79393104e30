-- CTE fragment: flat CSV, one normalised call per row under a header (ARCHITECTURE.md), into
-- the common extracted columns. Optional columns may be left out: UNION ALL BY NAME with an
-- empty row of every column fills them with NULL. Rows the reader cannot split (bad bytes,
-- too many or too few cells) go to ingest_rejects with their line.
--
-- The dialect is not guessed: the sniffer gives up on a file with one damaged row. Cells are
-- separated by $csv_delim (found from the header, usage.csv_layout), quoted RFC 4180 style,
-- $csv_columns are the header's columns, and rows end at LF only, as in lines.sql (a CR
-- outside quotes stops the read, and the repaired copy is read instead).
every_column AS (
    SELECT
        NULL::BIGINT AS rn,
        NULL::VARCHAR AS call_id, NULL::VARCHAR AS ts, NULL::VARCHAR AS provider,
        NULL::VARCHAR AS model, NULL::VARCHAR AS status, NULL::VARCHAR AS status_code,
        NULL::VARCHAR AS error_type, NULL::VARCHAR AS input_tokens,
        NULL::VARCHAR AS cache_read_tokens, NULL::VARCHAR AS cache_write_tokens,
        NULL::VARCHAR AS cache_write_1h_tokens,
        NULL::VARCHAR AS output_tokens, NULL::VARCHAR AS reasoning_tokens,
        NULL::VARCHAR AS reported_cost, NULL::VARCHAR AS team, NULL::VARCHAR AS project,
        NULL::VARCHAR AS api_key, NULL::VARCHAR AS api_key_id, NULL::VARCHAR AS tags
    WHERE false
),

csv_rows AS (
    SELECT * FROM every_column
    UNION ALL BY NAME
    SELECT row_number() OVER () AS rn, *
    FROM read_csv(
        $path, header = true, auto_detect = false, columns = $csv_columns,
        delim = $csv_delim, quote = '"', escape = '"', new_line = '\n',
        max_line_size = $max_line, buffer_size = $read_buffer,
        store_rejects = true, rejects_table = 'ingest_rejects',
        rejects_scan = 'ingest_reject_scans'
    )
),

extracted AS (
    SELECT
        c.rn + 1 AS source_line,  -- + 1: the header line
        false AS blank,
        0::BIGINT AS source_item,
        CAST(to_json(c) AS VARCHAR) AS line,
        NULL::VARCHAR AS problem,
        c.call_id, c.ts AS ts_txt, c.provider, c.model,
        c.status AS status_txt, c.status_code AS http_status_txt, c.error_type,
        c.input_tokens IS NOT NULL OR c.output_tokens IS NOT NULL AS usage_present,
        NULL::VARCHAR AS no_usage_reason,
        c.input_tokens AS input_txt, c.cache_read_tokens AS cache_read_txt,
        c.cache_write_tokens AS cache_write_txt,
        c.cache_write_1h_tokens AS cache_write_1h_txt, c.output_tokens AS output_txt,
        c.reasoning_tokens AS reasoning_txt, c.reported_cost AS reported_cost_txt,
        c.team, c.project, c.api_key, c.api_key_id,
        CASE WHEN json_valid(c.tags) THEN c.tags::JSON ELSE to_json(c.tags) END AS tags
    FROM csv_rows AS c
)
