"""Plotly figures from query results: plain functions, no Streamlit.

Bar heights are floats (a pixel position, not an amount); every number a person reads, in
hover text and labels, is the exact decimal formatted by :mod:`reports.money`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

from dashboards.display import money as money  # re-exported: the pages call figures.money
from reports.budgets import BudgetStatus
from reports.compare import Comparison
from reports.money import minor_digits, plain, round_money
from reports.period import midnight
from reports.spreadsheet import neutral

TEMPLATE = "plotly_white"
"""The look of every figure. Set as plotly's default, which plotly applies to each new
figure without validating the template again; naming it in each figure's layout had plotly
copy and validate the whole template every time, the largest cost of building a small
figure (ADR 0074)."""
pio.templates.default = TEMPLATE

DAY_MS = 86_400_000
"""A day on a Plotly date axis, in milliseconds."""

PALETTE = ["#2563eb", "#f59e0b", "#10b981", "#ef4444", "#8b5cf6", "#06b6d4", "#84cc16", "#f97316"]


Kind = Literal["text", "count", "money", "percent", "time"]


@dataclass(frozen=True)
class Column:
    """How a query column is shown: its label, what kind of value it holds, a tooltip."""

    label: str
    kind: Kind = "text"
    help: str | None = None
    width: int | None = None
    """A fixed width in pixels for a column of long text (which then wraps), so that the
    rest of the table fits the page."""


# Every column a page shows, by the name its query gives it: one label per name everywhere.
COLUMNS: dict[str, Column] = {
    "provider": Column("Provider"),
    "model": Column("Model", help="The model id as the provider's API names it."),
    "canonical_model": Column("Model family", help="The model, whoever sells it."),
    "variant": Column("Variant"),
    "team": Column("Team", width=150),
    "project": Column("Project", width=150),
    "team_project": Column("Team · project", width=160),
    "api_key_id": Column(
        "API key", help="The key's fingerprint: ratecard never stores or shows the key itself."
    ),
    "calls": Column("Calls", "count"),
    "failed_calls": Column("Failed calls", "count", "Failed calls are kept, counted and free."),
    "failed_share": Column("Failed", "percent", "Failed calls out of all calls."),
    "unpriced_calls": Column(
        "Unpriced", "count", "Calls without a price: not in the cost, never counted as 0."
    ),
    "input_tokens": Column("Input tokens", "count"),
    "cache_read_tokens": Column("Cached", "count", "Input tokens read from the cache."),
    "output_tokens": Column("Output tokens", "count"),
    "cost": Column("Cost", "money", "Rounded to the cent; the CSV download has it exactly."),
    "reason": Column("Reason"),
    "records": Column("Records", "count"),
    "example": Column("Example (first record)", help="Where it was read, and its raw text."),
    "source": Column("Source", width=200),
    "kind": Column("Kind", help="What was read (usage or prices) and in which format."),
    "last_ingest": Column("Last ingest (UTC)", "time"),
    "records_read": Column("Read", "count"),
    "loaded": Column("Loaded", "count"),
    "duplicates": Column("Duplicates", "count"),
    "quarantined": Column("Quarantined", "count"),
    "runs": Column("Runs", "count", "Ingests of this source so far."),
}


def by_currency(
    frame: pd.DataFrame, currencies: Sequence[str]
) -> list[tuple[str | None, pd.DataFrame]]:
    """A frame's rows (with a ``currency`` column) per currency, in ``currencies``' order, for
    a page to total each on its own: two currencies are never added. With one currency every
    row is its (a group of only unpriced calls has none of its own); with several, the rows
    without a currency come last, under None."""
    if len(currencies) == 1:
        return [(currencies[0], frame)]
    parts: list[tuple[str | None, pd.DataFrame]] = [
        (code, frame[frame["currency"] == code]) for code in currencies
    ]
    parts = [(code, rows) for code, rows in parts if not rows.empty]
    unpriced = frame[frame["currency"].isna()]
    return [*parts, (None, unpriced)] if not unpriced.empty else parts


def number_format(kind: Kind, currency: str | None = "USD") -> str | None:
    """The display format of a number column (sprintf, as Streamlit's tables take it); money
    with its currency's decimals."""
    if kind == "count":
        return "%,d"
    if kind == "money":
        number = f"%,.{minor_digits(currency)}f"
        return f"${number}" if currency in (None, "USD") else f"{number} {currency}"
    if kind == "percent":
        return "%.1f%%"
    return None


@dataclass(frozen=True)
class Table:
    """A query result ready to show: human labels, money rounded half-up to its currency's
    minor unit, shares in percent, and for each label how its column is shown."""

    frame: pd.DataFrame
    columns: dict[str, Column]
    """Each label's column; its display format is :func:`number_format` of its kind."""
    currency: str | None = "USD"

    @property
    def long_text(self) -> bool:
        """Whether a column of fixed width holds text longer than its width shows on one
        line: the table then wraps its rows."""
        return any(
            len(str(value)) * PIXELS_PER_CHARACTER > column.width
            for label, column in self.columns.items()
            if column.width is not None
            for value in self.frame[label]
        )


PIXELS_PER_CHARACTER = 7  # the tables' 14 px sans-serif, on average, padding included


def table(frame: pd.DataFrame, names: Sequence[str], currency: str | None = "USD") -> Table:
    """The columns ``names`` of ``frame`` as a page shows them (see :data:`COLUMNS`).

    Amounts (all in ``currency``) stay numbers, rounded as :func:`money` rounds, so that a
    table sorts by them; the table's display format adds the separators and the currency.
    """
    shown = pd.DataFrame(index=frame.index)
    columns: dict[str, Column] = {}
    for name in names:
        column = COLUMNS[name]
        values = frame[name]
        if column.kind == "money":
            values = values.map(lambda v: None if v is None else round_money(v, currency))
        elif column.kind == "count":
            values = values.astype("Int64")
        elif column.kind == "percent":
            values = values.astype("Float64")
        shown[column.label] = values
        columns[column.label] = column
    return Table(shown.reset_index(drop=True), columns, currency)


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """A query result as CSV for a download: the column names as the query gives them, every
    amount exact (plain digits, never an exponent) and no cell a spreadsheet would run as a
    formula (reports/spreadsheet.py's one rule). Rows end in CRLF, so that pandas quotes a
    text holding a CR."""

    def cell(value: object) -> object:
        return plain(value) if isinstance(value, Decimal) else neutral(value)

    return frame.map(cell).to_csv(index=False, lineterminator="\r\n").encode("utf-8")


@dataclass(frozen=True)
class Sources:
    names: list[str]
    """Each source as a path under ``folder`` (several, comma-separated, for a price load)."""
    folder: str | None
    """The folder the file sources share, if any."""


def short_sources(sources: Iterable[object]) -> Sources:
    """Ingest sources as paths under the folder they share, so that a table of them fits
    the page; URLs and other names are kept as they are."""
    groups = [[part.strip() for part in str(source).split(", ")] for source in sources]
    paths = [p for group in groups for p in group if p.startswith("/")]
    folder = os.path.commonpath(paths) if paths else None
    if folder is not None and folder in paths:  # one file: its folder
        folder = str(Path(folder).parent)
    if folder in (None, "/"):
        return Sources([", ".join(group) for group in groups], None)

    def short(part: str) -> str:
        return os.path.relpath(part, folder) if part.startswith(folder + "/") else part

    return Sources([", ".join(short(p) for p in group) for group in groups], folder)


def examples(reasons: pd.DataFrame) -> pd.DataFrame:
    """Quarantine reasons with their first record in one ``example`` column: the reason in
    full, the file and line it was read from, and its raw text."""
    return reasons.assign(
        example=[
            f"{reason} · {Path(str(source)).name}:{line} · {raw}"
            for reason, source, line, raw in zip(
                reasons["example_reason"],
                reasons["example_source"],
                reasons["example_line"],
                reasons["example_raw"],
                strict=True,
            )
        ]
    )


def _layout(figure: go.Figure, title: str, y_title: str, height: int = 420) -> go.Figure:
    figure.update_layout(
        title=title,
        yaxis_title=y_title,
        legend={"orientation": "h", "y": -0.2},
        margin={"l": 40, "r": 20, "t": 50, "b": 40},
        height=height,
    )
    return figure


def _bars_height(rows: int) -> int:
    """A horizontal bar chart's height for ``rows`` bars: one bar is not a wall of colour."""
    return min(420, 150 + 45 * rows)


def spend_over_time(
    daily: pd.DataFrame,
    currency: str = "USD",
    period: tuple[date, date] | None = None,
) -> go.Figure:
    """Daily spend stacked by the ``series`` column (provider or variant), over the whole
    ``period`` (first and last day) when given, one bar per day, never below zero."""
    figure = go.Figure()
    for index, (series, rows) in enumerate(daily.groupby("series", sort=True)):
        figure.add_bar(
            x=rows["day"],
            y=[float(v) for v in rows["cost"]],
            name=str(series),
            width=DAY_MS * 0.8,  # a day's bar: alone on its axis, Plotly would draw it a hairline
            marker_color=PALETTE[index % len(PALETTE)],
            customdata=[
                [plain(v), f"{c:,}"] for v, c in zip(rows["cost"], rows["calls"], strict=True)
            ],
            hovertemplate=f"%{{x|%Y-%m-%d}} · {series}<br>{currency} %{{customdata[0]}}"
            "<br>%{customdata[1]} calls<extra></extra>",
        )
    figure.update_layout(barmode="stack", showlegend=True)  # name a lone provider too
    if period is not None:
        first, last = period
        days = (last - first).days + 1
        figure.update_xaxes(
            range=[
                datetime.combine(first, time()) - timedelta(hours=12),
                datetime.combine(last, time()) + timedelta(hours=12),
            ],
            # days, never hours: a tick a day on short periods, Plotly's choice of days beyond
            dtick=DAY_MS if days <= 14 else None,
            tickformat="%b %-d",
        )
    top = max((float(v) for v in daily.groupby("day")["cost"].sum()), default=0.0)
    figure.update_yaxes(range=[0, top * 1.1 if top > 0 else 1])
    return _layout(figure, "Spend per day (UTC)", currency)


def comparison(compared: Sequence[Comparison], currency: str | None = "USD") -> go.Figure:
    """One variant's calls at each provider: a bar per variant they are priced at (their own,
    and standard for the what-if), the cheapest labelled, a provider that cannot price every
    call hatched; what the calls cost where they ran as a line. One axis is one currency:
    only the quotes in ``currency`` (that the calls were billed in) are drawn, those in
    another are in the table beside it, never on the same scale."""
    figure = go.Figure()
    providers = sorted(
        {q.provider for c in compared for q in c.quotes if q.currency in (None, currency)}
    )
    for index, each in enumerate(compared):
        by_provider = {q.provider: q for q in each.quotes}
        shown = [by_provider.get(p) for p in providers]
        figure.add_bar(
            x=providers,
            y=[None if q is None else float(q.repriced_cost) for q in shown],
            name=f"at {each.target_variant}" + (" (what if)" if each.what_if else ""),
            marker_color=PALETTE[index % len(PALETTE)],
            marker_pattern_shape=["" if q is None or q.complete else "/" for q in shown],
            text=["cheapest" if q is not None and q.cheapest else "" for q in shown],
            textposition="outside",
            customdata=[
                ["", ""]
                if q is None
                else [money(q.repriced_cost, q.currency), f"{q.unpriced_calls:,}"]
                for q in shown
            ],
            hovertemplate=f"%{{x}} at {each.target_variant}<br>%{{customdata[0]}}"
            "<br>%{customdata[1]} calls without a price<extra></extra>",
        )
    if compared:
        actual = compared[0].actual_cost
        figure.add_hline(
            y=float(actual),
            line_dash="dash",
            line_color="#ef4444",
            annotation_text=f"where they ran {money(actual, currency)}",
        )
    figure.update_layout(barmode="group")
    title = f"{compared[0].variant.capitalize()} calls at each provider" if compared else ""
    return _layout(figure, title, currency or "")


def bars(
    table: pd.DataFrame, label: str, value: str, title: str, currency: str = "USD"
) -> go.Figure:
    """A horizontal bar per row of ``table``: ``label`` against the amount in ``value``."""
    figure = go.Figure()
    figure.add_bar(
        y=table[label].astype(str),
        x=[float(v) for v in table[value]],
        orientation="h",
        marker_color=PALETTE[0],
        customdata=[[plain(v)] for v in table[value]],
        hovertemplate="%{y}<br>" + currency + " %{customdata[0]}<extra></extra>",
    )
    figure.update_yaxes(autorange="reversed")
    figure = _layout(figure, title, "", _bars_height(len(table)))
    figure.update_layout(xaxis_title=currency)
    return figure


def counts(table: pd.DataFrame, label: str, value: str, title: str) -> go.Figure:
    """A horizontal bar per row for counts (records, calls)."""
    figure = go.Figure()
    figure.add_bar(
        y=table[label].astype(str), x=table[value], orientation="h", marker_color=PALETTE[3]
    )
    figure.update_yaxes(autorange="reversed")
    return _layout(figure, title, "", _bars_height(len(table)))


def ingest_outcomes(runs: pd.DataFrame) -> go.Figure:
    """Each source's latest ingest: records loaded, duplicates and quarantined, stacked."""
    figure = go.Figure()
    names = short_sources(runs["source"]).names
    for column, colour in (
        ("loaded", PALETTE[2]),
        ("duplicates", PALETTE[1]),
        ("quarantined", PALETTE[3]),
    ):
        figure.add_bar(y=names, x=runs[column], name=column, orientation="h", marker_color=colour)
    figure.update_layout(barmode="stack")
    figure.update_yaxes(autorange="reversed")
    return _layout(
        figure,
        "Latest ingest of each source: every record accounted for",
        "",
        _bars_height(len(runs)) + 40,  # and the legend
    )


PERIOD_AXES = {
    # period: (step between the spend line's points, tick spacing in ms, tick label format)
    "daily": (timedelta(hours=1), 3 * 3_600_000, "%H:%M"),
    "weekly": (timedelta(days=1), DAY_MS, "%a %b %-d"),
    "monthly": (timedelta(days=1), None, "%b %-d"),
}


def burn_down(status: BudgetStatus) -> go.Figure:
    """A budget's spend accumulated over its period (by the hour for a daily budget, by the
    day otherwise), the forecast from the instant judged at to the period's end, and the
    amount; the axes span the whole period and reach above the highest of the three.

    Times are drawn as wall-clock times in the budget's zone (Plotly has no zones)."""
    budget, zone = status.budget, ZoneInfo(status.budget.timezone)
    step, dtick, tick_format = PERIOD_AXES[budget.period]

    def local(moment: datetime) -> datetime:
        return moment.astimezone(zone).replace(tzinfo=None)

    start, end = status.period.start, status.period.end
    first = start.astimezone(zone).date()
    as_of = min(status.as_of, end)
    if budget.period == "daily":
        # UTC hours; one that starts before the local midnight counts from the period's start
        hours = sorted((max(hour, start), v) for (_, hour), v in status.hourly.items())
        boundaries = [start + step * n for n in range(1, 25) if start + step * n < as_of]

        def before(moment: datetime) -> Decimal:
            return sum((v for hour, v in hours if hour < moment), Decimal(0))
    else:
        days = [first + timedelta(days=n) for n in range(1, 32)]
        boundaries = [m for m in (midnight(d, zone) for d in days) if m < as_of]

        def before(moment: datetime) -> Decimal:
            day = moment.astimezone(zone).date()
            return sum((v for d, v in status.daily.items() if first <= d < day), Decimal(0))

    moments = [start, *boundaries, as_of]
    totals = [Decimal(0), *(before(m) for m in boundaries), status.spend]
    currency = budget.currency
    figure = go.Figure()
    figure.add_scatter(
        x=[local(m) for m in moments],
        y=[float(v) for v in totals],
        mode="lines+markers",
        name="spend",
        line_color=PALETTE[0],
        marker_size=5,
        customdata=[[plain(v)] for v in totals],
        hovertemplate="%{x|%Y-%m-%d %H:%M}<br>" + currency + " %{customdata[0]} spent"
        "<extra></extra>",
    )
    figure.add_scatter(
        x=[local(as_of), local(end)],
        y=[float(status.spend), float(status.forecast)],
        mode="lines+markers",
        name="forecast",
        line={"dash": "dot", "color": PALETTE[1]},
        marker_size=5,
        customdata=[[plain(status.spend)], [plain(status.forecast)]],
        hovertemplate="%{x|%Y-%m-%d %H:%M}<br>" + currency + " %{customdata[0]} forecast"
        "<extra></extra>",
    )
    figure.add_scatter(
        x=[local(start), local(end)],
        y=[float(budget.amount)] * 2,
        mode="lines",
        name=f"budget {money(budget.amount, currency)}",
        line={"dash": "dash", "color": PALETTE[3]},
        hoverinfo="skip",
    )
    top = max(budget.amount, status.forecast, status.spend)
    figure.update_xaxes(
        range=[local(start), local(end)], dtick=dtick, tickformat=tick_format, showgrid=True
    )
    figure.update_yaxes(range=[0, float(top) * 1.1], rangemode="tozero")
    when = {"daily": f"{first}", "weekly": f"week of {first}", "monthly": f"{first:%B %Y}"}
    return _layout(
        figure,
        f"{budget.name}: {budget.scope.label()}, {budget.period}, "
        f"{when[budget.period]} ({budget.timezone})",
        currency,
    )
