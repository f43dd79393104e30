"""The ratecard dashboard: navigation and the filters every page shares.

Run it with ``ratecard dashboard`` (``--db`` picks the warehouse). This script runs before
every page, so the sidebar filters it draws keep their values from page to page. The pages
live in ``views/``: a folder named ``pages/`` would make Streamlit serve them on their own,
without this script.
"""

from __future__ import annotations

import streamlit as st

from dashboards import queries, ui
from warehouse import WarehouseLocked

st.set_page_config(page_title="ratecard", page_icon="💲", layout="wide")

PAGES = [
    # the default page is served at "/"
    st.Page("views/overview.py", title="Overview", icon=":material/insights:", default=True),
    st.Page(
        "views/compare.py", title="Compare providers", icon=":material/balance:", url_path="compare"
    ),
    st.Page("views/variants.py", title="Variants", icon=":material/speed:", url_path="variants"),
    st.Page("views/teams.py", title="Teams", icon=":material/groups:", url_path="teams"),
    st.Page("views/budgets.py", title="Budgets", icon=":material/savings:", url_path="budgets"),
    st.Page("views/quality.py", title="Data quality", icon=":material/rule:", url_path="quality"),
]

navigation = st.navigation(PAGES)
db = ui.warehouse_path()
busy = st.empty()  # while an ingest holds the warehouse, this render waits and says so


def _busy(message: str) -> None:
    busy.warning(f"Warehouse busy, retrying: {message}", icon=":material/hourglass_top:")


try:
    # one warehouse connection for all of this render's queries
    with queries.session(on_busy=_busy):
        filters = ui.sidebar(db)
        if filters is None:
            st.stop()
        st.session_state["db"] = db
        st.session_state["filters"] = filters
        navigation.run()
except WarehouseLocked as exc:  # the writer outlasted the wait: say who, not a traceback
    st.error(f"{exc}")
finally:
    busy.empty()
