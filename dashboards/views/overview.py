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

by = st.radio("Stack by", ["provider", "variant"], horizontal=True, key="overview_stack")
daily = queries.daily_spend(db, filters, by)
instant = queries.instant(db)
spent = queries.spend_by_currency(db, filters)
several = len(spent) > 1  # each currency totalled and forecast on its own, never added

ui.unpriced_warning(int(totals["unpriced_calls"]), no_usage=int(totals["no_usage_calls"]))
if several:
    st.info(
        "This selection was billed in "
        + ", ".join(each.currency for each in spent)
        + ": each currency's spend, forecast and savings are shown apart, never added.",
        icon=":material/currency_exchange:",
    )
# every call unpriced: the spend is unknown, not $0 (the warning above says why)
unknown = int(totals["unpriced_calls"]) == int(totals["calls"])
for each in spent:
    currency = each.currency
    outlook = queries.period_forecast(db, filters, instant.at, currency)
    suffix = f", {currency}" if several else ""
    first, second, third = st.columns(3)
    with first:
        ui.metric(f"Spend in period{suffix}", None if unknown else each.cost, currency)
    with second:
        ui.metric(
            f"Forecast to period end{suffix}",
            None if unknown else outlook.at_period_end,
            currency,
            f"The weekday-average forecast, the rule budgets use: {RULE} Judged at "
            f"{instant.label()}, as the Budgets page and `ratecard budgets check` are, on "
            f"{outlook.basis}: {figures.money(outlook.to_date, currency)} so far, "
            f"{figures.money(outlook.rest, currency)} expected for the rest of the period.",
        )
    with third:
        ui.metric(
            f"Cache savings{suffix}",
            None if unknown else each.cache_savings,
            currency,
            "What cached input would have cost at the input rate, minus what it cost.",
        )
first, second = st.columns(2)
with first:
    ui.count("Calls", int(totals["calls"]))
with second:
    failed = int(totals["failed_calls"])
    st.metric(
        "Failed calls (free)",
        f"{failed / int(totals['calls']):.1%}",
        help=f"{ui.plural(failed, 'failed call')}, kept and counted, billed at 0.",
    )

assert filters.start is not None and filters.end is not None  # the sidebar sets both
for each in spent:  # one chart per currency: a bar never stacks yen on dollars
    rows = daily if not several else daily[daily["currency"] == each.currency]
    rows = rows.groupby(["day", "series"], as_index=False)[["calls", "cost"]].sum()
    ui.chart(
        figures.spend_over_time(rows, each.currency, (filters.start, filters.end)),
        key=f"overview_daily_{each.currency}",
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
