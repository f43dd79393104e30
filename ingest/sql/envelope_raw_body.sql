-- CTE fragment, after json_lines.sql: a file of raw response bodies, one per line, as a provider
-- returned them (`--format raw-body --provider NAME`). The provider comes from the command
-- line, the model and time from the body where it carries them (`created`, `created_at`).
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
        r AS parsed_body,
        NULL::VARCHAR AS sse,
        NULL::VARCHAR AS response_type
    FROM checked_json
)
