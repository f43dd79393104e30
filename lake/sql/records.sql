-- The staged records of one file (ingest_scratch.staged, ingest/usage.py's staged_file) as
-- the rows a lake task hands to Spark: every record, valid or not, where it was read, and,
-- for a valid one, what makes it the call it is (content_raw, the record a conflict shows;
-- content_hash compares two of them) so that Spark can tell duplicates from conflicts across
-- the lake without comparing the calls field by field. As classify.sql shows a conflict.
-- $block: where the staged block of a split file starts (0 for a whole file).
SELECT
    'record' AS kind, $file AS file, NULL::VARCHAR AS format, NULL::VARCHAR AS problem,
    NULL::VARCHAR AS error,
    source_line, source_item, reason, call_id, ts, provider, model, status, http_status,
    error_type, input_tokens, cache_read_tokens, cache_write_tokens, cache_write_1h_tokens,
    output_tokens, reasoning_tokens, reported_cost, no_usage_reason, team, project, api_key_id,
    CAST(tags AS VARCHAR) AS tags, raw, record_hash, content_raw, md5(content_raw) AS content_hash,
    CAST($block AS BIGINT) AS block, CAST(NULL AS BIGINT) AS lines
FROM (
    SELECT
        *,
        CASE WHEN reason IS NULL
            THEN CAST(to_json(struct_insert(__CALL_CONTENT__, call_id := call_id)) AS VARCHAR)
        END AS content_raw
    FROM ingest_scratch.staged
)
ORDER BY source_line, source_item
