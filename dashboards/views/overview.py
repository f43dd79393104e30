"""Overview: what did we spend, how fast, and what did the cache save."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import streamlit as st

from dashboards import figures, queries, ui
from reports.forecast import forecast

db, filters = ui.current()
st.title("Spend overview")
totals = queries.totals(db, filters)
if totals["calls"] == 0:
    ui.empty()
    st.stop()

currency = totals["currency"] or "USD"
by = st.radio("Stack by", ["provider", "variant"], horizontal=True, key="overview_stack")
daily = queries.daily_spend(db, filters, by)
per_day: dict[date, Decimal] = {}
for day, cost in zip(daily["day"], daily["cost"], strict=True):
    per_day[day] = per_day.get(day, Decimal(0)) + cost
assert filters.start is not None and filters.end is not None
outlook = forecast(per_day, filters.start, filters.end, as_of=totals["last_day"])

ui.unpriced_warning(int(totals["unpriced_calls"]))
first, second, third, fourth, fifth = st.columns(5)
with first:
    ui.metric("Spend in period", totals["cost"], currency)
with second:
    ui.metric(
        "Forecast to period end",
        outlook.at_period_end,
        currency,
        f"Spend to {totals['last_day']} plus the last 7 days' average "
        f"({figures.money(outlook.daily_rate, currency)}/day) for {outlook.days_left} more days.",
    )
with third:
    st.metric("Calls", f"{int(totals['calls']):,}")
with fourth:
    failed = int(totals["failed_calls"])
    st.metric(
        "Failed calls (free)",
        f"{failed / int(totals['calls']):.1%}",
        help=f"{failed:,} failed calls, kept and counted, billed at 0.",
    )
with fifth:
    ui.metric(
        "Cache savings",
        totals["cache_savings"],
        currency,
        "What cached input would have cost at the input rate, minus what it cost.",
    )

st.plotly_chart(figures.spend_over_time(daily, currency), width="stretch")
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
    column.metric(label, f"{int(totals[key]):,}")
