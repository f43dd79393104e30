-- CTE fragment, after json_lines.sql: flat JSONL, one normalised call per line (ARCHITECTURE.md),
-- values as JSON numbers or text, into the common extracted columns.
extracted AS (
    SELECT
        NULL::BIGINT AS source_line,  -- numbered once staged (number_lines.sql)
        blank,
        0::BIGINT AS source_item,
        line,
        json_line_problem(line, is_json) AS problem,
        r.call_id, r.ts AS ts_txt, r.provider, r.model,
        r.status AS status_txt, r.status_code AS http_status_txt, r.error_type,
        r.input_tokens IS NOT NULL OR r.output_tokens IS NOT NULL AS usage_present,
        NULL::VARCHAR AS no_usage_reason,
        r.input_tokens AS input_txt, r.cache_read_tokens AS cache_read_txt,
        r.cache_write_tokens AS cache_write_txt,
        r.cache_write_1h_tokens AS cache_write_1h_txt, r.output_tokens AS output_txt,
        r.reasoning_tokens AS reasoning_txt, r.reported_cost AS reported_cost_txt,
        r.team, r.project, r.api_key, r.api_key_id, r.tags
    FROM checked_json
)
