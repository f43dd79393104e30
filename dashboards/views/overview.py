"""Overview: what did we spend, how fast, and what did the cache save."""

from __future__ import annotations

import streamlit as st

from dashboards import figures, queries, ui
from reports.forecast import RULE

db, filters = ui.current()
st.title("Spend overview")
totals = queries.totals(db, filters)
if totals["calls"] == 0:
    ui.empty()
    st.stop()

currency = totals["currency"] or "USD"
by = st.radio("Stack by", ["provider", "variant"], horizontal=True, key="overview_stack")
daily = queries.daily_spend(db, filters, by)
instant = queries.instant(db)
outlook = queries.period_forecast(db, filters, instant.at)

ui.unpriced_warning(int(totals["unpriced_calls"]), no_usage=int(totals["no_usage_calls"]))
first, second, third, fourth, fifth = st.columns(5)
with first:
    ui.metric("Spend in period", totals["cost"], currency)
with second:
    ui.metric(
        "Forecast to period end",
        outlook.at_period_end,
        currency,
        f"The weekday-average forecast, the rule budgets use: {RULE} Judged at "
        f"{instant.label()}, as the Budgets page and `ratecard budgets check` are, on "
        f"{outlook.basis}: {figures.money(outlook.to_date, currency)} so far, "
        f"{figures.money(outlook.rest, currency)} expected for the rest of the period.",
    )
with third:
    ui.count("Calls", int(totals["calls"]))
with fourth:
    failed = int(totals["failed_calls"])
    st.metric(
        "Failed calls (free)",
        f"{failed / int(totals['calls']):.1%}",
        help=f"{ui.plural(failed, 'failed call')}, kept and counted, billed at 0.",
    )
with fifth:
    ui.metric(
        "Cache savings",
        totals["cache_savings"],
        currency,
        "What cached input would have cost at the input rate, minus what it cost.",
    )

assert filters.start is not None and filters.end is not None  # the sidebar sets both
st.plotly_chart(
    figures.spend_over_time(daily, currency, (filters.start, filters.end)), width="stretch"
)
tokens = st.columns(4)
for column, (label, key) in zip(
    tokens,
    [
        ("Input tokens", "input_tokens"),
        ("of which cached", "cache_read_tokens"),
        ("Output tokens", "output_tokens"),
        ("of which reasoning", "reasoning_tokens"),
    ],
    strict=True,
):
    with column:
        ui.count(label, int(totals[key]))
