-- The rows of a flat CSV file, all as text, numbered in file order; rows the reader cannot
-- split (bad bytes, too many or too few cells) go to the rejects table with their line.
CREATE OR REPLACE TEMP TABLE ingest_csv_rows AS
SELECT row_number() OVER () AS rn, *
FROM read_csv(
    $path, header = true, all_varchar = true, auto_detect = true,
    store_rejects = true, rejects_table = 'ingest_rejects', rejects_scan = 'ingest_reject_scans'
)
