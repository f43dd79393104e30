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
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

import duckdb
import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn
from typer.core import TyperGroup

from ingest.catalogs import ALL_TIME, Catalog, FetchLimits, read_catalog
from ingest.formats import format_list
from ingest.prices import load_points, load_prices
from ingest.pull import PullLimits, PullStopped, pull_usage
from ingest.usage import UsageFormat, ingest_usage, usage_files
from lake.catalog import build as lake_catalog
from pricing.engine import bill_unbilled, rebill, stale_by_provider, stale_calls
from ratecard import render, sample
from ratecard.lake_cli import LakeOption, lake_app
from reports.alerts import Alert, budget_alerts, hygiene_alerts, record, rehome_legacy
from reports.budgets import (
    BudgetFile,
    BudgetStatus,
    Instant,
    check_budgets,
    default_instant,
    load_budgets,
)
from reports.compare import call_scope, calls_without_usage, compare, write_comparisons_csv
from reports.delivery import DEADLINE, TIMEOUT, Claim, claim, finish, lease_for, send_claimed
from reports.documents import ReportFormat, write_csv, write_html, write_parquet, write_xlsx
from reports.export import ExportFormat, export_calls
from reports.finance import DIMENSIONS as FINANCE_DIMENSIONS
from reports.finance import build_report, daily_spend
from reports.finance import parse_by as parse_finance_by
from reports.focus import FOCUS_REFUSES_BY, export_focus
from reports.period import Period, parse_period
from reports.reconcile import CALL_TOLERANCE, INVOICE_TOLERANCE, write_discrepancies
from reports.reconcile import reconcile as run_reconcile
from reports.summary import Summary, parse_by, summarize
from warehouse import RatecardError, connect, transaction
from warehouse.lock import lock_timeout
from warehouse.shipped import DATA, shipped

DASHBOARD = shipped("dashboards", "app.py")
PRICE_SHEETS = shipped(DATA, "price_sheets")
SAMPLE_BUDGETS = shipped(DATA, "budgets.yml")
DEFAULT_DB = Path("data/warehouse/ratecard.duckdb")
DEFAULT_BUDGETS = Path("data/budgets.yml")


class _Commands(TyperGroup):
    """The command tree, where a RatecardError from any command ends: its message on one
    line on stderr and exit status 2, never a traceback. A command's own findings (a
    quarantined record, an exceeded budget, a discrepancy) exit 1 through typer.Exit."""

    def invoke(self, ctx: Any) -> Any:  # Any: typer's vendored click.Context
        try:
            return super().invoke(ctx)
        except RatecardError as exc:
            render.error(exc)
            raise typer.Exit(2) from None


app = typer.Typer(
    cls=_Commands,
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
app.add_typer(lake_app, name="lake")

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
    con = connect(db, read_only=read_only, create=create, on_wait=render.note)
    if sys.stdout.isatty():
        con.execute("SET enable_progress_bar = true")  # DuckDB's own bar for long queries
    try:
        yield con
    finally:
        con.close()


INGEST_USAGE_HELP = (
    "Load usage logs, one batch per file; each record is loaded, a duplicate, or quarantined.\n\n"
    f"Formats (detected per file): {format_list()}; .gz files are read as they are. A file "
    "that cannot be read is refused and the others still load. Exit status: 0 when every "
    "record was loaded (or was a duplicate), 1 when some were quarantined or a file was "
    "refused or cut short, 2 when nothing was loaded: a path that does not exist, a bad "
    "option, or every file refused."
)
"""The help of ``ingest usage``; its list of formats is the registry's (ingest/formats.py)."""


@ingest_app.command("usage", help=INGEST_USAGE_HELP)
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
    """Load usage logs (INGEST_USAGE_HELP)."""
    files = usage_files(paths)
    with warehouse(db, create=True) as con:
        quarantined = refused = cut_short = 0
        for path in files:
            try:
                load = ingest_usage(con, path, fmt=fmt, provider=provider, bill=not no_bill)
            except RatecardError as exc:
                refused += 1
                render.error(exc)  # the other files still load
                continue
            quarantined += load.quarantined
            cut_short += load.problem is not None
            render.print_load(load)
    render.print_ingest_end(len(files), quarantined, refused)
    if refused and refused == len(files):
        raise typer.Exit(2)
    if quarantined or refused or cut_short:
        raise typer.Exit(1)


@ingest_app.command("prices")
def ingest_prices_command(
    paths: Annotated[list[Path], typer.Argument(help="Sheets (.yml, .csv) or folders of them.")],
    db: DbOption = DEFAULT_DB,
) -> None:
    """Load price sheets; each replaces its providers' prices, all or nothing."""
    with warehouse(db, create=True) as con:
        load = load_prices(con, paths)
        render.print_prices(load, stale_by_provider(con))


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
                progress=render.note,
            )
    except PullStopped as exc:
        if exc.result.pages:
            render.print_pull(exc.result)  # what it loaded before it stopped, then why it stopped
        raise
    render.print_pull(result)


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
        render.note(f"  skipped {entry}: {reason}")
    if not result.points:
        raise RatecardError(
            f"{result.source}: no model to import"
            + (f" matching {', '.join(match)}" if match else "")
        )
    with warehouse(db, create=True) as con:
        load = load_points(con, result.points, fmt=f"catalog:{catalog.value}")
        render.print_catalog(result, load, stale_by_provider(con))


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
    with warehouse(db) as con:
        result = rebill(con) if rebill_all else bill_unbilled(con)
        verb = "re-priced" if rebill_all else "billed"
        render.out.print(f"{verb} {result.calls:,} calls" + render.unpriced(result.unpriced))


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
    with warehouse(db, read_only=True) as con:
        result = summarize(con, parse_by(by), parse_period(period, start, end))
    render.print_summary(result, exact=exact)


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
        scope = call_scope(chosen, timezone, provider or (), team or (), project or ())
        without_usage = calls_without_usage(con, model, scope)
    if out_path is not None:
        write_comparisons_csv(comparisons, out_path)
    render.print_comparisons(comparisons, model, f"{chosen.label()} ({timezone})", exact=exact)
    if share is not None:
        render.print_what_if(share)
    render.print_without_usage(without_usage, model)
    render.print_stale(stale)
    if out_path is not None:
        render.print_written("the quotes", out_path)


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
    with warehouse(db, read_only=True) as con:
        rows = export_calls(con, out_path, fmt, parse_period(period, start, end))
    render.print_written(f"{rows:,} calls", out_path)


ReportByOption = Annotated[
    str | None,
    typer.Option(
        help=f"Group by any of: {', '.join(FINANCE_DIMENSIONS)} (default team,project). "
        "Not with --format focus: FOCUS rows are per charge; group them in the FinOps tool."
    ),
]
"""``--by`` of ``report`` and ``lake report``."""


@app.command()
def report(
    out_path: Annotated[Path, typer.Option("--out", help="The file to write.")],
    db: DbOption = DEFAULT_DB,
    period: PeriodOption = None,
    start: FromOption = None,
    end: ToOption = None,
    by: ReportByOption = None,
    fmt: Annotated[ReportFormat, typer.Option("--format")] = ReportFormat.CSV,
    timezone: TimezoneOption = "UTC",
) -> None:
    """The month-end cost report (CSV, XLSX, Parquet, HTML), or a FOCUS 1.2 dataset.

    One line per group and currency with calls, failed (free) and unpriced calls, tokens,
    each cost component, the total and its share; amounts half-up to the currency's minor
    unit, with any rounding residue on its own line so the lines add up to the total, and a
    total per currency (two currencies are never added).
    """
    with warehouse(db, read_only=True) as con:
        write_report(con, out_path, parse_period(period, start, end), by, fmt, timezone)


def write_report(
    con: duckdb.DuckDBPyConnection,
    out_path: Path,
    chosen: Period,
    by: str | None,
    fmt: ReportFormat,
    timezone: str,
) -> None:
    """``ratecard report``'s work over a warehouse, or a lake's catalog (``lake report``)."""
    if fmt is ReportFormat.FOCUS:
        if timezone != "UTC":
            raise RatecardError("--format focus: FOCUS charge periods are UTC days")
        if by is not None:
            raise RatecardError(FOCUS_REFUSES_BY)
        rows = export_focus(con, out_path, chosen)
        render.print_written(f"{rows:,} FOCUS 1.2 rows", out_path)
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
    render.print_report(result, out_path)


@lake_app.command("report")
def lake_report(
    out_path: Annotated[Path, typer.Option("--out", help="The file to write.")],
    lake: LakeOption,
    period: PeriodOption = None,
    start: FromOption = None,
    end: ToOption = None,
    by: ReportByOption = None,
    fmt: Annotated[ReportFormat, typer.Option("--format")] = ReportFormat.CSV,
    timezone: TimezoneOption = "UTC",
) -> None:
    """`ratecard report` over a lake's bills, read by DuckDB (no Spark): the same lines, to
    the last decimal, as the embedded report over the same calls and prices."""
    chosen = parse_period(period, start, end)
    with tempfile.TemporaryDirectory(prefix="ratecard-lake-") as tmp:
        catalog = lake_catalog(lake, Path(tmp) / "lake.duckdb")
        with warehouse(catalog, read_only=True) as con:
            write_report(con, out_path, chosen, by, fmt, timezone)


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
    render.print_reconciliation(
        result.calls_checked,
        result.invoice_lines,
        result.discrepancies,
        written=out_path is not None,
    )
    if result.discrepancies:
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
    if open_dashboard:
        _check_port(port)  # before the work, not after it
    run_demo(db, calls)
    if open_dashboard:
        with resources.as_file(SAMPLE_BUDGETS) as budgets:
            run_dashboard(db, port, budgets)


def sample_folder(db: Path) -> Path:
    """Where the demo writes its sample traffic: ``samples/`` beside the warehouse file, so
    that the demo runs from any folder and never writes into the installed package."""
    return db.resolve().parent / "samples"


EARLIER_SAMPLES = r"[/\\]data[/\\]samples[/\\](gateway|runware)\.jsonl$"
"""The sample logs of a demo from before samples moved beside the warehouse (the checkout's
``data/samples/``): a warehouse holding them is still a demo's, not a real one."""


def run_demo(db: Path, calls: int) -> Summary:
    samples = sample_folder(db)
    with warehouse(db, create=True) as con:
        foreign = con.execute(
            "SELECT source FROM batches WHERE kind = 'usage' AND NOT starts_with(source, $dir) "
            "AND NOT regexp_matches(source, $earlier) LIMIT 1",
            {"dir": str(samples), "earlier": EARLIER_SAMPLES},
        ).fetchall()
        if foreign:
            raise RatecardError(
                f"{db} holds usage from {foreign[0][0]}; the demo will not mix sample data into "
                "a real warehouse. Build the sample in another file (`make demo "
                "DB=other.duckdb`, or `ratecard demo --db other.duckdb`), or delete "
                f"{db} to rebuild the sample there."
            )
        with Progress(
            "generating sample traffic",
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=render.out,
            transient=True,
        ) as bar:
            task = bar.add_task("calls", total=calls)
            files = sample.generate(samples, calls, progress=lambda n: bar.advance(task, n))
        render.out.print(
            f"sample traffic: {files.calls:,} calls in {files.gateway_log.name} and "
            f"{files.runware_log.name}"
        )
        with resources.as_file(PRICE_SHEETS) as sheets:
            load = load_prices(con, [sheets])
        render.out.print(
            f"price sheets: {load.points} price points for {', '.join(load.providers)}",
            markup=False,
        )
        for path in (files.gateway_log, files.runware_log):
            render.print_load(ingest_usage(con, path))
        rebill(con)  # sheets may have changed since an earlier demo run
        result = summarize(con, ("provider", "variant"), parse_period())
    render.print_summary(result)
    render.print_demo_next(db, default=db == DEFAULT_DB)
    return result


def _budgets_path(path: Path) -> Path:
    """The budgets file, or a stop saying where budgets come from when the default
    (data/budgets.yml, relative to the current folder) is not there."""
    if path == DEFAULT_BUDGETS and not path.is_file():
        raise RatecardError(
            f"{path}: no such file (the default budgets file, in the current folder). Pass "
            f"--budgets FILE or set RATECARD_BUDGETS; the sample budgets the demo uses are "
            f"{SAMPLE_BUDGETS} (docs/budgets.md describes the file)"
        )
    return path


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
    budgets = load_budgets(_budgets_path(budgets_file))
    lease = lease_for(notify_deadline, lock_timeout())
    # the checks, the alerts they raise and the claim on their deliveries land together
    with warehouse(db) as con, transaction(con):
        instant = _judged_at(con, as_of)
        when = instant.at
        statuses = check_budgets(con, budgets.budgets, when)
        raised = record_alerts(con, budgets, statuses, when, lease) if notify else None
    render.out.print(f"Judged at {instant.label()}.", highlight=False)
    render.print_budgets(statuses)
    if raised is not None:
        new, claimed = raised
        for alert in new:
            render.out.print(f"alert: {alert.message}", markup=False, highlight=False)
        send_alerts(db, claimed, notify_timeout, notify_deadline)
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
    render.print_sending(len(claimed.pending), deadline)
    results = send_claimed(claimed, timeout=timeout, deadline=deadline)
    render.print_deliveries(results)
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
    lake: Annotated[
        str | None,
        typer.Option(
            "--lake",
            help="Serve a lake's bills and rollups instead of --db (a folder on this machine).",
        ),
    ] = None,
) -> None:
    """The Streamlit dashboard over the warehouse, on http://127.0.0.1:PORT; with --lake,
    over a lake's calls, bills and rollups, read by DuckDB."""
    if lake is not None:
        with tempfile.TemporaryDirectory(prefix="ratecard-lake-") as tmp:
            render.note("reading the lake …")
            catalog = lake_catalog(lake, Path(tmp) / "lake.duckdb")
            run_dashboard(catalog, port, budgets_file, lake=lake)
        return
    with warehouse(db, read_only=True):
        pass  # refuse a missing or out-of-date warehouse here, with a clear message
    run_dashboard(db, port, budgets_file)


def run_dashboard(
    db: Path, port: int, budgets_file: Path = DEFAULT_BUDGETS, *, lake: str | None = None
) -> None:
    """Serve the dashboard until Ctrl-C or SIGTERM, and stop Streamlit with it; ``lake``:
    the lake whose catalog ``db`` is, named in the sidebar instead of the file."""
    _check_port(port)
    render.out.print(f"Dashboard: http://127.0.0.1:{port}  (Ctrl-C to stop)", highlight=False)
    # Streamlit runs a script file: the installed package's own, found like every shipped file;
    # through dashboards.serve, which loads the pages' modules before the server listens, so
    # the first visitor does not wait for them (ADR 0074)
    with resources.as_file(DASHBOARD) as script:
        command = [
            sys.executable,
            "-m",
            "dashboards.serve",
            "run",
            str(script),
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
        env.pop("RATECARD_DASHBOARD_LAKE", None)
        if lake is not None:
            env["RATECARD_DASHBOARD_LAKE"] = lake
        code = serve(command, env)
    if code:
        raise RatecardError(f"the dashboard stopped with exit status {code} (see above)")


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
