"""Teams: spend by team, then project, then key, with the table shown as CSV."""

from __future__ import annotations

import dataclasses

import streamlit as st

from dashboards import figures, queries, ui
from reports.money import round_cents
from reports.spreadsheet import neutral

db, filters = ui.current()
st.title("Spend by team, project and key")
teams = queries.spend_by(db, filters, ("team",))
if teams.empty:
    ui.empty()
    st.stop()
currency = queries.totals(db, filters)["currency"] or "USD"

team_names = [str(t) for t in teams["team"].dropna()]
left, right = st.columns(2)
team = left.selectbox("Team", ["All teams", *team_names], key="drill_team")
scope, level, table = filters, "team", teams
project = "All projects"
if team != "All teams":
    scope = dataclasses.replace(filters, teams=(team,))
    table, level = queries.spend_by(db, scope, ("project",)), "project"
    projects = [str(p) for p in table["project"].dropna()]
    project = right.selectbox("Project", ["All projects", *projects], key="drill_project")
    if project != "All projects":
        scope = dataclasses.replace(scope, projects=(project,))
        table, level = queries.spend_by(db, scope, ("api_key_id",)), "api_key_id"

st.plotly_chart(
    figures.bars(
        table.fillna({level: "(none)"}),
        level,
        "cost",
        f"Spend by {level.replace('_id', '')}",
        currency,
    ),
    width="stretch",
)
# cost stays a number (rounded to the cent for display) so that sorting by it works
shown = table.assign(
    cost=table["cost"].map(round_cents),
    failed_share=[
        f"{f / c:.1%}" if c else ""
        for f, c in zip(table["failed_calls"], table["calls"], strict=True)
    ],
).rename(columns={"cost": f"cost ({currency})"})
st.dataframe(shown, hide_index=True, width="stretch")
# the download carries the exact amounts, not the rounded display
st.download_button(
    "Download this table (CSV, exact amounts)",
    # no text runs as a formula; CRLF row ends, so that pandas quotes a text holding a CR
    table.map(neutral).to_csv(index=False, lineterminator="\r\n").encode("utf-8"),
    file_name=f"spend_by_{level}.csv",
    mime="text/csv",
    key="teams_download",
)
