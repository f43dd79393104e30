-- CTE fragment, after lines.sql: the gateway log (ARCHITECTURE.md), one JSON object per line
-- with ts, provider, model, attribution, status_code and the provider's body: `response` as
-- returned, or `sse` with the raw text/event-stream. The body is parsed in the same pass into
-- the shape of body_shape.json (every provider's fields); bodies.sql reads the calls out.
parsed AS (
    SELECT
        line,
        blank,
        -- each line is parsed once: a line in braces, as nearly every record is, under TRY;
        -- any other line only if it is valid JSON (an object with blanks around it, an
        -- array). Checking every line with json_valid first parsed it twice (3 s at ten
        -- million lines). A malformed line in braces makes DuckDB redo its vector row by
        -- row, slower but the same result; truncated lines, the usual kind, end without '}'.
        CASE WHEN starts_with(line, '{') AND ends_with(line, '}')
                 THEN TRY(json_transform(line, __ENVELOPE_SHAPE__))
             WHEN json_valid(line) THEN json_transform(line, __ENVELOPE_SHAPE__)
        END AS r
    FROM lines
),

checked_json AS (
    SELECT *, CASE WHEN r IS NOT NULL THEN true ELSE json_valid(line) END AS is_json
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
