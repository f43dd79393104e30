-- Helpers for the staging query, created as temporary macros on the ingesting connection.

-- trim(x), DuckDB's (spaces only, both ends), but only called when an end is a space:
-- trim walks every character of the string, which cost 2 s per ten million call ids and
-- 2 s for the event streams of ten million calls; the ends alone are a constant-time test.
-- The same result for every string, NULL included.
CREATE OR REPLACE TEMP MACRO trim_spaces(x) AS
    CASE WHEN starts_with(x, ' ') OR ends_with(x, ' ') THEN trim(x) ELSE x END;
