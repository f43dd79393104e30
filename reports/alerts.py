"""Alerts: decided from budget checks and hygiene rules, recorded once with their deliveries.

Once means once. Every alert has a key — ``threshold|<budget>|<period start>|<t>``,
``forecast|<budget>|<period start>|<episode>``, ``anomaly|<budget>|<day>``,
``unpriced|<day>``, ``failure_spike|<provider>|<day>`` — and the warehouse's primary key on
it means a second run, or a concurrent one, cannot record it again. An alert is recorded
with one pending delivery per channel of its own (a channel is its whole URL, or its
environment variable: :attr:`reports.budgets.Channel.name`) in one transaction, so no crash
leaves an alert without its deliveries. Sending them is :mod:`reports.delivery`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import duckdb

from reports.budgets import BudgetFile, BudgetStatus, Channel, spend_anomaly
from reports.money import money_text, plain
from warehouse.db import transaction
from warehouse.sql import fetch_value


@dataclass(frozen=True)
class Alert:
    key: str
    kind: str
    budget: str | None
    message: str
    payload: dict[str, Any]
    channels: tuple[Channel, ...] = field(default=())
    covered: bool = False
    """Recorded but never sent: a lower threshold the same run's higher one covers."""


PERIOD_WORDS = {"monthly": "this month", "weekly": "this week", "daily": "today"}
"""How an alert names the budget period it was raised in."""


def _money(amount: Decimal, currency: str) -> str:
    return f"{money_text(amount, currency)} {currency}"  # the reports' rounding rule


def budget_alerts(con: duckdb.DuckDBPyConnection, status: BudgetStatus) -> list[Alert]:
    """The alerts a budget's check raises: one per crossed threshold, one per forecast
    episode, one per anomalous day.

    Of the thresholds crossed, only the highest is sent; the lower ones are recorded as
    covered (:attr:`Alert.covered`), so a run that finds 50, 80 and 100 crossed at once sends
    one alert, "100% reached", and no later run sends 50 or 80 for that period. A threshold
    already recorded by an earlier run is not sent again (:func:`record`)."""
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
    top = status.crossed[-1] if status.crossed else None
    alerts = [
        Alert(
            f"threshold|{budget.name}|{start}|{t}",
            "threshold",
            budget.name,
            f"Budget {budget.name} ({budget.scope.label()}): {t}% reached — {spent} of "
            f"{_money(budget.amount, budget.currency)} {PERIOD_WORDS[budget.period]}."
            + ("" if t == top else f" Covered by the {top}% alert, not sent."),
            {**base, "threshold": t},
            channels,
            covered=t != top,
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
HYGIENE_LOOKBACK_DAYS = 31
"""How many complete UTC days before the judged instant the hygiene alerts (calls without a
price, failure spikes) look back over: a month of missed cron runs or late ingests, across a
month boundary."""


def _calls(n: int) -> str:
    return f"{n:,} call{'' if n == 1 else 's'}"


def _recorded(con: duckdb.DuckDBPyConnection, keys: Sequence[str]) -> set[str]:
    """The alert keys among ``keys`` already recorded (sent, or covered by one that was)."""
    if not keys:
        return set()
    rows = con.execute(
        "SELECT alert_key FROM alerts WHERE list_contains($keys, alert_key)", {"keys": list(keys)}
    ).fetchall()
    return {r[0] for r in rows}


def _one_message_for_the_new(
    con: duckdb.DuckDBPyConnection, alerts: list[Alert], earlier: Callable[[list[Alert]], str]
) -> list[Alert]:
    """``alerts`` (one per day, oldest first) with every day not recorded before but the
    newest recorded as covered, and the newest saying the others (``earlier``): a first run
    over a month of history, or a run after a week of missed ones, sends one message, and
    every day is still recorded once, so none is sent later."""
    seen = _recorded(con, [a.key for a in alerts])
    new = [a for a in alerts if a.key not in seen]
    if len(new) < 2:
        return alerts
    newest = new[-1]
    covered = {a.key for a in new[:-1]}
    summary = replace(
        newest,
        message=f"{newest.message} {earlier(new[:-1])}",
        payload={**newest.payload, "earlier_days": [a.payload for a in new[:-1]]},
    )
    return [
        summary if a.key == newest.key else replace(a, covered=True) if a.key in covered else a
        for a in alerts
    ]


def hygiene_alerts(
    con: duckdb.DuckDBPyConnection, as_of: datetime, channels: Sequence[Channel]
) -> list[Alert]:
    """Alerts about the data and the providers rather than a budget, for every complete UTC
    day of the :data:`HYGIENE_LOOKBACK_DAYS` before ``as_of`` (so a missed run or a late
    ingest still raises them): one per day with calls that found no price, and one per
    provider and day whose failure rate jumped (above both twice and 5 points over its median
    daily rate of the 28 days before, on at least 50 calls). :func:`record` records each
    once; of those not recorded before, only the newest of a kind (per provider, for spikes)
    is sent, naming the earlier days, which are recorded as covered."""
    day = as_of.date() - timedelta(days=1)
    first = day - timedelta(days=HYGIENE_LOOKBACK_DAYS - 1)
    unpriced = con.execute(
        "SELECT day, provider, model, sum(unpriced_calls) FROM daily_rollup "
        "WHERE day BETWEEN $first AND $day AND unpriced_calls > 0 "
        "GROUP BY ALL ORDER BY 1, 4 DESC, 2, 3",
        {"first": first, "day": day},
    ).fetchall()
    unpriced_alerts = []
    for unpriced_day in sorted({row[0] for row in unpriced}):
        models = [(p, m, int(n)) for d, p, m, n in unpriced if d == unpriced_day]
        listing = ", ".join(f"{p}/{m}: {n:,}" for p, m, n in models)
        total = sum(n for _, _, n in models)
        unpriced_alerts.append(
            Alert(
                f"unpriced|{unpriced_day}",
                "unpriced",
                None,
                f"{_calls(total)} on {unpriced_day} {'has' if total == 1 else 'have'} no "
                f"price (cost unknown, not counted): {listing}. Add the models to a price "
                "sheet, then `ratecard bill --rebill`.",
                {
                    "day": unpriced_day.isoformat(),
                    "calls": total,
                    "models": [{"provider": p, "model": m, "calls": n} for p, m, n in models],
                },
                tuple(channels),
            )
        )
    alerts = _one_message_for_the_new(
        con,
        unpriced_alerts,
        lambda rest: (
            "Earlier days not alerted before: "
            + "; ".join(f"{a.payload['day']} ({_calls(a.payload['calls'])})" for a in rest)
            + "."
        ),
    )
    # each day's rate against the median daily rate of the 28 days before it (days with calls)
    rows = con.execute(
        """
        WITH per_day AS (
            SELECT provider, day, sum(calls) AS calls, sum(failed_calls) AS failed
            FROM daily_rollup WHERE day BETWEEN $first - 28 AND $day GROUP BY ALL
        ),
        judged AS (
            SELECT provider, day, calls, failed::DOUBLE / calls AS rate,
                   median(failed::DOUBLE / calls) OVER (
                       PARTITION BY provider ORDER BY day
                       RANGE BETWEEN INTERVAL 28 DAY PRECEDING AND INTERVAL 1 DAY PRECEDING
                   ) AS baseline
            FROM per_day
        )
        SELECT provider, day, calls, rate, baseline FROM judged
        WHERE day >= $first ORDER BY provider, day
        """,
        {"first": first, "day": day},
    ).fetchall()
    spikes: dict[str, list[Alert]] = {}
    for provider, spike_day, calls, rate, baseline in rows:
        # rates are ratios of counts, not money: floats are fine here
        if calls < MIN_CALLS_FOR_SPIKE or baseline is None:
            continue
        if rate > max(2 * baseline, baseline + 0.05):
            spikes.setdefault(provider, []).append(
                Alert(
                    f"failure_spike|{provider}|{spike_day}",
                    "failure_spike",
                    None,
                    f"{provider}: {rate:.1%} of {_calls(int(calls))} failed on {spike_day}, "
                    f"against a typical {baseline:.1%}. Failed calls are free, but check the "
                    "gateway's status.",
                    {
                        "provider": provider,
                        "day": spike_day.isoformat(),
                        "calls": int(calls),
                        "failure_rate": round(rate, 4),
                        "baseline": round(baseline, 4),
                    },
                    tuple(channels),
                )
            )
    for provider_spikes in spikes.values():
        alerts += _one_message_for_the_new(
            con,
            provider_spikes,
            lambda rest: (
                "It also spiked on "
                + ", ".join(f"{a.payload['day']} ({a.payload['failure_rate']:.1%})" for a in rest)
                + "."
            ),
        )
    return alerts


def record(con: duckdb.DuckDBPyConnection, alerts: Iterable[Alert]) -> list[Alert]:
    """Record alerts not seen before, each with a pending delivery per channel, all in one
    transaction (or the caller's); return those new and to be sent (a covered alert is
    recorded with no delivery).

    The primary key on alert_key decides: a conflict inserts nothing and returns no row. A
    channel listed twice for one alert is one delivery."""
    new = []
    with transaction(con):
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
            if inserted and not alert.covered:
                new.append(alert)
                for channel in alert.channels:
                    _add_delivery(con, alert.key, channel)
    return new


def _add_delivery(con: duckdb.DuckDBPyConnection, key: str, channel: Channel) -> None:
    con.execute(
        "INSERT INTO alert_deliveries (alert_key, channel, attempts, format) "
        "VALUES ($key, $channel, 0, $format) ON CONFLICT DO NOTHING",
        {"key": key, "channel": channel.name, "format": channel.format},
    )


def _legacy_origin(url: str) -> str:
    """The scheme and host a delivery was named by before schema 13 (its exact old rule)."""
    return re.sub(r"^(https?://[^/]+).*$", r"\1", url)


def rehome_legacy(con: duckdb.DuckDBPyConnection, budgets: BudgetFile) -> int:
    """Hand each pending delivery recorded under a host name (before channels were their
    whole URL; migration 13 renamed them ``host:<origin>``) to every channel on that host
    of its own alert's budget, or of the hygiene channels; return how many were handed on.

    A delivery whose budget no longer lists such a channel stays, and is reported as not
    deliverable on every run, rather than guessed at."""
    by_budget = {budget.name: budget.channels for budget in budgets.budgets}
    rows = con.execute(
        "SELECT d.alert_key, d.channel, a.budget, d.attempts, d.last_error "
        "FROM alert_deliveries d JOIN alerts a USING (alert_key) "
        "WHERE starts_with(d.channel, 'host:') AND d.delivered_at IS NULL "
        "ORDER BY d.alert_key, d.channel"
    ).fetchall()
    moved = 0
    with transaction(con):
        for key, legacy, budget, attempts, error in rows:
            channels = budgets.hygiene_channels if budget is None else by_budget.get(budget, [])
            heirs = [c for c in channels if c.webhook and _legacy_origin(c.webhook) == legacy[5:]]
            for channel in heirs:
                con.execute(
                    "INSERT INTO alert_deliveries (alert_key, channel, attempts, last_error, "
                    "format) VALUES ($key, $channel, $attempts, $error, $format) "
                    "ON CONFLICT DO NOTHING",
                    {
                        "key": key,
                        "channel": channel.name,
                        "attempts": attempts,
                        "error": error,
                        "format": channel.format,
                    },
                )
            if heirs:
                con.execute(
                    "DELETE FROM alert_deliveries WHERE alert_key = $key AND channel = $channel",
                    {"key": key, "channel": legacy},
                )
                moved += 1
    return moved
