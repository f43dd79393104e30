"""Plotly figures from query results: plain functions, no Streamlit.

Bar heights are floats (a pixel position, not an amount); every number a person reads, in
hover text and labels, is the exact decimal formatted by :mod:`reports.money`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
import plotly.graph_objects as go

from reports.budgets import BudgetStatus
from reports.compare import Comparison
from reports.money import plain, round_cents

PALETTE = ["#2563eb", "#f59e0b", "#10b981", "#ef4444", "#8b5cf6", "#06b6d4", "#84cc16", "#f97316"]


def money(amount: Decimal | None, currency: str | None = "USD") -> str:
    """An amount for display: rounded half-up to the cent, with its currency."""
    if amount is None:
        return "—"
    rounded = round_cents(amount)
    sign, text = ("-" if rounded < 0 else ""), f"{abs(rounded):,.2f}"
    return f"{sign}${text}" if currency in (None, "USD") else f"{sign}{text} {currency}"


def _layout(figure: go.Figure, title: str, y_title: str) -> go.Figure:
    figure.update_layout(
        title=title,
        yaxis_title=y_title,
        template="plotly_white",
        legend={"orientation": "h", "y": -0.2},
        margin={"l": 40, "r": 20, "t": 50, "b": 40},
        height=420,
    )
    return figure


def spend_over_time(daily: pd.DataFrame, currency: str = "USD") -> go.Figure:
    """Daily spend stacked by the ``series`` column (provider or variant)."""
    figure = go.Figure()
    for index, (series, rows) in enumerate(daily.groupby("series", sort=True)):
        figure.add_bar(
            x=rows["day"],
            y=[float(v) for v in rows["cost"]],
            name=str(series),
            marker_color=PALETTE[index % len(PALETTE)],
            customdata=[
                [plain(v), f"{c:,}"] for v, c in zip(rows["cost"], rows["calls"], strict=True)
            ],
            hovertemplate=f"%{{x|%Y-%m-%d}} · {series}<br>{currency} %{{customdata[0]}}"
            "<br>%{customdata[1]} calls<extra></extra>",
        )
    figure.update_layout(barmode="stack")
    return _layout(figure, "Spend per day (UTC)", currency)


def comparison(compared: Sequence[Comparison], currency: str | None = "USD") -> go.Figure:
    """One variant's calls at each provider: a bar per variant they are priced at (their own,
    and standard for the what-if), the cheapest labelled, a provider that cannot price every
    call hatched; what the calls cost where they ran as a line."""
    figure = go.Figure()
    providers = sorted({q.provider for c in compared for q in c.quotes})
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
    figure = _layout(figure, title, "")
    figure.update_layout(xaxis_title=currency)
    return figure


def counts(table: pd.DataFrame, label: str, value: str, title: str) -> go.Figure:
    """A horizontal bar per row for counts (records, calls)."""
    figure = go.Figure()
    figure.add_bar(
        y=table[label].astype(str), x=table[value], orientation="h", marker_color=PALETTE[3]
    )
    figure.update_yaxes(autorange="reversed")
    return _layout(figure, title, "")


def ingest_outcomes(runs: pd.DataFrame) -> go.Figure:
    """Each source's latest ingest: records loaded, duplicates and quarantined, stacked."""
    figure = go.Figure()
    names = [Path(str(s)).name for s in runs["source"]]
    for column, colour in (
        ("loaded", PALETTE[2]),
        ("duplicates", PALETTE[1]),
        ("quarantined", PALETTE[3]),
    ):
        figure.add_bar(y=names, x=runs[column], name=column, orientation="h", marker_color=colour)
    figure.update_layout(barmode="stack")
    figure.update_yaxes(autorange="reversed")
    return _layout(figure, "Latest ingest of each source: every record accounted for", "")


def burn_down(status: BudgetStatus) -> go.Figure:
    """A budget's spend accumulated over its period, the forecast to its end, the amount."""
    budget, zone = status.budget, ZoneInfo(status.budget.timezone)
    first = status.period.start.astimezone(zone).date()
    last = (status.period.end.astimezone(zone) - timedelta(days=1)).date()
    days, totals, running, day = [], [], Decimal(0), first
    while day <= status.today:
        running += status.daily.get(day, Decimal(0))
        days.append(day)
        totals.append(running)
        day += timedelta(days=1)
    figure = go.Figure()
    figure.add_scatter(
        x=days,
        y=[float(v) for v in totals],
        mode="lines+markers",
        name="spend",
        line_color=PALETTE[0],
        customdata=[[plain(v)] for v in totals],
        hovertemplate="%{x|%Y-%m-%d}<br>"
        + budget.currency
        + " %{customdata[0]} so far<extra></extra>",
    )
    figure.add_scatter(
        x=[status.today, last],
        y=[float(status.spend), float(status.forecast)],
        mode="lines",
        name="forecast",
        line={"dash": "dot", "color": PALETTE[1]},
        customdata=[[plain(status.spend)], [plain(status.forecast)]],
        hovertemplate="%{x|%Y-%m-%d}<br>" + budget.currency + " %{customdata[0]}<extra></extra>",
    )
    figure.add_hline(
        y=float(budget.amount),
        line_dash="dash",
        line_color=PALETTE[3],
        annotation_text=f"budget {money(budget.amount, budget.currency)}",
    )
    figure.update_xaxes(range=[first - timedelta(hours=12), last + timedelta(hours=12)])
    return _layout(
        figure,
        f"{budget.name}: {budget.scope.label()}, {budget.period} ({budget.timezone})",
        budget.currency,
    )
