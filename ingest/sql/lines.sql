-- CTE fragment: every line of a JSONL file (plain or .gz) as text, read in parallel straight
-- from the file. $delim is four control characters (repair.LINE_DELIM) that valid JSON never
-- holds raw, so a line is one column. Bad bytes and lines over $max_line bytes go to the
-- ingest_rejects table with their line number instead of failing the read. Lines end at LF
-- only: left to guess, the reader takes a file whose first line ends in CRLF for a CRLF
-- file and then splits any other line at a lone CR, silently. So any CR stops the read, and
-- ingest reads a repaired copy instead (ingest/repair.py), where CRLF ends are LF and a line
-- with a CR inside is a marker the reader rejects.
--
-- A line has no number here: every line, blank ones included, gives the staged table one row
-- per call in it, in file order, and number_lines.sql numbers them by their place there.
-- A blank line (empty, or only JSON's blanks: space, tab, CR) is no record; its rows are
-- dropped once numbered.
lines AS (
    SELECT
        line,
        -- trim only lines that start with a blank: trim with a set of characters reads the
        -- whole line. The blanks (space, tab, CR) sort before '!': comparing the first bytes
        -- is cheaper than decoding the first character (other control characters sort there
        -- too, and are simply not trimmed away), ADR 0010.
        CASE WHEN line IS NULL THEN true
             WHEN line < '!' THEN trim(line, ' ' || chr(9) || chr(13)) = ''
             ELSE false END AS blank
    FROM read_csv(
        $path,
        columns = {'line': 'VARCHAR'},
        delim = $delim, quote = '', escape = '', header = false, auto_detect = false,
        new_line = '\n', max_line_size = $max_line, buffer_size = $read_buffer,
        store_rejects = true, rejects_table = 'ingest_rejects',
        rejects_scan = 'ingest_reject_scans'
    )
)
