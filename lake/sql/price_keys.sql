-- Spark SQL (not transpiled: a rule of the lake only). For every (provider, month) partition
-- of the calls, a key of the prices that can bill it: the provider's price points in force
-- at some time of the month, compared on what bills a call (every column but where it came
-- from, as ingest/sql/changed_prices.sql compares them), and all its aliases. A partition
-- whose bills carry another key is stale: a price change touched it, and `--rebill` bills
-- it again; no other partition is read or written.
WITH

partitions AS (
    SELECT DISTINCT provider, month, to_timestamp(month || '-01', 'yyyy-MM-dd') AS month_start
    FROM calls
),

points AS (
    SELECT provider, effective_from, effective_to, to_json(struct(*)) AS point
    FROM (
        SELECT * EXCEPT (source, sheet, checked_on, note, example_rate, batch_id)
        FROM price_points
    )
),

aliases AS (
    SELECT provider, array_join(array_sort(collect_set(alias || '=' || model)), ',') AS aliases
    FROM model_aliases
    GROUP BY provider
),

keyed AS (
    SELECT
        t.provider, t.month,
        coalesce(array_join(array_sort(collect_set(p.point)), '|'), '') AS points
    FROM partitions AS t
    LEFT JOIN points AS p
        ON  p.provider = t.provider
        AND p.effective_from < t.month_start + INTERVAL 1 MONTH
        AND p.effective_to > t.month_start
    GROUP BY t.provider, t.month
)

SELECT k.provider, k.month, md5(k.points || '#' || coalesce(a.aliases, '')) AS prices_key
FROM keyed AS k
LEFT JOIN aliases AS a ON a.provider = k.provider
