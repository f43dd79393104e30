-- Flat JSONL: one normalised call per line (ARCHITECTURE.md), values as JSON numbers or text.
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
                "model": "VARCHAR", "status": "VARCHAR", "status_code": "VARCHAR",
                "error_type": "VARCHAR",
                "input_tokens": "VARCHAR", "cache_read_tokens": "VARCHAR",
                "cache_write_tokens": "VARCHAR", "output_tokens": "VARCHAR",
                "reasoning_tokens": "VARCHAR", "reported_cost": "VARCHAR",
                "team": "VARCHAR", "project": "VARCHAR", "api_key": "VARCHAR",
                "api_key_id": "VARCHAR", "tags": "JSON"
            }')
        END AS r
    FROM records
),

final AS (
    SELECT
        source_line, raw, problem,
        r.call_id, r.ts AS ts_txt, r.provider, r.model,
        r.status AS status_txt, r.status_code AS http_status_txt, r.error_type,
        r.input_tokens IS NOT NULL OR r.output_tokens IS NOT NULL AS usage_present,
        r.input_tokens AS input_txt, r.cache_read_tokens AS cache_read_txt,
        r.cache_write_tokens AS cache_write_txt, r.output_tokens AS output_txt,
        r.reasoning_tokens AS reasoning_txt, r.reported_cost AS reported_cost_txt,
        r.team, r.project, r.api_key, r.api_key_id, r.tags
    FROM parsed
)

SELECT * FROM final
