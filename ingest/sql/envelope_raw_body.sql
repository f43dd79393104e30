-- CTE fragment, after lines.sql: a file of raw response bodies, one per line, as a provider
-- returned them (`--format raw-body --provider NAME`). The provider comes from the command
-- line, the model and time from the body where it carries them (`created`, `created_at`).
parsed AS (
    SELECT
        line,
        blank,
        json_valid(line) AS is_json,
        CASE WHEN json_valid(line) THEN json_transform(line, '__BODY_SHAPE__') END AS b
    FROM lines
),

envelopes AS (
    SELECT
        line,
        blank,
        CASE
            WHEN NOT is_json THEN 'not valid JSON (truncated or malformed line)'
            WHEN NOT starts_with(ltrim(line, ' ' || chr(9) || chr(13)), '{') THEN 'not a JSON object'
        END AS problem,
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
    FROM parsed
)
