-- The outcome of every record of one file: load, duplicate, or quarantine with a reason.
-- A call_id seen before (in the warehouse, or earlier in this file) with the same content is
-- a duplicate; with different content it is a conflict and is quarantined, never billed
-- twice. The first record of a call_id wins. A bad record that was quarantined before (the
-- same file ingested again) is a duplicate too, so a re-ingest changes nothing.
WITH

validated AS (SELECT * FROM ingest_validated),

valid AS (
    SELECT
        *,
        row_number() OVER same_call AS nth,
        first_value(content_hash) OVER same_call AS first_hash,
        first_value(source_line) OVER same_call AS first_line
    FROM validated
    WHERE reason IS NULL
    WINDOW same_call AS (PARTITION BY call_id ORDER BY source_line)
),

existing AS (
    SELECT call_id, content_hash, source, source_line
    FROM calls
    SEMI JOIN (SELECT DISTINCT call_id FROM valid) AS incoming USING (call_id)
),

classified AS (
    SELECT
        v.* EXCLUDE (reason, nth, first_hash, first_line),
        CASE
            WHEN e.call_id IS NOT NULL AND e.content_hash = v.content_hash THEN 'duplicate'
            WHEN e.call_id IS NOT NULL AND q.record_hash IS NOT NULL THEN 'duplicate'
            WHEN e.call_id IS NOT NULL THEN 'quarantine'
            WHEN v.nth = 1 THEN 'load'
            WHEN v.content_hash = v.first_hash THEN 'duplicate'
            ELSE 'quarantine'
        END AS outcome,
        CASE
            WHEN e.call_id IS NOT NULL AND e.content_hash <> v.content_hash
                THEN format('conflict: call_id {} was already loaded from {} line {} with '
                            'different content; fix the record or the id', v.call_id,
                            e.source, e.source_line)
            WHEN e.call_id IS NULL AND v.nth > 1 AND v.content_hash <> v.first_hash
                THEN format('conflict: call_id {} appears at line {} of this file with '
                            'different content; fix the record or the id', v.call_id,
                            v.first_line)
        END AS reason
    FROM valid AS v
    LEFT JOIN existing AS e USING (call_id)
    LEFT JOIN (SELECT DISTINCT record_hash FROM quarantine) AS q USING (record_hash)
),

invalid AS (
    SELECT
        v.* EXCLUDE (reason),
        CASE WHEN q.record_hash IS NULL THEN 'quarantine' ELSE 'duplicate' END AS outcome,
        v.reason
    FROM validated AS v
    LEFT JOIN (SELECT DISTINCT record_hash FROM quarantine) AS q USING (record_hash)
    WHERE v.reason IS NOT NULL
),

final AS (
    SELECT * FROM classified
    UNION ALL BY NAME
    SELECT * FROM invalid
)

SELECT * FROM final
