"""Teams: spend by team, project or key within the sidebar's selection, with the table as
CSV. The sidebar's Teams and Projects filters narrow it; this page only picks the level."""

from __future__ import annotations

import streamlit as st

from dashboards import figures, queries, ui

LEVELS = {
    "Team": ("team",),
    "Project": ("team", "project"),
    "API key": ("team", "project", "api_key_id"),
}

db, filters = ui.current()
st.title("Spend by team, project and key")
level = st.radio("Spend by", list(LEVELS), horizontal=True, key="teams_level")
dimensions = LEVELS[level]
table = queries.spend_by(db, filters, dimensions)
if table.empty:
    ui.empty()
    st.stop()
currency = queries.totals(db, filters)["currency"] or "USD"

labelled = table.assign(
    label=[
        " · ".join("(none)" if v is None else str(v) for v in row)
        for row in zip(*(table[d] for d in dimensions), strict=True)
    ],
    failed_share=[
        100 * f / c if c else float("nan")
        for f, c in zip(table["failed_calls"], table["calls"], strict=True)
    ],
)
st.plotly_chart(
    figures.bars(labelled, "label", "cost", f"Spend by {level.lower()}", currency),
    width="stretch",
)
ui.table(
    figures.table(
        labelled,
        [
            *dimensions,
            "calls",
            "failed_share",
            "unpriced_calls",
            "input_tokens",
            "cache_read_tokens",
            "output_tokens",
            "cost",
        ],
        currency,
    )
)
st.download_button(
    "Download this table (CSV, exact amounts)",
    figures.csv_bytes(table),
    file_name=f"spend_by_{dimensions[-1]}.csv",
    mime="text/csv",
    key="teams_download",
)
