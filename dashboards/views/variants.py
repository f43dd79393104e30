"""Variants: spend by variant, and what moving highspeed traffic to standard would save."""

from __future__ import annotations

from decimal import Decimal

import streamlit as st

from dashboards import comparison, figures, queries, ui
from reports.compare import STANDARD
from reports.money import plain
from warehouse import RatecardError

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
currencies = queries.currencies(db, filters)
several = len(currencies) > 1
aligned = {
    name: st.column_config.TextColumn(name, alignment="right")
    for name in comparison.RIGHT_ALIGNED | {"Failed calls (free)"}
}
for currency, shown_rows in figures.by_currency(spend, currencies):
    if currency is None:
        continue  # a variant is known only from a price: every row here has a currency
    # each currency its own chart, table and total: amounts in two are never added
    title = f"Spend by model variant, {currency}" if several else "Spend by model variant"
    ui.chart(
        figures.bars(shown_rows, "label", "cost", title, currency), key=f"variants_chart_{currency}"
    )
    st.dataframe(
        comparison.variant_spend_table(shown_rows, currency),
        hide_index=True,
        width="stretch",
        height="content",
        column_config=aligned,
        key=f"variants_table_{currency}",
    )

st.subheader(f"What if highspeed traffic moved to the {STANDARD} variant?")
fast = spend[spend["variant"] == "highspeed"]
if fast.empty:
    st.info("No highspeed traffic in this selection.", icon=":material/search:")
    st.stop()
choices = {
    f"{model} @ {provider}" + (f" ({code})" if several else ""): (str(model), str(provider), code)
    for model, provider, code in zip(
        fast["canonical_model"], fast["provider"], fast["currency"], strict=True
    )
}
choice = st.selectbox("Highspeed traffic", list(choices), key="variants_choice")
model, provider, currency = choices[choice]
percent = st.slider(
    f"Share moved to {STANDARD}", 0, 100, 50, step=5, format="%d%%", key="variants_share"
)
try:
    rows = queries.repricing(db, filters, model, "highspeed", target_variant=STANDARD)
except RatecardError as exc:
    st.error(f"{exc}", icon=":material/error:")
    st.stop()
move = comparison.variant_move(rows, provider, Decimal(percent) / 100, currency)
if move is None:
    st.warning(
        f"{provider} has no {STANDARD} price for {model} in {currency}.",
        icon=":material/warning:",
    )
    st.stop()
shown = comparison.move_figures(move, "highspeed", STANDARD, currency)
left, middle, right = st.columns(3)
with left:
    ui.metric(
        "Highspeed spend now",
        move.cost_now,
        currency,
        f"{ui.plural(move.calls, 'call')} of {model} at {provider} on highspeed, as billed.",
    )
with middle:
    ui.metric(
        f"After moving {percent}% to {STANDARD}",
        move.cost_after,
        currency,
        f"The {100 - percent}% that stays, as billed, plus the {percent}% that moves, priced "
        f"at {provider}'s {STANDARD} rates in force at each call's time (same calls, same "
        "tokens).",
    )
with right:
    st.metric(
        "Saving",
        figures.money(shown.saving, currency),
        help=f"Spend now minus after the move, as shown. Exact: {plain(move.saving)} {currency}.",
    )
st.dataframe(shown.table, hide_index=True, width="stretch", height="content", column_config=aligned)
st.caption(
    "Each amount is rounded half-up to its currency's minor unit; a rounding residue line, "
    "when there is one, makes the rounded lines add up to the rounded total. Amounts in two "
    "currencies are never added."
)
if move.unpriced_calls:
    st.warning(
        f"{ui.plural(move.unpriced_calls, 'call')} have no {STANDARD} price at their "
        "time and are left out.",
        icon=":material/warning:",
    )
