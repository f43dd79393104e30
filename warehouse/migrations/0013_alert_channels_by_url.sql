-- Alert deliveries name their channel by its whole URL, and are sent outside the write lock.
--
-- Until now a direct webhook channel was named by its scheme and host only
-- ("https://hooks.slack.com/..."), so two budgets whose hooks share a host (every Slack
-- incoming webhook does) were one channel, and every alert went to the URL listed last. A
-- channel is now `hook_` and the first 16 hex digits of the SHA-256 of its whole URL (never
-- the URL: a Slack URL is a secret), or `env:NAME` for a URL read from an environment
-- variable, as before.
--
-- A delivery recorded under a host name cannot be tied to one URL from the warehouse alone.
-- Those already delivered stay as they are (history; nothing is sent again). Those still
-- pending are renamed `host:<scheme://host>` here, and the next `budgets check --notify`
-- hands each to every channel of its own alert's budget (or the hygiene channels) on that
-- host (reports/alerts.py, rehome_legacy), so none is lost and none goes to another team.
UPDATE alert_deliveries
SET channel = 'host:' || regexp_extract(channel, '^(https?://[^/]+)/\.\.\.$', 1)
WHERE delivered_at IS NULL AND regexp_matches(channel, '^https?://[^/]+/\.\.\.$');

-- The body's format (slack | json), chosen per budget: two budgets can send one URL
-- different formats. NULL on deliveries recorded before this schema (the channel's format
-- in the budgets file then applies).
ALTER TABLE alert_deliveries ADD COLUMN IF NOT EXISTS format VARCHAR;

-- The fingerprint of the URL the delivery went to: an alert goes to one URL once, even when
-- two of its channels (say two environment variables) hold the same URL.
ALTER TABLE alert_deliveries ADD COLUMN IF NOT EXISTS target VARCHAR;

-- Sends that got no answer in time after the request went out: the hook may have the alert.
-- Such a send is not repeated within a run; the next run sends it again with the same
-- idempotency key (at least once).
ALTER TABLE alert_deliveries ADD COLUMN IF NOT EXISTS unconfirmed INTEGER DEFAULT 0;

-- A run claims the deliveries it is about to send, commits, and sends without holding the
-- warehouse; another run skips claimed deliveries until claimed_until (a crashed run's
-- claims lapse, and what it may have sent is sent again: at least once).
ALTER TABLE alert_deliveries ADD COLUMN IF NOT EXISTS claimed_by VARCHAR;
ALTER TABLE alert_deliveries ADD COLUMN IF NOT EXISTS claimed_until TIMESTAMPTZ;
