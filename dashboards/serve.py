"""Streamlit's command line with the dashboard's modules loaded first (ADR 0074):
``python -m dashboards.serve run APP ARGS…``, which ``ratecard dashboard`` runs.

Streamlit imports what a page script imports when the first browser session runs it, so
without this the first visitor waits while pandas, DuckDB, Altair and ratecard's own modules
load and Altair builds its first chart. Here they load
before the server listens, once per server: its health check answers only when they are
ready, and every session after that, the first included, finds them in ``sys.modules``.
Nothing is read from the warehouse here.
"""

from __future__ import annotations

import sys

import altair as alt
import pandas as pd
from streamlit.web.cli import main

# what the app and its pages import (dashboards/app.py, dashboards/views/*.py)
from dashboards import comparison, figures, queries, ui  # noqa: F401
from reports import compare, forecast  # noqa: F401


def warm_altair() -> None:
    """Build and serialise one chart with every kind of mark and layer the pages draw
    (dashboards/figures.py), as the pages do (:func:`figures.vega_lite`)."""
    rows = pd.DataFrame({"x": ["a"], "y": [1.0]})
    bar = alt.Chart(rows).mark_bar().encode(x="x:N", y="y:Q", xOffset="x:N")
    layers = [bar, bar.mark_text(), bar.mark_rule(), bar.mark_line(point=True)]
    figures.vega_lite(alt.LayerChart(layer=layers))


if __name__ == "__main__":
    warm_altair()
    # the same program name as ``python -m streamlit``, so Streamlit sees its own command line
    sys.exit(main(prog_name="streamlit"))
