-- CTE fragment, after lines.sql: the gateway log (ARCHITECTURE.md), one JSON object per line
-- with ts, provider, model, attribution, status_code and the provider's body: `response` as
-- returned, or `sse` with the raw text/event-stream. The body is parsed in the same pass into
-- the shape of body_shape.json (every provider's fields); bodies.sql reads the calls out.
parsed AS (
    SELECT
        line,
        blank,
        json_valid(line) AS is_json,
        -- parse only what is valid JSON: an error inside json_transform would make DuckDB
        -- redo the whole vector row by row
        CASE WHEN json_valid(line) THEN json_transform(line, '{
            "call_id": "VARCHAR", "ts": "VARCHAR", "provider": "VARCHAR",
            "model": "VARCHAR", "team": "VARCHAR", "project": "VARCHAR",
            "api_key": "VARCHAR", "api_key_id": "VARCHAR", "tags": "JSON",
            "status_code": "VARCHAR", "sse": "VARCHAR",
            "response": __BODY_SHAPE__
        }') END AS r
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
    FROM parsed
)
