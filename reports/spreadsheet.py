"""Text a spreadsheet shows but never runs: the one rule against CSV and formula injection.

A cell whose text starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is a
formula to Excel, LibreOffice and Google Sheets: a team named
``=HYPERLINK("http://evil.example","x")`` becomes a live link, ``=cmd|...`` once ran
programs. As OWASP's CSV-injection guidance says, every text field ratecard writes to CSV
starts with a ``'`` when it starts with one of those (:func:`neutral`; the spreadsheet shows
the text and never evaluates it), and numbers are never touched: an amount of -0.01 stays a
number. The CSV writers of reports, ``compare --out``, ``reconcile --out`` and the dashboard's
download call :func:`neutral` on their text; the CSVs DuckDB writes (``export calls``, FOCUS)
select their text columns through :func:`neutral_query`, the same rule in SQL. XLSX keeps text
in text cells (data_type ``s``), never formulas, so it needs no quote.

A carriage return inside a text breaks a CSV row unless the field is quoted, and Python's
writer quotes it only when CR is part of the line terminator: :func:`csv_writer` quotes
every field holding a CR or LF and still ends rows in LF.
"""

from __future__ import annotations

import csv
from collections.abc import Collection, Mapping, Sequence
from typing import Any, TextIO, TypeVar

import duckdb

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""The first characters that make a spreadsheet read a cell as a formula (OWASP)."""

T = TypeVar("T")


def neutral(value: T) -> T:
    """A text that starts like a formula with a ``'`` in front; anything else as it is."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value  # type: ignore[return-value]  # str in, str out
    return value


def neutral_row(cells: Sequence[T], numbers: Collection[int] = ()) -> list[T]:
    """A CSV row's cells through :func:`neutral`, except those at the places in ``numbers``
    (amounts the caller has already written as digits: -0.01 is a number, not a formula)."""
    return [cell if index in numbers else neutral(cell) for index, cell in enumerate(cells)]


class _RowsEndingInLf:
    """A text file for csv.writer that turns the CRLF ending each row into LF (the writer
    writes one row per call), so that the writer can quote fields on CR and LF alike."""

    def __init__(self, handle: TextIO) -> None:
        self.handle = handle

    def write(self, text: str) -> int:
        return self.handle.write(text.removesuffix("\r\n") + "\n")


def csv_writer(handle: TextIO) -> Any:
    """A csv.writer for ``handle`` whose rows end in LF and whose fields holding a CR or LF
    are quoted (the writer's rows are what :func:`neutral` made of them)."""
    return csv.writer(_RowsEndingInLf(handle), lineterminator="\r\n")


def neutral_query(
    con: duckdb.DuckDBPyConnection, query: str, params: Mapping[str, object]
) -> tuple[str, dict[str, object]]:
    """``query`` (with its ``params``) with every VARCHAR column through :func:`neutral`'s
    rule, in SQL, for a CSV that DuckDB writes; the other columns (numbers, times, JSON) as
    they are."""
    columns = con.execute(f"DESCRIBE {query}", params).fetchall()
    selected = []
    for name, kind, *_ in columns:
        quoted = '"' + str(name).replace('"', '""') + '"'
        if kind == "VARCHAR":
            selected.append(
                f"CASE WHEN list_contains($formula_starts, left({quoted}, 1)) "
                f"THEN '''' || {quoted} ELSE {quoted} END AS {quoted}"
            )
        else:
            selected.append(quoted)
    return (
        f"SELECT {', '.join(selected)} FROM ({query})",  # noqa: S608 (column names, quoted)
        {**params, "formula_starts": list(FORMULA_STARTS)},
    )
