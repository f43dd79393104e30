-- CTE fragment, after lines.sql: a file of raw response bodies, one per line, as a provider
-- returned them (`--format raw-body --provider NAME`). The provider comes from the command
-- line, the model and time from the body where it carries them (`created`, `created_at`).
parsed AS (
    SELECT
        line,
        blank,
        -- each line parsed once, as in envelope_gateway_log.sql
        CASE WHEN starts_with(line, '{') AND ends_with(line, '}')
                 THEN TRY(json_transform(line, __BODY_SHAPE__))
             WHEN json_valid(line) THEN json_transform(line, __BODY_SHAPE__)
        END AS b
    FROM lines
),

checked_json AS (
    SELECT *, CASE WHEN b IS NOT NULL THEN true ELSE json_valid(line) END AS is_json
    FROM parsed
),

envelopes AS (
    SELECT
        line,
        blank,
        CASE
            WHEN NOT is_json THEN 'not valid JSON (truncated or malformed line)'
            -- the ltrim only for lines that do not start with '{' (it cost 2 s per ten
            -- million lines)
            WHEN NOT starts_with(line, '{')
                 AND NOT starts_with(ltrim(line, ' ' || chr(9) || chr(13)), '{')
                THEN 'not a JSON object'
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
    FROM checked_json
)
