-- Which price load last changed what bills each provider's calls. A load that gives a
-- provider the same prices (the same sheets again, or a catalog of another provider) leaves
-- its row alone; one that changes a rate, a period, a tier, a model's canonical name or
-- variant, or an alias moves it to that load (ingest/sql/changed_prices.sql). A usage batch
-- billed before its calls' provider's row is stale until `ratecard bill --rebill`
-- (pricing/engine.py stale_calls). Before this schema only the latest load of any provider
-- was known: an upgraded warehouse takes the load that last wrote each provider's prices,
-- which can only count more calls stale than the new rule would, never fewer.
CREATE TABLE price_changes (
    provider    VARCHAR PRIMARY KEY,
    changed_by  BIGINT NOT NULL      -- batch_id of the price load
);

INSERT INTO price_changes
SELECT provider, max(batch_id)
FROM price_points
GROUP BY provider;
