-- CTE fragment, after json_lines.sql: the gateway log (ARCHITECTURE.md), one JSON object per line
-- with ts, provider, model, attribution, status_code and the provider's body: `response` as
-- returned, or `sse` with the raw text/event-stream. The body is parsed in the same pass into
-- the shape of body_shape.json (every provider's fields: formats.envelope_shape); bodies.sql
-- reads the calls out.
envelopes AS (
    SELECT
        line,
        blank,
        json_line_problem(line, is_json) AS problem,
        r.call_id AS env_call_id,
        r.ts AS env_ts,
        r.provider AS env_provider,
        r.model AS env_model,
        r.status_code AS http_status_txt,
        r.team, r.project, r.api_key, r.api_key_id, r.tags,
        r.response AS parsed_body,
        r.sse,
        -- a response that is not an object (an HTML error page as a string, a list): its
        -- type. Such a value parses as an empty body, so only empty bodies are looked at.
        CASE WHEN is_json AND r.sse IS NULL AND r.response.id IS NULL
                  AND r.response.usage IS NULL AND r.response.error IS NULL
                  AND r.response.data IS NULL AND r.response.errors IS NULL
            THEN json_type(line, '$.response') END AS response_type
    FROM checked_json
)
