-- Schema 3: budget checks and the alerts they raise (ratecard budgets check).

-- Each check of each budget: its period, spend to date, forecast and state.
CREATE TABLE budget_checks (
    budget        VARCHAR NOT NULL,
    period_start  TIMESTAMPTZ NOT NULL,
    period_end    TIMESTAMPTZ NOT NULL,
    as_of         TIMESTAMPTZ NOT NULL,
    amount        DECIMAL(38, 15) NOT NULL,
    currency      VARCHAR NOT NULL,
    spend         DECIMAL(38, 15) NOT NULL,
    forecast      DECIMAL(38, 15) NOT NULL,
    unpriced_calls BIGINT NOT NULL,
    state         VARCHAR NOT NULL,
    checked_at    TIMESTAMPTZ NOT NULL
);

-- One row per alert that ever fired. alert_key makes an alert unique: a threshold fires
-- once per (budget, period, threshold), a forecast once per episode, an anomaly once per day.
CREATE TABLE alerts (
    alert_key     VARCHAR PRIMARY KEY,
    kind          VARCHAR NOT NULL,   -- threshold | forecast | anomaly | unpriced | failure_spike
    budget        VARCHAR,
    message       VARCHAR NOT NULL,
    payload       JSON NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL
);

-- Delivery of each alert to each of its channels; retried on every run until delivered.
CREATE TABLE alert_deliveries (
    alert_key     VARCHAR NOT NULL,
    channel       VARCHAR NOT NULL,   -- the channel's name; never the secret URL
    attempts      INTEGER NOT NULL,
    delivered_at  TIMESTAMPTZ,
    last_error    VARCHAR,
    PRIMARY KEY (alert_key, channel)
);

-- "forecast to exceed" episodes: open while the forecast stays above the budget; a new one,
-- and a new alert, only after it has cleared.
CREATE TABLE forecast_episodes (
    budget        VARCHAR NOT NULL,
    period_start  TIMESTAMPTZ NOT NULL,
    episode       INTEGER NOT NULL,
    opened_at     TIMESTAMPTZ NOT NULL,
    closed_at     TIMESTAMPTZ,
    PRIMARY KEY (budget, period_start, episode)
);
