-- A FinOps FOCUS 1.2 cost-and-usage dataset: one Usage row per UTC day, provider, model,
-- price point (a price change or a long-context tier within a day is its own row, so every
-- row has one unit price), attribution (Tags: team, project) and pricing dimension — input
-- tokens, cached input tokens, cache writes (and 1-hour cache writes, at their own rate),
-- output tokens, requests. Only charged calls
-- are usage (failed calls are free); unpriced calls have no cost to state and are left out
-- (reports and `ratecard report` count them). Costs are exact: BilledCost = EffectiveCost =
-- ListCost = ContractedCost = ListUnitPrice x PricingQuantity (no negotiated discounts), and
-- PricingQuantity is ConsumedQuantity in the sheet's unit (1000 or 1000000 tokens).
WITH

charged AS (
    SELECT
        date_trunc('day', c.ts) AS day,
        c.provider,
        coalesce(a.model, c.model) AS priced_model,
        c.team,
        c.project,
        c.canonical_model,
        c.variant,
        c.currency,
        c.unit_tokens,
        c.price_from,
        c.tier_above,
        -- the unit prices the call was billed at (its point's, warehouse/schema.sql),
        -- in the sheet's unit: exact, as the per-token rates are the sheet's over its unit
        p.input_pt * p.unit_tokens AS input_rate,
        p.cache_read_pt * p.unit_tokens AS cache_read_rate,
        p.cache_write_pt * p.unit_tokens AS cache_write_rate,
        p.cache_write_1h_pt * p.unit_tokens AS cache_write_1h_rate,
        p.output_pt * p.unit_tokens AS output_rate,
        p.request_fee AS request_rate,
        c.input_tokens - c.cache_read_tokens - c.cache_write_tokens AS fresh_input_tokens,
        c.cache_read_tokens,
        -- the cache writes at each rate: the 1-hour ones are a part of cache_write_tokens
        c.cache_write_tokens - c.cache_write_1h_tokens AS cache_write_short_tokens,
        c.cache_write_1h_tokens,
        c.output_tokens,
        c.input_cost,
        c.cache_read_cost,
        c.cache_write_cost - c.cache_write_1h_cost AS cache_write_short_cost,
        c.cache_write_1h_cost,
        c.output_cost,
        c.request_cost
    FROM calls_costed AS c  -- each call with its bill (warehouse/schema.sql)
    JOIN bill_points AS p USING (point_id)  -- a priced call's point, even if its sheet changed
    LEFT JOIN model_aliases AS a ON a.provider = c.provider AND a.alias = c.model
    WHERE c.ts >= $start AND c.ts < $end
      AND bill_charged(true, c.status = 'failed', p.failed_calls_billed)  -- charged calls only
),

daily AS (
    SELECT
        day, provider, priced_model, team, project, canonical_model, variant, currency,
        unit_tokens, price_from, tier_above, input_rate, cache_read_rate, cache_write_rate,
        cache_write_1h_rate, output_rate, request_rate,
        sum(fresh_input_tokens) AS fresh_input_tokens,
        sum(cache_read_tokens) AS cache_read_tokens,
        sum(cache_write_short_tokens) AS cache_write_short_tokens,
        sum(cache_write_1h_tokens) AS cache_write_1h_tokens,
        sum(output_tokens) AS output_tokens,
        count(*) AS requests,
        sum(input_cost) AS input_cost,
        sum(cache_read_cost) AS cache_read_cost,
        sum(cache_write_short_cost) AS cache_write_short_cost,
        sum(cache_write_1h_cost) AS cache_write_1h_cost,
        sum(output_cost) AS output_cost,
        sum(request_cost) AS request_cost
    FROM charged
    GROUP BY ALL
),

dimensions AS (
    SELECT
        d.*,
        unnest([
            {key: 'input', meter: 'Input Tokens', consumed: fresh_input_tokens,
             cost: input_cost, price: input_rate},
            {key: 'cached-input', meter: 'Cached Input Tokens', consumed: cache_read_tokens,
             cost: cache_read_cost, price: cache_read_rate},
            {key: 'cache-write', meter: 'Cache Write Tokens', consumed: cache_write_short_tokens,
             cost: cache_write_short_cost, price: cache_write_rate},
            {key: 'cache-write-1h', meter: 'Cache Write Tokens (1 Hour)',
             consumed: cache_write_1h_tokens, cost: cache_write_1h_cost,
             price: cache_write_1h_rate},
            {key: 'output', meter: 'Output Tokens', consumed: output_tokens,
             cost: output_cost, price: output_rate},
            {key: 'request', meter: 'Requests', consumed: requests,
             cost: request_cost, price: coalesce(request_rate, 0)}
        ]) AS dim
    FROM daily AS d
)

SELECT
    CAST(dim.cost AS DECIMAL(38, 15)) AS BilledCost,
    CAST(dim.cost AS DECIMAL(38, 15)) AS EffectiveCost,
    CAST(dim.cost AS DECIMAL(38, 15)) AS ListCost,
    CAST(dim.cost AS DECIMAL(38, 15)) AS ContractedCost,
    CAST(dim.price AS DECIMAL(18, 9)) AS ListUnitPrice,
    CAST(dim.price AS DECIMAL(18, 9)) AS ContractedUnitPrice,
    CASE WHEN dim.key = 'request' THEN CAST(dim.consumed AS DECIMAL(38, 6))
         WHEN unit_tokens = 1000 THEN CAST(dim.consumed AS DECIMAL(38, 6)) * 0.001
         ELSE CAST(dim.consumed AS DECIMAL(38, 6)) * 0.000001
    END::DECIMAL(38, 6) AS PricingQuantity,
    CASE WHEN dim.key = 'request' THEN 'Requests'
         WHEN unit_tokens = 1000 THEN '1000 Tokens' ELSE '1000000 Tokens' END AS PricingUnit,
    'Standard' AS PricingCategory,
    currency AS PricingCurrency,
    CAST(dim.price AS DECIMAL(18, 9)) AS PricingCurrencyListUnitPrice,
    CAST(dim.price AS DECIMAL(18, 9)) AS PricingCurrencyContractedUnitPrice,
    CAST(dim.cost AS DECIMAL(38, 15)) AS PricingCurrencyEffectiveCost,
    CAST(dim.consumed AS DECIMAL(38, 1)) AS ConsumedQuantity,
    CASE WHEN dim.key = 'request' THEN 'Requests' ELSE 'Tokens' END AS ConsumedUnit,
    'Usage' AS ChargeCategory,
    NULL::VARCHAR AS ChargeClass,
    format('{} {} ({}) at {}', canonical_model, lower(dim.meter), variant, provider)
        AS ChargeDescription,
    'Usage-Based' AS ChargeFrequency,
    day AS ChargePeriodStart,
    day + INTERVAL 1 DAY AS ChargePeriodEnd,
    date_trunc('month', day) AS BillingPeriodStart,
    date_trunc('month', day) + INTERVAL 1 MONTH AS BillingPeriodEnd,
    currency AS BillingCurrency,
    provider AS BillingAccountId,
    provider AS BillingAccountName,
    NULL::VARCHAR AS InvoiceId,
    NULL::VARCHAR AS CommitmentDiscountStatus,  -- no commitment discounts: always null
    canonical_model AS ServiceName,
    'AI and Machine Learning' AS ServiceCategory,
    'Generative AI' AS ServiceSubcategory,
    provider AS ProviderName,
    CASE WHEN canonical_model ILIKE 'minimax%' THEN 'MiniMax' ELSE provider END
        AS PublisherName,
    provider AS InvoiceIssuerName,
    provider || ':' || priced_model || ':' || dim.key AS SkuId,
    provider || ':' || priced_model || ':' || dim.key || '@'
        || strftime(price_from, '%Y-%m-%dT%H:%M:%SZ')
        || CASE WHEN tier_above IS NULL THEN '' ELSE ':above-' || tier_above END AS SkuPriceId,
    dim.meter AS SkuMeter,
    CAST(json_object('ModelVariant', variant, 'AboveInputTokens', tier_above) AS VARCHAR)
        AS SkuPriceDetails,
    CAST(json_object('team', team, 'project', project) AS VARCHAR) AS Tags,
    priced_model AS x_Model,
    variant AS x_ModelVariant
FROM dimensions
WHERE dim.consumed > 0 AND (dim.key <> 'request' OR dim.price > 0)
ORDER BY ChargePeriodStart, ProviderName, x_Model, SkuPriceId, Tags
