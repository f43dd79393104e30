-- One definition of each rule the SQL of several layers applies (issue 21): the UTC hour a
-- time falls in, which columns are token counts, and whether a call at a price point is
-- charged. Macros of the warehouse, like bill_amounts, so that ingest, billing, repricing
-- and the reports call the same one.

-- The start of the UTC hour of `ts`, in microseconds since the epoch, rounded down (also
-- before 1970): the key of every hourly sum (call_hours, the billing units, hourly_spend).
-- Counted on the epoch, because date_trunc('hour', ts) of a TIMESTAMPTZ goes through the
-- time-zone calendar for every row (ADR 0026); grouping by this number and making it a time
-- once per group (make_timestamptz) is cheaper still.
CREATE MACRO utc_hour_us(ts) AS
    epoch_us(ts) - (epoch_us(ts) % 3600000000 + 3600000000) % 3600000000;

-- The start of the UTC hour of `ts`, as a time.
CREATE MACRO utc_hour(ts) AS make_timestamptz(utc_hour_us(ts));

-- The names of the token counts a call has, as every table that sums them names them. A
-- query sums those its source has with
--     sum(COLUMNS(lambda c: list_contains(token_counts(), c)))::HUGEINT
-- (each under its own name; HUGEINT, which no sum of BIGINT counts can overflow); a table
-- that does not keep one leaves it out by name.
CREATE MACRO token_counts() AS [
    'input_tokens', 'cache_read_tokens', 'cache_write_tokens', 'cache_write_1h_tokens',
    'output_tokens', 'reasoning_tokens'
];

-- Whether a call is charged: a price point prices it (`priced`), and it succeeded or its
-- provider bills failed calls. A priced call that is not charged costs 0; an unpriced one
-- has no amounts (bill_charge).
CREATE MACRO bill_charged(priced, failed, failed_calls_billed) AS
    priced AND (NOT failed OR failed_calls_billed);

-- calls_costed as in the baseline, deciding `charged` by bill_charged.
CREATE OR REPLACE VIEW calls_costed AS
WITH joined AS (
    SELECT
        c.*,
        b.batch_id IS NOT NULL AS billed,
        CASE WHEN b.batch_id IS NOT NULL THEN b.point_id IS NOT NULL END AS priced,
        b.unpriced_reason,
        b.point_id,
        bill_charged(p.point_id IS NOT NULL, c.status = 'failed', p.failed_calls_billed)
            AS charged,
        p.* EXCLUDE (point_id)
    FROM calls AS c
    LEFT JOIN call_bills AS b USING (batch_id, source_line, source_item)
    LEFT JOIN bill_points AS p USING (point_id)
),

amounts AS (
    SELECT
        * EXCLUDE (charged, failed_calls_billed, input_pt, cache_read_pt, cache_write_pt,
                   cache_write_1h_pt, output_pt, request_fee, saved_pt),
        bill_amounts(
            charged := charged, priced := priced, calls := 1, input_tokens := input_tokens,
            cache_read_tokens := cache_read_tokens, cache_write_tokens := cache_write_tokens,
            cache_write_1h_tokens := cache_write_1h_tokens, output_tokens := output_tokens,
            input_pt := input_pt, cache_read_pt := cache_read_pt,
            cache_write_pt := cache_write_pt, cache_write_1h_pt := cache_write_1h_pt,
            output_pt := output_pt, request_fee := request_fee, saved_pt := saved_pt
        ) AS bill
    FROM joined
)

SELECT
    * EXCLUDE (bill),
    bill.input_cost, bill.cache_read_cost, bill.cache_write_cost, bill.output_cost,
    bill.request_cost, bill.total_cost, bill.cache_savings, bill.cache_write_1h_cost
FROM amounts;
