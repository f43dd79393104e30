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
    no_usage = int(unpriced["calls"][unpriced["no_usage"]].sum())
    ui.unpriced_warning(int(unpriced["calls"].sum()), no_usage=no_usage)
    ui.no_usage_explained(no_usage)
    ui.table(figures.table(unpriced, ["provider", "model", "reason", "calls"]), wrap=True)

st.subheader("Quarantined records (all ingests)")
reasons = queries.quarantine_reasons(db)
if reasons.empty:
    st.success("No record has been quarantined.", icon=":material/check_circle:")
else:
    ui.chart(figures.counts(reasons, "reason", "records", "Quarantined records by reason"))
    ui.table(figures.table(figures.examples(reasons), ["reason", "records", "example"]), wrap=True)

st.subheader("Ingests: the latest run of each source")
runs = queries.ingests(db)
usage = runs[runs["kind"] == "usage"]
if not usage.empty:
    ui.chart(figures.ingest_outcomes(usage))
sources = figures.short_sources(runs["source"])
st.caption(
    "Read = loaded + duplicates + quarantined, for every run."
    + (f" Sources under `{sources.folder}`." if sources.folder else "")
)
ui.table(
    figures.table(
        runs.assign(
            source=sources.names,
            kind=[f"{k}, {f}" for k, f in zip(runs["kind"], runs["format"], strict=True)],
        ),
        [
            "source",
            "kind",
            "last_ingest",
            "records_read",
            "loaded",
            "duplicates",
            "quarantined",
            "runs",
        ],
    ),
    wrap=True,
)
