-- CTE fragment, after an envelope_*.sql: the calls in each provider body, into the common
-- extracted columns (validate.sql types and checks them). One body shape (body_shape.json)
-- covers every provider; which fields hold the counts depends on the body:
--   OpenAI Chat Completions   usage.prompt_tokens (cached included), prompt_tokens_details,
--                             completion_tokens (reasoning included), completion_tokens_details
--   OpenAI Responses          usage.input_tokens (cached included), input_tokens_details,
--                             output_tokens, output_tokens_details
--   Anthropic Messages        usage.input_tokens EXCLUDES cache reads and writes: input is
--                             input_tokens + cache_read_input_tokens + cache_creation_input_tokens
--   Runware tasks             data[] items (one call each, taskUUID as call id, usage with
--                             promptTokens / completionTokens / thinkingTokens, cost), errors[]
--   OpenRouter                usage.cost: the provider-reported cost
--   error envelopes           {"error": ...} of any provider, Anthropic {"type": "error"},
--                             a Responses body with status failed: a failed call, free
-- A streamed call (`sse`) is first reduced to the body its events add up to.

-- the JSON payloads of the stream's `data:` lines, in order, each parsed once into the
-- fields the stream rules below read (only for rows with a stream: the CASE keeps the list
-- work off every other row). `[DONE]` ends an OpenAI stream; a broken event (a cut
-- connection) is skipped.
events AS (
    SELECT
        *,
        CASE WHEN sse IS NOT NULL THEN list_transform(
            list_filter(
                list_transform(
                    list_filter(string_split(replace(sse, chr(13), ''), chr(10)),
                                lambda x: starts_with(x, 'data:')),
                    lambda x: trim_spaces(substr(x, 6))),
                lambda x: x <> '[DONE]' AND starts_with(x, '{') AND json_valid(x)),
            lambda x: struct_pack(text := x, f := json_transform(x, '{
                "type": "VARCHAR", "id": "VARCHAR", "taskUUID": "VARCHAR", "error": "JSON",
                "errors": "JSON", "usage": "JSON", "response": "JSON", "message": "JSON",
                "data": "JSON"}')))
        END AS ev
    FROM envelopes
),

-- An event's JSON fields are NULL for a JSON null and otherwise minified JSON text, so an
-- object starts with '{' and an array with '[': tested on the text, not parsed again.
stream_parts AS (
    SELECT
        *,
        CASE WHEN sse IS NOT NULL THEN struct_pack(
            -- an error event ends the call as failed, whatever came before it
            error := list_filter(ev, lambda e: e.f.error IS NOT NULL
                                               OR starts_with(e.f.errors, '[')
                                               OR e.f.type IN ('error', 'response.failed'))[-1],
            -- OpenAI Responses: the final event carries the whole response
            response := list_filter(ev, lambda e: e.f.type IN ('response.completed',
                                                               'response.incomplete'))[-1],
            -- Anthropic: message_start has the input and cache counts, the last
            -- message_delta the cumulative output count, which replaces (never adds to) the
            -- earlier one
            message_start := list_filter(ev, lambda e: e.f.type = 'message_start')[1],
            message_delta := list_filter(ev, lambda e: e.f.type = 'message_delta'
                                                       AND starts_with(e.f.usage, '{'))[-1],
            -- OpenAI chat (final chunk, `"choices": []`) and Runware (final chunk with cost)
            usage := list_filter(ev, lambda e: starts_with(e.f.usage, '{')
                                               AND e.f.type IS DISTINCT FROM 'message_delta')[-1],
            first := ev[1]
        ) END AS st
    FROM events
),

synth AS (
    SELECT
        *,
        CASE
            WHEN sse IS NULL THEN NULL
            WHEN st.error IS NOT NULL THEN
                CASE WHEN st.error.f.type = 'response.failed'
                     THEN st.error.f.response ELSE st.error.text END
            WHEN st.response IS NOT NULL THEN st.response.f.response
            WHEN st.message_start IS NOT NULL AND st.message_delta IS NOT NULL THEN
                json_merge_patch(st.message_start.f.message,
                                 json_object('usage', st.message_delta.f.usage))
            WHEN st.usage IS NOT NULL AND st.usage.f.taskUUID IS NOT NULL
                THEN json_object('data', json_array(CAST(st.usage.text AS JSON)))
            WHEN st.usage IS NOT NULL THEN st.usage.text
        END AS stream_body,
        CASE WHEN sse IS NOT NULL THEN
            coalesce(st.first.f.id, st.first.f.message ->> '$.id',
                     st.first.f.response ->> '$.id', st.first.f.taskUUID,
                     st.first.f.data ->> '$[0].taskUUID')
        END AS stream_id
    FROM stream_parts
),

bodies AS (
    SELECT
        *,
        CASE WHEN sse IS NULL THEN parsed_body
             ELSE json_transform(stream_body, __BODY_SHAPE__) END AS b,
        CASE
            WHEN problem IS NOT NULL THEN problem
            WHEN sse IS NOT NULL AND len(ev) = 0 AND trim(sse) <> ''
                THEN 'sse holds no readable data events (not an event stream, or every '
                     || 'event is broken)'
            WHEN response_type IS NOT NULL AND response_type NOT IN ('VARCHAR', 'NULL', 'OBJECT')
                THEN 'response is a JSON ' || lower(response_type) || ', not a body object'
            WHEN response_type = 'VARCHAR'
                 AND coalesce(TRY_CAST(http_status_txt AS INTEGER), 200) < 400
                THEN 'response is text, not a JSON body (an HTML page?), and status_code '
                     || 'is not an error'
        END AS body_problem,
        -- a stream that ended (or was cut) before any usage or error: failed, not charged
        sse IS NOT NULL AND stream_body IS NULL AS stream_cut
    FROM synth
),

shaped AS (
    SELECT
        *,
        coalesce(len(list_filter(b.data, lambda x: x.taskUUID IS NOT NULL
                                                   OR x.taskType IS NOT NULL)) > 0
                 OR len(b.errors) > 0, false) AS is_task,
        coalesce(b.type = 'message' OR b.usage.cache_read_input_tokens IS NOT NULL
                 OR b.usage.cache_creation_input_tokens IS NOT NULL, false) AS is_anthropic,
        -- Runware: only a final status is a call; an in-progress poll item is not
        list_filter(b.data, lambda x: coalesce(lower(x.status), 'success')
                                      NOT IN ('processing', 'pending')) AS task_results
    FROM bodies
),

itemised AS (
    SELECT
        *,
        CASE WHEN NOT is_task THEN [struct_pack(
            item := 0,
            item_call_id := b.id,
            item_model := b.model,
            error_type := CASE
                WHEN stream_cut THEN 'stream ended before usage'
                WHEN response_type = 'VARCHAR' THEN 'error page (not JSON)'
                WHEN coalesce(json_type(b.error), 'NULL') <> 'NULL'
                    THEN coalesce(b.error ->> '$.type', b.error ->> '$.code', 'error')
                WHEN b.type = 'error' THEN 'error'
                WHEN lower(b.status) IN ('failed', 'cancelled') THEN 'response ' || lower(b.status)
            END,
            usage_present := b.usage IS NOT NULL,
            input_txt := CASE
                WHEN NOT is_anthropic THEN coalesce(b.usage.prompt_tokens, b.usage.input_tokens)
                WHEN regexp_full_match(b.usage.input_tokens, '[0-9]{1,17}')
                     AND regexp_full_match(coalesce(b.usage.cache_read_input_tokens, '0'),
                                           '[0-9]{1,17}')
                     AND regexp_full_match(coalesce(b.usage.cache_creation_input_tokens, '0'),
                                           '[0-9]{1,17}')
                    -- TRY_CAST under the regexes, as in extract_otel.sql
                    THEN (TRY_CAST(b.usage.input_tokens AS BIGINT)
                          + TRY_CAST(coalesce(b.usage.cache_read_input_tokens, '0') AS BIGINT)
                          + TRY_CAST(coalesce(b.usage.cache_creation_input_tokens, '0')
                                     AS BIGINT))::VARCHAR
                -- a bad count stays as written, for validate.sql to name it
                ELSE b.usage.input_tokens
            END,
            cache_read_txt := CASE WHEN is_anthropic THEN b.usage.cache_read_input_tokens
                ELSE coalesce(b.usage.prompt_tokens_details.cached_tokens,
                              b.usage.input_tokens_details.cached_tokens) END,
            cache_write_txt := CASE WHEN is_anthropic THEN b.usage.cache_creation_input_tokens
                ELSE b.usage.prompt_tokens_details.cache_write_tokens END,
            -- Anthropic's cache writes of a 1-hour lifetime, a part of the cache writes
            cache_write_1h_txt := b.usage.cache_creation.ephemeral_1h_input_tokens,
            output_txt := coalesce(b.usage.completion_tokens, b.usage.output_tokens),
            reasoning_txt := coalesce(b.usage.completion_tokens_details.reasoning_tokens,
                                      b.usage.output_tokens_details.reasoning_tokens),
            reported_cost_txt := b.usage.cost,
            body_ts := coalesce(b.created, b.created_at)
        )] ELSE list_concat(
            list_transform(task_results, lambda x, i: struct_pack(
                item := i - 1,
                -- numberResults > 1 gives several results of one taskUUID: number them
                item_call_id := CASE
                    WHEN len(list_filter(task_results, lambda y: y.taskUUID = x.taskUUID)) > 1
                        THEN x.taskUUID || ':' || i
                    ELSE x.taskUUID END,
                item_model := NULL::VARCHAR,
                error_type := CASE WHEN lower(x.status) IN ('error', 'failed')
                    THEN coalesce(x.error ->> '$.code', x.error ->> '$.message', 'task error')
                END,
                usage_present := x.usage IS NOT NULL,
                input_txt := x.usage.promptTokens,
                cache_read_txt := NULL::VARCHAR,
                cache_write_txt := NULL::VARCHAR,
                cache_write_1h_txt := NULL::VARCHAR,
                -- thinking tokens are output; they are already in completionTokens unless
                -- totalTokens counts them on top
                output_txt := CASE
                    WHEN regexp_full_match(x.usage.promptTokens, '[0-9]{1,17}')
                         AND regexp_full_match(x.usage.completionTokens, '[0-9]{1,17}')
                         AND regexp_full_match(x.usage.thinkingTokens, '[0-9]{1,17}')
                         AND TRY_CAST(x.usage.totalTokens AS BIGINT)
                             = TRY_CAST(x.usage.promptTokens AS BIGINT)
                               + TRY_CAST(x.usage.completionTokens AS BIGINT)
                               + TRY_CAST(x.usage.thinkingTokens AS BIGINT)
                        THEN (TRY_CAST(x.usage.completionTokens AS BIGINT)
                              + TRY_CAST(x.usage.thinkingTokens AS BIGINT))::VARCHAR
                    ELSE x.usage.completionTokens
                END,
                reasoning_txt := x.usage.thinkingTokens,
                reported_cost_txt := x.cost,
                body_ts := NULL::VARCHAR)),
            list_transform(b.errors, lambda x, i: struct_pack(
                item := coalesce(len(task_results), 0) + i - 1,
                item_call_id := x.taskUUID,
                item_model := NULL::VARCHAR,
                error_type := coalesce(x.code, 'task error'),
                usage_present := false,
                input_txt := NULL::VARCHAR,
                cache_read_txt := NULL::VARCHAR,
                cache_write_txt := NULL::VARCHAR,
                cache_write_1h_txt := NULL::VARCHAR,
                output_txt := NULL::VARCHAR,
                reasoning_txt := NULL::VARCHAR,
                reported_cost_txt := NULL::VARCHAR,
                body_ts := NULL::VARCHAR)))
        END AS found
    FROM shaped
),

exploded AS (
    SELECT
        * EXCLUDE (found),
        len(found) = 0 AS nothing_final,
        unnest(CASE WHEN len(found) = 0 THEN [struct_pack(
            item := 0, item_call_id := NULL::VARCHAR, item_model := NULL::VARCHAR,
            error_type := NULL::VARCHAR, usage_present := false, input_txt := NULL::VARCHAR,
            cache_read_txt := NULL::VARCHAR, cache_write_txt := NULL::VARCHAR,
            cache_write_1h_txt := NULL::VARCHAR,
            output_txt := NULL::VARCHAR, reasoning_txt := NULL::VARCHAR,
            reported_cost_txt := NULL::VARCHAR, body_ts := NULL::VARCHAR)]
            ELSE found END) AS c
    FROM itemised
),

extracted AS (
    SELECT
        NULL::BIGINT AS source_line,  -- numbered once staged (number_lines.sql)
        blank,
        c.item AS source_item,
        line,
        coalesce(body_problem, CASE WHEN nothing_final
            THEN 'no finished call in this body: every task result is still in progress '
                 || '(the final poll result is the call)' END) AS problem,
        CASE WHEN is_task THEN coalesce(c.item_call_id, env_call_id || ':' || (c.item + 1))
             ELSE coalesce(env_call_id, c.item_call_id, stream_id) END AS call_id,
        coalesce(env_ts, c.body_ts) AS ts_txt,
        env_provider AS provider,
        coalesce(env_model, c.item_model) AS model,
        NULL::VARCHAR AS status_txt,  -- derived from status_code and the body
        http_status_txt,
        c.error_type,
        c.usage_present,
        NULL::VARCHAR AS no_usage_reason,  -- every call read from a body has its usage
        c.input_txt,
        c.cache_read_txt,
        c.cache_write_txt,
        c.cache_write_1h_txt,
        c.output_txt,
        c.reasoning_txt,
        c.reported_cost_txt,
        team, project, api_key, api_key_id, tags
    FROM exploded
)
