"""Read the SQL files that live beside each package's code (``<package>/sql/<name>.sql``)."""

from __future__ import annotations

from functools import cache
from importlib import resources


@cache
def sql_file(package: str, name: str) -> str:
    """The text of ``<package>/sql/<name>.sql``; values go in as $parameters, never as text."""
    return resources.files(package).joinpath("sql", f"{name}.sql").read_text(encoding="utf-8")
