-- CTE fragment, after lines.sql: flat JSONL, one normalised call per line (ARCHITECTURE.md),
-- values as JSON numbers or text, into the common extracted columns.
parsed AS (
    SELECT
        line,
        blank,
        json_line(line, '{
            "call_id": "VARCHAR", "ts": "VARCHAR", "provider": "VARCHAR",
            "model": "VARCHAR", "status": "VARCHAR", "status_code": "VARCHAR",
            "error_type": "VARCHAR",
            "input_tokens": "VARCHAR", "cache_read_tokens": "VARCHAR",
            "cache_write_tokens": "VARCHAR", "cache_write_1h_tokens": "VARCHAR",
            "output_tokens": "VARCHAR",
            "reasoning_tokens": "VARCHAR", "reported_cost": "VARCHAR",
            "team": "VARCHAR", "project": "VARCHAR", "api_key": "VARCHAR",
            "api_key_id": "VARCHAR", "tags": "JSON"
        }') AS r  -- macros.sql
    FROM lines
),

checked_json AS (
    SELECT *, json_line_valid(line, r) AS is_json
    FROM parsed
),

extracted AS (
    SELECT
        NULL::BIGINT AS source_line,  -- numbered once staged (number_lines.sql)
        blank,
        0 AS source_item,
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
