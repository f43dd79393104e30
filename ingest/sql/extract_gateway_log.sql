-- Gateway log (ARCHITECTURE.md): one JSON object per line with ts, provider, model,
-- attribution, status_code and the provider's response body. This reads OpenAI Chat
-- Completions bodies and OpenAI-shaped error envelopes into the common extracted columns;
-- every value stays text here and is typed and checked in validate.sql.
WITH

records AS (SELECT * FROM ingest_records),

parsed AS (
    SELECT
        source_line,
        raw,
        CASE
            WHEN read_error IS NOT NULL THEN read_error
            WHEN NOT json_valid(raw) THEN 'not valid JSON (truncated or malformed line)'
            WHEN json_type(raw) <> 'OBJECT' THEN 'not a JSON object'
        END AS problem,
        CASE WHEN read_error IS NULL AND json_valid(raw) AND json_type(raw) = 'OBJECT'
            THEN json_transform(raw, '{
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
            }')
        END AS r
    FROM records
),

final AS (
    SELECT
        source_line,
        raw,
        problem,
        coalesce(r.call_id, r.response.id) AS call_id,
        r.ts AS ts_txt,
        r.provider,
        r.model,
        NULL::VARCHAR AS status_txt,  -- derived from status_code and the body below
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
)

SELECT * FROM final
