"""The physical line each record of a CSV file starts on.

DuckDB's CSV reader numbers records, not lines: a row count is the line only while every
record is one line. A blank line (which the reader skips) or a quoted cell holding a line
break (RFC 4180 allows it) puts every later record further down the file than its row
number says, and a person looking for a quarantined record needs the line their editor
shows. So, when a file has more lines than records, one pass over its bytes finds where
each record starts, by the rule the repaired copy is built by (ingest/repair.py): a line
starts a record unless it is empty or a quote opened on an earlier line is still open (an
odd number of quotes so far; a quote written inside a cell is two). The pass only runs on
such files; the usual file costs one count of its line breaks.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ingest.repair import Bytes


def physical_lines(path: Path) -> int:
    """How many lines the file has, not counting empty lines at its end."""
    breaks = 0
    trailing = 0  # the line breaks after the last other byte so far
    content = False
    for block in Bytes(path):
        breaks += block.count(b"\n")
        stripped = block.rstrip(b"\n")
        if stripped:
            content = True
            trailing = len(block) - len(stripped)
        else:
            trailing += len(block)
    return breaks - trailing + 1 if content else 0


@dataclass(frozen=True)
class RecordLines:
    shifts: list[tuple[int, int]]
    """``(record, extra)`` pairs: record number ``record`` (the header is 1) and those after
    it, up to the next pair, start ``extra`` lines further down than their number."""
    rejected: dict[int, int]
    """The record number of each rejected line, by the byte position the reader gave for it
    (which is not always the line's first byte, nor is the line number it gives always the
    record's: it counts blank lines but not line breaks in quotes)."""


def record_lines(path: Path, rejected_at: Iterable[int] = ()) -> RecordLines:
    """Where the file's records start (see the module), and which records the reader
    rejected at the byte positions ``rejected_at``."""
    pending = sorted(set(rejected_at), reverse=True)
    shifts: list[tuple[int, int]] = []
    rejected: dict[int, int] = {}
    record = line = extra = offset = 0
    inside = False  # inside a quoted cell opened on an earlier line
    carry = b""

    def read(text: bytes, end: int) -> None:
        nonlocal record, line, extra, inside
        line += 1
        if not inside and text:
            record += 1
            if line - record != extra:
                extra = line - record
                shifts.append((record, extra))
        while pending and pending[-1] <= end:
            rejected[pending.pop()] = record
        if text.count(b'"') % 2:
            inside = not inside

    for block in Bytes(path):
        lines = (carry + block).split(b"\n")
        carry = lines.pop()
        for text in lines:
            offset += len(text) + 1
            read(text, offset - 1)
    if carry:
        offset += len(carry)
        read(carry, offset)
    return RecordLines(shifts, rejected)
