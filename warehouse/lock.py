"""Waiting for the warehouse's file lock, and saying who holds it.

DuckDB lets one process open a file read-write, or any number of processes open it
read-only, never both at once: a dashboard reading the file locks an ingest out for as long
as the read lasts, and an ingest locks everyone out while it runs. DuckDB does not wait for a
lock; it fails at once with ``Conflicting lock is held in <program> (PID n)``. So every
opening retries for a bounded time (``RATECARD_LOCK_TIMEOUT`` seconds, 120 by default),
telling the caller who it is waiting for, and then fails naming the holder and what to do.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from warehouse.errors import RatecardError

LOCK_TIMEOUT_ENV = "RATECARD_LOCK_TIMEOUT"
DEFAULT_LOCK_TIMEOUT = 120.0
POLL = 0.1
"""Seconds between two tries: an opening takes milliseconds, a dashboard read well under one."""
NOTE_EVERY = 10.0
"""Seconds between two progress lines while the same process keeps the lock."""

_HOLDER = re.compile(r"Conflicting lock is held in (?P<program>.*?) \(PID (?P<pid>\d+)\)")


def lock_timeout() -> float:
    """Seconds to wait for the lock: RATECARD_LOCK_TIMEOUT, or 120."""
    text = os.environ.get(LOCK_TIMEOUT_ENV)
    if text is None or not text.strip():
        return DEFAULT_LOCK_TIMEOUT
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value < float("inf"):
        raise RatecardError(
            f"{LOCK_TIMEOUT_ENV}={text!r}: give the seconds to wait for the warehouse lock, "
            "e.g. 120 (0 to fail at once)"
        )
    return value


@dataclass(frozen=True)
class Holder:
    """The process DuckDB says holds a conflicting lock on the file."""

    pid: int
    command: str

    def __str__(self) -> str:
        return f"PID {self.pid} ({self.command})"


def holder_of(exc: duckdb.Error) -> Holder | None:
    """Who holds the lock, when ``exc`` is DuckDB's lock conflict; None for other errors."""
    match = _HOLDER.search(str(exc))
    if match is None:
        return None
    pid = int(match["pid"])
    return Holder(pid, _command(pid) or Path(match["program"]).name)


def _command(pid: int) -> str | None:
    """The holder's command line, shortened to what a user typed (``ratecard ingest …``)."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:  # another system, or the process just ended
        return None
    argv = [part.decode(errors="replace") for part in raw.split(b"\0") if part]
    if argv and Path(argv[0]).name.startswith("python"):
        argv = argv[1:]
    if argv and argv[0] == "-m":
        argv = argv[1:]
    if not argv:
        return None
    if any(part.endswith("dashboards/app.py") for part in argv):
        return "the ratecard dashboard"
    text = " ".join([Path(argv[0]).name, *argv[1:]])
    return text if len(text) <= 120 else text[:119] + "…"


class WarehouseLocked(RatecardError):
    """Another process kept the warehouse locked for longer than this one would wait."""

    def __init__(self, path: Path, holder: Holder, timeout: float) -> None:
        self.path, self.holder, self.timeout = path, holder, timeout
        super().__init__(
            f"{path}: {holder} has the warehouse locked; waited {timeout:g} s for it. Let it "
            f"finish and run this again, or wait longer with {LOCK_TIMEOUT_ENV}=<seconds>."
        )


def open_waiting(
    path: Path,
    *,
    read_only: bool,
    timeout: float,
    on_wait: Callable[[str], object] | None = None,
) -> duckdb.DuckDBPyConnection:
    """Open ``path``, retrying every 0.1 s for up to ``timeout`` s while another process
    holds a conflicting lock; ``on_wait`` hears who it is waiting for, then every 10 s."""
    start = time.monotonic()
    told: Holder | None = None
    next_note = 0.0
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException as exc:
            holder = holder_of(exc)
            if holder is None:
                raise RatecardError(f"{path}: cannot open the warehouse: {exc}") from exc
            waited = time.monotonic() - start
            if waited >= timeout:
                raise WarehouseLocked(path, holder, timeout) from None
            if on_wait is not None and (holder != told or waited >= next_note):
                if holder != told:
                    on_wait(
                        f"waiting for the warehouse lock held by {holder}: up to "
                        f"{timeout:.0f} s ({LOCK_TIMEOUT_ENV})"
                    )
                else:
                    on_wait(
                        f"still waiting for the warehouse lock held by {holder}: "
                        f"{waited:.0f} of {timeout:.0f} s"
                    )
                told, next_note = holder, waited + NOTE_EVERY
            time.sleep(min(POLL, max(timeout - waited, 0.0)))
