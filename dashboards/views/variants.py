"""Variants: spend by variant, and what moving highspeed traffic to standard would save."""

from __future__ import annotations

from decimal import Decimal

import streamlit as st

from dashboards import comparison, figures, queries, ui

db, filters = ui.current()
st.title("Which variant pays off?")
spend = queries.spend_by(db, filters, ("provider", "canonical_model", "variant"))
spend = spend[spend["variant"].notna()]
if spend.empty:
    ui.empty()
    st.stop()

spend = spend.assign(
    label=spend["canonical_model"] + " · " + spend["variant"] + " @ " + spend["provider"]
)
currency = queries.totals(db, filters)["currency"] or "USD"
st.plotly_chart(
    figures.bars(spend, "label", "cost", "Spend by model variant", currency), width="stretch"
)
st.dataframe(
    spend.assign(cost=[figures.money(v, currency) for v in spend["cost"]])[
        ["provider", "canonical_model", "variant", "calls", "failed_calls", "cost"]
    ],
    hide_index=True,
    width="stretch",
)

st.subheader("What if highspeed traffic moved to the standard variant?")
fast = spend[spend["variant"] == "highspeed"]
if fast.empty:
    st.info("No highspeed traffic in this selection.", icon=":material/search:")
    st.stop()
choices = {
    f"{model} @ {provider}": (str(model), str(provider))
    for model, provider in zip(fast["canonical_model"], fast["provider"], strict=True)
}
model, provider = choices[st.selectbox("Highspeed traffic", list(choices), key="variants_choice")]
percent = st.slider(
    "Share moved to standard", 0, 100, 50, step=5, format="%d%%", key="variants_share"
)
rows = queries.repricing(db, filters, model, "highspeed", target_variant="standard")
move = comparison.variant_move(rows, provider, Decimal(percent) / 100)
if move is None:
    st.warning(f"{provider} has no standard price for {model}.", icon=":material/warning:")
    st.stop()
left, middle, right = st.columns(3)
with left:
    ui.metric("Moved traffic costs now", move.moved_cost_now, currency)
with middle:
    ui.metric("…at the standard variant", move.moved_cost_after, currency)
with right:
    ui.metric(
        "Saving",
        move.saving,
        currency,
        "Same calls, same tokens, priced at the standard variant's rates in force at "
        "each call's time.",
    )
if move.unpriced_calls:
    st.warning(
        f"{ui.plural(move.unpriced_calls, 'call')} have no standard price at their "
        "time and are left out.",
        icon=":material/warning:",
    )
