-- Every line of a JSONL file (plain or .gz) as text, stored in file order so that a line's
-- rowid + 1 is its line number; lines.sql reads it back in parallel by rowid, which a
-- row_number() window (serial) would not allow. $delim is four control characters
-- (usage.LINE_DELIM) that valid JSON never holds raw, so a line is one column. Bad bytes and over-long lines go to
-- the ingest_rejects table with their line number instead of failing the read.
CREATE OR REPLACE TEMP TABLE ingest_lines AS
SELECT line
FROM read_csv(
    $path,
    columns = {'line': 'VARCHAR'},
    delim = $delim, quote = '', escape = '', header = false, auto_detect = false,
    max_line_size = 67108864, buffer_size = 134217728,
    store_rejects = true, rejects_table = 'ingest_rejects', rejects_scan = 'ingest_reject_scans'
)
