-- CTE fragment, after an extract_*.sql: type and check the extracted records. Each record
-- gets typed columns or a reason (the first check it fails) in words a person can act on.
-- The raw line is kept only for records that fail; it, the reason (which may quote a value)
-- and the tags are stored with every secret redacted (redact_secrets, macros.sql).
-- trim_spaces is trim, only faster (macros.sql, ADR 0014).
typed AS (
    SELECT
        *,
        nullif(trim_spaces(provider), '') AS provider_clean,
        nullif(trim_spaces(model), '') AS model_clean,
        -- a time with a zone, or without one (taken as UTC), or Unix seconds. A date has a
        -- '-' and Unix seconds never do: the regex runs only for the rare time without one
        -- (ADR 0014)
        CASE
            WHEN NOT contains(ts_txt, '-')
                 AND regexp_full_match(trim_spaces(ts_txt), '[0-9]{9,11}(\.[0-9]{1,6})?')
                -- TRY_CAST under the guard, as in extract_otel.sql
                THEN make_timestamptz(TRY_CAST(TRY_CAST(trim_spaces(ts_txt) AS DECIMAL(38, 6))
                                               * 1000000 AS BIGINT))
            ELSE TRY_CAST(ts_txt AS TIMESTAMPTZ)
        END AS ts_value,
        TRY_CAST(http_status_txt AS INTEGER) AS http_status_value,
        -- counts must be whole numbers as written: TRY_CAST would round 12.5 to 13
        regexp_full_match(coalesce(input_txt, '0'), '-?[0-9]+') AS input_ok,
        regexp_full_match(coalesce(cache_read_txt, '0'), '-?[0-9]+') AS cache_read_ok,
        regexp_full_match(coalesce(cache_write_txt, '0'), '-?[0-9]+') AS cache_write_ok,
        regexp_full_match(coalesce(cache_write_1h_txt, '0'), '-?[0-9]+') AS cache_write_1h_ok,
        regexp_full_match(coalesce(output_txt, '0'), '-?[0-9]+') AS output_ok,
        regexp_full_match(coalesce(reasoning_txt, '0'), '-?[0-9]+') AS reasoning_ok,
        TRY_CAST(reported_cost_txt AS DECIMAL(38, 15)) AS reported_cost_value
    FROM extracted
),

counted AS (
    SELECT
        *,
        -- NULL for a whole number beyond BIGINT: too large, reported below
        CASE WHEN input_ok THEN TRY_CAST(coalesce(input_txt, '0') AS BIGINT) END AS input_tokens,
        CASE WHEN cache_read_ok THEN TRY_CAST(coalesce(cache_read_txt, '0') AS BIGINT) END AS cache_read_tokens,
        CASE WHEN cache_write_ok THEN TRY_CAST(coalesce(cache_write_txt, '0') AS BIGINT) END AS cache_write_tokens,
        CASE WHEN cache_write_1h_ok THEN TRY_CAST(coalesce(cache_write_1h_txt, '0') AS BIGINT) END
            AS cache_write_1h_tokens,
        CASE WHEN output_ok THEN TRY_CAST(coalesce(output_txt, '0') AS BIGINT) END AS output_tokens,
        CASE WHEN reasoning_ok THEN TRY_CAST(coalesce(reasoning_txt, '0') AS BIGINT) END AS reasoning_tokens,
        CASE
            WHEN lower(trim_spaces(status_txt)) IN ('ok', 'failed') THEN lower(trim_spaces(status_txt))
            WHEN status_txt IS NOT NULL THEN NULL  -- reported below
            WHEN http_status_value >= 400 OR error_type IS NOT NULL THEN 'failed'
            ELSE 'ok'
        END AS status
    FROM typed
),

-- the first count that is negative or above $max_tokens (usage.MAX_TOKENS, which keeps every
-- sum a report makes exact in a BIGINT), in words: count_out_of_range, macros.sql
ranged AS (
    SELECT
        *,
        coalesce(
            count_out_of_range('input', input_txt, input_tokens, $max_tokens),
            count_out_of_range('cache-read', cache_read_txt, cache_read_tokens, $max_tokens),
            count_out_of_range('cache-write', cache_write_txt, cache_write_tokens, $max_tokens),
            count_out_of_range('1-hour cache-write', cache_write_1h_txt, cache_write_1h_tokens,
                               $max_tokens),
            count_out_of_range('output', output_txt, output_tokens, $max_tokens),
            count_out_of_range('reasoning', reasoning_txt, reasoning_tokens, $max_tokens)
        ) AS out_of_range
    FROM counted
),

checked AS (
    SELECT
        *,
        CASE
            WHEN problem IS NOT NULL THEN problem
            WHEN ts_txt IS NULL THEN 'missing ts'
            WHEN ts_value IS NULL THEN 'ts is not a time: ' || ts_txt
            WHEN provider_clean IS NULL THEN 'missing provider'
            WHEN model_clean IS NULL THEN 'missing model'
            WHEN http_status_txt IS NOT NULL AND (http_status_value IS NULL
                 OR http_status_value NOT BETWEEN 100 AND 599)
                THEN 'status_code is not an HTTP status: ' || http_status_txt
            WHEN status IS NULL THEN 'status must be ok or failed, not ' || status_txt
            -- a record that says the call succeeded and that it failed: which is right cannot
            -- be told from the record, so it is not guessed (a failed status with a 2xx
            -- status_code is no contradiction: a call can fail inside a successful response)
            WHEN status = 'ok' AND status_txt IS NOT NULL AND http_status_value >= 400
                THEN 'status ok contradicts status_code ' || http_status_txt
                     || ' (an error): correct whichever is wrong'
            WHEN status = 'ok' AND status_txt IS NOT NULL
                 AND nullif(trim_spaces(error_type), '') IS NOT NULL
                THEN 'status ok contradicts error_type ' || error_type
                     || ': correct whichever is wrong'
            WHEN NOT input_ok THEN 'input tokens are not a whole number: ' || input_txt
            WHEN NOT cache_read_ok THEN 'cache-read tokens are not a whole number: ' || cache_read_txt
            WHEN NOT cache_write_ok THEN 'cache-write tokens are not a whole number: ' || cache_write_txt
            WHEN NOT cache_write_1h_ok
                THEN '1-hour cache-write tokens are not a whole number: ' || cache_write_1h_txt
            WHEN NOT output_ok THEN 'output tokens are not a whole number: ' || output_txt
            WHEN NOT reasoning_ok THEN 'reasoning tokens are not a whole number: ' || reasoning_txt
            WHEN out_of_range IS NOT NULL THEN out_of_range
            -- before comparing counts: a missing one reads as 0 and the comparison would
            -- name the count that is there rather than the one that is not
            WHEN status = 'ok' AND no_usage_reason IS NULL
                 AND (NOT usage_present OR input_txt IS NULL OR output_txt IS NULL)
                THEN 'successful call without token usage: cannot be billed'
            WHEN cache_read_tokens + cache_write_tokens > input_tokens
                THEN format('cache tokens ({} read + {} written) exceed input tokens ({})',
                            cache_read_tokens, cache_write_tokens, input_tokens)
            WHEN cache_write_1h_tokens > cache_write_tokens
                THEN format('1-hour cache-write tokens ({}) exceed cache-write tokens ({})',
                            cache_write_1h_tokens, cache_write_tokens)
            WHEN reasoning_tokens > output_tokens
                THEN format('reasoning tokens ({}) exceed output tokens ({})',
                            reasoning_tokens, output_tokens)
            WHEN reported_cost_txt IS NOT NULL AND reported_cost_value IS NULL
                THEN 'reported cost is not a number: ' || reported_cost_txt
        END AS reason
    FROM ranged
),

staged AS (
    SELECT
        source_line,
        source_item,
        blank,
        CASE WHEN reason IS NOT NULL THEN redact_secrets(reason) END AS reason,
        -- no id in the record: a hash of the line itself (and the call's place in it),
        -- stable across re-ingests. A CASE, so that only those records pay for the hash
        -- (ADR 0014).
        CASE WHEN nullif(trim_spaces(call_id), '') IS NOT NULL THEN trim_spaces(call_id)
             ELSE 'h:' || md5(line) || CASE WHEN source_item > 0 THEN ':' || source_item ELSE '' END
        END AS call_id,
        ts_value AS ts,
        lower(provider_clean) AS provider,
        model_clean AS model,
        status,
        -- only a status that passed its check fits the column: a line with status_code
        -- 32768 is quarantined (checked above), it must not abort the file's cast
        CASE WHEN reason IS NULL THEN http_status_value::SMALLINT END AS http_status,
        error_type,
        input_tokens, cache_read_tokens, cache_write_tokens, cache_write_1h_tokens, output_tokens,
        reasoning_tokens,
        -- a successful call whose usage its stream did not carry: loaded, billed as unpriced
        -- with this reason (pricing/sql/costed.sql), never as free; a failed one is just failed
        CASE WHEN status = 'ok' THEN no_usage_reason END AS no_usage_reason,
        reported_cost_value AS reported_cost,
        nullif(trim_spaces(team), '') AS team,
        nullif(trim_spaces(project), '') AS project,
        -- the key itself is never stored, only its fingerprint
        coalesce(nullif(trim_spaces(api_key_id), ''),
                 'key_' || left(sha256(nullif(trim_spaces(api_key), '')), 16)) AS api_key_id,
        -- tags stay JSON: a redaction that cuts a value short leaves the tags redacted whole
        CASE WHEN tags IS NOT NULL
            THEN coalesce(TRY_CAST(redact_secrets(CAST(tags AS VARCHAR)) AS JSON),
                          to_json('<redacted>'))
        END AS tags,
        -- redacted before it is cut: a key across the cut is redacted whole
        CASE WHEN reason IS NOT NULL THEN left(redact_secrets(line), $raw_limit) END AS raw,
        CASE WHEN reason IS NOT NULL
            -- (line || ''): the same hash as the call id's, written so that DuckDB does not
            -- hoist one md5 for every record out of the two expressions (ADR 0014)
            THEN md5(line || '') || CASE WHEN source_item > 0 THEN ':' || source_item ELSE '' END
        END AS record_hash
    FROM checked
)
