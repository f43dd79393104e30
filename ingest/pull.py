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
from ingest.usage import UsageFormat, UsageLoad, ingest_usage
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


def _exact_json(text: str, where: str) -> Any:
    try:
        return json.loads(text, parse_float=Decimal)
    except ValueError as exc:
        raise RatecardError(f"{where}: the answer is not JSON ({exc})") from None


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
    policy: http.RetryPolicy = http.RetryPolicy(),  # noqa: B008 (frozen)
    sleep: Callable[[float], Any] = time.sleep,
    progress: Callable[[str], Any] | None = None,
) -> PullResult:
    """Read the export at ``url`` from its saved cursor (or the start) to its end."""
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
    finished = False

    def told(attempt: int, problem: str, wait: float) -> None:
        if progress is not None:
            progress(f"  {problem} (attempt {attempt}); retrying in {wait:.1f} s")

    with (
        httpx.Client(timeout=timeout, headers=headers, follow_redirects=True) as client,
        tempfile.TemporaryDirectory(prefix="ratecard-pull-") as tmp,
    ):
        while True:
            params = {cursor_param: cursor} if cursor is not None else {}
            where = f"{url} (cursor {cursor})" if cursor is not None else f"{url} (first page)"
            outcome = http.request(
                client, "GET", url, params=params, policy=policy, sleep=sleep, on_retry=told
            )
            if not outcome.ok:
                hint = (
                    f"check the token in ${token_env}"
                    if outcome.response is not None and outcome.response.status_code in (401, 403)
                    else "run the same command again later: the pull resumes at this page"
                )
                raise RatecardError(
                    f"{where}: {outcome.error} after {outcome.attempts} attempt(s); {hint}"
                )
            assert outcome.response is not None
            records, next_cursor = _page_parts(_exact_json(outcome.response.text, where), where)
            if next_cursor is not None and next_cursor == cursor:
                raise RatecardError(f"{where}: the export gave the same cursor back; stopping")
            done = next_cursor is None
            save = {
                "url": url,
                # at the end, stay on this page: the next pull re-reads it for new records
                "cursor": cursor if done else next_cursor,
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
                totals["read"] += load.records_read
                totals["loaded"] += load.loaded
                totals["duplicates"] += load.duplicates
                totals["quarantined"] += load.quarantined
                totals["unpriced"] += load.unpriced
            else:
                con.execute("BEGIN TRANSACTION")
                save_cursor(con, 0)
                con.execute("COMMIT")
            totals["pages"] += 1
            if progress is not None:
                progress(
                    f"page {totals['pages']}: {len(records):,} records "
                    f"({totals['loaded']:,} loaded so far)"
                )
            if done:
                finished = True
                break
            cursor = next_cursor
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
