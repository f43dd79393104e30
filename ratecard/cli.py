"""The ``ratecard`` command line: the composition root that wires the stages together.

Every command takes ``--db PATH`` (or the RATECARD_DB environment variable). Problems the
user can fix print one line saying what and where, and exit with status 2.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import duckdb
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn
from rich.table import Table

from ingest.catalogs import ALL_TIME, Catalog, FetchLimits, read_catalog
from ingest.prices import PriceLoad, load_points, load_prices
from ingest.pull import PullLimits, PullResult, PullStopped, pull_usage
from ingest.usage import UsageFormat, UsageLoad, ingest_usage, usage_files
from pricing.engine import bill_unbilled, rebill, stale_by_provider, stale_calls
from ratecard import sample
from reports.alerts import Alert, budget_alerts, hygiene_alerts, record, rehome_legacy
from reports.budgets import (
    BudgetFile,
    BudgetStatus,
    Instant,
    check_budgets,
    default_instant,
    load_budgets,
)
from reports.compare import (
    QUOTE_COLUMNS,
    QUOTE_NOTE,
    Comparison,
    compare,
    comparison_title,
    spend,
    write_comparisons_csv,
)
from reports.delivery import DEADLINE, TIMEOUT, Claim, claim, finish, lease_for, send_claimed
from reports.documents import ReportFormat, write_csv, write_html, write_parquet, write_xlsx
from reports.export import ExportFormat, export_calls
from reports.finance import DIMENSIONS as FINANCE_DIMENSIONS
from reports.finance import build_report, daily_spend
from reports.finance import parse_by as parse_finance_by
from reports.focus import FOCUS_REFUSES_BY, export_focus
from reports.money import (
    CENT,
    minor_unit,
    money_text,
    plain,
    printed_difference,
    round_cents,
    round_column,
)
from reports.period import parse_period
from reports.reconcile import CALL_TOLERANCE, INVOICE_TOLERANCE, write_discrepancies
from reports.reconcile import COLUMNS as RECONCILE_COLUMNS
from reports.reconcile import reconcile as run_reconcile
from reports.summary import Summary, SummaryRow, parse_by, summarize
from warehouse import RatecardError, connect, transaction
from warehouse.lock import lock_timeout

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DASHBOARD = PROJECT_ROOT / "dashboards" / "app.py"
PRICE_SHEETS = PROJECT_ROOT / "data" / "price_sheets"
SAMPLES = PROJECT_ROOT / "data" / "samples"
DEFAULT_DB = Path("data/warehouse/ratecard.duckdb")
DEFAULT_BUDGETS = Path("data/budgets.yml")

app = typer.Typer(
    help="Exact LLM cost accounting: ingest usage logs and price sheets, bill every call, "
    "report spend.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
ingest_app = typer.Typer(
    help="Load usage logs or price sheets into the warehouse.", no_args_is_help=True
)
export_app = typer.Typer(help="Write warehouse data to files.", no_args_is_help=True)
budgets_app = typer.Typer(help="Budgets, forecasts and alerts.", no_args_is_help=True)
pull_app = typer.Typer(
    help="Load usage exports and public price catalogs over HTTP.", no_args_is_help=True
)
app.add_typer(ingest_app, name="ingest")
app.add_typer(pull_app, name="pull")
app.add_typer(export_app, name="export")
app.add_typer(budgets_app, name="budgets")

# Messages stay on one line; tables fit the terminal, or 160 columns when piped to a file.
out = Console(soft_wrap=True, width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True, soft_wrap=True)

DbOption = Annotated[
    Path,
    typer.Option(
        "--db", envvar="RATECARD_DB", help="The warehouse file (DuckDB).", show_default=True
    ),
]

# The period options every reading command takes (reports/period.py parses them).
PeriodOption = Annotated[str | None, typer.Option(help="A month, YYYY-MM.")]
FromOption = Annotated[str | None, typer.Option("--from", help="First day, YYYY-MM-DD.")]
ToOption = Annotated[str | None, typer.Option("--to", help="Last day, YYYY-MM-DD.")]
TimezoneOption = Annotated[
    str, typer.Option(help="Whose midnight the period's days start at (IANA name).")
]


@contextmanager
def warehouse(
    db: Path, *, read_only: bool = False, create: bool = False
) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the warehouse for one command. Only ingest, pull and demo pass ``create``: any
    other command refuses a path with no warehouse instead of reporting on an empty one.
    While another process holds the lock it waits (RATECARD_LOCK_TIMEOUT), saying for whom."""
    con = connect(db, read_only=read_only, create=create, on_wait=_waiting)
    if sys.stdout.isatty():
        con.execute("SET enable_progress_bar = true")  # DuckDB's own bar for long queries
    try:
        yield con
    finally:
        con.close()


def _waiting(message: str) -> None:
    err.print(message, highlight=False)


def _fail(exc: RatecardError) -> typer.Exit:
    err.print(f"[red]error:[/red] {exc}", highlight=False)
    return typer.Exit(2)


def _conservation(read: int, loaded: int, duplicates: int, quarantined: int) -> str:
    """The line every ingest prints: where each record it read went."""
    return (
        f"read {read:,} = loaded {loaded:,} + duplicates {duplicates:,} + "
        f"quarantined {quarantined:,}"
    )


def _unpriced(calls: int) -> str:
    return f", [yellow]{calls:,} unpriced[/yellow]" if calls else ""


def _print_load(load: UsageLoad) -> None:
    counts = _conservation(load.records_read, load.loaded, load.duplicates, load.quarantined)
    out.print(
        f"{load.source} ({load.format.value}): {counts}; billed {load.billed:,}"
        + _unpriced(load.unpriced),
        highlight=False,
    )
    if load.problem is not None:
        out.print(
            f"[yellow]{load.problem}[/yellow]: the records after that point were never read; "
            "fetch the file again and ingest it (what is loaded now counts as duplicates)",
            highlight=False,
        )


@ingest_app.command("usage")
def ingest_usage_command(
    paths: Annotated[
        list[Path],
        typer.Argument(help="Usage log files (.jsonl, .ndjson, .csv, .gz), or folders of them."),
    ],
    db: DbOption = DEFAULT_DB,
    fmt: Annotated[UsageFormat | None, typer.Option("--format", help="Skip detection.")] = None,
    provider: Annotated[
        str | None,
        typer.Option(
            help="The gateway that billed the calls: required for raw-body files, "
            "overrides the provider of OTLP spans."
        ),
    ] = None,
    no_bill: Annotated[bool, typer.Option("--no-bill", help="Load only; bill later.")] = False,
) -> None:
    """Load usage logs, one batch per file; each record is loaded, a duplicate, or quarantined.

    Formats (detected per file): gateway-log (any provider body or SSE stream), raw-body,
    otel (OTLP/JSON GenAI spans), flat-jsonl, flat-csv; .gz files are read as they are.
    A file that cannot be read is refused and the others still load. Exit status: 0 when
    every record was loaded (or was a duplicate), 1 when some were quarantined or a file was
    refused or cut short, 2 when nothing was loaded: a path that does not exist, a bad
    option, or every file refused.
    """
    try:
        files = usage_files(paths)
        with warehouse(db, create=True) as con:
            quarantined = refused = cut_short = 0
            for path in files:
                try:
                    load = ingest_usage(con, path, fmt=fmt, provider=provider, bill=not no_bill)
                except RatecardError as exc:
                    refused += 1
                    err.print(f"[red]error:[/red] {exc}", highlight=False)
                    continue
                quarantined += load.quarantined
                cut_short += load.problem is not None
                _print_load(load)
    except RatecardError as exc:
        raise _fail(exc) from None
    if quarantined:
        out.print(
            f"[yellow]{quarantined:,} records quarantined[/yellow]: see the "
            "quarantine table for line and reason."
        )
    if refused:
        out.print(f"[red]{refused:,} of {len(files):,} files refused[/red] (see above).")
        if refused == len(files):
            raise typer.Exit(2)
    if quarantined or refused or cut_short:
        raise typer.Exit(1)


@ingest_app.command("prices")
def ingest_prices_command(
    paths: Annotated[list[Path], typer.Argument(help="Sheets (.yml, .csv) or folders of them.")],
    db: DbOption = DEFAULT_DB,
) -> None:
    """Load price sheets; each replaces its providers' prices, all or nothing."""
    try:
        with warehouse(db, create=True) as con:
            load = load_prices(con, paths)
            out.print(
                f"loaded {load.points} price points for {', '.join(load.providers)} "
                f"(replacing {load.replaced})"
            )
            _print_price_changes(con, load)
    except RatecardError as exc:
        raise _fail(exc) from None


@pull_app.command("usage")
def pull_usage_command(
    url: Annotated[str, typer.Argument(help="The export's URL (JSON pages with a cursor).")],
    db: DbOption = DEFAULT_DB,
    token_env: Annotated[
        str | None,
        typer.Option(
            "--token-env",
            help="Name of the environment variable holding the bearer token "
            "(the token itself is never taken on the command line).",
        ),
    ] = None,
    fmt: Annotated[UsageFormat | None, typer.Option("--format", help="Skip detection.")] = None,
    provider: Annotated[
        str | None, typer.Option(help="The gateway, for exports of raw bodies or spans.")
    ] = None,
    cursor_param: Annotated[str, typer.Option(help="The query parameter for the cursor.")] = (
        "cursor"
    ),
    restart: Annotated[
        bool, typer.Option(help="Ignore the saved cursor and read from the first page.")
    ] = False,
    timeout: Annotated[
        float, typer.Option(help="Seconds per connect or read (each, not the whole page).")
    ] = 30.0,
    deadline: Annotated[
        float,
        typer.Option(help="Seconds for the whole pull; it resumes at the next page later."),
    ] = PullLimits.deadline,
    max_pages: Annotated[int, typer.Option(help="Pages per run; the next run goes on.", min=1)] = (
        PullLimits.max_pages
    ),
    max_empty_pages: Annotated[
        int, typer.Option(help="Stop after this many pages in a row without records.", min=1)
    ] = PullLimits.max_empty_pages,
    max_page_bytes: Annotated[
        int, typer.Option(help="The largest page read, in bytes (decompressed).", min=1)
    ] = PullLimits.max_page_bytes,
) -> None:
    """Pull a paginated usage export, one batch per page, resuming where the last pull
    stopped (the cursor is saved with each page). A pull that stops early (a bound, a cursor
    cycle, a page it cannot get) says why, keeps what it loaded and exits with status 2."""
    limits = PullLimits(
        max_pages=max_pages,
        max_empty_pages=max_empty_pages,
        max_page_bytes=max_page_bytes,
        deadline=deadline,
    )
    try:
        with warehouse(db, create=True) as con:
            result = pull_usage(
                con,
                url,
                token_env=token_env,
                fmt=fmt,
                provider=provider,
                cursor_param=cursor_param,
                restart=restart,
                timeout=timeout,
                limits=limits,
                progress=lambda line: err.print(line, highlight=False),
            )
    except PullStopped as exc:
        if exc.result.pages:
            _print_pull(exc.result)
        raise _fail(exc) from None
    except RatecardError as exc:
        raise _fail(exc) from None
    _print_pull(result)


def _print_pull(result: PullResult) -> None:
    start = "the first page" if result.resumed_from is None else f"cursor {result.resumed_from}"
    counts = _conservation(
        result.records_read, result.loaded, result.duplicates, result.quarantined
    )
    out.print(
        f"{result.url}: {result.pages:,} pages from {start}; {counts}" + _unpriced(result.unpriced),
        highlight=False,
    )


@pull_app.command("prices")
def pull_prices_command(
    catalog: Annotated[Catalog, typer.Argument(help="Which public catalog.")],
    db: DbOption = DEFAULT_DB,
    source: Annotated[
        str | None, typer.Option("--from", help="A URL or local file; the public URL if unset.")
    ] = None,
    match: Annotated[
        list[str] | None,
        typer.Option(help="Keep models whose id or name contains this (repeatable)."),
    ] = None,
    provider: Annotated[
        str | None,
        typer.Option(help="Store under this provider name (genai-prices: the provider to take)."),
    ] = None,
    effective_from: Annotated[
        str | None,
        typer.Option(help="Apply undated catalog prices from this day (YYYY-MM-DD); all time."),
    ] = None,
    timeout: Annotated[float, typer.Option(help="Seconds per connect or read.")] = (
        FetchLimits.timeout
    ),
    deadline: Annotated[float, typer.Option(help="Seconds for the whole download.")] = (
        FetchLimits.deadline
    ),
    max_bytes: Annotated[
        int, typer.Option(help="The largest catalog read, in bytes (decompressed).", min=1)
    ] = FetchLimits.max_bytes,
) -> None:
    """Import a public price catalog (OpenRouter, LiteLLM, genai-prices) as price points; it
    replaces the prices of the providers it covers."""
    try:
        start = (
            ALL_TIME
            if effective_from is None
            else _instant("--effective-from", f"{effective_from}T00:00:00Z")
        )
        result = read_catalog(
            catalog,
            source,
            match=match,
            provider=provider,
            effective_from=start,
            limits=FetchLimits(max_bytes=max_bytes, deadline=deadline, timeout=timeout),
        )
        for entry, reason in result.skipped:
            err.print(f"  skipped {entry}: {reason}", highlight=False)
        if not result.points:
            raise RatecardError(
                f"{result.source}: no model to import"
                + (f" matching {', '.join(match)}" if match else "")
            )
        with warehouse(db, create=True) as con:
            load = load_points(con, result.points, fmt=f"catalog:{catalog.value}")
            models = len({(p.provider, p.model) for p in result.points})
            out.print(
                f"{result.source}: {models:,} models, {load.points:,} price points for "
                f"{', '.join(load.providers)} (replacing {load.replaced:,}); "
                f"{len(result.skipped):,} entries skipped",
                highlight=False,
            )
            _print_price_changes(con, load)
    except RatecardError as exc:
        raise _fail(exc) from None


def _print_price_changes(con: duckdb.DuckDBPyConnection, load: PriceLoad) -> None:
    """Whose prices the load changed, and the calls billed before that it leaves stale."""
    same = [p for p in load.providers if p not in load.changed]
    if same:
        out.print(f"prices unchanged for {', '.join(same)}", highlight=False)
    stale = stale_by_provider(con)
    for provider in load.changed:
        if stale.get(provider):
            out.print(
                f"prices changed for {provider}: its {stale[provider]:,} calls billed before "
                "keep their old prices until `ratecard bill --rebill`.",
                highlight=False,
            )


@app.command()
def bill(
    db: DbOption = DEFAULT_DB,
    rebill_all: Annotated[
        bool,
        typer.Option(
            "--rebill", help="Re-price every call with the current sheets, in one transaction."
        ),
    ] = False,
) -> None:
    """Bill calls loaded with --no-bill, or re-price everything after a sheet change."""
    try:
        with warehouse(db) as con:
            result = rebill(con) if rebill_all else bill_unbilled(con)
            verb = "re-priced" if rebill_all else "billed"
            out.print(f"{verb} {result.calls:,} calls" + _unpriced(result.unpriced))
    except RatecardError as exc:
        raise _fail(exc) from None


@app.command()
def summary(
    db: DbOption = DEFAULT_DB,
    by: Annotated[
        str,
        typer.Option(
            help="Group by: provider, model, canonical_model, "
            "variant, team, project, key, day, currency."
        ),
    ] = "provider,variant",
    period: PeriodOption = None,
    start: FromOption = None,
    end: ToOption = None,
    exact: Annotated[bool, typer.Option(help="Amounts at full precision.")] = False,
) -> None:
    """Spend, calls and tokens for a period, with failed and unpriced counts."""
    try:
        with warehouse(db, read_only=True) as con:
            result = summarize(con, parse_by(by), parse_period(period, start, end))
    except RatecardError as exc:
        raise _fail(exc) from None
    print_summary(result, exact=exact)


def print_summary(result: Summary, *, exact: bool = False) -> None:
    currencies = [code for code, _ in result.totals] or [result.currency or "USD"]
    single = len(currencies) == 1
    table = Table(title=f"Spend, {result.period.label()} (UTC)", title_justify="left")
    for name in result.by:
        table.add_column(name)
    for name in ("calls", "failed", "unpriced", "input tok", "cached tok", "output tok"):
        table.add_column(name, justify="right")
    table.add_column(f"cost {currencies[0]}" if single else "cost", justify="right")
    # each currency's rows rounded and totalled on their own: two currencies are never added
    columns = {}
    rounded: dict[int, Decimal] = {}
    for code in currencies:
        mine = [i for i, r in enumerate(result.rows) if (r.currency or currencies[0]) == code]
        columns[code] = round_column((result.rows[i].cost for i in mine), code)
        rounded.update(zip(mine, columns[code].lines, strict=True))
    for index, row in enumerate(result.rows):
        shown = "—" if row.cost is None else (plain(row.cost) if exact else f"{rounded[index]:,}")
        table.add_row(
            *(value if value is not None else "(none)" for value in row.group),
            *_counts(row),
            shown,
        )
    blanks = [""] * (len(result.by) + 5)
    for code in currencies:
        label = "" if single else f" {code}"
        if not exact and columns[code].residue:
            table.add_row(f"rounding residue{label}", *blanks, f"{columns[code].residue:,}")
        if single:
            continue
        rows = [r for r in result.rows if r.currency == code]
        total = plain(columns[code].exact_total) if exact else f"{columns[code].total:,}"
        table.add_row(
            f"[bold]total {code}[/bold]",
            *[""] * (len(result.by) - 1),
            *(f"{sum(n):,}" for n in zip(*(_counts(r, as_ints=True) for r in rows), strict=True)),
            f"[bold]{total}[/bold]",
        )
    total = (
        plain(columns[currencies[0]].exact_total) if exact else f"{columns[currencies[0]].total:,}"
    )
    table.add_row(
        "[bold]total[/bold]" if single else "[bold]all calls[/bold]",
        *[""] * (len(result.by) - 1),
        f"{result.calls:,}",
        f"{result.failed_calls:,}",
        f"{result.unpriced_calls:,}",
        f"{result.input_tokens:,}",
        f"{result.cache_read_tokens:,}",
        f"{result.output_tokens:,}",
        f"[bold]{total}[/bold]" if single else "—",
    )
    out.print(table)
    if not single:
        out.print(
            f"Costs in {', '.join(currencies)} are totalled apart: amounts in two currencies "
            "are never added.",
            style="dim",
        )
    if not exact:
        unit = (
            "the cent"
            if all(minor_unit(code) == CENT for code in currencies)
            else "each currency's minor unit"
        )
        out.print(
            f"Amounts rounded half-up to {unit}; failed calls are free and counted.", style="dim"
        )
    if result.unpriced:
        out.print(
            f"[yellow]{result.unpriced_calls:,} calls are unpriced[/yellow] (cost "
            "unknown, not counted as $0):"
        )
        for item in result.unpriced:
            out.print(
                f"  {item.provider}/{item.model}: {item.calls:,} calls — {item.reason}",
                highlight=False,
            )
    if result.stale_calls:
        out.print(_stale(result.stale_calls))


def _counts(row: SummaryRow, *, as_ints: bool = False) -> tuple[Any, ...]:
    """A summary row's calls, failed, unpriced and token counts, as printed (or as ints)."""
    counts = (
        row.calls,
        row.failed_calls,
        row.unpriced_calls,
        row.input_tokens,
        row.cache_read_tokens,
        row.output_tokens,
    )
    if as_ints:
        return counts
    shown: list[Any] = [f"{n:,}" for n in counts]
    if row.unpriced_calls:
        shown[2] = f"[yellow]{row.unpriced_calls:,}[/yellow]"
    return tuple(shown)


def _stale(calls: int) -> str:
    return (
        f"[yellow]{calls:,} calls were billed with older price sheets[/yellow]: run "
        "`ratecard bill --rebill`."
    )


@app.command("compare")
def compare_command(
    model: Annotated[str, typer.Option("--model", help="The canonical model, e.g. minimax-m3.")],
    db: DbOption = DEFAULT_DB,
    variant: Annotated[
        str | None,
        typer.Option(help="Only the calls that ran on this variant (default: each variant)."),
    ] = None,
    at_variant: Annotated[
        str | None,
        typer.Option(
            "--at-variant",
            help="Price the calls at this variant only (default: the one they ran on, and "
            "standard too for the others).",
        ),
    ] = None,
    period: PeriodOption = None,
    start: FromOption = None,
    end: ToOption = None,
    timezone: TimezoneOption = "UTC",
    provider: Annotated[
        list[str] | None, typer.Option(help="Only calls that ran here (repeatable).")
    ] = None,
    team: Annotated[
        list[str] | None, typer.Option(help="Only this team's calls (repeatable).")
    ] = None,
    project: Annotated[
        list[str] | None, typer.Option(help="Only this project's calls (repeatable).")
    ] = None,
    cache_share: Annotated[
        str | None,
        typer.Option(
            help="What-if: this share (0 to 1) of every call's input read from the cache."
        ),
    ] = None,
    exact: Annotated[bool, typer.Option(help="Amounts at full precision.")] = False,
    out_path: Annotated[
        Path | None, typer.Option("--out", help="Also write the quotes to this CSV (exact).")
    ] = None,
) -> None:
    """The same traffic repriced at every provider selling the model: each call at that
    provider's prices in force at its time, with its unit, tiers, cache and failure rules.
    Each variant the calls ran on is compared; highspeed calls at standard too."""
    try:
        share = None if cache_share is None else _amount("--cache-share", cache_share)
        chosen = parse_period(period, start, end)
        with warehouse(db, read_only=True) as con:
            comparisons = compare(
                con,
                model,
                chosen,
                timezone=timezone,
                variant=variant,
                target_variant=at_variant,
                providers=provider or (),
                teams=team or (),
                projects=project or (),
                cache_share=share,
            )
            stale = stale_calls(con)
        if out_path is not None:
            write_comparisons_csv(comparisons, out_path)
    except RatecardError as exc:
        raise _fail(exc) from None
    print_comparisons(comparisons, model, f"{chosen.label()} ({timezone})", exact=exact)
    if share is not None:
        out.print(
            f"What-if: {share:%} of every call's input read from the cache; cost where they "
            "ran is what the calls really cost.",
            highlight=False,
        )
    if stale:
        out.print(_stale(stale))
    if out_path is not None:
        out.print(f"wrote the quotes to {out_path}", highlight=False)


def print_comparisons(
    comparisons: list[Comparison], model: str, period: str, *, exact: bool = False
) -> None:
    """Where the calls ran, then each comparison's table: the page's numbers, as text."""
    if not comparisons:
        out.print(f"{model}, {period}: no priced calls in this selection.", highlight=False)
        return

    def money(amount: Decimal) -> str:
        return plain(amount) if exact else f"{round_cents(amount):,.2f}"

    lines = spend(comparisons)
    costs = round_column(line.cost for line in lines)
    table = Table(title=f"{model} spend, {period}: where the calls ran", title_justify="left")
    for name in ("variant", "ran on", "currency", "calls", "cost"):
        table.add_column(name, justify="right" if name in {"calls", "cost"} else "left")
    for line, rounded in zip(lines, costs.lines, strict=True):
        shown = plain(line.cost) if exact else f"{rounded:,.2f}"
        table.add_row(line.variant, line.provider, line.currency or "", f"{line.calls:,}", shown)
    if not exact and costs.residue:
        table.add_row("rounding residue", "", "", "", f"{costs.residue:,.2f}")
    total = plain(costs.exact_total) if exact else f"{costs.total:,.2f}"
    table.add_row("[bold]total[/bold]", "", "", f"{sum(x.calls for x in lines):,}", total)
    out.print(table)
    for comparison in comparisons:
        title = f"{comparison_title(comparison)}, {period}"
        table = Table(title=title, title_justify="left")
        for name in QUOTE_COLUMNS:
            table.add_column(name, justify="left" if name in {"provider", "currency"} else "right")
        for quote in comparison.quotes:
            percent = quote.difference_percent
            table.add_row(
                f"[bold]{quote.provider}[/bold] (cheapest)" if quote.cheapest else quote.provider,
                quote.currency or "",
                f"{quote.ran_here_calls:,}" if quote.ran_here_calls else "—",
                f"{quote.priced_calls:,}",
                f"[yellow]{quote.unpriced_calls:,}[/yellow]" if quote.unpriced_calls else "0",
                money(quote.actual_cost),
                money(quote.repriced_cost),
                plain(quote.difference)
                if exact
                else f"{printed_difference(quote.repriced_cost, quote.actual_cost):,.2f}",
                "—" if percent is None else f"{percent:+.1f}%",
            )
        out.print(table)
    out.print(
        QUOTE_NOTE + ("" if exact else " Amounts rounded half-up to the cent."),
        style="dim",
        highlight=False,
    )


@export_app.command("calls")
def export_calls_command(
    out_path: Annotated[Path, typer.Option("--out", help="The file to write.")],
    fmt: Annotated[ExportFormat, typer.Option("--format")] = ExportFormat.CSV,
    db: DbOption = DEFAULT_DB,
    period: PeriodOption = None,
    start: FromOption = None,
    end: ToOption = None,
) -> None:
    """Every call with its cost components, exact decimals, in CSV or Parquet."""
    try:
        with warehouse(db, read_only=True) as con:
            rows = export_calls(con, out_path, fmt, parse_period(period, start, end))
    except RatecardError as exc:
        raise _fail(exc) from None
    out.print(f"wrote {rows:,} calls to {out_path}", highlight=False)


@app.command()
def report(
    out_path: Annotated[Path, typer.Option("--out", help="The file to write.")],
    db: DbOption = DEFAULT_DB,
    period: PeriodOption = None,
    start: FromOption = None,
    end: ToOption = None,
    by: Annotated[
        str | None,
        typer.Option(
            help=f"Group by any of: {', '.join(FINANCE_DIMENSIONS)} (default team,project). "
            "Not with --format focus: FOCUS rows are per charge; group them in the FinOps tool."
        ),
    ] = None,
    fmt: Annotated[ReportFormat, typer.Option("--format")] = ReportFormat.CSV,
    timezone: TimezoneOption = "UTC",
) -> None:
    """The month-end cost report (CSV, XLSX, Parquet, HTML), or a FOCUS 1.2 dataset.

    One line per group with calls, failed (free) and unpriced calls, tokens, each cost
    component, the total and its share; amounts half-up to the cent, with any rounding
    residue on its own line so the lines add up to the total.
    """
    try:
        chosen = parse_period(period, start, end)
        with warehouse(db, read_only=True) as con:
            if fmt is ReportFormat.FOCUS:
                if timezone != "UTC":
                    raise RatecardError("--format focus: FOCUS charge periods are UTC days")
                if by is not None:
                    raise RatecardError(FOCUS_REFUSES_BY)
                rows = export_focus(con, out_path, chosen)
                out.print(f"wrote {rows:,} FOCUS 1.2 rows to {out_path}", highlight=False)
                return
            result = build_report(con, parse_finance_by(by or "team,project"), chosen, timezone)
            if fmt is ReportFormat.CSV:
                write_csv(result, out_path)
            elif fmt is ReportFormat.XLSX:
                write_xlsx(result, out_path)
            elif fmt is ReportFormat.PARQUET:
                write_parquet(result, out_path)
            else:
                write_html(result, daily_spend(con, chosen, timezone), out_path)
    except RatecardError as exc:
        raise _fail(exc) from None
    unpriced = result.count("unpriced_calls")
    out.print(
        f"wrote {len(result.lines):,} lines to {out_path}: {result.count('calls'):,} calls, "
        f"{round_cents(result.total):,} {result.currency}"
        + (f", [yellow]{unpriced:,} unpriced calls (no cost)[/yellow]" if unpriced else ""),
        highlight=False,
    )


@app.command()
def reconcile(
    db: DbOption = DEFAULT_DB,
    invoice: Annotated[
        Path | None,
        typer.Option(help="An invoice CSV: provider, period (YYYY-MM), model, amount, currency."),
    ] = None,
    period: PeriodOption = None,
    start: FromOption = None,
    end: ToOption = None,
    call_tolerance: Annotated[
        str, typer.Option(help="Largest difference per call that is not a discrepancy.")
    ] = str(CALL_TOLERANCE),
    invoice_tolerance: Annotated[
        str, typer.Option(help="Largest difference per invoice line that is not one.")
    ] = str(INVOICE_TOLERANCE),
    out_path: Annotated[
        Path | None, typer.Option("--out", help="Also write every discrepancy to this CSV.")
    ] = None,
) -> None:
    """Compare the bill with what providers said: per call where the log carries a reported
    cost, and per line of an invoice file. Exits 1 while any discrepancy remains."""
    try:
        tolerances = [
            _amount(name, text)
            for name, text in (
                ("--call-tolerance", call_tolerance),
                ("--invoice-tolerance", invoice_tolerance),
            )
        ]
        with warehouse(db, read_only=True) as con:
            result = run_reconcile(
                con,
                period=parse_period(period, start, end),
                invoice=invoice,
                call_tolerance=tolerances[0],
                invoice_tolerance=tolerances[1],
            )
        if out_path is not None:
            write_discrepancies(result.discrepancies, out_path)
    except RatecardError as exc:
        raise _fail(exc) from None
    found = result.discrepancies
    out.print(
        f"checked {result.calls_checked:,} calls with a reported cost and "
        f"{result.invoice_lines:,} invoice lines: {len(found):,} discrepancies",
        highlight=False,
    )
    if not found:
        return
    table = Table(title="Discrepancies", title_justify="left")
    for name in RECONCILE_COLUMNS:
        numeric = name in {"computed", "stated", "difference"}
        table.add_column(name, justify="right" if numeric else "left")
    for d in found[:50]:
        table.add_row(*d.cells(missing="—"))
    out.print(table)
    if len(found) > 50:
        out.print(f"… and {len(found) - 50:,} more" + ("" if out_path else " (--out FILE)"))
    raise typer.Exit(1)


def _amount(option: str, text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise RatecardError(f"{option}: not an amount: {text!r}") from None
    if not value.is_finite() or value < 0:
        raise RatecardError(f"{option}: must be a non-negative amount, not {text!r}")
    return value


@app.command()
def demo(
    db: DbOption = DEFAULT_DB,
    calls: Annotated[int, typer.Option(min=100, help="Sample calls to generate.")] = 30_000,
    open_dashboard: Annotated[
        bool, typer.Option("--dashboard/--no-dashboard", help="Open the dashboard at the end.")
    ] = True,
    port: Annotated[
        int, typer.Option(help="Dashboard port on 127.0.0.1 (make demo PORT=N).")
    ] = 8501,
) -> None:
    """The main job: sample traffic for four gateways, priced, billed, summarised, and shown
    in the dashboard."""
    try:
        if open_dashboard:
            _check_port(port)  # before the work, not after it
        run_demo(db, calls)
    except RatecardError as exc:
        raise _fail(exc) from None
    if open_dashboard:
        run_dashboard(db, port)


def run_demo(db: Path, calls: int) -> Summary:
    with warehouse(db, create=True) as con:
        foreign = con.execute(
            "SELECT source FROM batches WHERE kind = 'usage' AND NOT starts_with(source, $dir) "
            "LIMIT 1",
            {"dir": str(SAMPLES.resolve())},
        ).fetchall()
        if foreign:
            raise RatecardError(
                f"{db} holds usage from {foreign[0][0]}; the demo will not mix sample data into "
                "a real warehouse. Pass --db with another file."
            )
        with Progress(
            "generating sample traffic",
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=out,
            transient=True,
        ) as bar:
            task = bar.add_task("calls", total=calls)
            files = sample.generate(SAMPLES, calls, progress=lambda n: bar.advance(task, n))
        out.print(
            f"sample traffic: {files.calls:,} calls in {files.gateway_log.name} and "
            f"{files.runware_log.name}"
        )
        load = load_prices(con, [PRICE_SHEETS])
        out.print(f"price sheets: {load.points} price points for {', '.join(load.providers)}")
        for path in (files.gateway_log, files.runware_log):
            _print_load(ingest_usage(con, path))
        rebill(con)  # sheets may have changed since an earlier demo run
        result = summarize(con, ("provider", "variant"), parse_period())
    print_summary(result)
    out.print(
        f"\nWarehouse: {db}. Next, in a shell at the repository root: "
        "`source .venv/bin/activate` (puts `ratecard` on PATH), then "
        f"`ratecard summary --by team,project`, `ratecard export calls --out calls.csv`."
    )
    return result


@budgets_app.command("check")
def budgets_check(
    db: DbOption = DEFAULT_DB,
    budgets_file: Annotated[
        Path, typer.Option("--budgets", envvar="RATECARD_BUDGETS", help="The budgets YAML.")
    ] = DEFAULT_BUDGETS,
    notify: Annotated[bool, typer.Option(help="Record and send the alerts.")] = False,
    as_of: Annotated[
        str | None,
        typer.Option(
            help="Judge at this time (ISO 8601 with a zone, or 'now'); by default just after "
            "the latest call in the warehouse when that is earlier than now, as the dashboard."
        ),
    ] = None,
    notify_timeout: Annotated[
        float, typer.Option(min=0.1, help="Seconds a webhook gets to connect and to answer.")
    ] = TIMEOUT,
    notify_deadline: Annotated[
        float, typer.Option(min=1, help="Seconds for all of a run's webhook deliveries.")
    ] = DEADLINE,
) -> None:
    """Spend to date, forecast and state of every budget; exit 1 when one is exceeded."""
    try:
        budgets = load_budgets(budgets_file)
        lease = lease_for(notify_deadline, lock_timeout())
        # the checks, the alerts they raise and the claim on their deliveries land together
        with warehouse(db) as con, transaction(con):
            instant = _judged_at(con, as_of)
            when = instant.at
            statuses = check_budgets(con, budgets.budgets, when)
            raised = record_alerts(con, budgets, statuses, when, lease) if notify else None
        out.print(f"Judged at {instant.label()}.", highlight=False)
        print_budgets(statuses)
        if raised is not None:
            new, claimed = raised
            for alert in new:
                out.print(f"alert: {alert.message}", highlight=False)
            send_alerts(db, claimed, notify_timeout, notify_deadline)
    except RatecardError as exc:
        raise _fail(exc) from None
    if any(status.exceeded for status in statuses):
        raise typer.Exit(1)


def _judged_at(con: duckdb.DuckDBPyConnection, as_of: str | None) -> Instant:
    """The instant ``budgets check`` judges at: ``--as-of``, else the dashboard's default."""
    now = datetime.now(UTC)
    if as_of is None:
        return default_instant(con, now)
    if as_of == "now":
        return Instant(now, "now, --as-of now")
    return Instant(_instant("--as-of", as_of), "--as-of")


def _instant(option: str, text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise RatecardError(f"{option}: expected an ISO 8601 time, got {text!r}") from None
    if value.tzinfo is None:
        raise RatecardError(f"{option}: give a time zone, e.g. {text}Z")
    return value.astimezone(UTC)


def print_budgets(statuses: list[BudgetStatus]) -> None:
    table = Table(title="Budgets", title_justify="left")
    for name in ("budget", "scope", "period", "spend", "used", "forecast", "amount", "state"):
        table.add_column(
            name, justify="right" if name in {"spend", "used", "forecast", "amount"} else "left"
        )
    for status in statuses:
        budget = status.budget
        zone = ZoneInfo(budget.timezone)
        start = status.period.start.astimezone(zone).date()
        colour = {"exceeded": "red", "forecast to exceed": "yellow"}.get(status.state, "")
        table.add_row(
            budget.name,
            budget.scope.label(),
            f"{budget.period} from {start} {budget.timezone}",
            money_text(status.spend, budget.currency),
            f"{status.percent:.1f}%",
            money_text(status.forecast, budget.currency),
            f"{budget.amount:,} {budget.currency}",
            f"[{colour}]{status.state}[/{colour}]" if colour else status.state,
        )
        if status.unpriced_calls:
            table.add_row(
                "",
                f"[yellow]{status.unpriced_calls:,} unpriced calls not counted[/yellow]",
                *[""] * 6,
            )
        if status.other_currency_calls:
            table.add_row(
                "",
                f"[yellow]{status.other_currency_calls:,} calls in other currencies not "
                "counted[/yellow]",
                *[""] * 6,
            )
    out.print(table)


def record_alerts(
    con: duckdb.DuckDBPyConnection,
    budgets: BudgetFile,
    statuses: list[BudgetStatus],
    when: datetime,
    lease: float,
) -> tuple[list[Alert], Claim]:
    """Record the alerts the checks raise, with their deliveries, and claim every pending
    delivery for this run (inside the caller's transaction)."""
    raised = [alert for status in statuses for alert in budget_alerts(con, status)]
    raised += hygiene_alerts(con, when, budgets.hygiene_channels)
    new = record(con, raised)
    rehome_legacy(con, budgets)
    channels = [c for b in budgets.budgets for c in b.channels] + budgets.hygiene_channels
    return new, claim(con, channels, lease=lease)


def send_alerts(db: Path, claimed: Claim, timeout: float, deadline: float) -> None:
    """Send the claimed deliveries with the warehouse closed, say how each went, then
    record that (if recording fails, the claims lapse and the next run sends them again)."""
    if claimed.pending:
        err.print(
            f"sending {len(claimed.pending):,} alert deliveries (up to {deadline:g} s)",
            highlight=False,
        )
    results = send_claimed(claimed, timeout=timeout, deadline=deadline)
    for delivery in results:
        if delivery.delivered:
            note = f"; {delivery.error}" if delivery.error else ""
            out.print(f"  sent to {delivery.label} ({delivery.alert_key}{note})", highlight=False)
        else:
            then = "" if delivery.unconfirmed else "; retried on the next run"
            err.print(
                f"  [yellow]not delivered[/yellow] to {delivery.label} "
                f"({delivery.alert_key}): {delivery.error}{then}",
                highlight=False,
            )
    if results:
        with warehouse(db) as con:
            finish(con, claimed.run, results)


@app.command()
def dashboard(
    db: DbOption = DEFAULT_DB,
    port: Annotated[
        int, typer.Option(help="Port on 127.0.0.1 (make dashboard PORT=N); one in use is refused.")
    ] = 8501,
    budgets_file: Annotated[
        Path, typer.Option("--budgets", envvar="RATECARD_BUDGETS", help="The budgets YAML.")
    ] = DEFAULT_BUDGETS,
) -> None:
    """The Streamlit dashboard over the warehouse, on http://127.0.0.1:PORT."""
    try:
        with warehouse(db, read_only=True):
            pass  # refuse a missing or out-of-date warehouse here, with a clear message
    except RatecardError as exc:
        raise _fail(exc) from None
    run_dashboard(db, port, budgets_file)


def run_dashboard(db: Path, port: int, budgets_file: Path = DEFAULT_BUDGETS) -> None:
    """Serve the dashboard until Ctrl-C or SIGTERM, and stop Streamlit with it."""
    try:
        _check_port(port)
    except RatecardError as exc:
        raise _fail(exc) from None
    out.print(f"Dashboard: http://127.0.0.1:{port}  (Ctrl-C to stop)", highlight=False)
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(DASHBOARD),
        "--server.address",
        "127.0.0.1",
        "--server.port",
        str(port),
        "--server.headless",
        "true",
        "--server.fileWatcherType",
        "none",
        "--browser.gatherUsageStats",
        "false",
        # no Deploy button nor developer menu: this is a served app, not a script being edited
        "--client.toolbarMode",
        "minimal",
    ]
    env = {
        **os.environ,
        "RATECARD_DB": str(db.resolve()),
        "RATECARD_BUDGETS": str(budgets_file.resolve()),
    }
    code = serve(command, env)
    if code:
        raise _fail(RatecardError(f"the dashboard stopped with exit status {code} (see above)"))


STOP_TIMEOUT = 10.0
"""Seconds Streamlit gets to stop after a signal before it is killed."""


def serve(command: list[str], env: dict[str, str]) -> int:
    """Run ``command`` until it ends; SIGINT and SIGTERM are passed on to it, and it is
    killed if it has not stopped STOP_TIMEOUT seconds later. Returns its exit status, 0 when
    it was stopped by a signal.

    The child runs in its own session, so a Ctrl-C reaches it once, through this process,
    and never leaves it serving once this process has gone.
    """
    child = subprocess.Popen(command, env=env, start_new_session=True)
    received: list[int] = []

    def forward(signum: int, _frame: object) -> None:
        received.append(signum)
        if child.poll() is None:
            child.send_signal(signum)

    previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        deadline: float | None = None
        while True:
            try:
                code = child.wait(timeout=0.2)
                break
            except subprocess.TimeoutExpired:
                if received and deadline is None:
                    deadline = time.monotonic() + STOP_TIMEOUT
                if deadline is not None and time.monotonic() > deadline:
                    child.kill()
                    code = child.wait()
                    break
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if child.poll() is None:  # an error in this loop: never leave the server behind
            child.kill()
            child.wait()
    return 0 if received else code


def _check_port(port: int) -> None:
    """Refuse a port another program already serves on, before Streamlit starts."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            raise RatecardError(
                f"port {port} on 127.0.0.1 is in use (another dashboard?): choose another "
                "with --port N (make demo PORT=N, make dashboard PORT=N)"
            ) from None
