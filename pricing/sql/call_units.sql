-- CTE fragment, after scope.sql and before costed.sql: each call of the scope as one unit
-- to bill, with the price point in force at its ts (range join) and matching its input
-- size (tier). No price point: the rate columns are NULL.
units AS (
    SELECT s.*, 1 AS calls, r.* EXCLUDE (provider, model)
    FROM scope AS s
    LEFT JOIN rates AS r
        ON  r.provider = s.provider
        AND r.model = s.priced_model
        AND s.ts >= r.effective_from AND s.ts < r.effective_to
        AND s.input_tokens > r.tier_lo AND s.input_tokens <= r.tier_hi
)
