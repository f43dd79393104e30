-- CTE fragment, after json_lines.sql: OpenTelemetry GenAI spans in OTLP/JSON, one export request
-- per line (resourceSpans -> scopeSpans -> spans), as a collector's file exporter writes
-- them. Each span with gen_ai.* attributes is one call; other spans of the trace (HTTP,
-- database) are not calls and are passed over. Counts follow the GenAI semantic conventions:
-- gen_ai.usage.input_tokens includes cache reads and writes, output_tokens includes
-- reasoning. 64-bit integers arrive as JSON strings. A span with status ERROR or an
-- error.type attribute is a failed call. Attribution comes from the span's or the
-- resource's ratecard.team / ratecard.project / ratecard.api_key_id attributes; the provider
-- from --provider, else gen_ai.provider.name (or the older gen_ai.system). Each line is
-- parsed into otel_shape.json.

-- every span of the line with its own and its resource's attributes as (k, v) text pairs
flat AS (
    SELECT
        line,
        blank,
        is_json,
        list_filter(flatten(flatten(list_transform(r.resourceSpans, lambda rs:
            list_transform(rs.scopeSpans, lambda ss:
                list_transform(ss.spans, lambda s: struct_pack(
                    trace_id := s.traceId,
                    span_id := s.spanId,
                    start_ns := s.startTimeUnixNano,
                    status_code := s.status.code,
                    status_message := s.status.message,
                    attrs := list_concat(
                        list_transform(s.attributes, lambda a: struct_pack(k := a.key,
                            v := coalesce(a.value.stringValue, a.value.intValue,
                                          a.value.doubleValue, a.value.boolValue))),
                        list_transform(rs.resource.attributes, lambda a: struct_pack(
                            k := a.key,
                            v := coalesce(a.value.stringValue, a.value.intValue,
                                          a.value.doubleValue, a.value.boolValue))))
                )))))),
            lambda x: len(list_filter(x.attrs, lambda a: starts_with(a.k, 'gen_ai.'))) > 0
        ) AS spans
    FROM checked_json
),

exploded AS (
    SELECT
        line,
        blank,
        coalesce(json_line_problem(line, is_json),
                 CASE WHEN coalesce(len(spans), 0) = 0
                      THEN 'no GenAI span (gen_ai.* attributes) in this OTLP export' END
        ) AS problem,
        unnest(CASE WHEN coalesce(len(spans), 0) = 0 THEN [NULL] ELSE
            list_transform(spans, lambda s, i: struct_insert(s, item := i - 1)) END) AS s
    FROM flat
),

extracted AS (
    SELECT
        NULL::BIGINT AS source_line,  -- numbered once staged (number_lines.sql)
        blank,
        coalesce(s.item, 0) AS source_item,
        line,
        problem,
        coalesce(list_filter(s.attrs, lambda a: a.k = 'gen_ai.response.id')[1].v,
                 s.trace_id || ':' || s.span_id) AS call_id,
        CASE WHEN regexp_full_match(s.start_ns, '[0-9]{1,19}')
             -- TRY_CAST although the regex guards it: DuckDB has been seen to cast a
             -- non-matching value here ('' aborted the file), so a guard is not relied on
             THEN CAST(make_timestamptz(TRY_CAST(TRY_CAST(s.start_ns AS HUGEINT) // 1000 AS BIGINT))
                       AS VARCHAR)
             ELSE s.start_ns END AS ts_txt,
        coalesce($provider::VARCHAR,
                 list_filter(s.attrs, lambda a: a.k = 'gen_ai.provider.name')[1].v,
                 list_filter(s.attrs, lambda a: a.k = 'gen_ai.system')[1].v) AS provider,
        coalesce(list_filter(s.attrs, lambda a: a.k = 'gen_ai.request.model')[1].v,
                 list_filter(s.attrs, lambda a: a.k = 'gen_ai.response.model')[1].v) AS model,
        -- a span status set to OK is an explicit success: with an error it contradicts
        -- (validate.sql quarantines that); unset, the status comes from the error fields
        CASE WHEN s.status_code IN ('1', 'STATUS_CODE_OK') THEN 'ok' END AS status_txt,
        list_filter(s.attrs, lambda a: a.k = 'http.response.status_code')[1].v
            AS http_status_txt,
        CASE
            WHEN list_filter(s.attrs, lambda a: a.k = 'error.type')[1].v IS NOT NULL
                THEN list_filter(s.attrs, lambda a: a.k = 'error.type')[1].v
            WHEN s.status_code IN ('2', 'STATUS_CODE_ERROR')
                THEN coalesce(nullif(s.status_message, ''), 'span error')
        END AS error_type,
        len(list_filter(s.attrs, lambda a: starts_with(a.k, 'gen_ai.usage.'))) > 0
            AS usage_present,
        NULL::VARCHAR AS no_usage_reason,
        list_filter(s.attrs, lambda a: a.k = 'gen_ai.usage.input_tokens')[1].v AS input_txt,
        list_filter(s.attrs, lambda a: a.k = 'gen_ai.usage.cache_read.input_tokens')[1].v
            AS cache_read_txt,
        list_filter(s.attrs, lambda a: a.k = 'gen_ai.usage.cache_creation.input_tokens')[1].v
            AS cache_write_txt,
        NULL::VARCHAR AS cache_write_1h_txt,  -- the GenAI conventions have no lifetimes
        list_filter(s.attrs, lambda a: a.k = 'gen_ai.usage.output_tokens')[1].v AS output_txt,
        list_filter(s.attrs, lambda a: a.k = 'gen_ai.usage.reasoning.output_tokens')[1].v
            AS reasoning_txt,
        NULL::VARCHAR AS reported_cost_txt,
        list_filter(s.attrs, lambda a: a.k = 'ratecard.team')[1].v AS team,
        list_filter(s.attrs, lambda a: a.k = 'ratecard.project')[1].v AS project,
        NULL::VARCHAR AS api_key,
        list_filter(s.attrs, lambda a: a.k = 'ratecard.api_key_id')[1].v AS api_key_id,
        NULL::JSON AS tags
    FROM exploded
)
