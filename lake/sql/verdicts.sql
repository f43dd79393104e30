-- Spark SQL (not transpiled: a rule of the lake only). The verdict on every record the lake
-- tasks staged (`records`, lake/sql/records.sql; `files`: each file's number, batch and
-- source), decided across the whole lake as classify.sql decides it for one warehouse, with
-- the files taken in the order given: a call_id seen before, in the lake (`lake_calls`) or
-- earlier in this run, is a duplicate when its content is the same and a conflict when it
-- differs; the first record of a call_id wins; a record quarantined before (`lake_quarantine`,
-- or an earlier file of this run) is a duplicate. The reasons read as classify.sql's.
-- outcome: load, duplicate or quarantine.
WITH

staged AS (
    SELECT r.*, f.batch_id, f.source
    FROM records AS r
    JOIN files AS f ON f.file = r.file
    WHERE r.kind = 'record'
),

valid AS (
    SELECT
        *,
        row_number() OVER same_call AS nth,
        first_value(file) OVER same_call AS first_file,
        first_value(source_line) OVER same_call AS first_line,
        first_value(source) OVER same_call AS first_source,
        first_value(content_hash) OVER same_call AS first_hash
    FROM staged
    WHERE reason IS NULL
    WINDOW same_call AS (PARTITION BY call_id ORDER BY file, source_line, source_item)
),

existing AS (
    SELECT c.call_id, c.content_hash AS lake_hash, c.source AS lake_source,
           c.source_line AS lake_line
    FROM lake_calls AS c
    LEFT SEMI JOIN valid AS v ON v.call_id = c.call_id
),

judged AS (
    SELECT
        v.*,
        CASE
            WHEN e.call_id IS NOT NULL AND v.content_hash = e.lake_hash THEN 'duplicate'
            WHEN e.call_id IS NOT NULL THEN format_string(
                'conflict: call_id %s was already loaded from %s line %s with different '
                'content; fix the record or the id', v.call_id, e.lake_source, e.lake_line)
            WHEN v.nth = 1 THEN 'load'
            WHEN v.content_hash = v.first_hash THEN 'duplicate'
            WHEN v.first_file = v.file THEN format_string(
                'conflict: call_id %s appears at line %s of this file with different '
                'content; fix the record or the id', v.call_id, v.first_line)
            ELSE format_string(
                'conflict: call_id %s was already loaded from %s line %s with different '
                'content; fix the record or the id', v.call_id, v.first_source, v.first_line)
        END AS verdict
    FROM valid AS v
    LEFT JOIN existing AS e ON e.call_id = v.call_id
),

candidates AS (
    SELECT file, batch_id, source, source_line, source_item, call_id, verdict AS reason,
           content_raw AS raw, content_hash AS record_hash
    FROM judged
    WHERE verdict NOT IN ('load', 'duplicate')
    UNION ALL
    SELECT file, batch_id, source, source_line, source_item, CAST(NULL AS STRING) AS call_id,
           reason, raw, record_hash
    FROM staged
    WHERE reason IS NOT NULL
),

quarantined_before AS (
    SELECT DISTINCT record_hash FROM lake_quarantine
)

SELECT
    j.file, j.batch_id, j.source, j.source_line, j.source_item,
    j.verdict AS outcome,
    CAST(NULL AS STRING) AS reason, CAST(NULL AS STRING) AS raw,
    CAST(NULL AS STRING) AS record_hash, j.call_id
FROM judged AS j
WHERE j.verdict IN ('load', 'duplicate')
UNION ALL
SELECT
    c.file, c.batch_id, c.source, c.source_line, c.source_item,
    CASE WHEN q.record_hash IS NOT NULL
              OR c.file > min(c.file) OVER (PARTITION BY c.record_hash) THEN 'duplicate'
         ELSE 'quarantine' END AS outcome,
    c.reason, c.raw, c.record_hash, c.call_id
FROM candidates AS c
LEFT JOIN quarantined_before AS q ON q.record_hash = c.record_hash
