"""HTTP requests that survive a flaky network: timeouts, retries with backoff on 429, 5xx
and dropped connections, honouring the server's ``Retry-After``.

Shared by the usage pulls and price-catalog imports (ingest.pull) and by alert delivery
(reports.alerts), so that every outbound call of ratecard retries by the same rules.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5
    """Requests in all, the first one included."""
    backoff: float = 0.5
    """Seconds before the first retry; doubled for each further one."""
    max_wait: float = 30.0
    """The longest wait between two attempts, whatever Retry-After asks for."""


@dataclass(frozen=True)
class Outcome:
    """The last answer (None when the connection itself kept failing), how many requests it
    took, and what went wrong when it did not succeed."""

    response: httpx.Response | None
    attempts: int
    error: str | None
    unanswered: bool = False
    """The last request went out but no answer came (a read timeout, a dropped connection):
    the server may have acted on it."""

    @property
    def ok(self) -> bool:
        return self.response is not None and self.response.status_code < 300


NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
"""Failures before a request went out: sending it again cannot make the server act twice."""


def retryable(status: int) -> bool:
    """429 (slow down) and 5xx (the server's trouble) are worth another try; other 4xx not."""
    return status == 429 or status >= 500


def retry_after(
    response: httpx.Response, now: Callable[[], datetime] | None = None
) -> float | None:
    """Seconds the server asks to wait: ``Retry-After`` as seconds or as an HTTP date."""
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    current = now() if now is not None else datetime.now(UTC)
    return max(0.0, (when - current).total_seconds())


def request(
    client: httpx.Client,
    method: str,
    url: str,
    *,
    policy: RetryPolicy = RetryPolicy(),
    sleep: Callable[[float], Any] = time.sleep,
    on_retry: Callable[[int, str, float], Any] | None = None,
    deadline: float | None = None,
    resend_unanswered: bool = True,
    **kwargs: Any,
) -> Outcome:
    """Send one request, retrying it by ``policy``; never raises for HTTP or network trouble.

    ``on_retry(attempt, problem, wait)`` is told before each wait, for progress output. No
    wait reaches past ``deadline`` (a ``time.monotonic()`` instant). With
    ``resend_unanswered=False`` a request that may have reached the server (anything but a
    failure to connect) is not sent again: for a POST that must not act twice.
    """
    error: str | None = None
    response: httpx.Response | None = None
    for attempt in range(1, policy.attempts + 1):
        try:
            response = client.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            response = None
            error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            if not resend_unanswered and not isinstance(exc, NOT_SENT):
                return Outcome(None, attempt, error, unanswered=True)
            wait = policy.backoff * 2 ** (attempt - 1)
        else:
            if response.status_code < 300:
                return Outcome(response, attempt, None)
            error = f"HTTP {response.status_code}"
            if not retryable(response.status_code):
                return Outcome(response, attempt, error)
            asked = retry_after(response)
            wait = asked if asked is not None else policy.backoff * 2 ** (attempt - 1)
        if attempt < policy.attempts:
            wait = min(wait, policy.max_wait)
            if deadline is not None and time.monotonic() + wait >= deadline:
                return Outcome(response, attempt, f"{error}; no time left to retry")
            if on_retry is not None:
                on_retry(attempt, error, wait)
            sleep(wait)
    return Outcome(response, policy.attempts, error)
