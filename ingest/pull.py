"""Pull a paginated usage export over HTTP into the warehouse, resumably.

The export is read page by page: ``GET URL?cursor=C`` answers JSON
``{"data": [record, ...], "next_cursor": "..."}`` (``records`` or ``items`` for the list,
``next`` for the cursor are accepted too; a missing or null cursor ends the export). The
records are any of the line formats ``ratecard ingest usage`` reads (gateway-log records,
raw bodies with ``--provider``, flat records), detected per page.

Each page is one ingest batch, and the cursor of the page after it is saved in the same
transaction (the ``pull_cursors`` table), so a pull that is interrupted — network down,
Ctrl-C, a crash — resumes at the first page not loaded: no gaps, nothing loaded twice.
The bearer token is read from an environment variable the caller names, never from the
command line (where it would sit in shell history and process lists).
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import httpx

from ingest import http
from ingest.usage import UsageFormat, UsageLoad, conservation, ingest_usage
from warehouse.errors import RatecardError

RECORD_KEYS = ("data", "records", "items")
CURSOR_KEYS = ("next_cursor", "next")


@dataclass(frozen=True)
class PullResult:
    url: str
    resumed_from: str | None
    """The saved cursor the pull started from; None for the first page."""
    pages: int
    records_read: int
    loaded: int
    duplicates: int
    quarantined: int
    unpriced: int
    finished: bool
    """The export said there is no page after the last one fetched."""


@dataclass(frozen=True)
class PullLimits:
    """The bounds of one pull; when one is reached the pull stops with :class:`PullStopped`,
    every page before it loaded and the cursor saved at the first page not loaded."""

    max_pages: int = 10_000
    """Pages per run; the next run goes on from there."""
    max_empty_pages: int = 20
    """Pages in a row with no records but a next cursor: an export that may never end."""
    max_page_bytes: int = 64 * 1024 * 1024
    """The largest answer read for one page (decompressed), as ingest's longest line."""
    deadline: float = 3600.0
    """Seconds for the whole pull, waits and slow answers included (``--timeout`` bounds
    each read only)."""


class PullStopped(RatecardError):
    """A pull that stopped before the export's end; ``result`` counts what it loaded."""

    def __init__(self, message: str, result: PullResult) -> None:
        super().__init__(message)
        self.result = result


def read_token(token_env: str | None) -> str | None:
    """The bearer token from the environment variable ``token_env`` (None: no token)."""
    if not token_env:
        return None
    token = os.environ.get(token_env, "").strip()
    if not token:
        raise RatecardError(
            f"environment variable {token_env} is not set: export the API token there "
            "(ratecard never takes a token on the command line)"
        )
    return token


def _exact_json(body: bytes, where: str) -> Any:
    try:
        return json.loads(body, parse_float=Decimal)
    except ValueError as exc:  # UnicodeDecodeError included
        raise RatecardError(f"{where}: the answer is not JSON ({exc})") from None
    except RecursionError:
        raise RatecardError(
            f"{where}: the answer is not JSON a reader can take (nested too deeply)"
        ) from None


def _page_parts(page: Any, where: str) -> tuple[list[Any], str | None]:
    if isinstance(page, dict):
        records = next((page[k] for k in RECORD_KEYS if k in page), None)
        cursor = next((page[k] for k in CURSOR_KEYS if page.get(k) not in (None, "")), None)
        if isinstance(records, list) and (cursor is None or isinstance(cursor, str | int)):
            return records, None if cursor is None else str(cursor)
    raise RatecardError(
        f"{where}: not a page of a usage export; expected "
        '{"data": [records...], "next_cursor": "..." or null}'
    )


def _write_page(records: list[Any], path: Path) -> None:
    """One record per line. Numbers with a fraction were read as Decimal and are written as
    JSON strings of the same digits: the readers take every leaf as text, so the value is
    exactly what the export sent, never a float's approximation."""
    with path.open("w", encoding="utf-8") as handle:
        for record in records:
            if isinstance(record, str):
                handle.write(record.replace("\n", " "))  # a raw line as the export gave it
            else:
                handle.write(json.dumps(record, default=str, ensure_ascii=False))
            handle.write("\n")


def _shown(cursor: str | None) -> str:
    return "the first page" if cursor is None else f"cursor {cursor}"


def pull_usage(
    con: duckdb.DuckDBPyConnection,
    url: str,
    *,
    token_env: str | None = None,
    fmt: UsageFormat | None = None,
    provider: str | None = None,
    cursor_param: str = "cursor",
    restart: bool = False,
    timeout: float = 30.0,
    limits: PullLimits = PullLimits(),
    policy: http.RetryPolicy = http.RetryPolicy(),  # noqa: B008 (frozen)
    sleep: Callable[[float], Any] = time.sleep,
    progress: Callable[[str], Any] | None = None,
) -> PullResult:
    """Read the export at ``url`` from its saved cursor (or the start) to its end.

    Stops with :class:`PullStopped` at a bound of ``limits``, at a cursor this pull has read
    already (a cycle: the export would hand out the same pages for ever), or when a page
    cannot be had; each message says where it stopped and what to do.
    """
    token = read_token(token_env)
    saved = con.execute(
        "SELECT cursor, finished FROM pull_cursors WHERE url = $url", {"url": url}
    ).fetchall()
    cursor = None if restart or not saved else saved[0][0]
    resumed_from = cursor
    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    totals = {"pages": 0, "read": 0, "loaded": 0, "duplicates": 0, "quarantined": 0, "unpriced": 0}
    read_cursors: set[str | None] = {cursor}
    empty_run: list[str | None] = []  # the cursors of the last pages in a row without records

    def result(finished: bool) -> PullResult:
        return PullResult(
            url=url,
            resumed_from=resumed_from,
            pages=totals["pages"],
            records_read=totals["read"],
            loaded=totals["loaded"],
            duplicates=totals["duplicates"],
            quarantined=totals["quarantined"],
            unpriced=totals["unpriced"],
            finished=finished,
        )

    def stopped(message: str) -> PullStopped:
        return PullStopped(message, result(finished=False))

    def counted() -> str:
        """What this pull did with the records it read, in the conservation line's words."""
        return conservation(
            totals["read"], totals["loaded"], totals["duplicates"], totals["quarantined"]
        )

    def told(attempt: int, problem: str, wait: float) -> None:
        if progress is not None:
            progress(f"  {problem} (attempt {attempt}); retrying in {wait:.1f} s")

    with (
        http.Deadline(limits.deadline) as deadline,
        httpx.Client(timeout=timeout, headers=headers, follow_redirects=True) as client,
        tempfile.TemporaryDirectory(prefix="ratecard-pull-") as tmp,
    ):
        while True:
            where = f"{url} (cursor {cursor})" if cursor is not None else f"{url} (first page)"
            if totals["pages"] >= limits.max_pages:
                raise stopped(
                    f"{url}: stopped after {limits.max_pages:,} pages (--max-pages), "
                    f"{counted()}; the next page ({_shown(cursor)}) is saved: run the same command "
                    "again to go on from it"
                )
            params = {cursor_param: cursor} if cursor is not None else {}
            outcome = http.request(
                client,
                "GET",
                url,
                params=params,
                policy=policy,
                sleep=sleep,
                on_retry=told,
                deadline=deadline,
                max_bytes=limits.max_page_bytes,
            )
            if outcome.limit == "deadline":
                raise stopped(
                    f"{where}: stopped at the pull's deadline of {limits.deadline:g} s "
                    f"(--deadline), {outcome.error}; the {totals['pages']:,} pages before this "
                    "one are loaded and the next pull resumes at this page: run the same "
                    "command again, or give it a longer --deadline"
                )
            if outcome.limit == "size":
                raise stopped(
                    f"{where}: {outcome.error} (--max-page-bytes); nothing of this page is "
                    "loaded and the next pull starts at it again: raise --max-page-bytes, or "
                    "ask the export for smaller pages"
                )
            if not outcome.ok:
                hint = (
                    f"check the token in ${token_env}"
                    if outcome.response is not None and outcome.response.status_code in (401, 403)
                    else "run the same command again later: the pull resumes at this page"
                )
                raise stopped(
                    f"{where}: {outcome.error} after {outcome.attempts} attempt(s); {hint}"
                )
            try:
                records, next_cursor = _page_parts(_exact_json(outcome.body, where), where)
            except RatecardError as exc:
                raise stopped(str(exc)) from None
            done = next_cursor is None
            # a cursor this pull has read already: the export would go round for ever
            cycle = not done and next_cursor in read_cursors
            save = {
                "url": url,
                # at the end (or a cycle), stay on this page: the next pull re-reads it
                "cursor": cursor if done or cycle else next_cursor,
                "finished": done,
                "records": len(records),
            }

            def save_cursor(
                connection: duckdb.DuckDBPyConnection, _batch: int, save: dict[str, Any] = save
            ) -> None:
                connection.execute(
                    "INSERT INTO pull_cursors VALUES ($url, $cursor, $finished, 1, $records, "
                    "now()) ON CONFLICT (url) DO UPDATE SET cursor = EXCLUDED.cursor, "
                    "finished = EXCLUDED.finished, pages = pull_cursors.pages + 1, "
                    "records = pull_cursors.records + EXCLUDED.records, "
                    "updated_at = EXCLUDED.updated_at",
                    save,
                )

            if records:
                page_file = Path(tmp) / f"page-{totals['pages'] + 1}.jsonl"
                _write_page(records, page_file)
                load: UsageLoad = ingest_usage(
                    con,
                    page_file,
                    fmt=fmt,
                    provider=provider,
                    source=where,
                    before_commit=save_cursor,
                )
                page_file.unlink()
                totals["read"] += load.records_read
                totals["loaded"] += load.loaded
                totals["duplicates"] += load.duplicates
                totals["quarantined"] += load.quarantined
                totals["unpriced"] += load.unpriced
                empty_run.clear()
            else:
                con.execute("BEGIN TRANSACTION")
                save_cursor(con, 0)
                con.execute("COMMIT")
                empty_run.append(cursor)
            totals["pages"] += 1
            if progress is not None:
                progress(
                    f"page {totals['pages']}: {len(records):,} records "
                    f"({totals['loaded']:,} loaded so far)"
                )
            if done:
                return result(finished=True)
            if cycle:
                raise stopped(
                    f"{where}: the export's next cursor, {next_cursor}, is one this pull has "
                    "read already (a cursor cycle: it would hand out the same pages for ever); "
                    f"stopped after {totals['pages']:,} pages ({counted()}), with this page "
                    "saved: the next pull re-reads it; if the export keeps cycling, tell its "
                    "owner (or start over with --restart)"
                )
            if len(empty_run) >= limits.max_empty_pages:
                raise stopped(
                    f"{url}: {len(empty_run):,} pages in a row had no records (from "
                    f"{_shown(empty_run[0])} to {_shown(empty_run[-1])}) but each named a next "
                    "page; stopped, as such an export may never end; the next pull resumes at "
                    f"cursor {next_cursor}: raise --max-empty-pages if the export really has "
                    "stretches that long"
                )
            read_cursors.add(next_cursor)
            cursor = next_cursor
