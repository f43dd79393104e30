"""Teams: spend by team, project or key within the sidebar's selection, with the table as
CSV. The sidebar's Teams and Projects filters narrow it; this page only picks the level."""

from __future__ import annotations

import streamlit as st

from dashboards import figures, queries, ui
from reports.dimensions import label as group_label

LEVELS = {
    "Team": ("team",),
    "Project": ("team", "project"),
    "API key": ("team", "project", "api_key_id"),
}
# what the table shows of each level's groups: at the key level team and project share a
# column, so that the table fits the page
SHOWN = {
    "Team": ("team",),
    "Project": ("team", "project"),
    "API key": ("team_project", "api_key_id"),
}
TITLES = {"Team": "team", "Project": "project", "API key": "API key"}

db, filters = ui.current()
st.title("Spend by team, project and key")
level = st.radio("Spend by", list(LEVELS), horizontal=True, key="teams_level")
dimensions = LEVELS[level]
table = queries.spend_by(db, filters, dimensions)
if table.empty:
    ui.empty()
    st.stop()
currencies = queries.currencies(db, filters)


def joined(columns: tuple[str, ...]) -> list[str]:
    return [
        " · ".join(group_label(v) for v in row)
        for row in zip(*(table[c] for c in columns), strict=True)
    ]


labelled = table.assign(
    label=joined(dimensions),
    team_project=joined(("team", "project")) if len(dimensions) > 1 else None,
    failed_share=[
        100 * f / c if c else float("nan")
        for f, c in zip(table["failed_calls"], table["calls"], strict=True)
    ],
)
for currency, rows in figures.by_currency(labelled, currencies):
    # each currency its own chart and table: amounts in two currencies are never added
    if len(currencies) > 1:
        st.subheader(f"Billed in {currency}" if currency else "No price, so no currency")
    if currency is not None:
        ui.chart(
            figures.bars(rows, "label", "cost", f"Spend by {TITLES[level]}", currency),
            key=f"teams_chart_{currency}",
        )
    ui.table(
        figures.table(
            rows,
            [
                *SHOWN[level],
                "cost",
                "calls",
                "failed_share",
                "unpriced_calls",
                "input_tokens",
                "cache_read_tokens",
                "output_tokens",
            ],
            currency,
        ),
        key=f"teams_table_{currency}",
    )
st.download_button(
    "Download this table (CSV, exact amounts)",
    figures.csv_bytes(table),
    file_name=f"spend_by_{dimensions[-1]}.csv",
    mime="text/csv",
    key="teams_download",
)
