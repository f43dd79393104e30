"""Writing report files so that a failure never leaves half a file behind."""

from __future__ import annotations

import os
import tempfile
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
    error the temporary file is removed and ``out`` is left as it was.

    The temporary file is made by ``tempfile.mkstemp`` in ``out``'s folder: a new name no
    one can guess, created by this process alone (O_EXCL, mode 0600), so a file or symlink
    planted there beforehand is never written through. The rename replaces ``out`` itself,
    a symlink at ``out`` included, and never the file a link points to. The new file gets
    the old file's permissions, or those of a newly created file (0666 less the umask).
    """
    check_target(out)
    handle, name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".partial", dir=out.parent)
    os.close(handle)
    partial = Path(name)
    try:
        write(partial)
        partial.chmod(_mode_for(out))
        partial.replace(out)
    finally:
        partial.unlink(missing_ok=True)


def _mode_for(out: Path) -> int:
    if out.is_file() and not out.is_symlink():
        return out.stat().st_mode & 0o777
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask
