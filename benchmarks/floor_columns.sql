-- The explicit-columns floor of step 1 (issue 23): DuckDB's read_ndjson projects the typed
-- columns billing needs straight out of the gateway log (the columns and the stream event's
-- shape come from the body shape ingest parses into, benchmarks/floors.py), and plain SQL
-- turns them into token counts and a failed flag. No checks, no ids, no keys, no quarantine,
-- no billing: bad lines are dropped (ignore_errors) and a stream is reduced to its last usage
-- event, so this is a floor to measure ingest against, not a design.
WITH lines AS (
    SELECT *
    FROM read_ndjson($file, columns = $columns, format = 'newline_delimited',
                     records = true, ignore_errors = true)
    WHERE ts IS NOT NULL  -- a line ignore_errors could not read comes back as all NULLs
),

-- a stream's usage is in its last event that has one (OpenAI chat's final chunk)
bodies AS (
    SELECT
        ts, provider, model, team, project, api_key,
        TRY_CAST(status_code AS SMALLINT) AS http_status,
        sse IS NOT NULL AS streamed,
        response.type AS body_type,
        response.error AS error,
        CASE WHEN sse IS NULL THEN response.usage
             ELSE json_transform(
                 list_filter(string_split(sse, chr(10)),
                             lambda l: l LIKE 'data: {%' AND contains(l, '"usage":{'))[-1][7:],
                 $event_shape).usage
        END AS u
    FROM lines
),

-- Anthropic counts input without its cache reads and writes; the others include them
shapes AS (
    SELECT
        *,
        coalesce(body_type = 'message' OR u.cache_read_input_tokens IS NOT NULL
                 OR u.cache_creation_input_tokens IS NOT NULL, false) AS is_anthropic,
        TRY_CAST(coalesce(u.cache_creation_input_tokens,
                          u.prompt_tokens_details.cache_write_tokens,
                          u.input_tokens_details.cache_write_tokens) AS BIGINT) AS cache_write
    FROM bodies
)

SELECT
    ts, provider, model, team, project, api_key, http_status,
    CASE WHEN is_anthropic
         THEN TRY_CAST(u.input_tokens AS BIGINT)
              + coalesce(TRY_CAST(u.cache_read_input_tokens AS BIGINT), 0)
              + coalesce(cache_write, 0)
         ELSE TRY_CAST(coalesce(u.prompt_tokens, u.input_tokens) AS BIGINT)
    END AS input_tokens,
    TRY_CAST(CASE WHEN is_anthropic THEN u.cache_read_input_tokens
                  ELSE coalesce(u.prompt_tokens_details.cached_tokens,
                                u.input_tokens_details.cached_tokens) END AS BIGINT)
        AS cache_read_tokens,
    cache_write AS cache_write_tokens,
    TRY_CAST(coalesce(u.completion_tokens, u.output_tokens) AS BIGINT) AS output_tokens,
    TRY_CAST(coalesce(u.completion_tokens_details.reasoning_tokens,
                      u.output_tokens_details.reasoning_tokens,
                      u.output_tokens_details.thinking_tokens) AS BIGINT) AS reasoning_tokens,
    coalesce(http_status >= 400, false) OR error IS NOT NULL OR body_type = 'error'
        OR (streamed AND u IS NULL) AS failed
FROM shapes
