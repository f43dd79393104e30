-- The line numbers of a JSONL file's staged records (lines.sql). The staged table holds the
-- file's rows in file order (DuckDB keeps insertion order), one per call of each line:
-- source_item 0, 1, ... So the row at place p (from 1) is on line p minus the rows up to it
-- that are a line's second or later call. Rowids count places from the table's first rowid
-- (rows written inside a transaction start at 2^55). Lines the reader rejected are not
-- rows: renumber_after_rejects.sql shifts the numbers after them. A line's second and later
-- calls shift the rows after them too: shift_after_extra_calls.sql, run when there are any.
UPDATE ingest_scratch.staged
SET source_line = rowid - (SELECT min(rowid) FROM ingest_scratch.staged) + 1
