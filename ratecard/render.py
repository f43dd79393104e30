"""What the command line prints: its tables, its notes and its error line, on the terminal.

The commands (ratecard/cli.py) run the stages and hand their results here; nothing here
reads the warehouse. Tables go to stdout, progress, warnings about deliveries and errors
to stderr, so a command's output can be piped to a file while its progress stays visible.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from ingest.catalogs import CatalogImport
from ingest.prices import PriceLoad
from ingest.pull import PullResult
from ingest.usage import UsageLoad, conservation
from reports.budgets import BudgetStatus
from reports.compare import (
    QUOTE_COLUMNS,
    QUOTE_NOTE,
    Comparison,
    Quote,
    comparison_title,
    spend,
    without_usage_note,
)
from reports.delivery import Delivery
from reports.dimensions import NONE
from reports.finance import Report
from reports.money import (
    CENT,
    amounts_text,
    minor_unit,
    money_text,
    plain,
    printed_difference,
    round_column,
)
from reports.reconcile import COLUMNS as RECONCILE_COLUMNS
from reports.reconcile import Discrepancy
from reports.summary import Summary, SummaryRow
from warehouse import RatecardError

# Messages stay on one line; tables fit the terminal, or 160 columns when piped to a file.
# Markup is ratecard's own: every value from the warehouse, a file or a server goes in
# through :func:`escape` or as a :class:`Text` cell, so a team named ``[/]`` or
# ``[link=…]`` prints as written (no emoji codes either: ``:x:`` in a name stays ``:x:``).
out = Console(soft_wrap=True, emoji=False, width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True, soft_wrap=True, emoji=False)

SHOWN_DISCREPANCIES = 50
"""The discrepancies ``reconcile`` lists on the terminal; ``--out`` writes them all."""


def note(message: str) -> None:
    """A line of progress or waiting, on stderr, printed as written (no markup)."""
    err.print(message, markup=False, highlight=False)


def error(exc: RatecardError) -> None:
    """The line a RatecardError prints (ratecard/cli.py decides the exit status): the
    message as written, so a pattern such as ``^[a-z0-9-]*$`` keeps its brackets."""
    err.print(Text.assemble(("error:", "red"), f" {exc}"), highlight=False)


def cell(value: object) -> Text:
    """A table cell holding data (a team, a model, a path): its text as written."""
    return Text(str(value))


def unpriced(calls: int) -> str:
    """The tail of a line that billed calls: how many of them no price covers."""
    return f", [yellow]{calls:,} unpriced[/yellow]" if calls else ""


def print_load(load: UsageLoad) -> None:
    """One usage file's line: its conservation line and what was billed."""
    counts = conservation(load.records_read, load.loaded, load.duplicates, load.quarantined)
    out.print(
        f"{escape(str(load.source))} ({load.format.value}): {counts}; billed {load.billed:,}"
        + unpriced(load.unpriced),
        highlight=False,
    )
    if load.problem is not None:
        out.print(
            f"[yellow]{escape(str(load.problem))}[/yellow]: the records after that point were "
            "never read; fetch the file again and ingest it (what is loaded now counts as "
            "duplicates)",
            highlight=False,
        )


def print_ingest_end(files: int, quarantined: int, refused: int) -> None:
    """What ``ingest usage`` says after its files: the quarantined records, the refused files."""
    if quarantined:
        out.print(
            f"[yellow]{quarantined:,} records quarantined[/yellow]: see the "
            "quarantine table for line and reason."
        )
    if refused:
        out.print(f"[red]{refused:,} of {files:,} files refused[/red] (see above).")


def print_pull(result: PullResult) -> None:
    """A pull's line: the pages read, from where, and the conservation line."""
    start = (
        "the first page" if result.resumed_from is None else f"cursor {escape(result.resumed_from)}"
    )
    counts = conservation(result.records_read, result.loaded, result.duplicates, result.quarantined)
    out.print(
        f"{escape(result.url)}: {result.pages:,} pages from {start}; {counts}"
        + unpriced(result.unpriced),
        highlight=False,
    )


def print_prices(load: PriceLoad, stale: dict[str, int]) -> None:
    """What ``ingest prices`` loaded and replaced, then :func:`print_price_changes`."""
    out.print(
        f"loaded {load.points} price points for {escape(', '.join(load.providers))} "
        f"(replacing {load.replaced})"
    )
    print_price_changes(load, stale)


def print_catalog(result: CatalogImport, load: PriceLoad, stale: dict[str, int]) -> None:
    """What ``pull prices`` imported from a catalog, then :func:`print_price_changes`."""
    models = len({(p.provider, p.model) for p in result.points})
    out.print(
        f"{escape(str(result.source))}: {models:,} models, {load.points:,} price points for "
        f"{escape(', '.join(load.providers))} (replacing {load.replaced:,}); "
        f"{len(result.skipped):,} entries skipped",
        highlight=False,
    )
    print_price_changes(load, stale)


def print_price_changes(load: PriceLoad, stale: dict[str, int]) -> None:
    """Whose prices the load changed, and the calls billed before that it leaves stale
    (``stale``: the stale calls per provider)."""
    same = [p for p in load.providers if p not in load.changed]
    if same:
        out.print(f"prices unchanged for {escape(', '.join(same))}", highlight=False)
    for provider in load.changed:
        if stale.get(provider):
            out.print(
                f"prices changed for {escape(provider)}: its {stale[provider]:,} calls billed "
                "before keep their old prices until `ratecard bill --rebill`.",
                highlight=False,
            )


def print_summary(result: Summary, *, exact: bool = False) -> None:
    """The summary table, each currency rounded and totalled on its own, and its notes."""
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
            *(cell(value) if value is not None else NONE for value in row.group),
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
                escape(f"  {item.provider}/{item.model}: {item.calls:,} calls — {item.reason}"),
                highlight=False,
            )
    print_stale(result.stale_calls)


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


def print_stale(calls: int) -> None:
    """The note that some calls were billed with older sheets, when any were."""
    if calls:
        out.print(
            f"[yellow]{calls:,} calls were billed with older price sheets[/yellow]: run "
            "`ratecard bill --rebill`."
        )


def print_comparisons(
    comparisons: list[Comparison], model: str, period: str, *, exact: bool = False
) -> None:
    """Where the calls ran, then each comparison's table: the page's numbers, as text."""
    if not comparisons:
        out.print(escape(f"{model}, {period}: no priced calls in this selection."), highlight=False)
        return

    def money(amount: Decimal | None, currency: str | None) -> str:
        if amount is None:
            return "—"
        return plain(amount) if exact else money_text(amount, currency)

    def tag(quote: Quote, currency: str | None) -> str:
        """A row of two currencies names each amount's: the columns' are not one."""
        two = quote.currency is not None and not quote.comparable
        return f" {currency}" if currency and two else ""

    lines = spend(comparisons)
    currencies = sorted({line.currency for line in lines}, key=lambda code: code or "")
    table = Table(title=cell(f"{model} spend, {period}: where the calls ran"), title_justify="left")
    for name in ("variant", "ran on", "currency", "calls", "cost"):
        table.add_column(name, justify="right" if name in {"calls", "cost"} else "left")
    for code in currencies:  # each currency totalled on its own: two are never added
        mine = [line for line in lines if line.currency == code]
        costs = round_column((line.cost for line in mine), code)
        for line, rounded in zip(mine, costs.lines, strict=True):
            shown = plain(line.cost) if exact else f"{rounded:,}"
            table.add_row(
                cell(line.variant), cell(line.provider), cell(code or ""), f"{line.calls:,}", shown
            )
        if not exact and costs.residue:
            table.add_row("rounding residue", "", cell(code or ""), "", f"{costs.residue:,}")
        total = plain(costs.exact_total) if exact else f"{costs.total:,}"
        calls = f"{sum(x.calls for x in mine):,}"
        table.add_row("[bold]total[/bold]", "", cell(code or ""), calls, total)
    out.print(table)
    for comparison in comparisons:
        title = f"{comparison_title(comparison)}, {period}"
        table = Table(title=cell(title), title_justify="left")
        for name in QUOTE_COLUMNS:
            table.add_column(name, justify="left" if name in {"provider", "currency"} else "right")
        ran_in = comparison.currency
        for quote in comparison.quotes:
            percent = quote.difference_percent
            difference = quote.difference  # None across two currencies: never subtracted
            if difference is not None and not exact:
                difference = printed_difference(quote.repriced_cost, quote.actual_cost, ran_in)
            table.add_row(
                Text.assemble((quote.provider, "bold"), " (cheapest)")
                if quote.cheapest
                else cell(quote.provider),
                cell(quote.currency or ""),
                f"{quote.ran_here_calls:,}" if quote.ran_here_calls else "—",
                f"{quote.priced_calls:,}",
                f"[yellow]{quote.unpriced_calls:,}[/yellow]" if quote.unpriced_calls else "0",
                money(quote.actual_cost, ran_in) + tag(quote, ran_in),
                money(quote.repriced_cost, quote.currency) + tag(quote, quote.currency),
                money(difference, ran_in),
                "—" if percent is None else f"{percent:+.1f}%",
            )
        out.print(table)
    out.print(
        QUOTE_NOTE + ("" if exact else " Amounts rounded half-up to their currency's minor unit."),
        style="dim",
        highlight=False,
    )


def print_what_if(share: Decimal) -> None:
    """The note under a comparison run with ``--cache-share``."""
    out.print(
        f"What-if: {share:%} of every call's input read from the cache; cost where they "
        "ran is what the calls really cost.",
        highlight=False,
    )


def print_without_usage(calls: int, model: str) -> None:
    """The note under a comparison of a model some of whose calls carry no usage."""
    if calls:
        out.print(without_usage_note(calls, model), style="yellow", markup=False, highlight=False)


def print_written(what: str, path: Path) -> None:
    """The line a command prints after writing a file: ``wrote {what} to {path}``."""
    out.print(escape(f"wrote {what} to {path}"), highlight=False)


def print_report(result: Report, path: Path) -> None:
    """The line ``report`` prints after writing the file: lines, calls, the total of each
    currency (never added), unpriced calls."""
    count = result.count("unpriced_calls")
    out.print(
        escape(
            f"wrote {len(result.lines):,} lines to {path}: {result.count('calls'):,} calls, "
            f"{amounts_text(result.totals())}"
        )
        + (f", [yellow]{count:,} unpriced calls (no cost)[/yellow]" if count else ""),
        highlight=False,
    )


def print_reconciliation(
    calls_checked: int, invoice_lines: int, found: Sequence[Discrepancy], *, written: bool
) -> None:
    """What ``reconcile`` checked, and the first discrepancies as a table (``written``: the
    whole list went to ``--out``)."""
    out.print(
        f"checked {calls_checked:,} calls with a reported cost and "
        f"{invoice_lines:,} invoice lines: {len(found):,} discrepancies",
        highlight=False,
    )
    if not found:
        return
    table = Table(title="Discrepancies", title_justify="left")
    for name in RECONCILE_COLUMNS:
        numeric = name in {"computed", "stated", "difference"}
        table.add_column(name, justify="right" if numeric else "left")
    for d in found[:SHOWN_DISCREPANCIES]:
        table.add_row(*(cell(text) for text in d.cells(missing="—")))
    out.print(table)
    if len(found) > SHOWN_DISCREPANCIES:
        more = len(found) - SHOWN_DISCREPANCIES
        out.print(f"… and {more:,} more" + ("" if written else " (--out FILE)"))


def print_demo_next(db: Path, *, default: bool) -> None:
    """Where the demo's warehouse is and what to run next (naming ``--db`` unless it is the
    ``default`` one), from wherever ratecard is installed."""
    same_db = "" if default else f" --db {db}"
    out.print(
        f"\nWarehouse: {escape(str(db))}. Next: `ratecard summary --by team,project"
        f"{escape(same_db)}`, `ratecard export calls --out calls.csv{escape(same_db)}` (in a "
        "checkout, `source .venv/bin/activate` first puts `ratecard` on PATH)."
    )


def print_budgets(statuses: list[BudgetStatus]) -> None:
    """The budgets table: spend to date, share used, forecast and state of each."""
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
            cell(budget.name),
            cell(budget.scope.label()),
            cell(f"{budget.period} from {start} {budget.timezone}"),
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


def print_sending(deliveries: int, deadline: float) -> None:
    """The note before a run's webhook deliveries go out."""
    if deliveries:
        note(f"sending {deliveries:,} alert deliveries (up to {deadline:g} s)")


def print_deliveries(results: list[Delivery]) -> None:
    """How each delivery went: sent on stdout, not delivered on stderr."""
    for delivery in results:
        if delivery.delivered:
            detail = f"; {delivery.error}" if delivery.error else ""
            out.print(
                escape(f"  sent to {delivery.label} ({delivery.alert_key}{detail})"),
                highlight=False,
            )
        else:
            then = "" if delivery.unconfirmed else "; retried on the next run"
            err.print(
                "  [yellow]not delivered[/yellow] "
                + escape(f"to {delivery.label} ({delivery.alert_key}): {delivery.error}{then}"),
                highlight=False,
            )
