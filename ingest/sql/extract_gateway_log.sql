-- CTE fragment, after lines.sql: the gateway log (ARCHITECTURE.md), one JSON object per line
-- with ts, provider, model, attribution, status_code and the provider's response body. Reads
-- OpenAI Chat Completions bodies and OpenAI-shaped error envelopes into the common extracted
-- columns; every value stays text here and is typed and checked in validate.sql.
parsed AS (
    SELECT
        rn,
        line,
        json_valid(line) AS is_json,
        -- parse only what is valid JSON: an error inside json_transform would make DuckDB
        -- redo the whole vector row by row
        CASE WHEN json_valid(line) THEN json_transform(line, '{
            "call_id": "VARCHAR", "ts": "VARCHAR", "provider": "VARCHAR",
            "model": "VARCHAR", "team": "VARCHAR", "project": "VARCHAR",
            "api_key": "VARCHAR", "api_key_id": "VARCHAR", "tags": "JSON",
            "status_code": "VARCHAR",
            "response": {
                "id": "VARCHAR",
                "error": "JSON",
                "usage": {
                    "prompt_tokens": "VARCHAR",
                    "completion_tokens": "VARCHAR",
                    "cost": "VARCHAR",
                    "prompt_tokens_details": {
                        "cached_tokens": "VARCHAR", "cache_write_tokens": "VARCHAR"},
                    "completion_tokens_details": {"reasoning_tokens": "VARCHAR"}
                }
            }
        }') END AS r
    FROM lines
    WHERE line IS NOT NULL
),

extracted AS (
    SELECT
        rn AS source_line,
        line,
        CASE
            WHEN NOT is_json THEN 'not valid JSON (truncated or malformed line)'
            WHEN NOT starts_with(ltrim(line), '{') THEN 'not a JSON object'
        END AS problem,
        coalesce(r.call_id, r.response.id) AS call_id,
        r.ts AS ts_txt,
        r.provider,
        r.model,
        NULL::VARCHAR AS status_txt,  -- derived from status_code and the body
        r.status_code AS http_status_txt,
        CASE WHEN r.response.error IS NOT NULL AND json_type(r.response.error) <> 'NULL'
            THEN coalesce(r.response.error ->> '$.type', r.response.error ->> '$.code', 'error')
        END AS error_type,
        r.response.usage IS NOT NULL AS usage_present,
        r.response.usage.prompt_tokens AS input_txt,
        r.response.usage.prompt_tokens_details.cached_tokens AS cache_read_txt,
        r.response.usage.prompt_tokens_details.cache_write_tokens AS cache_write_txt,
        r.response.usage.completion_tokens AS output_txt,
        r.response.usage.completion_tokens_details.reasoning_tokens AS reasoning_txt,
        r.response.usage.cost AS reported_cost_txt,
        r.team,
        r.project,
        r.api_key,
        r.api_key_id,
        r.tags
    FROM parsed
    -- a line of spaces is blank, not a record
    WHERE is_json OR trim(line) <> ''
)
