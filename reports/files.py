"""Writing report files so that a failure never leaves half a file behind."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from warehouse.errors import RatecardError


def check_target(out: Path) -> None:
    """Refuse an --out that cannot be written, before any work is done."""
    if out.is_dir():
        raise RatecardError(f"--out {out}: is a directory; name a file")
    if not out.parent.exists():
        raise RatecardError(f"--out {out}: the folder {out.parent} does not exist")


def write_atomically(out: Path, write: Callable[[Path], None]) -> None:
    """Let ``write`` fill a temporary file beside ``out``, then rename it into place; on any
    error the temporary file is removed and ``out`` is left as it was."""
    check_target(out)
    partial = out.with_name(f".{out.name}.partial")
    try:
        write(partial)
        partial.replace(out)
    finally:
        partial.unlink(missing_ok=True)
