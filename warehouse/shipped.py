"""The one way ratecard finds the files it ships: SQL, migrations, price sheets, budgets.

Every file is named by its path in the repository (``shipped("ingest", "sql", "lines.sql")``,
``shipped("data", "price_sheets")``) and read through :mod:`importlib.resources`, so the same
call works in a checkout and in an installed wheel, from any working directory. Files beside a
package's code ship inside that package. The top-level ``data/`` folder (the price sheets, the
sample budgets and their JSON Schemas) is not a package: the wheel installs it as
``ratecard/data`` (pyproject's ``force-include``), while a checkout or an editable install
keeps it beside the packages.
"""

from __future__ import annotations

from importlib import resources
from importlib.resources.abc import Traversable

DATA = "data"
"""The top-level folder of price sheets and sample budgets."""


def shipped(folder: str, *parts: str) -> Traversable:
    """The shipped file or folder at ``<folder>/<parts...>`` in the repository's layout.

    ``folder`` is a top-level package (``"warehouse"``, ``"ingest"``, …) or :data:`DATA`.
    Read it with ``read_text``; where a real path is needed (a folder of sheets, the
    dashboard's script), wrap it in :func:`importlib.resources.as_file`.
    """
    if folder == DATA:
        found = resources.files("ratecard").joinpath(DATA)
        if not found.is_dir():
            # a checkout (or an editable install): data/ sits beside the packages
            found = resources.files("ratecard").joinpath("..", DATA)
    else:
        found = resources.files(folder)
    for part in parts:
        found = found.joinpath(part)
    return found
