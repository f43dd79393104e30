"""Sending recorded alert deliveries by webhook, without holding the warehouse.

A run goes in three steps. **Claim**, in one short transaction: every delivery not yet
delivered and not claimed by another live run is claimed for this one until a lease ends,
with its URL resolved from the budgets file and the environment now. **Send**, with the
warehouse closed, so a hung hook never keeps another command waiting. **Finish**, in a
second short transaction: each outcome is recorded and the claims released.

The rules, as ``ratecard budgets check --notify`` applies them:

- **Each alert goes to each of its channels once, and to each URL once**: two channels of
  one alert that resolve to the same URL (two environment variables, say) are sent one POST,
  and a URL that already has the alert is not sent it again.
- **Every POST carries a stable idempotency key**, the same on every run and retry of one
  (alert, channel): in the ``Idempotency-Key`` header, and in the body as
  ``idempotency_key`` for receivers that read no headers (Slack).
- **Retries within a run only where a second POST cannot act twice**: a connection that
  could not be made is tried again (three attempts, backing off), and so is an answer of
  429 or 5xx (Retry-After honoured up to 10 s). A request that went out but got no answer in
  time (a read timeout, a dropped connection) may have been acted on: it counts as
  *unconfirmed*, is not sent again in this run, and is sent again on the next run with the
  same key. Delivery is therefore at least once: a receiver that honours the key sees it
  once; one that ignores it (Slack) can see a slow hook's alert again on the next run.
- **Every run is bounded**: each request by ``timeout`` seconds per connect and per read,
  and all of them together by ``deadline`` seconds, after which the run records what it has
  and leaves the rest pending (a hook still dripping its answer is abandoned as
  unconfirmed). Hooks are sent to in parallel (up to 8 at once), so one slow hook does not
  use up the others' time.
- **A crash never loses a delivery**: a claim lapses after its lease (the deadline plus the
  lock wait plus a minute), and what a crashed run may have sent is sent again.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import duckdb
import httpx

from ingest import http
from reports.budgets import Channel, hook_fingerprint
from warehouse.db import connect, transaction
from warehouse.lock import lock_timeout

RETRIES = http.RetryPolicy(attempts=3, backoff=0.5, max_wait=10.0)
TIMEOUT = 10.0
"""Seconds to connect, and to wait for each read of the answer."""
DEADLINE = 60.0
"""Seconds for all of a run's deliveries together."""
WORKERS = 8


@dataclass(frozen=True)
class Pending:
    """A claimed delivery, ready to send: where, what, and why not when it cannot be."""

    alert_key: str
    channel: str
    """The channel's identity (``hook_…`` or ``env:NAME``), as recorded."""
    label: str
    """How output names the channel: never the secret URL."""
    url: str | None
    target: str | None
    """The URL's fingerprint: an alert goes to one URL once."""
    body: dict[str, Any]
    idempotency_key: str
    problem: str | None = None
    """Why it cannot be sent now (no URL); recorded as the delivery's error."""


@dataclass(frozen=True)
class Delivery:
    """What became of one delivery in this run."""

    alert_key: str
    channel: str
    label: str
    delivered: bool
    attempts: int
    error: str | None
    unconfirmed: bool = False
    """Sent, but no answer in time: the hook may have it; sent again on the next run."""
    target: str | None = None


@dataclass(frozen=True)
class Claim:
    run: str
    pending: list[Pending]
    settled: list[Delivery]
    """Deliveries settled while claiming: the same URL already had the alert."""


def idempotency_key(alert_key: str, channel: str) -> str:
    """The same for every send of one (alert, channel), on every run; ASCII for a header."""
    digest = hashlib.sha256(f"{alert_key}\n{channel}".encode()).hexdigest()
    return f"ratecard-{digest[:32]}"


def claim(
    con: duckdb.DuckDBPyConnection,
    channels: Sequence[Channel],
    *,
    lease: float,
) -> Claim:
    """Claim every delivery that is pending and not claimed by a live run, for ``lease``
    seconds, in one transaction; resolve each one's URL and body now."""
    run = uuid.uuid4().hex
    by_name: dict[str, Channel] = {}
    for channel in channels:
        by_name.setdefault(channel.name, channel)
    pending: list[Pending] = []
    settled: list[Delivery] = []
    with transaction(con):
        rows = con.execute(
            "SELECT d.alert_key, d.channel, d.format, a.kind, a.budget, a.message, a.payload "
            "FROM alert_deliveries d JOIN alerts a USING (alert_key) "
            "WHERE d.delivered_at IS NULL AND (d.claimed_until IS NULL OR d.claimed_until < now()) "
            # in the order the alerts were raised (a budget's thresholds lowest first), not
            # by key, where threshold 100 sorts before 50
            "ORDER BY a.created_at, a.rowid, d.channel"
        ).fetchall()
        # (alert, URL) pairs already delivered through another channel of the alert
        delivered = {
            (key, target): via
            for key, target, via in con.execute(
                "SELECT alert_key, target, channel FROM alert_deliveries "
                "WHERE delivered_at IS NOT NULL AND target IS NOT NULL AND alert_key IN "
                "(SELECT alert_key FROM alert_deliveries WHERE delivered_at IS NULL)"
            ).fetchall()
        }
        for key, name, fmt, kind, budget, message, payload in rows:
            configured = by_name.get(name)
            url, problem = _url(configured)
            target = None if url is None else hook_fingerprint(url)
            label = configured.label if configured is not None else name
            earlier = delivered.get((key, target))
            if target is not None and earlier is not None:
                settled.append(
                    Delivery(key, name, label, True, 0, f"same URL as {earlier}", target=target)
                )
                continue
            chosen = fmt or (configured.format if configured is not None else "slack")
            token = idempotency_key(key, name)
            body = _body(chosen, token, key, kind, budget, message, json.loads(payload))
            pending.append(Pending(key, name, label, url, target, body, token, problem))
        if not pending:
            return Claim(run, pending, settled)
        con.executemany(
            "UPDATE alert_deliveries SET claimed_by = ?, "
            "claimed_until = now() + to_microseconds(?::BIGINT) "
            "WHERE alert_key = ? AND channel = ?",
            [(run, int(lease * 1_000_000), p.alert_key, p.channel) for p in pending],
        )
    return Claim(run, pending, settled)


def _url(channel: Channel | None) -> tuple[str | None, str | None]:
    if channel is None:
        return None, "channel no longer in the budgets file"
    if channel.webhook is not None:
        return channel.webhook, None
    url = os.environ.get(channel.webhook_env or "")
    if not url:
        return None, f"environment variable {channel.webhook_env} is not set"
    if not url.startswith(("https://", "http://")):
        return None, f"environment variable {channel.webhook_env} does not hold an http(s) URL"
    return url, None


def _body(
    fmt: str,
    token: str,
    key: str,
    kind: str,
    budget: str | None,
    message: str,
    payload: dict[str, Any],
) -> dict[str, Any]:
    if fmt == "json":
        return {
            "alert": key,
            "idempotency_key": token,
            "kind": kind,
            "budget": budget,
            "message": message,
            **payload,
        }
    # Slack, Mattermost and Teams read "text" and ignore the fields they do not know
    return {"text": f"ratecard: {message}", "idempotency_key": token}


def send(
    pending: Sequence[Pending],
    *,
    timeout: float = TIMEOUT,
    deadline: float = DEADLINE,
    sleep: Callable[[float], Any] = time.sleep,
) -> list[Delivery]:
    """POST every pending delivery, in parallel, within ``deadline`` seconds in all.

    One POST per (alert, URL): the others of the same alert and URL share its outcome."""
    clock = http.Deadline(deadline)  # shuts a hook's socket still open when it passes
    groups: dict[tuple[str, str | None, int], list[Pending]] = {}
    for index, item in enumerate(pending):
        # unresolved ones are never grouped: each reports its own problem
        group = (item.alert_key, item.target, -1 if item.target is not None else index)
        groups.setdefault(group, []).append(item)
    firsts = [members[0] for members in groups.values()]
    outcomes: dict[int, Delivery] = {}
    started: set[int] = set()
    lock = threading.Lock()
    queue = list(enumerate(firsts))

    def work() -> None:
        with httpx.Client(timeout=httpx.Timeout(timeout), follow_redirects=False) as client:
            while True:
                with lock:
                    if not queue or clock.passed():
                        return
                    index, item = queue.pop(0)
                    started.add(index)
                result = _post(client, item, clock, sleep)
                with lock:
                    outcomes[index] = result

    workers = [
        threading.Thread(target=work, daemon=True, name="ratecard-webhook")
        for _ in range(min(WORKERS, len(firsts)))
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(clock.remaining())
    clock.close()
    with lock:  # a worker still waiting on a hook past the deadline is abandoned, not waited for
        done, begun = dict(outcomes), set(started)
    results = []
    for index, (first, members) in enumerate(zip(firsts, groups.values(), strict=True)):
        outcome = done.get(index) or _late(first, deadline, index in begun)
        for member in members:
            results.append(
                Delivery(
                    member.alert_key,
                    member.channel,
                    member.label,
                    outcome.delivered,
                    outcome.attempts if member is first else 0,
                    outcome.error if member is first else _shared(outcome, first),
                    outcome.unconfirmed,
                    outcome.target,
                )
            )
    return results


def _shared(outcome: Delivery, first: Pending) -> str | None:
    if outcome.delivered:
        return f"same URL as {first.label}"
    return f"same URL as {first.label}: {outcome.error}"


def _late(item: Pending, deadline: float, begun: bool) -> Delivery:
    if begun:  # the request may have gone out: the hook may have it
        return Delivery(
            item.alert_key,
            item.channel,
            item.label,
            False,
            1,
            f"no answer within the run's {deadline:g} s delivery deadline (the hook may have "
            "it); sent again on the next run with the same idempotency key",
            unconfirmed=True,
        )
    return Delivery(
        item.alert_key,
        item.channel,
        item.label,
        False,
        0,
        f"not sent: the run's {deadline:g} s delivery deadline passed first",
    )


def _post(
    client: httpx.Client, item: Pending, clock: http.Deadline, sleep: Callable[[float], Any]
) -> Delivery:
    if item.url is None:
        return Delivery(item.alert_key, item.channel, item.label, False, 0, item.problem)
    try:
        outcome = http.request(
            client,
            "POST",
            item.url,
            json=item.body,
            headers={"Idempotency-Key": item.idempotency_key},
            policy=RETRIES,
            sleep=sleep,
            deadline=clock,
            resend_unanswered=False,
        )
    except Exception as exc:  # a worker thread must report, never die
        return Delivery(
            item.alert_key, item.channel, item.label, False, 1, f"{type(exc).__name__}: {exc}"
        )
    error = outcome.error
    if outcome.unanswered:
        error = (
            f"{error}: the request went out but no answer came in time (the hook may have "
            "it); sent again on the next run with the same idempotency key"
        )
    return Delivery(
        item.alert_key,
        item.channel,
        item.label,
        outcome.ok,
        outcome.attempts,
        error,
        outcome.unanswered,
        item.target if outcome.ok else None,
    )


def finish(con: duckdb.DuckDBPyConnection, run: str, deliveries: Sequence[Delivery]) -> None:
    """Record each outcome and release this run's claims, in one transaction.

    A delivery another run claimed after this run's lease lapsed keeps that run's claim."""
    if not deliveries:
        return
    with transaction(con):
        con.executemany(
            "UPDATE alert_deliveries SET attempts = attempts + ?, "
            "delivered_at = CASE WHEN ? THEN coalesce(delivered_at, now()) "
            "ELSE delivered_at END, "
            "last_error = ?, target = coalesce(?, target), unconfirmed = unconfirmed + ?, "
            "claimed_until = CASE WHEN claimed_by = ? THEN NULL ELSE claimed_until END, "
            "claimed_by = CASE WHEN claimed_by = ? THEN NULL ELSE claimed_by END "
            "WHERE alert_key = ? AND channel = ?",
            [
                (
                    d.attempts,
                    d.delivered,
                    d.error,
                    d.target,
                    int(d.unconfirmed),
                    run,
                    run,
                    d.alert_key,
                    d.channel,
                )
                for d in deliveries
            ],
        )


def lease_for(deadline: float, lock_wait: float) -> float:
    """How long a claim holds: the sending, the wait to record the outcomes, and a minute."""
    return deadline + lock_wait + timedelta(minutes=1).total_seconds()


def send_claimed(
    claimed: Claim,
    *,
    timeout: float = TIMEOUT,
    deadline: float = DEADLINE,
    sleep: Callable[[float], Any] = time.sleep,
) -> list[Delivery]:
    """Send what ``claimed`` holds (with the warehouse closed); the outcomes to record with
    :func:`finish`, the ones settled while claiming first."""
    return [
        *claimed.settled,
        *send(claimed.pending, timeout=timeout, deadline=deadline, sleep=sleep),
    ]


def deliver(
    db: str | Path,
    claimed: Claim,
    *,
    timeout: float = TIMEOUT,
    deadline: float = DEADLINE,
    sleep: Callable[[float], Any] = time.sleep,
) -> list[Delivery]:
    """Send what ``claimed`` holds with the warehouse closed, then open it briefly to record
    the outcomes, and return them."""
    results = send_claimed(claimed, timeout=timeout, deadline=deadline, sleep=sleep)
    con = connect(db, create=False)
    try:
        finish(con, claimed.run, results)
    finally:
        con.close()
    return results


def deliver_pending(
    db: str | Path,
    channels: Sequence[Channel],
    *,
    timeout: float = TIMEOUT,
    deadline: float = DEADLINE,
    sleep: Callable[[float], Any] = time.sleep,
) -> list[Delivery]:
    """Claim, send and record every pending delivery of the warehouse at ``db``, holding
    it only to claim and to record."""
    con = connect(db, create=False)
    try:
        claimed = claim(con, channels, lease=lease_for(deadline, lock_timeout()))
    finally:
        con.close()
    return deliver(db, claimed, timeout=timeout, deadline=deadline, sleep=sleep)
