"""Data quality: what could not be loaded, what was loaded twice, what has no price."""

from __future__ import annotations

import streamlit as st

from dashboards import figures, queries, ui

db, filters = ui.current()
st.title("Data quality")

st.subheader("Calls without a price (in the selection)")
unpriced = queries.unpriced(db, filters)
if unpriced.empty:
    st.success("Every call in the selection has a price.", icon=":material/check_circle:")
else:
    ui.unpriced_warning(int(unpriced["calls"].sum()))
    st.dataframe(unpriced, hide_index=True, width="stretch")

st.subheader("Quarantined records (all ingests)")
reasons = queries.quarantine_reasons(db)
if reasons.empty:
    st.success("No record has been quarantined.", icon=":material/check_circle:")
else:
    st.plotly_chart(
        figures.counts(reasons, "reason", "records", "Quarantined records by reason"),
        width="stretch",
    )
    st.dataframe(reasons, hide_index=True, width="stretch")

st.subheader("Ingests: the latest run of each source")
runs = queries.ingests(db)
usage = runs[runs["kind"] == "usage"]
if not usage.empty:
    st.plotly_chart(figures.ingest_outcomes(usage), width="stretch")
st.caption("read = loaded + duplicates + quarantined, for every run.")
st.dataframe(runs, hide_index=True, width="stretch")
