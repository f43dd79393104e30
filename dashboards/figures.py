"""Vega-Lite charts from query results (built with Altair): plain functions, no Streamlit.

Bar heights are floats (a pixel position, not an amount); every number a person reads, in
tooltips and labels, is the exact decimal formatted by :mod:`reports.money`. Each chart's
rows are its own small frame of plain columns (ISO days, floats, text), never a query's
Decimals.
"""

from __future__ import annotations

import calendar
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

import altair as alt
import pandas as pd

from dashboards.display import money as money  # re-exported: the pages call figures.money
from reports.budgets import BudgetStatus
from reports.compare import Comparison
from reports.dimensions import label as group_label
from reports.money import minor_digits, plain, round_money
from reports.period import midnight
from reports.spreadsheet import neutral

alt.data_transformers.disable_max_rows()
"""A chart holds a page's rows (a bar per team or key, however many): Altair's default
refuses more than 5,000, which the pages' small frames never reach by design, not by limit."""
alt.utils.schemapi.disable_debug_mode()
"""Altair checks each piece of a chart against Vega-Lite's schema as it is built; the pages
skip that, and the check of the whole spec too (:func:`vega_lite`)."""
alt.theme.enable("none")
"""No Altair theme: its default adds a 300 x 300 view size, which Streamlit drops too (the
pages draw every chart at the container's width, at the height the figure sets)."""

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
        elif column.kind == "text":  # a group without a value, as the command line writes it
            values = values.map(lambda v: v if isinstance(v, str) else group_label(v))
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


Chart = alt.Chart | alt.LayerChart
"""What every figure function returns: a Vega-Lite chart, which the pages hand to
``st.altair_chart`` and Streamlit draws with the Vega-Lite it ships (ADR 0075)."""


def vega_lite(chart: Chart) -> dict[str, Any]:
    """The chart's Vega-Lite spec, its rows inline, as ``st.vega_lite_chart`` takes it,
    without checking it against Vega-Lite's schema: the checks, as each piece is built and
    of the whole, were three quarters of a chart's cost on every rerun (ADR 0075), and
    tests/test_figures.py checks every figure's whole spec, each of its branches."""
    spec: dict[str, Any] = chart.to_dict(validate=False)
    return spec


HEIGHT = 420
"""A chart's height in pixels, unless its bars need less."""

TIP = "Exact amounts are in the tooltips and the CSV download."


def _bars_height(rows: int) -> int:
    """A horizontal bar chart's height for ``rows`` bars: one bar is not a wall of colour."""
    return min(HEIGHT, 150 + 45 * rows)


def _legend(lines: bool = False) -> alt.Legend:
    """The legend under a chart; a line's dash for a line chart."""
    return alt.Legend(
        orient="bottom", title=None, labelLimit=400, symbolType="stroke" if lines else alt.Undefined
    )


def _colours(names: Sequence[str], start: int = 0) -> alt.Scale:
    """A colour per name, in order, from :data:`PALETTE`."""
    return alt.Scale(
        domain=list(names), range=[PALETTE[(start + i) % len(PALETTE)] for i in range(len(names))]
    )


def _top(highest: float) -> list[float]:
    """A money axis from 0 to a tenth above the highest value (0 to 1 when all are 0: an
    axis from 0, never -1..1)."""
    return [0.0, highest * 1.1 if highest > 0 else 1.0]


def spend_over_time(
    daily: pd.DataFrame,
    currency: str = "USD",
    period: tuple[date, date] | None = None,
) -> alt.Chart:
    """Daily spend stacked by the ``series`` column (provider or variant), one bar per day
    of the whole ``period`` (first and last day) when given, else of the days in ``daily``,
    never below zero. Days are ISO dates on a band axis, so a day without spend keeps its
    place and a single day is a bar, never a hairline."""
    days = sorted({d.isoformat() for d in daily["day"]})
    if period is not None:
        first, last = period
        days = [(first + timedelta(days=n)).isoformat() for n in range((last - first).days + 1)]
    series = sorted({str(s) for s in daily["series"]})
    frame = pd.DataFrame(
        {
            "day": [d.isoformat() for d in daily["day"]],
            "series": [str(s) for s in daily["series"]],
            "height": [float(v) for v in daily["cost"]],
            "amount": [f"{plain(v)} {currency}" for v in daily["cost"]],
            "calls": [f"{c:,}" for c in daily["calls"]],
        }
    )
    top = max((float(v) for v in daily.groupby("day")["cost"].sum()), default=0.0)
    chart: alt.Chart = (
        alt.Chart(frame, title="Spend per day (UTC)", height=HEIGHT)
        .mark_bar()
        .encode(
            x=alt.X(
                "day:O",
                scale=alt.Scale(domain=days),
                # days, never hours; UTC, whatever the browser's zone
                axis=alt.Axis(
                    title=None,
                    labelAngle=0,
                    labelOverlap="greedy",
                    labelExpr="utcFormat(toDate(datum.value), '%b %-d')",
                ),
            ),
            y=alt.Y("height:Q", stack="zero", scale=alt.Scale(domain=_top(top)), title=currency),
            color=alt.Color("series:N", scale=_colours(series), legend=_legend()),
            tooltip=[
                alt.Tooltip("day:N", title="Day (UTC)"),
                alt.Tooltip("series:N", title="Of"),
                alt.Tooltip("amount:N", title="Spend"),
                alt.Tooltip("calls:N", title="Calls"),
            ],
        )
    )
    return chart


def comparison(compared: Sequence[Comparison], currency: str | None = "USD") -> alt.LayerChart:
    """One variant's calls at each provider: a bar per variant they are priced at (their own,
    and standard for the what-if), the cheapest labelled, the bar of a provider that cannot
    price every call pale with a dashed edge; what the calls cost where they ran as a dashed
    line. One axis is one currency: only the quotes in ``currency`` (that the calls were
    billed in) are drawn, those in another are in the table beside it, never on the same
    scale."""
    providers = sorted(
        {q.provider for c in compared for q in c.quotes if q.currency in (None, currency)}
    )
    names = [f"at {c.target_variant}" + (" (what if)" if c.what_if else "") for c in compared]
    rows = [
        {
            "provider": q.provider,
            "series": name,
            "height": float(q.repriced_cost),
            "complete": q.complete,
            "label": "cheapest" if q.cheapest else "",
            "amount": f"{plain(q.repriced_cost)} {q.currency or currency or ''}".strip(),
            "unpriced": f"{q.unpriced_calls:,}",
        }
        for each, name in zip(compared, names, strict=True)
        for q in each.quotes
        if q.provider in providers
    ]
    frame = pd.DataFrame(
        rows, columns=["provider", "series", "height", "complete", "label", "amount", "unpriced"]
    )
    x = alt.X(
        "provider:N", scale=alt.Scale(domain=providers), axis=alt.Axis(labelAngle=0, title=None)
    )
    offset = alt.XOffset("series:N", scale=alt.Scale(domain=names))
    highest = max([*frame["height"], *(float(c.actual_cost) for c in compared[:1])], default=0.0)
    y = alt.Y("height:Q", title=currency or "", scale=alt.Scale(domain=_top(highest)))
    complete = alt.datum.complete
    bars = (
        alt.Chart()
        .mark_bar(strokeWidth=1.5)
        .encode(
            x=x,
            xOffset=offset,
            y=y,
            color=alt.Color("series:N", scale=_colours(names), legend=_legend()),
            stroke=alt.Stroke("series:N", scale=_colours(names)),  # one legend with the fill
            fillOpacity=alt.condition(complete, alt.value(1.0), alt.value(0.35)),
            strokeDash=alt.condition(complete, alt.value([1, 0]), alt.value([4, 3])),
            tooltip=[
                alt.Tooltip("provider:N", title="Provider"),
                alt.Tooltip("series:N", title="Priced"),
                alt.Tooltip("amount:N", title="Cost"),
                alt.Tooltip("unpriced:N", title="Calls without a price"),
            ],
        )
    )
    labels = (
        alt.Chart()
        .mark_text(baseline="bottom", dy=-4)
        .encode(x=x, xOffset=offset, y=y, text="label:N")
    )
    layers: list[alt.Chart] = [bars, labels]
    if compared:
        actual = compared[0].actual_cost
        ran = alt.Chart(
            pd.DataFrame(
                {"height": [float(actual)], "label": [f"where they ran {money(actual, currency)}"]}
            )
        )
        layers += [
            ran.mark_rule(color=PALETTE[3], strokeDash=[6, 4], strokeWidth=1.5).encode(
                y="height:Q"
            ),
            ran.mark_text(align="right", baseline="bottom", dy=-4, color=PALETTE[3]).encode(
                y="height:Q", x=alt.value("width"), text="label:N"
            ),
        ]
    title = f"{compared[0].variant.capitalize()} calls at each provider" if compared else ""
    return alt.LayerChart(layer=layers, data=frame, title=title, height=HEIGHT)


def bars(
    table: pd.DataFrame, label: str, value: str, title: str, currency: str = "USD"
) -> alt.Chart:
    """A horizontal bar per row of ``table``, in its order: ``label`` against the amount in
    ``value``."""
    frame = pd.DataFrame(
        {
            "label": table[label].astype(str).tolist(),
            "height": [float(v) for v in table[value]],
            "amount": [f"{plain(v)} {currency}" for v in table[value]],
        }
    )
    chart: alt.Chart = (
        alt.Chart(frame, title=title, height=_bars_height(len(frame)))
        .mark_bar(color=PALETTE[0])
        .encode(
            y=alt.Y("label:N", sort=None, title=None, axis=alt.Axis(labelLimit=300)),
            # from 0, a tenth past the longest bar: all-zero bars keep an axis from 0 to 1
            x=alt.X(
                "height:Q",
                title=currency,
                scale=alt.Scale(domain=_top(max(frame["height"], default=0.0))),
            ),
            tooltip=[alt.Tooltip("label:N", title="Of"), alt.Tooltip("amount:N", title="Spend")],
        )
    )
    return chart


def counts(table: pd.DataFrame, label: str, value: str, title: str) -> alt.Chart:
    """A horizontal bar per row for counts (records, calls), in the table's order."""
    frame = pd.DataFrame(
        {"label": table[label].astype(str).tolist(), "count": [int(v) for v in table[value]]}
    )
    chart: alt.Chart = (
        alt.Chart(frame, title=title, height=_bars_height(len(frame)))
        .mark_bar(color=PALETTE[3])
        .encode(
            y=alt.Y("label:N", sort=None, title=None, axis=alt.Axis(labelLimit=300)),
            x=alt.X("count:Q", title=None, axis=alt.Axis(format=",d", tickMinStep=1)),
            tooltip=[
                alt.Tooltip("label:N", title="Of"),
                alt.Tooltip("count:Q", title=value.replace("_", " ").capitalize(), format=",d"),
            ],
        )
    )
    return chart


OUTCOMES = ("loaded", "duplicates", "quarantined")
"""What became of an ingest's records, in the order the bars stack them."""


def ingest_outcomes(runs: pd.DataFrame) -> alt.Chart:
    """Each source's latest ingest: records loaded, duplicates and quarantined, stacked."""
    names = short_sources(runs["source"]).names
    frame = pd.DataFrame(
        [
            {"source": name, "outcome": outcome, "order": i, "records": int(records)}
            for name, (_, run) in zip(names, runs.iterrows(), strict=True)
            for i, outcome in enumerate(OUTCOMES)
            for records in [run[outcome]]
        ],
        columns=["source", "outcome", "order", "records"],
    )
    colours = alt.Scale(domain=list(OUTCOMES), range=[PALETTE[2], PALETTE[1], PALETTE[3]])
    chart: alt.Chart = (
        alt.Chart(
            frame,
            title="Latest ingest of each source: every record accounted for",
            height=_bars_height(len(names)),
        )
        .mark_bar()
        .encode(
            y=alt.Y("source:N", sort=names, title=None, axis=alt.Axis(labelLimit=300)),
            x=alt.X(
                "records:Q", stack="zero", title=None, axis=alt.Axis(format=",d", tickMinStep=1)
            ),
            color=alt.Color("outcome:N", scale=colours, legend=_legend()),
            order=alt.Order("order:Q"),
            tooltip=[
                alt.Tooltip("source:N", title="Source"),
                alt.Tooltip("outcome:N", title="Records"),
                alt.Tooltip("records:Q", title="Count", format=",d"),
            ],
        )
    )
    return chart


PERIOD_AXES: dict[str, tuple[timedelta, timedelta | None, str]] = {
    # period: (step between the spend line's points, between ticks (None: Vega's choice),
    # tick label format)
    "daily": (timedelta(hours=1), timedelta(hours=3), "%H:%M"),
    "weekly": (timedelta(days=1), timedelta(days=1), "%a %b %-d"),
    "monthly": (timedelta(days=1), None, "%b %-d"),
}


def wall_ms(moment: datetime) -> float:
    """A naive wall-clock time as milliseconds on the charts' UTC time scale: the time a
    person reads is the wall-clock time itself, whatever the browser's zone. A float, as
    Vega takes a time: an integer column reaches the browser as a 64-bit integer, which
    Vega cannot read as a date."""
    return float(calendar.timegm(moment.timetuple()) * 1000 + moment.microsecond // 1000)


def wall_instant(moment: datetime) -> alt.DateTime:
    """A naive wall-clock time as a scale's domain or an axis's tick takes it on the UTC
    time scale (:func:`wall_ms`): Streamlit's Vega-Lite draws nothing on a time scale whose
    domain is given in milliseconds."""
    return alt.DateTime(
        year=moment.year,
        month=moment.month,
        date=moment.day,
        hours=moment.hour,
        minutes=moment.minute,
        seconds=moment.second,
        milliseconds=moment.microsecond // 1000,
        utc=True,
    )


def burn_down(status: BudgetStatus) -> alt.LayerChart:
    """A budget's spend accumulated over its period (by the hour for a daily budget, by the
    day otherwise), the forecast from the instant judged at to the period's end, and the
    amount; the axes span the whole period and reach above the highest of the three.

    Times are drawn as wall-clock times in the budget's zone, on a UTC scale (Vega-Lite
    knows only UTC and the browser's zone)."""
    budget, zone = status.budget, ZoneInfo(status.budget.timezone)
    step, tick_step, tick_format = PERIOD_AXES[budget.period]

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
    amount = f"budget {money(budget.amount, currency)}"

    def points(
        series: str, at: Sequence[datetime], values: Sequence[Decimal], what: str
    ) -> list[dict[str, object]]:
        return [
            {
                "series": series,
                "marked": what != "",  # the amount's line has no points and no tooltip
                "moment": wall_ms(local(m)),
                "height": float(v),
                "time": f"{local(m):%Y-%m-%d %H:%M}",
                # a forecast is an estimate: to the minor unit, not its quotient's 28 digits
                "amount": f"{money(v, currency)} forecast"
                if what == "forecast"
                else f"{plain(v)} {currency} {what}".strip(),
            }
            for m, v in zip(at, values, strict=True)
        ]

    frame = pd.DataFrame(
        [
            *points("spend", moments, totals, "spent"),
            *points("forecast", [as_of, end], [status.spend, status.forecast], "forecast"),
            *points(amount, [start, end], [budget.amount] * 2, ""),
        ]
    )
    names = ["spend", "forecast", amount]
    top = max(budget.amount, status.forecast, status.spend)
    left, right = local(start), local(end)
    # wall-clock ticks: every 3 hours of a day, every day of a week, from the period's start
    ticks = (
        alt.Undefined
        if tick_step is None
        else [
            wall_instant(left + tick_step * n) for n in range(int((right - left) / tick_step) + 1)
        ]
    )
    x = alt.X(
        "moment:T",
        scale=alt.Scale(type="utc", domain=[wall_instant(left), wall_instant(right)]),
        axis=alt.Axis(title=None, format=tick_format, grid=True, values=ticks),
    )
    y = alt.Y("height:Q", title=currency, scale=alt.Scale(domain=_top(float(top))))
    colour = alt.Color(
        "series:N",
        scale=alt.Scale(domain=names, range=[PALETTE[0], PALETTE[1], PALETTE[3]]),
        legend=_legend(lines=True),
    )
    dashes = alt.StrokeDash(
        "series:N", scale=alt.Scale(domain=names, range=[[1, 0], [2, 2], [6, 4]])
    )
    tooltip = [alt.Tooltip("time:N", title="Time"), alt.Tooltip("amount:N", title="Amount")]
    base = alt.Chart().encode(x=x, y=y, color=colour, strokeDash=dashes, detail="series:N")
    lines = (
        base.mark_line(point={"size": 30})
        .encode(tooltip=tooltip)
        .transform_filter(alt.datum.marked)
    )
    line = base.mark_line().transform_filter(~alt.datum.marked)
    when = {"daily": f"{first}", "weekly": f"week of {first}", "monthly": f"{first:%B %Y}"}
    return alt.LayerChart(
        layer=[lines, line],
        data=frame,
        # two lines: a long name or scope cut short never takes the period and zone with it
        title=alt.Title(
            [
                f"{budget.name}: {budget.scope.label()}",
                f"{budget.period}, {when[budget.period]} ({budget.timezone})",
            ]
        ),
        height=HEIGHT,
    )
