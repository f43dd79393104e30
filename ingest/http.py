"""HTTP requests that survive a flaky network and cannot run away: timeouts, retries with
backoff on 429, 5xx and dropped connections, honouring the server's ``Retry-After``, and,
where the caller asks, a limit on the body's size and a deadline for the whole job.

Shared by the usage pulls and price-catalog imports (ingest.pull, ingest.catalogs) and by
alert delivery (reports.alerts), so that every outbound call of ratecard retries by the same
rules.

The timeout of httpx is per read: a server that drips a byte a second never trips it. A
:class:`Deadline` bounds the job instead: at its instant it shuts down the sockets of the
requests it watches (a blocked read returns at once, whatever the server does), and no retry
starts or waits past it. A body is read as a stream and abandoned as soon as it passes
``max_bytes`` (counted after decompression), so a huge answer never sits in memory whole.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Literal

import httpx


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5
    """Requests in all, the first one included."""
    backoff: float = 0.5
    """Seconds before the first retry; doubled for each further one."""
    max_wait: float = 30.0
    """The longest wait between two attempts, whatever Retry-After asks for."""


Limit = Literal["deadline", "size"]


@dataclass(frozen=True)
class Outcome:
    """The last answer (None when the connection itself kept failing), how many requests it
    took, and what went wrong when it did not succeed."""

    response: httpx.Response | None
    attempts: int
    error: str | None
    body: bytes = b""
    """The answer's body, decompressed (read as a stream: ``response`` is closed)."""
    limit: Limit | None = None
    """The bound that stopped the request, if one did: the deadline, or ``max_bytes``."""
    unanswered: bool = False
    """The last request went out but no answer came (a read timeout, a dropped connection,
    the deadline while it was awaited): the server may have acted on it."""

    @property
    def ok(self) -> bool:
        return self.response is not None and self.response.status_code < 300 and not self.limit


class Deadline:
    """The instant ``seconds`` from now by which every request it watches has ended.

    Pass :meth:`extensions` with each request (``request`` does): httpcore reports each
    connection it opens, and when the deadline passes the watchdog shuts their sockets down,
    so a read blocked on a hung or dripping server fails at once. Close it (or use it as a
    context manager) to stop the watchdog.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._at = time.monotonic() + seconds
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._passed = False
        self._timer = threading.Timer(max(0.0, seconds), self._expire)
        self._timer.daemon = True
        self._timer.start()

    def remaining(self) -> float:
        return max(0.0, self._at - time.monotonic())

    def passed(self) -> bool:
        return self._passed or self.remaining() <= 0

    def extensions(self) -> dict[str, Any]:
        return {"trace": self._trace}

    def _trace(self, event: str, info: dict[str, Any]) -> None:
        # connect_tcp and start_tls hand back the stream they opened: watch its socket
        stream: Any = info.get("return_value")
        if not event.endswith(".complete") or not hasattr(stream, "get_extra_info"):
            return
        sock = stream.get_extra_info("socket")
        if not isinstance(sock, socket.socket):
            return
        with self._lock:
            self._sockets = [s for s in self._sockets if s.fileno() != -1]
            self._sockets.append(sock)
            if self._passed:
                _shut(sock)

    def _expire(self) -> None:
        with self._lock:
            self._passed = True
            for sock in self._sockets:
                _shut(sock)

    def close(self) -> None:
        self._timer.cancel()

    def __enter__(self) -> Deadline:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):  # already closed by its connection
        sock.shutdown(socket.SHUT_RDWR)


class _TooLarge(Exception):
    pass


def _read_body(response: httpx.Response, max_bytes: int | None) -> bytes:
    """The body of a streamed response, refused (unread) beyond ``max_bytes``."""
    declared = response.headers.get("Content-Length", "")
    if max_bytes is not None and declared.isdigit() and int(declared) > max_bytes:
        raise _TooLarge(f"the answer is {int(declared):,} bytes, over the limit of {max_bytes:,}")
    parts: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if max_bytes is not None and size > max_bytes:
            raise _TooLarge(f"the answer passed the limit of {max_bytes:,} bytes")
        parts.append(chunk)
    return b"".join(parts)


def _bounded_timeout(client: httpx.Client, deadline: Deadline) -> httpx.Timeout:
    """The client's timeouts, none of them longer than what is left before the deadline."""
    left = max(deadline.remaining(), 0.001)
    current = client.timeout

    def cap(value: float | None) -> float:
        return left if value is None else min(value, left)

    return httpx.Timeout(
        connect=cap(current.connect),
        read=cap(current.read),
        write=cap(current.write),
        pool=cap(current.pool),
    )


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


def _problem(exc: httpx.HTTPError) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def request(
    client: httpx.Client,
    method: str,
    url: str,
    *,
    policy: RetryPolicy = RetryPolicy(),
    sleep: Callable[[float], Any] = time.sleep,
    on_retry: Callable[[int, str, float], Any] | None = None,
    deadline: Deadline | None = None,
    max_bytes: int | None = None,
    resend_unanswered: bool = True,
    **kwargs: Any,
) -> Outcome:
    """Send one request, retrying it by ``policy``; never raises for HTTP or network trouble.

    ``on_retry(attempt, problem, wait)`` is told before each wait, for progress output. With
    a ``deadline``, no attempt starts or runs past it, and no wait would end after it; with
    ``max_bytes``, a longer body stops the request. Neither bound is retried: the Outcome's
    ``limit`` says which one stopped it. With ``resend_unanswered=False`` a request that may
    have reached the server (anything but a failure to connect) is not sent again: for a POST
    that must not act twice.
    """
    error: str | None = None
    response: httpx.Response | None = None
    for attempt in range(1, policy.attempts + 1):
        if deadline is not None:
            if deadline.passed():
                when = f"before try {attempt}, after {error}" if error else "before the request"
                return Outcome(response, attempt - 1, when, limit="deadline")
            kwargs["timeout"] = _bounded_timeout(client, deadline)
            kwargs["extensions"] = deadline.extensions()
        try:
            with client.stream(method, url, **kwargs) as response:
                body = _read_body(response, max_bytes)
        except _TooLarge as exc:
            return Outcome(response, attempt, str(exc), limit="size")
        except httpx.HTTPError as exc:
            sent = not isinstance(exc, NOT_SENT)
            if deadline is not None and deadline.passed():
                return Outcome(
                    None, attempt, "while the answer was awaited", limit="deadline", unanswered=sent
                )
            response = None
            error = _problem(exc)
            if not resend_unanswered and sent:
                return Outcome(None, attempt, error, unanswered=True)
            wait = policy.backoff * 2 ** (attempt - 1)
        else:
            if response.status_code < 300:
                return Outcome(response, attempt, None, body)
            error = f"HTTP {response.status_code}"
            if not retryable(response.status_code):
                return Outcome(response, attempt, error, body)
            asked = retry_after(response)
            wait = asked if asked is not None else policy.backoff * 2 ** (attempt - 1)
        if attempt < policy.attempts:
            wait = min(wait, policy.max_wait)
            if deadline is not None and wait >= deadline.remaining():
                error = f"before try {attempt + 1}, due {wait:.1f} s after {error}"
                return Outcome(response, attempt, error, limit="deadline")
            if on_retry is not None:
                on_retry(attempt, error, wait)
            sleep(wait)
    return Outcome(response, policy.attempts, error)
