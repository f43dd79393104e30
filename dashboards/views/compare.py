"""Compare providers: the same calls priced at every provider that sells the model."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
import streamlit as st

from dashboards import figures, queries, ui
from reports import compare

db, filters = ui.current()
st.title("Where should we buy?")
st.caption(
    "The selection's calls of one model, priced at each provider with that provider's unit, "
    "tiers, cache and failure rules and the prices in force at each call's time."
)
models = list(queries.options(db).canonical_models)
if not models:
    ui.empty("No priced calls to compare.")
    st.stop()
left, right = st.columns([2, 3])
canonical = left.selectbox(
    "Model",
    models,
    index=models.index("minimax-m3") if "minimax-m3" in models else 0,
    key="compare_model",
)
share = None
if right.toggle("What if the cache-hit rate were…", key="compare_what_if"):
    percent = right.slider(
        "Share of input tokens read from the cache",
        0,
        100,
        50,
        step=5,
        format="%d%%",
        key="compare_cache_share",
    )
    share = Decimal(percent) / 100

quotes = compare.quotes(queries.repricing(db, filters, canonical, cache_share=share))
if not quotes or not any(q.calls for q in quotes):
    ui.empty(f"No priced {canonical} calls in this selection.")
    st.stop()
currency = next((q.currency for q in quotes if q.currency), "USD")
table = pd.DataFrame(
    [
        {
            "provider": f"{q.provider} (cheapest)" if q.cheapest else q.provider,
            "actual": figures.money(q.actual_cost, currency),
            "repriced": figures.money(q.repriced_cost, currency),
            "difference": figures.money(q.difference, currency),
            "difference %": "—"
            if q.difference_percent is None
            else f"{q.difference_percent:+.1f}%",
            "calls without a price": f"{q.unpriced_calls:,}" if q.unpriced_calls else "",
        }
        for q in quotes
    ]
)
st.dataframe(table, hide_index=True, width="stretch")
for quote in quotes:
    if quote.unpriced_calls:
        st.warning(
            f"{quote.provider} has no price for {ui.plural(quote.unpriced_calls, 'call')} of "
            f"{quote.calls:,} (their time or size): its total covers only the rest, so it is "
            "not ranked.",
            icon=":material/warning:",
        )
if share is not None:
    st.info(
        f"What-if: {share:.0%} of every call's input read from the cache. *Actual* is "
        "what the calls really cost.",
        icon=":material/calculate:",
    )
st.plotly_chart(figures.comparison(quotes, currency), width="stretch")
