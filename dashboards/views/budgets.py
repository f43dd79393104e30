"""Budgets: each budget's burn-down over its period, with its forecast and state."""

from __future__ import annotations

import streamlit as st

from dashboards import figures, queries, ui

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
if view.as_of is None or not view.statuses:
    ui.empty("No calls yet to check budgets against.")
    st.stop()
st.caption(
    f"As of the latest call in the warehouse, {view.as_of:%Y-%m-%d %H:%M} UTC; budgets from "
    f"`{path}`. These charts follow each budget's own scope and period, not the sidebar's "
    "filters. `ratecard budgets check --notify` sends the alerts."
)
for status in view.statuses:
    budget = status.budget
    st.subheader(budget.name)
    state = status.state
    if status.exceeded:
        st.error(f"Exceeded: {status.percent:.1f}% of the budget spent.", icon=":material/error:")
    elif status.forecast_to_exceed:
        st.warning(f"Forecast to exceed: {state}.", icon=":material/trending_up:")
    left, middle, right = st.columns(3)
    with left:
        ui.metric("Spent this period", status.spend, budget.currency)
    with middle:
        ui.metric(
            "Forecast to period end",
            status.forecast,
            budget.currency,
            "Spend so far plus each remaining day at its weekday's average over the last 28 days.",
        )
    with right:
        st.metric("Budget", figures.money(budget.amount, budget.currency))
        st.caption(f"State: **{state}** — {status.percent:.1f}% spent")
    if status.unpriced_calls:
        ui.unpriced_warning(status.unpriced_calls)
    st.plotly_chart(figures.burn_down(status), width="stretch", key=f"burn_{budget.name}")
