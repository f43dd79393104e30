"""Streamlit's command line with the dashboard's modules loaded first (ADR 0074):
``python -m dashboards.serve run APP ARGS…``, which ``ratecard dashboard`` runs.

Streamlit imports what a page script imports when the first browser session runs it, so
without this the first visitor waits while pandas, DuckDB, plotly and ratecard's own modules
load and plotly builds its first figure. Here they load before the server listens, once per
server: its health check answers only when they are ready, and every session after that,
the first included, finds them in ``sys.modules``. Nothing is read from the warehouse here.
"""

from __future__ import annotations

import sys

import plotly.graph_objects as go
from streamlit.web.cli import main

# what the app and its pages import (dashboards/app.py, dashboards/views/*.py)
from dashboards import comparison, figures, queries, ui  # noqa: F401
from reports import compare, forecast  # noqa: F401


def warm_plotly() -> None:
    """Build and serialise one figure with every kind of trace and shape the pages draw
    (dashboards/figures.py), so that plotly's validators for them are loaded."""
    figure = go.Figure()
    figure.add_bar(x=["a"], y=[1])
    figure.add_scatter(x=["a"], y=[1])
    figure.add_hline(y=1)
    figure.update_layout(barmode="stack")
    figure.update_xaxes(type="category")
    figure.update_yaxes(range=[0, 1])
    figure.to_json()


if __name__ == "__main__":
    warm_plotly()
    # the same program name as ``python -m streamlit``, so Streamlit sees its own command line
    sys.exit(main(prog_name="streamlit"))
