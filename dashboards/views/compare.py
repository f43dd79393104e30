"""Compare providers: the selection's calls of one model, variant by variant, priced at every
provider that sells it, and highspeed traffic at the standard variant too."""

from __future__ import annotations

from decimal import Decimal

import streamlit as st

from dashboards import comparison, figures, queries, ui
from reports import compare
from warehouse import RatecardError

db, filters = ui.current()
st.title("Where should we buy?")
st.caption(
    "The selection's calls of one model, priced at each provider with that provider's unit, "
    "tiers, cache and failure rules and the prices in force at each call's time: each "
    "variant the calls ran on at that variant, and the other variants at standard too."
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

without_usage = queries.calls_without_usage(db, filters, canonical)
if without_usage:
    st.warning(compare.without_usage_note(without_usage, canonical), icon=":material/warning:")
try:
    compared = queries.comparisons(db, filters, canonical, share)
except RatecardError as exc:
    st.error(f"{exc}", icon=":material/error:")
    st.stop()
if not compared:
    ui.empty(f"No priced {canonical} calls in this selection.")
    st.stop()

aligned = {
    name: st.column_config.TextColumn(name, alignment="right") for name in comparison.RIGHT_ALIGNED
}
lines = compare.spend(compared)
spent = sorted({line.currency or "USD" for line in lines})  # each totalled on its own
columns = st.columns(len(spent) + 1)
for column, code in zip(columns, spent, strict=False):
    with column:
        ui.metric(
            f"Spend on {canonical}" + (f", {code}" if len(spent) > 1 else ""),
            sum((line.cost for line in lines if (line.currency or "USD") == code), Decimal(0)),
            code,
            "What these calls cost where they ran: the same calls and amount as Overview and "
            "Teams show for this model in this selection.",
        )
with columns[-1]:
    st.metric("Calls", f"{sum(line.calls for line in lines):,}")
st.dataframe(
    comparison.spend_table(lines),
    hide_index=True,
    width="stretch",
    height="content",
    column_config=aligned,
)
if share is not None:
    st.info(
        f"What-if: {share:.0%} of every call's input read from the cache, at every provider. "
        "*Cost where they ran* is what the calls really cost.",
        icon=":material/calculate:",
    )

for (variant, currency), group in comparison.by_variant(compared).items():
    traffic = group[0]
    billed = f" billed in {currency}" if len(spent) > 1 and currency else ""
    st.subheader(
        f"{variant.capitalize()} traffic{billed}: {ui.plural(traffic.calls, 'call')}, "
        f"{figures.money(traffic.actual_cost, currency)} where they ran"
    )
    for each in group:
        st.markdown(
            f"**At the {each.target_variant} variant, if it moved there**"
            if each.what_if
            else f"**At the {each.target_variant} variant, as they ran**"
        )
        st.dataframe(
            comparison.quote_table(each),
            hide_index=True,
            width="stretch",
            height="content",
            column_config=aligned,
        )
        for quote in each.quotes:
            if quote.unpriced_calls:
                st.warning(
                    f"{quote.provider} has no {each.target_variant} price for "
                    f"{ui.plural(quote.unpriced_calls, 'call')} of {quote.calls:,} (their "
                    "time or size): its amounts cover only the rest, so it is not ranked.",
                    icon=":material/warning:",
                )
    ui.chart(figures.comparison(group, currency), key=f"compare_chart_{variant}_{currency}")
st.caption(compare.QUOTE_NOTE + " Amounts rounded half-up to their currency's minor unit.")
