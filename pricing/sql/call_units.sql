-- CTE fragment, after scope.sql and before costed.sql: each call of the scope as one unit
-- to bill, with the rates of its price point.
units AS (
    SELECT *, 1 AS calls FROM matched
)
