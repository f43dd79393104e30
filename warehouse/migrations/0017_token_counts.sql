-- One list of the token counts (issue 21): the names of the token counts a call has, as
-- every table that sums them names them. A query sums those its source has with
--     sum(COLUMNS(lambda c: list_contains(token_counts(), c)))::HUGEINT
-- (each under its own name; HUGEINT, which no sum of BIGINT counts can overflow); a table
-- that does not keep one leaves it out by name. Used by ingest's call_hours, billing's hour
-- units and the daily and repricing rollups.
CREATE MACRO token_counts() AS [
    'input_tokens', 'cache_read_tokens', 'cache_write_tokens', 'cache_write_1h_tokens',
    'output_tokens', 'reasoning_tokens'
];
