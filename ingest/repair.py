"""Reading a usage file whatever state it is in: its first lines for format detection, and
the fallback reader for a file DuckDB's reader refuses.

DuckDB reads a clean file straight from disk, in parallel (ingest/sql/lines.sql,
extract_flat_csv.sql), but refuses the whole file for a single raw carriage return (its lines
end at LF only: it cannot tell a CR inside a line from a line end) and reads nothing of a
truncated or corrupt .gz. For such a file ingest writes a repaired copy into its private
scratch folder and reads that instead: the same lines in the same places, decompressed as
far as the data goes, CRLF line ends turned into LF, and every line that cannot be a record
(a raw CR inside it, over 64 MiB, cut off by the end of a truncated .gz) replaced by a
*marker line*. The reader rejects a marker like any unreadable line, at its true line number,
and reject_lines.sql takes the reason and the raw text (redacted here, at the byte level,
before it is written) from the marker. The copy is written in 16 MiB blocks: a block
without a CR is copied as it is, so only the damaged lines cost a step in Python.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import json
import mmap
import os
import threading
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from ingest.redaction import redact_bytes

LINE_DELIM = "\x1f\x1e\x1d\x1c"
"""The column delimiter for reading a JSONL file as one text column per line: four control
characters that valid JSON never holds raw (a single one could sit alone on a garbage line,
which the reader would then take for a blank line). A line that holds them is rejected by
the reader, which is what a marker line needs."""

MAX_LINE = 64 * 1024 * 1024
"""The longest line ingest reads (DuckDB's max_line_size): a longer one is quarantined."""
READ_BUFFER = 128 * 1024 * 1024
"""DuckDB's read buffer for usage files, two of the longest lines (its default, 16 of them,
would be 1 GiB: the whole default memory limit)."""
RAW_LIMIT = 100_000
"""How much of a quarantined line's text is kept, in characters (bytes here)."""
_BLOCK = 16 * 1024 * 1024

CR_INSIDE = "raw carriage return inside the line (JSON and CSV write it as \\r or in quotes)"
TOO_LONG = "line longer than 64 MiB"


UNCLOSED_QUOTE = (
    'unclosed quote: a cell opens with " and no later line closes it into a row of the '
    'header\'s cells; close the quote, or write a quote inside a cell as two ("")'
)


def ends_inside(problem: str) -> str:
    return f"the file ends inside this line: {problem}"


class Bytes:
    """A file's bytes, decompressed when its name ends in .gz, in blocks, as far as they can
    be read: a truncated or corrupt compressed stream ends the blocks and says why in
    ``problem`` instead of raising."""

    def __init__(self, path: Path, block: int = _BLOCK) -> None:
        self.path = path
        self.block = block
        self.problem: str | None = None
        self.produced = 0

    def __iter__(self) -> Iterator[bytes]:
        with self.path.open("rb") as handle:
            if not self.path.name.lower().endswith(".gz"):
                while data := handle.read(self.block):
                    self.produced += len(data)
                    yield data
                return
            yield from self._gunzip(handle)

    def _gunzip(self, handle: BinaryIO) -> Iterator[bytes]:
        inflater = zlib.decompressobj(wbits=31)
        started = False  # whether the current gzip member has begun
        while data := handle.read(self.block):
            pending: bytes = data
            while pending:
                if not started and not pending.strip(b"\x00"):
                    break  # zero padding after the last member, as gzip writes on tapes
                started = True
                try:
                    out = inflater.decompress(pending, self.block)
                except zlib.error as exc:
                    self.problem = (
                        f"the compressed data is corrupt after {self.produced:,} bytes ({exc})"
                    )
                    return
                if out:
                    self.produced += len(out)
                    yield out
                if inflater.eof:  # a member ended; another may follow (cat a.gz b.gz)
                    pending = inflater.unused_data
                    inflater = zlib.decompressobj(wbits=31)
                    started = False
                else:
                    pending = inflater.unconsumed_tail
        if started:
            tail = inflater.flush()
            if tail:
                self.produced += len(tail)
                yield tail
            self.problem = (
                f"the .gz file is truncated: its data stops after {self.produced:,} bytes"
            )


class CarriageReturnScan:
    """Whether a file (decompressed) holds a carriage return anywhere, found on a thread of
    its own while DuckDB reads the file.

    DuckDB's reader stops at a CR nearly always, but not always: a CR in a file's first line,
    or at the start of one of its 128 MiB buffers, is taken for a line end, silently, and a
    CRLF header makes its CSV reader read no rows at all. So every file is also scanned for
    a CR, and one that holds any is read from the repaired copy. A plain file is scanned
    through mmap, one 64 MiB window mapped at a time so that the file never counts as the
    process's memory (its cost: benchmarks/FINDINGS.md), a .gz decompressed; the scan stops
    as soon as it knows, or when told to. DuckDB releases the GIL while it reads, so the two
    run side by side.
    """

    _WINDOW = 64 * 1024 * 1024

    def __init__(self, path: Path) -> None:
        self.path = path
        self._found = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._scan, name="cr-scan", daemon=True)

    def __enter__(self) -> CarriageReturnScan:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def found(self) -> bool:
        """Wait for the scan; whether it found a CR."""
        self._thread.join()
        return self._found

    def _scan(self) -> None:
        try:
            if self.path.name.lower().endswith(".gz"):
                for block in Bytes(self.path):
                    if b"\r" in block:
                        self._found = True
                    if self._found or self._stop.is_set():
                        return
                return
            with self.path.open("rb") as handle:
                size = os.fstat(handle.fileno()).st_size
                if size == 0:
                    return
                for start in range(0, size, self._WINDOW):
                    # one window mapped at a time: the pages a mapping touched count as the
                    # process's memory until it is unmapped
                    length = min(self._WINDOW, size - start)
                    with mmap.mmap(
                        handle.fileno(), length, access=mmap.ACCESS_READ, offset=start
                    ) as view:
                        if view.find(b"\r") >= 0:
                            self._found = True
                    if self._found or self._stop.is_set():
                        return
        except OSError:
            return  # a file that cannot be read: DuckDB's reader says so


def first_lines(path: Path, count: int = 20, limit: int = 4 * 1024 * 1024) -> list[str]:
    """The first ``count`` non-blank lines of a file (decompressed, as far as it can be
    read), for format detection; a line longer than ``limit`` bytes is passed over, a
    byte-order mark at the start of the file dropped."""
    found: list[str] = []
    buffer = b""
    skipping = False
    start = True
    for block in Bytes(path, block=1024 * 1024):
        buffer += block
        if start and len(buffer) >= 3:
            buffer = buffer.removeprefix(b"\xef\xbb\xbf")
            start = False
        while True:
            cut = buffer.find(b"\n")
            if cut < 0:
                if len(buffer) > limit:
                    buffer, skipping = b"", True
                break
            line, buffer = buffer[:cut], buffer[cut + 1 :]
            if skipping:
                skipping = False
                continue
            if line.strip(b" \t\r"):
                found.append(line.removesuffix(b"\r").decode("utf-8", "replace"))
                if len(found) >= count:
                    return found
    if start:
        buffer = buffer.removeprefix(b"\xef\xbb\xbf")
    if buffer.strip(b" \t\r") and not skipping and len(buffer) <= limit:
        found.append(buffer.removesuffix(b"\r").decode("utf-8", "replace"))
    return found


class QuotedCells:
    """CSV only: the lines of a repaired copy, with a quote left open ended where it does
    harm. A quoted cell may hold line breaks (RFC 4180), so a line with an odd number of
    quotes opens a record that the next lines continue until its quote closes. DuckDB's
    reader takes an unclosed one to the end of the file, one rejected record; here such a
    record must close into a row of the header's ``width`` cells within :data:`MAX_LINE`
    bytes, or its first line is marked (``mark``) and the lines after it are read afresh, so
    that the bad line costs only itself."""

    def __init__(self, delimiter: str, width: int, mark: Callable[[bytes], bytes]) -> None:
        self.delimiter = delimiter
        self.width = width
        self.mark = mark
        self.open: list[bytes] = []  # the lines of a record whose quote is open
        self.size = 0

    def feed(self, block: bytes) -> bytes:
        """Whole lines (ending in LF) in; the lines that are settled out."""
        if not self.open and b'"' not in block:
            return block
        out: list[bytes] = []
        for line in block.split(b"\n")[:-1]:
            self._line(line, out)
        return b"".join(out)

    def finish(self) -> bytes:
        """The end of the file: a record still open loses its first line."""
        out: list[bytes] = []
        while self.open:
            self._reread(out)
        return b"".join(out)

    def _line(self, line: bytes, out: list[bytes]) -> None:
        odd = line.count(b'"') % 2 == 1
        if not self.open:
            if odd:
                self.open, self.size = [line], len(line)
            else:
                out.append(line + b"\n")
            return
        self.open.append(line)
        self.size += len(line) + 1
        if odd:  # the quote closes here
            record = b"\n".join(self.open)
            if self._cells(record) == self.width:
                out.append(record + b"\n")
                self.open, self.size = [], 0
            else:
                self._reread(out)
        elif self.size > MAX_LINE:
            self._reread(out)

    def _reread(self, out: list[bytes]) -> None:
        first, *rest = self.open
        self.open, self.size = [], 0
        out.append(self.mark(first) + b"\n")
        for line in rest:
            self._line(line, out)

    def _cells(self, record: bytes) -> int:
        """How many cells the record splits into, read strictly (a quote must open and end
        a cell, as DuckDB's reader wants it); -1 if it does not split."""
        text = record.decode("utf-8", "replace")
        try:
            return len(next(csv.reader([text], delimiter=self.delimiter, strict=True), []))
        except csv.Error:
            return -1


@dataclass(frozen=True)
class Repaired:
    """The repaired copy of a damaged file."""

    path: Path
    markers: int
    """Lines replaced by a marker (each becomes a quarantined record)."""
    problem: str | None
    """What stopped the read early (a truncated or corrupt .gz), or None."""


def repair(
    source: Path, target: Path, marker: str, csv_cells: tuple[str, int] | None = None
) -> Repaired:
    """Write the repaired copy of ``source`` to ``target`` (module docstring). ``marker``
    starts every marker line: :data:`LINE_DELIM` and a token of this ingest, so that no line
    of the file itself can pass for one. ``csv_cells``, for a CSV file: its delimiter and
    how many cells its header has (:class:`QuotedCells`)."""
    data = Bytes(source)
    prefix = marker.encode()
    markers = 0

    def mark(raw: bytes, reason: str) -> bytes:
        nonlocal markers
        markers += 1
        text = redact_bytes(raw)[:RAW_LIMIT].decode("utf-8", "replace")
        # the hash of the line as it is, so that a re-ingest counts it as quarantined before
        digest = hashlib.md5(raw, usedforsecurity=False).hexdigest()
        payload = json.dumps({"reason": reason, "raw": text, "hash": digest}).encode()
        return prefix + base64.b64encode(payload)

    def fixed(block: bytes) -> bytes:
        """A block of whole lines (ending in LF) with CRLF ends made LF and the lines that
        still hold a CR replaced by markers."""
        block = block.replace(b"\r\n", b"\n")
        if b"\r" not in block:
            return block
        lines = block.split(b"\n")
        for index, line in enumerate(lines):
            if b"\r" in line:
                lines[index] = mark(line, CR_INSIDE)
        return b"\n".join(lines)

    quotes = (
        None
        if csv_cells is None
        else QuotedCells(*csv_cells, lambda raw: mark(raw, UNCLOSED_QUOTE))
    )

    def settled(lines: bytes) -> bytes:
        return lines if quotes is None else quotes.feed(lines)

    carry = b""
    long_head: bytes | None = None  # the start of an over-long line being passed over
    with target.open("wb") as out:
        for block in data:
            if long_head is not None:
                cut = block.find(b"\n")
                if cut < 0:
                    continue
                out.write(settled(mark(long_head, TOO_LONG) + b"\n"))
                long_head, block = None, block[cut + 1 :]
            carry += block
            cut = carry.rfind(b"\n")
            if cut >= 0:
                out.write(settled(fixed(carry[: cut + 1])))
                carry = carry[cut + 1 :]
            if len(carry) > MAX_LINE:
                long_head, carry = carry[: RAW_LIMIT * 2], b""
        if long_head is not None:
            out.write(settled(mark(long_head, TOO_LONG) + b"\n"))
        elif carry:
            # the last line, without an LF: cut short if the data stopped early
            if data.problem is not None:
                out.write(settled(mark(carry, ends_inside(data.problem)) + b"\n"))
            else:
                out.write(settled(fixed(carry.removesuffix(b"\r") + b"\n")))
        if quotes is not None:
            out.write(quotes.finish())
    return Repaired(target, markers, data.problem)
