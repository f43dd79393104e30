-- Every line of a JSONL file (plain or .gz) as text, numbered in file order. Bad bytes and
-- over-long lines go to the rejects table with their line number instead of failing the read.
-- $delim is the 0x1f control character, which a valid JSON line never holds raw, so each
-- line is one column.
CREATE OR REPLACE TEMP TABLE ingest_lines AS
SELECT row_number() OVER () AS rn, line
FROM read_csv(
    $path,
    columns = {'line': 'VARCHAR'},
    delim = $delim, quote = '', escape = '', header = false, auto_detect = false,
    max_line_size = 67108864, buffer_size = 134217728,
    store_rejects = true, rejects_table = 'ingest_rejects', rejects_scan = 'ingest_reject_scans'
)
