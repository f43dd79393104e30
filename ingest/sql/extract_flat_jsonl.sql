-- CTE fragment, after lines.sql: flat JSONL, one normalised call per line (ARCHITECTURE.md),
-- values as JSON numbers or text, into the common extracted columns.
parsed AS (
    SELECT
        line,
        blank,
        json_valid(line) AS is_json,
        CASE WHEN json_valid(line) THEN json_transform(line, '{
            "call_id": "VARCHAR", "ts": "VARCHAR", "provider": "VARCHAR",
            "model": "VARCHAR", "status": "VARCHAR", "status_code": "VARCHAR",
            "error_type": "VARCHAR",
            "input_tokens": "VARCHAR", "cache_read_tokens": "VARCHAR",
            "cache_write_tokens": "VARCHAR", "output_tokens": "VARCHAR",
            "reasoning_tokens": "VARCHAR", "reported_cost": "VARCHAR",
            "team": "VARCHAR", "project": "VARCHAR", "api_key": "VARCHAR",
            "api_key_id": "VARCHAR", "tags": "JSON"
        }') END AS r
    FROM lines
),

extracted AS (
    SELECT
        NULL::BIGINT AS source_line,  -- numbered once staged (number_lines.sql)
        blank,
        0 AS source_item,
        line,
        CASE
            WHEN NOT is_json THEN 'not valid JSON (truncated or malformed line)'
            -- the ltrim only for lines that do not start with '{' (it cost 2 s per ten
            -- million lines)
            WHEN NOT starts_with(line, '{')
                 AND NOT starts_with(ltrim(line, ' ' || chr(9) || chr(13)), '{')
                THEN 'not a JSON object'
        END AS problem,
        r.call_id, r.ts AS ts_txt, r.provider, r.model,
        r.status AS status_txt, r.status_code AS http_status_txt, r.error_type,
        r.input_tokens IS NOT NULL OR r.output_tokens IS NOT NULL AS usage_present,
        r.input_tokens AS input_txt, r.cache_read_tokens AS cache_read_txt,
        r.cache_write_tokens AS cache_write_txt, r.output_tokens AS output_txt,
        r.reasoning_tokens AS reasoning_txt, r.reported_cost AS reported_cost_txt,
        r.team, r.project, r.api_key, r.api_key_id, r.tags
    FROM parsed
)
