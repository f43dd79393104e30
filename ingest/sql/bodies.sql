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

-- the JSON payloads of the stream's `data:` lines, in order (only for rows with a stream: the
-- CASE keeps the list work off every other row, ADR 0013). `[DONE]` ends an OpenAI (and Runware)
-- stream normally; a broken event (a cut connection) is skipped.
payloads AS (
    SELECT
        *,
        CASE WHEN sse IS NOT NULL THEN list_transform(
            list_filter(string_split(replace(sse, chr(13), ''), chr(10)),
                        lambda x: starts_with(x, 'data:')),
            lambda x: trim_spaces(substr(x, 6)))
        END AS data_lines
    FROM envelopes
),

-- each event parsed once into the fields the stream rules below read. Runware may wrap a
-- chunk as {"data": {...}} (its SDK reads `line.get("data") or line`): the inner object is
-- the event; the cheap text test keeps the second parse off every other event.
events AS (
    SELECT
        *,
        CASE WHEN sse IS NOT NULL THEN list_transform(
            list_transform(
                list_filter(data_lines, lambda x: starts_with(x, '{') AND json_valid(x)),
                lambda x: CASE WHEN contains(x, '"data"') AND json_type(x, '$.data') = 'OBJECT'
                               THEN json_extract(x, '$.data')::VARCHAR ELSE x END),
            lambda x: struct_pack(text := x, f := json_transform(x, '{
                "type": "VARCHAR", "id": "VARCHAR", "taskUUID": "VARCHAR", "error": "JSON",
                "errors": "JSON", "usage": "JSON", "response": "JSON", "message": "JSON",
                "data": "JSON"}')))
        END AS ev
    FROM payloads
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
            -- Anthropic: message_start has the message and its usage; every message_delta's
            -- usage holds cumulative counts that replace the earlier ones, and a count it
            -- leaves out or sends as null is unchanged (as the SDK's accumulate_event reads
            -- them), so each count is the last one given, else message_start's
            message_start := list_filter(ev, lambda e: e.f.type = 'message_start')[1],
            deltas := list_transform(
                list_filter(ev, lambda e: e.f.type = 'message_delta'
                                          AND starts_with(e.f.usage, '{')),
                lambda e: json_transform(e.f.usage, '{
                    "input_tokens": "VARCHAR", "output_tokens": "VARCHAR",
                    "cache_read_input_tokens": "VARCHAR",
                    "cache_creation_input_tokens": "VARCHAR",
                    "output_tokens_details": "JSON"}')),
            -- OpenAI chat (final chunk, `"choices": []`) and Runware (final chunk with cost)
            usage := list_filter(ev, lambda e: starts_with(e.f.usage, '{')
                                               AND e.f.type IS DISTINCT FROM 'message_delta')[-1],
            first := ev[1]
        ) END AS st
    FROM events
),

-- what the stream's events add up to: `source` names the rule that applies, first match
stream_kinds AS (
    SELECT
        *,
        CASE
            WHEN sse IS NULL THEN NULL
            WHEN st.error IS NOT NULL THEN 'error'
            WHEN st.response IS NOT NULL AND starts_with(st.response.f.response ->> '$.usage', '{')
                THEN 'response'
            WHEN st.message_start IS NOT NULL AND len(st.deltas) > 0 THEN 'anthropic'
            WHEN st.usage IS NOT NULL AND st.usage.f.taskUUID IS NOT NULL THEN 'task'
            WHEN st.usage IS NOT NULL THEN 'usage'
            WHEN st.response IS NOT NULL THEN 'no usage'
            -- the stream ended as its API ends a finished call: `[DONE]`, a chat choice or a
            -- Runware chunk with a finish reason, Anthropic's message_stop or a stop_reason.
            -- Looked at only here, for the few streams no rule above has billed, so those
            -- fields are read from the events' text here rather than parsed from every event
            -- (ADR 0013)
            WHEN list_contains(data_lines, '[DONE]') OR len(list_filter(ev, lambda e:
                     e.f.type = 'message_stop'
                     OR json_extract_string(e.text, '$.finishReason') IS NOT NULL
                     OR len(list_filter(json_extract_string(e.text, '$.choices[*].finish_reason'),
                                        lambda r: r IS NOT NULL)) > 0
                     OR (e.f.type = 'message_delta'
                         AND json_extract_string(e.text, '$.delta.stop_reason') IS NOT NULL)
                 )) > 0
                -- Anthropic's message_start with its counts; otherwise a stream that ended
                -- normally without usage: the call succeeded and was charged, but what it cost
                -- cannot be told (loaded unpriced, never as free)
                THEN CASE WHEN st.message_start IS NOT NULL THEN 'anthropic' ELSE 'no usage' END
        END AS stream_source
    FROM stream_parts
),

-- for a stream without usage only (a CASE: the others pay nothing): are its events Runware's?
stream_runware AS (
    SELECT
        *,
        CASE WHEN stream_source = 'no usage'
            THEN len(list_filter(ev, lambda e: e.f.taskUUID IS NOT NULL)) > 0
        END AS runware
    FROM stream_kinds
),

synth AS (
    SELECT
        *,
        CASE stream_source
            WHEN 'error' THEN
                CASE WHEN st.error.f.type = 'response.failed'
                     THEN st.error.f.response ELSE st.error.text END
            WHEN 'response' THEN st.response.f.response
            WHEN 'anthropic' THEN json_merge_patch(
                st.message_start.f.message,
                json_object('usage', json_object(
                    'input_tokens', coalesce(
                        list_filter(st.deltas, lambda d: d.input_tokens IS NOT NULL)[-1].input_tokens,
                        st.message_start.f.message ->> '$.usage.input_tokens'),
                    'output_tokens', coalesce(
                        list_filter(st.deltas, lambda d: d.output_tokens IS NOT NULL)[-1].output_tokens,
                        st.message_start.f.message ->> '$.usage.output_tokens'),
                    'cache_read_input_tokens', coalesce(
                        list_filter(st.deltas, lambda d: d.cache_read_input_tokens IS NOT NULL)[-1]
                            .cache_read_input_tokens,
                        st.message_start.f.message ->> '$.usage.cache_read_input_tokens'),
                    'cache_creation_input_tokens', coalesce(
                        list_filter(st.deltas, lambda d: d.cache_creation_input_tokens IS NOT NULL)[-1]
                            .cache_creation_input_tokens,
                        st.message_start.f.message ->> '$.usage.cache_creation_input_tokens'),
                    'output_tokens_details', coalesce(
                        list_filter(st.deltas, lambda d: d.output_tokens_details IS NOT NULL)[-1]
                            .output_tokens_details,
                        st.message_start.f.message -> '$.usage.output_tokens_details'))))
            WHEN 'task' THEN json_object('data', json_array(CAST(st.usage.text AS JSON)))
            WHEN 'usage' THEN st.usage.text
            -- the body without usage, for its id, model and time; Runware's final chunk as a
            -- task result, which keeps the reported cost
            WHEN 'no usage' THEN CASE
                WHEN runware THEN json_object('data', json_array(CAST(coalesce(
                    list_filter(ev, lambda e: json_extract_string(e.text, '$.finishReason')
                                              IS NOT NULL)[-1],
                    ev[-1]).text AS JSON)))
                ELSE coalesce(st.response.f.response, st.first.text) END
        END AS stream_body,
        CASE WHEN stream_source = 'no usage' THEN
            'stream carried no usage: ' || CASE
                WHEN st.response IS NOT NULL
                    THEN 'its response.completed event has none (the gateway dropped it?)'
                WHEN runware THEN 'ask for it with includeUsage: true in the task'
                WHEN len(list_filter(ev, lambda e: starts_with(e.f.type, 'message_')
                                                   OR starts_with(e.f.type, 'content_block'))) > 0
                    THEN 'its message_start event, which has the input counts, is missing'
                ELSE 'ask for it with stream_options: {"include_usage": true} in the request'
            END
        END AS stream_no_usage,
        CASE WHEN sse IS NOT NULL THEN
            coalesce(st.first.f.id, st.first.f.message ->> '$.id',
                     st.first.f.response ->> '$.id', st.first.f.taskUUID,
                     st.first.f.data ->> '$[0].taskUUID')
        END AS stream_id
    FROM stream_runware
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
        -- a stream cut before any usage or error: failed, not charged
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
        -- Anthropic's cache writes: cache_creation_input_tokens, else the sum of its
        -- breakdown by lifetime (both are optional in the SDK's Usage)
        coalesce(b.usage.cache_creation_input_tokens, CASE
            WHEN b.usage.cache_creation IS NULL THEN NULL
            WHEN regexp_full_match(b.usage.cache_creation.ephemeral_5m_input_tokens, '[0-9]{1,17}')
                 AND regexp_full_match(b.usage.cache_creation.ephemeral_1h_input_tokens,
                                       '[0-9]{1,17}')
                THEN (TRY_CAST(b.usage.cache_creation.ephemeral_5m_input_tokens AS BIGINT)
                      + TRY_CAST(b.usage.cache_creation.ephemeral_1h_input_tokens AS BIGINT))
                     ::VARCHAR
        END) AS anthropic_writes,
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
                WHEN b.type = 'error' THEN coalesce(b.code, 'error')  -- a Responses error event
                WHEN lower(b.status) IN ('failed', 'cancelled') THEN 'response ' || lower(b.status)
            END,
            usage_present := b.usage IS NOT NULL,
            no_usage_reason := stream_no_usage,
            input_txt := CASE
                WHEN NOT is_anthropic THEN coalesce(b.usage.prompt_tokens, b.usage.input_tokens)
                WHEN regexp_full_match(b.usage.input_tokens, '[0-9]{1,17}')
                     AND regexp_full_match(coalesce(b.usage.cache_read_input_tokens, '0'),
                                           '[0-9]{1,17}')
                     AND regexp_full_match(coalesce(anthropic_writes, '0'), '[0-9]{1,17}')
                    -- TRY_CAST under the regexes, as in extract_otel.sql
                    THEN (TRY_CAST(b.usage.input_tokens AS BIGINT)
                          + TRY_CAST(coalesce(b.usage.cache_read_input_tokens, '0') AS BIGINT)
                          + TRY_CAST(coalesce(anthropic_writes, '0') AS BIGINT))::VARCHAR
                -- a bad count stays as written, for validate.sql to name it
                ELSE b.usage.input_tokens
            END,
            cache_read_txt := CASE WHEN is_anthropic THEN b.usage.cache_read_input_tokens
                ELSE coalesce(b.usage.prompt_tokens_details.cached_tokens,
                              b.usage.input_tokens_details.cached_tokens) END,
            cache_write_txt := CASE WHEN is_anthropic THEN anthropic_writes
                ELSE coalesce(b.usage.prompt_tokens_details.cache_write_tokens,
                              b.usage.input_tokens_details.cache_write_tokens) END,
            -- Anthropic's cache writes of a 1-hour lifetime, a part of the cache writes
            cache_write_1h_txt := b.usage.cache_creation.ephemeral_1h_input_tokens,
            output_txt := coalesce(b.usage.completion_tokens, b.usage.output_tokens),
            reasoning_txt := coalesce(b.usage.completion_tokens_details.reasoning_tokens,
                                      b.usage.output_tokens_details.reasoning_tokens,
                                      b.usage.output_tokens_details.thinking_tokens),
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
                no_usage_reason := stream_no_usage,
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
                -- thinking tokens are the reasoning; else the details' reasoning tokens,
                -- which are part of completionTokens
                reasoning_txt := coalesce(x.usage.thinkingTokens,
                                          x.usage.completionTokensDetails.reasoningTokens),
                reported_cost_txt := x.cost,
                body_ts := NULL::VARCHAR)),
            list_transform(b.errors, lambda x, i: struct_pack(
                item := coalesce(len(task_results), 0) + i - 1,
                item_call_id := x.taskUUID,
                item_model := NULL::VARCHAR,
                error_type := coalesce(x.code, 'task error'),
                usage_present := false,
                no_usage_reason := NULL::VARCHAR,
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
        len(found) AS item_count,
        unnest(CASE WHEN len(found) = 0 THEN [struct_pack(
            item := 0, item_call_id := NULL::VARCHAR, item_model := NULL::VARCHAR,
            error_type := NULL::VARCHAR, usage_present := false,
            no_usage_reason := NULL::VARCHAR, input_txt := NULL::VARCHAR,
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
        -- the envelope's call_id wins over the body's (taskUUID, id), as for every body; a
        -- Runware body with several calls numbers it :1, :2... in their order
        CASE WHEN is_task AND env_call_id IS NOT NULL AND item_count > 1
                 THEN env_call_id || ':' || (c.item + 1)
             WHEN is_task THEN coalesce(env_call_id, c.item_call_id)
             ELSE coalesce(env_call_id, c.item_call_id, stream_id) END AS call_id,
        coalesce(env_ts, c.body_ts) AS ts_txt,
        env_provider AS provider,
        coalesce(env_model, c.item_model) AS model,
        NULL::VARCHAR AS status_txt,  -- derived from status_code and the body
        http_status_txt,
        c.error_type,
        c.usage_present,
        c.no_usage_reason,
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
