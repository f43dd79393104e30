-- CTE fragment, after lines.sql: a file of raw response bodies, one per line, as a provider
-- returned them (`--format raw-body --provider NAME`). The provider comes from the command
-- line, the model and time from the body where it carries them (`created`, `created_at`).
parsed AS (
    SELECT
        line,
        blank,
        json_line(line, __BODY_SHAPE__) AS b  -- macros.sql
    FROM lines
),

checked_json AS (
    SELECT *, json_line_valid(line, b) AS is_json
    FROM parsed
),

envelopes AS (
    SELECT
        line,
        blank,
        json_line_problem(line, is_json) AS problem,
        NULL::VARCHAR AS env_call_id,
        NULL::VARCHAR AS env_ts,
        $provider::VARCHAR AS env_provider,
        NULL::VARCHAR AS env_model,
        NULL::VARCHAR AS http_status_txt,
        NULL::VARCHAR AS team, NULL::VARCHAR AS project, NULL::VARCHAR AS api_key,
        NULL::VARCHAR AS api_key_id, NULL::JSON AS tags,
        b AS parsed_body,
        NULL::VARCHAR AS sse,
        NULL::VARCHAR AS response_type
    FROM checked_json
)
