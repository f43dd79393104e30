"""Alerts: decided from budget checks and hygiene rules, recorded once, delivered by webhook.

Once means once. Every alert has a key — ``threshold|<budget>|<period start>|<t>``,
``forecast|<budget>|<period start>|<episode>``, ``anomaly|<budget>|<day>``,
``unpriced|<day>``, ``failure_spike|<provider>|<day>`` — and the warehouse's primary key on
it means a second run, or a concurrent one, cannot record it again. Each (alert, channel)
delivery is recorded too: a delivery that failed is retried on the next run, and one that
succeeded is never sent again. A run holds the warehouse's write lock throughout, so
concurrent runs take turns rather than racing to send.

Delivery is an HTTP POST of JSON with a timeout and up to three attempts, backing off on 429
and 5xx and honouring Retry-After (up to 10 s). A failing webhook never stops the others.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import duckdb
import httpx

from ingest import http
from reports.budgets import BudgetStatus, Channel, spend_anomaly
from reports.money import money_text, plain
from warehouse.sql import fetch_value

RETRIES = http.RetryPolicy(attempts=3, backoff=0.5, max_wait=10.0)


@dataclass(frozen=True)
class Alert:
    key: str
    kind: str
    budget: str | None
    message: str
    payload: dict[str, Any]
    channels: tuple[Channel, ...] = field(default=())


def _money(amount: Decimal, currency: str) -> str:
    return f"{money_text(amount, currency)} {currency}"  # the reports' rounding rule


def budget_alerts(con: duckdb.DuckDBPyConnection, status: BudgetStatus) -> list[Alert]:
    """The alerts a budget's check raises: one per crossed threshold, one per forecast
    episode, one per anomalous day."""
    budget, start = status.budget, status.period.start.isoformat()
    base = {
        "budget": budget.name,
        "scope": budget.scope.label(),
        "period": budget.period,
        "period_start": start,
        "amount": plain(budget.amount),
        "spend": plain(status.spend),
        "forecast": plain(status.forecast),
        "currency": budget.currency,
    }
    channels = tuple(budget.channels)
    spent = _money(status.spend, budget.currency)
    alerts = [
        Alert(
            f"threshold|{budget.name}|{start}|{t}",
            "threshold",
            budget.name,
            f"Budget {budget.name} ({budget.scope.label()}): {t}% reached — {spent} of "
            f"{_money(budget.amount, budget.currency)} this {budget.period[:-2] or 'day'} "
            f"period.",
            {**base, "threshold": t},
            channels,
        )
        for t in status.crossed
    ]
    episode = _forecast_episode(con, status)
    if episode is not None:
        alerts.append(
            Alert(
                f"forecast|{budget.name}|{start}|{episode}",
                "forecast",
                budget.name,
                f"Budget {budget.name} ({budget.scope.label()}) is forecast to exceed: "
                f"{_money(status.forecast, budget.currency)} expected by the period's end against "
                f"{_money(budget.amount, budget.currency)} ({spent} so far).",
                {**base, "episode": episode},
                channels,
            )
        )
    anomaly = spend_anomaly(status)
    if anomaly is not None:
        alerts.append(
            Alert(
                f"anomaly|{budget.name}|{anomaly.day}",
                "anomaly",
                budget.name,
                f"Unusual spend for {budget.name} ({budget.scope.label()}) on {anomaly.day}: "
                f"{_money(anomaly.spend, budget.currency)} against a typical "
                f"{_money(anomaly.baseline, budget.currency)} a day.",
                {
                    **base,
                    "day": anomaly.day.isoformat(),
                    "day_spend": plain(anomaly.spend),
                    "baseline": plain(anomaly.baseline),
                    "score": None if anomaly.score is None else plain(anomaly.score),
                },
                channels,
            )
        )
    return alerts


def _forecast_episode(con: duckdb.DuckDBPyConnection, status: BudgetStatus) -> int | None:
    """Open a new forecast episode (and return its number) when the forecast has just gone
    over the budget; close the open one when it has come back under."""
    key = {"budget": status.budget.name, "start": status.period.start}
    open_episode = fetch_value(
        con,
        "SELECT max(episode) FROM forecast_episodes WHERE budget = $budget "
        "AND period_start = $start AND closed_at IS NULL",
        key,
    )
    if status.forecast_to_exceed and open_episode is None:
        episode = 1 + int(
            fetch_value(
                con,
                "SELECT count(*) FROM forecast_episodes WHERE budget = $budget "
                "AND period_start = $start",
                key,
            )
        )
        con.execute(
            "INSERT INTO forecast_episodes VALUES ($budget, $start, $episode, now(), NULL)",
            {**key, "episode": episode},
        )
        return episode
    if not status.forecast_to_exceed and open_episode is not None:
        con.execute(
            "UPDATE forecast_episodes SET closed_at = now() WHERE budget = $budget "
            "AND period_start = $start AND episode = $episode",
            {**key, "episode": open_episode},
        )
    return None


MIN_CALLS_FOR_SPIKE = 50


def hygiene_alerts(
    con: duckdb.DuckDBPyConnection, as_of: datetime, channels: Sequence[Channel]
) -> list[Alert]:
    """Alerts about the data and the providers rather than a budget, for the last complete
    UTC day: calls that found no price, and a provider whose failure rate jumped (above
    both twice and 5 points over its median daily rate of the 28 days before, on at least
    50 calls)."""
    day = as_of.date() - timedelta(days=1)
    alerts = []
    unpriced = con.execute(
        "SELECT provider, model, sum(unpriced_calls) FROM daily_rollup WHERE day = $day "
        "AND unpriced_calls > 0 GROUP BY ALL ORDER BY 3 DESC, 1, 2",
        {"day": day},
    ).fetchall()
    if unpriced:
        listing = ", ".join(f"{p}/{m}: {n}" for p, m, n in unpriced)
        total = sum(int(n) for _, _, n in unpriced)
        alerts.append(
            Alert(
                f"unpriced|{day}",
                "unpriced",
                None,
                f"{total} calls on {day} have no price (cost unknown, not counted): {listing}. "
                "Add the models to a price sheet, then `ratecard bill --rebill`.",
                {
                    "day": day.isoformat(),
                    "calls": total,
                    "models": [
                        {"provider": p, "model": m, "calls": int(n)} for p, m, n in unpriced
                    ],
                },
                tuple(channels),
            )
        )
    rows = con.execute(
        """
        WITH per_day AS (
            SELECT provider, day, sum(calls) AS calls, sum(failed_calls) AS failed
            FROM daily_rollup WHERE day BETWEEN $day - 28 AND $day GROUP BY ALL
        )
        SELECT provider,
               any_value(calls) FILTER (WHERE day = $day) AS calls,
               any_value(failed::DOUBLE / calls) FILTER (WHERE day = $day) AS rate,
               median(failed::DOUBLE / calls) FILTER (WHERE day < $day) AS baseline
        FROM per_day GROUP BY provider ORDER BY provider
        """,
        {"day": day},
    ).fetchall()
    for provider, calls, rate, baseline in rows:
        # rates are ratios of counts, not money: floats are fine here
        if calls is None or calls < MIN_CALLS_FOR_SPIKE or baseline is None or rate is None:
            continue
        if rate > max(2 * baseline, baseline + 0.05):
            alerts.append(
                Alert(
                    f"failure_spike|{provider}|{day}",
                    "failure_spike",
                    None,
                    f"{provider}: {rate:.1%} of {calls} calls failed on {day}, against a typical "
                    f"{baseline:.1%}. Failed calls are free, but check the gateway's status.",
                    {
                        "provider": provider,
                        "day": day.isoformat(),
                        "calls": int(calls),
                        "failure_rate": round(rate, 4),
                        "baseline": round(baseline, 4),
                    },
                    tuple(channels),
                )
            )
    return alerts


def record(con: duckdb.DuckDBPyConnection, alerts: Iterable[Alert]) -> list[Alert]:
    """Record alerts not seen before, with a pending delivery per channel; return those new.

    The primary key on alert_key decides: a conflict inserts nothing and returns no row."""
    new = []
    for alert in alerts:
        inserted = con.execute(
            "INSERT INTO alerts VALUES ($key, $kind, $budget, $message, $payload, now()) "
            "ON CONFLICT DO NOTHING RETURNING alert_key",
            {
                "key": alert.key,
                "kind": alert.kind,
                "budget": alert.budget,
                "message": alert.message,
                "payload": json.dumps(alert.payload),
            },
        ).fetchall()
        if inserted:
            new.append(alert)
            for channel in alert.channels:
                con.execute(
                    "INSERT INTO alert_deliveries VALUES ($key, $channel, 0, NULL, NULL) "
                    "ON CONFLICT DO NOTHING",
                    {"key": alert.key, "channel": channel.name},
                )
    return new


@dataclass(frozen=True)
class Delivery:
    alert_key: str
    channel: str
    delivered: bool
    attempts: int
    error: str | None


def deliver_pending(
    con: duckdb.DuckDBPyConnection,
    channels: Iterable[Channel],
    *,
    timeout: float = 5.0,
    sleep: Any = time.sleep,
) -> list[Delivery]:
    """Send every recorded delivery not yet delivered, to the channels configured now."""
    by_name = {channel.name: channel for channel in channels}
    pending = con.execute(
        "SELECT d.alert_key, d.channel, a.kind, a.budget, a.message, a.payload "
        "FROM alert_deliveries d JOIN alerts a USING (alert_key) "
        "WHERE d.delivered_at IS NULL ORDER BY a.created_at, d.alert_key, d.channel"
    ).fetchall()
    results = []
    with httpx.Client(timeout=timeout, follow_redirects=False) as client:
        for key, name, kind, budget, message, payload in pending:
            channel = by_name.get(name)
            body = _body(channel, key, kind, budget, message, json.loads(payload))
            delivered, attempts, error = _send(client, channel, key, body, sleep)
            con.execute(
                "UPDATE alert_deliveries SET attempts = attempts + $attempts, "
                "delivered_at = CASE WHEN $ok THEN now() END, last_error = $error "
                "WHERE alert_key = $key AND channel = $channel",
                {
                    "attempts": attempts,
                    "ok": delivered,
                    "error": error,
                    "key": key,
                    "channel": name,
                },
            )
            results.append(Delivery(key, name, delivered, attempts, error))
    return results


def _body(
    channel: Channel | None,
    key: str,
    kind: str,
    budget: str | None,
    message: str,
    payload: dict[str, Any],
) -> dict[str, Any]:
    if channel is not None and channel.format == "json":
        return {"alert": key, "kind": kind, "budget": budget, "message": message, **payload}
    return {"text": f"ratecard: {message}"}  # Slack, Mattermost and Teams read "text"


def _send(
    client: httpx.Client, channel: Channel | None, key: str, body: dict[str, Any], sleep: Any
) -> tuple[bool, int, str | None]:
    if channel is None:
        return False, 0, "channel no longer in the budgets file"
    url = channel.webhook or os.environ.get(channel.webhook_env or "")
    if not url:
        return False, 0, f"environment variable {channel.webhook_env} is not set"
    outcome = http.request(
        client,
        "POST",
        url,
        json=body,
        headers={"Idempotency-Key": f"{key}|{channel.name}"},
        policy=RETRIES,
        sleep=sleep,
    )
    return outcome.ok, outcome.attempts, outcome.error
