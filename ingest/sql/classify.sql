-- The records of the staged file that are NOT plain loads, with their verdict: duplicate, or
-- quarantine with a reason. Every other staged record is loaded.
--
-- A call_id seen before, in the warehouse or earlier in this file, is a duplicate when its
-- content is the same, and a conflict (quarantined, never billed twice) when it differs; the
-- first record of a call_id wins. What makes two records the same call is the struct
-- ingest/usage.py's CALL_CONTENT names, filled in before the query runs. A bad record quarantined before (the same file ingested
-- again) is a duplicate too, so that a re-ingest changes nothing.
WITH

-- Ids are matched by their integer keys first (call_key, warehouse/schema.sql): millions
-- of keys scan and group far faster than the text ids, and only the few records whose key
-- repeats in this file or is already in the warehouse have their content compared. A key
-- shared by two different ids only adds records to compare: the joins below are on call_id
-- (ADR 0015, ADR 0016).

-- earlier calls that may share an id with this file's
existing AS (
    SELECT call_id, call_key, source, source_line,
           __CALL_CONTENT__ AS content
    FROM calls
    WHERE call_key IN (SELECT call_key FROM ingest_scratch.staged WHERE reason IS NULL)
),

-- keys that repeat in this file or were loaded before
suspects AS (
    SELECT call_key FROM ingest_scratch.staged WHERE reason IS NULL GROUP BY call_key HAVING count(*) > 1
    UNION
    SELECT call_key FROM existing
),

-- the file's valid records that may have been seen before, with what makes two records of
-- one call_id the same call
valid AS (
    SELECT
        source_line, source_item, call_id,
        __CALL_CONTENT__ AS content
    FROM ingest_scratch.staged
    WHERE reason IS NULL AND call_key IN (SELECT call_key FROM suspects)
),

-- call_ids that occur more than once in this file
repeated AS (
    SELECT v.*,
           row_number() OVER same_call AS nth,
           first_value(content) OVER same_call AS first_content,
           first_value(source_line) OVER same_call AS first_line
    FROM valid AS v
    WHERE call_id IN (SELECT call_id FROM valid GROUP BY call_id HAVING count(*) > 1)
    WINDOW same_call AS (PARTITION BY call_id ORDER BY source_line, source_item)
),

seen_before AS (
    SELECT
        v.source_line, v.source_item, v.call_id, v.content,
        CASE WHEN v.content IS NOT DISTINCT FROM e.content THEN NULL
             ELSE format('conflict: call_id {} was already loaded from {} line {} with '
                         'different content; fix the record or the id', v.call_id,
                         e.source, e.source_line)
        END AS conflict
    FROM valid AS v
    JOIN existing AS e USING (call_id)
),

repeated_in_file AS (
    SELECT
        source_line, source_item, call_id, content,
        CASE WHEN content IS NOT DISTINCT FROM first_content THEN NULL
             ELSE format('conflict: call_id {} appears at line {} of this file with different '
                         'content; fix the record or the id', call_id, first_line)
        END AS conflict
    FROM repeated
    WHERE nth > 1 AND call_id NOT IN (SELECT call_id FROM existing)
),

judged_valid AS (
    SELECT
        source_line, source_item, call_id, conflict AS reason,
        -- a conflict has no single bad line to show: show the record as ratecard read it
        CASE WHEN conflict IS NOT NULL
            THEN CAST(to_json(struct_insert(content, call_id := call_id)) AS VARCHAR)
        END AS raw
    FROM (SELECT * FROM seen_before UNION ALL SELECT * FROM repeated_in_file)
),

candidates AS (
    SELECT source_line, source_item, call_id, reason, raw, md5(raw) AS record_hash
    FROM judged_valid
    UNION ALL
    SELECT source_line, source_item, NULL AS call_id, reason, raw, record_hash
    FROM ingest_scratch.staged
    WHERE reason IS NOT NULL
),

final AS (
    SELECT
        c.source_line,
        c.source_item,
        c.call_id,
        CASE WHEN c.reason IS NULL OR q.record_hash IS NOT NULL THEN 'duplicate'
             ELSE 'quarantine' END AS outcome,
        c.reason,
        c.raw,
        c.record_hash
    FROM candidates AS c
    LEFT JOIN (SELECT DISTINCT record_hash FROM quarantine) AS q USING (record_hash)
)

SELECT * FROM final
