"""Budgets: each budget's burn-down over its period, with its forecast and state."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import streamlit as st

from dashboards import figures, queries, ui
from reports.forecast import RULE

db, _ = ui.current()
st.title("Budgets")
path = ui.budgets_path()
view = queries.budget_statuses(db, path)
if view.error:
    st.info(
        f"{view.error}  \nDeclare budgets in a YAML file (see `data/budgets.yml`) and point "
        "`ratecard dashboard --budgets FILE` at it.",
        icon=":material/savings:",
    )
    st.stop()
if view.instant is None or not view.statuses:
    ui.empty("No calls yet to check budgets against.")
    st.stop()
st.caption(
    f"Judged at {view.instant.label()}, the instant `ratecard budgets check` uses without "
    f"`--as-of`. Budgets from `{path}`: each follows its own scope, period and time zone, "
    "not the sidebar's filters. `ratecard budgets check --notify` sends the alerts."
)
for status in view.statuses:
    budget = status.budget
    amount = figures.money(budget.amount, budget.currency)
    last_day = (status.period.end.astimezone(ZoneInfo(budget.timezone)) - timedelta(days=1)).date()
    st.subheader(budget.name)
    if status.exceeded:
        st.error(
            f"Exceeded: {figures.money(status.spend, budget.currency)} spent, "
            f"{status.percent:.1f}% of the {amount} budget.",
            icon=":material/error:",
        )
    elif status.forecast_to_exceed:
        st.warning(
            f"Forecast to exceed: {figures.money(status.forecast, budget.currency)} expected by "
            f"the end of {last_day}, above the {amount} budget.",
            icon=":material/trending_up:",
        )
    left, middle, right = st.columns(3)
    with left:
        ui.metric("Spent this period", status.spend, budget.currency)
    with middle:
        ui.metric(
            "Forecast to period end",
            status.forecast,
            budget.currency,
            f"The weekday-average forecast, the rule the Overview uses: {RULE} Here on "
            f"{status.basis}.",
        )
    with right:
        st.metric("Budget", amount)
        st.caption(f"State: **{status.state}** — {status.percent:.1f}% spent")
    ui.unpriced_warning(status.unpriced_calls, "in this budget's scope this period")
    ui.chart(figures.burn_down(status), key=f"burn_{budget.name}")
