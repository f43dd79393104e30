-- reprice_hours rows, for repricing: the priced calls' hourly sums (rollup.sql) by where
-- they ran, their canonical model and variant, failure and input-size band.
SELECT
    batch_id, hour, provider, canonical_model, variant, team, project, failed, input_band,
    sum(calls) AS calls,
    -- each token count but reasoning, which repricing does not need (output includes it)
    sum(COLUMNS(lambda c: list_contains(token_counts(), c) AND c <> 'reasoning_tokens'))::HUGEINT,
    sum(total_cost) AS total_cost
FROM billed_hours
WHERE unpriced_reason IS NULL  -- NULL exactly for priced calls (costed.sql)
GROUP BY ALL
