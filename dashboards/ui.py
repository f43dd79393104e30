"""Streamlit pieces every page shares: the warehouse path, the sidebar filters, money and
empty states. Pages only lay out; queries live in :mod:`dashboards.queries`."""

from __future__ import annotations

import os
from datetime import date
from decimal import Decimal
from typing import Any

import streamlit as st

from dashboards import queries
from dashboards.figures import Chart, Table, money, number_format, vega_lite
from reports.money import plain
from warehouse import RatecardError

DEFAULT_DB = "data/warehouse/ratecard.duckdb"
DEFAULT_BUDGETS = "data/budgets.yml"


def warehouse_path() -> str:
    """The warehouse to show: RATECARD_DB (``ratecard dashboard --db`` sets it) or the default."""
    return os.environ.get("RATECARD_DB", DEFAULT_DB)


def budgets_path() -> str:
    """The budgets file: RATECARD_BUDGETS (``ratecard dashboard --budgets`` sets it)."""
    return os.environ.get("RATECARD_BUDGETS", DEFAULT_BUDGETS)


def sidebar(db: str) -> queries.Filters | None:
    """The period, provider, team and project filters; None when there is nothing to show.

    The widgets live in the app's entry script, so their state carries across pages.
    """
    try:
        options = queries.options(db)
    except RatecardError as exc:
        st.error(f"{exc}")
        return None
    if options.first_day is None or options.last_day is None:
        st.info(
            "The warehouse has no billed calls yet. Load some with `ratecard ingest prices` "
            "and `ratecard ingest usage`, or run `ratecard demo`."
        )
        return None
    st.sidebar.header("Filters")
    # the calendar month of the latest calls by default, so the overview can forecast its
    # end; a value kept from before a new ingest that no longer fits is replaced, never
    # handed to the widget (Streamlit raises on a value outside its bounds)
    low, high = options.bounds()
    st.session_state["period"] = options.period(
        st.session_state.get("period"), st.session_state.get("period_default")
    )
    st.session_state["period_default"] = options.default_period()
    picked = st.sidebar.date_input(
        "Period (UTC days)",
        min_value=low,
        max_value=high,
        key="period",
        help="By default the calendar month of the latest call. Budgets follow their own "
        "periods, not this one.",
    )
    days = list(picked) if isinstance(picked, tuple | list) else [picked]
    start: date = days[0] if days else options.default_period()[0]
    end: date = days[-1] if len(days) > 1 else start
    for name, values in (
        ("providers", options.providers),
        ("teams", options.teams),
        ("projects", options.projects),
    ):  # a pick from before a new ingest that the data no longer has is dropped
        if name in st.session_state:
            st.session_state[name] = [v for v in st.session_state[name] if v in values]
    providers = st.sidebar.multiselect(
        "Providers", options.providers, key="providers", placeholder="All providers"
    )
    teams = st.sidebar.multiselect("Teams", options.teams, key="teams", placeholder="All teams")
    projects = st.sidebar.multiselect(
        "Projects", options.projects, key="projects", placeholder="All projects"
    )
    lake = os.environ.get("RATECARD_DASHBOARD_LAKE")  # `ratecard dashboard --lake` sets it
    source = f"Lake: `{lake}`" if lake else f"Warehouse: `{db}`"
    st.sidebar.caption(f"{source}  \nData from {options.first_day} to {options.last_day}.")
    return queries.Filters(start, end, tuple(providers), tuple(teams), tuple(projects))


def current() -> tuple[str, queries.Filters]:
    """The warehouse and filters the entry script set up for this run."""
    return st.session_state["db"], st.session_state["filters"]


UNKNOWN = "No call in this selection has a price: the amount is unknown, never $0."


def metric(label: str, amount: Decimal | None, currency: str | None, note: str = "") -> None:
    """An amount rounded for display, its exact value in the help tooltip; None (no call
    priced) as "—", said to be unknown."""
    if amount is None:
        st.metric(label, money(None, currency), help=UNKNOWN)
        return
    exact = f"Exact: {plain(amount)} {currency or ''}".rstrip() + "."
    st.metric(label, money(amount, currency), help=f"{exact} {note}".rstrip())


def count(label: str, value: int, note: str | None = None) -> None:
    """A count with thousands separators."""
    st.metric(label, f"{value:,}", help=note)


def chart(figure: Chart, *, key: str | None = None) -> None:
    """A figure of dashboards/figures.py at the page's width (its spec unchecked here: the
    tests check every figure's, :func:`figures.vega_lite`)."""
    st.vega_lite_chart(spec=vega_lite(figure), width="stretch", key=key)


def table(shown: Table, *, key: str | None = None, wrap: bool | None = None) -> None:
    """A table from :func:`dashboards.figures.table`: each column formatted by its kind, as
    wide as the page; ``wrap`` gives rows room for three lines of long text (by default when
    a column of fixed width holds text longer than one line)."""
    if wrap is None:
        wrap = shown.long_text
    config: dict[str, Any] = {}
    for label, column in shown.columns.items():
        if column.kind in ("count", "money", "percent"):
            config[label] = st.column_config.NumberColumn(
                label, format=number_format(column.kind, shown.currency), help=column.help
            )
        elif column.kind == "time":
            config[label] = st.column_config.DatetimeColumn(
                label, format="YYYY-MM-DD HH:mm", help=column.help
            )
        else:
            config[label] = st.column_config.TextColumn(label, help=column.help, width=column.width)
    st.dataframe(
        shown.frame,
        hide_index=True,
        width="stretch",
        column_config=config,
        row_height=72 if wrap else None,
        key=key,
    )


def unpriced_warning(
    calls: int, where: str = "in this selection", no_usage: int | None = None
) -> None:
    """Say that ``calls`` calls have no price (``where``: which calls these are), and why:
    ``no_usage`` of them are successful calls whose log carries no token usage (None: not
    counted here, so either reason may apply)."""
    if not calls:
        return
    why = "unknown model, provider or date"
    if no_usage is None:
        why += ", or a successful call whose log carries no token usage"
    elif no_usage == calls:
        why = NO_USAGE_WHY
    elif no_usage:
        why = f"{no_usage:,} {NO_USAGE_WHY}; the others: {why}"
    st.warning(
        f"**{plural(calls, 'call')} {where} {'has' if calls == 1 else 'have'} no price** "
        f"({why}): not in the amounts shown, and not counted as $0. See *Data quality*.",
        icon=":material/warning:",
    )


NO_USAGE_WHY = (
    "successful, so charged by the gateway, but their logs carry no token usage, so what "
    "they cost cannot be told"
)
"""What happened to a call without usage (ingest.usage.NO_USAGE), said on every page."""


def no_usage_explained(calls: int) -> None:
    """Say what happened to ``calls`` successful calls without usage and how to get it."""
    if calls:
        st.info(
            f"**{plural(calls, 'successful call')} without token usage.** "
            f"{'It' if calls == 1 else 'They'} succeeded and the gateway charged "
            f"{'it' if calls == 1 else 'them'}, but the log holds no token counts, so "
            "ratecard cannot price them (never $0). This is usually a streamed call whose "
            'client did not ask for usage: send `stream_options: {"include_usage": true}` '
            "with OpenAI-style chat streams (the SDKs leave it off), `includeUsage: true` in a "
            "Runware task; the reason column says what each call needs. Calls logged after "
            "that carry usage and are billed.",
            icon=":material/info:",
        )


def plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}" + ("" if count == 1 else "s")


def empty(message: str = "No calls in this selection.") -> None:
    st.info(
        f"{message} Widen the period or clear a filter in the sidebar.", icon=":material/search:"
    )
