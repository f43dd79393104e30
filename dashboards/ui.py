"""Streamlit pieces every page shares: the warehouse path, the sidebar filters, money and
empty states. Pages only lay out; queries live in :mod:`dashboards.queries`."""

from __future__ import annotations

import os
from datetime import date, timedelta
from decimal import Decimal

import streamlit as st

from dashboards import queries
from dashboards.figures import money
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
    # by default the calendar month of the latest calls, so the overview can forecast its end
    default_start = options.last_day.replace(day=1)
    following = (default_start + timedelta(days=32)).replace(day=1)
    picked = st.sidebar.date_input(
        "Period (UTC days)",
        value=(default_start, following - timedelta(days=1)),
        min_value=options.first_day,
        max_value=options.last_day + timedelta(days=62),
        key="period",
    )
    days = list(picked) if isinstance(picked, tuple | list) else [picked]
    start: date = days[0] if days else default_start
    end: date = days[-1] if len(days) > 1 else start
    providers = st.sidebar.multiselect(
        "Providers", options.providers, key="providers", placeholder="All providers"
    )
    teams = st.sidebar.multiselect("Teams", options.teams, key="teams", placeholder="All teams")
    projects = st.sidebar.multiselect(
        "Projects", options.projects, key="projects", placeholder="All projects"
    )
    st.sidebar.caption(f"Warehouse: `{db}`  \nData from {options.first_day} to {options.last_day}.")
    return queries.Filters(start, end, tuple(providers), tuple(teams), tuple(projects))


def current() -> tuple[str, queries.Filters]:
    """The warehouse and filters the entry script set up for this run."""
    return st.session_state["db"], st.session_state["filters"]


def metric(label: str, amount: Decimal, currency: str | None, note: str = "") -> None:
    """An amount rounded for display, its exact value in the help tooltip."""
    st.metric(
        label, money(amount, currency), help=f"Exact: {plain(amount)} {currency or ''}. " + note
    )


def unpriced_warning(calls: int) -> None:
    if calls:
        st.warning(
            f"**{plural(calls, 'call')} in this selection {'has' if calls == 1 else 'have'} "
            "no price** (unknown model, provider or date): not in the amounts shown, and not "
            "counted as $0. See *Data quality*.",
            icon=":material/warning:",
        )


def plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}" + ("" if count == 1 else "s")


def empty(message: str = "No calls in this selection.") -> None:
    st.info(
        f"{message} Widen the period or clear a filter in the sidebar.", icon=":material/search:"
    )
