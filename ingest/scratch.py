"""The private folder an ingest stages a file in, and the clean-up of folders a killed ingest
left behind.

Each ingest makes a ``.ratecard-ingest-<pid>-<random>`` folder beside the warehouse (mode
0700, from ``tempfile.mkdtemp``) for its scratch database and, for a damaged file, the
repaired copy (ingest/repair.py), and deletes it when the file is done, loaded or not. A
process killed meanwhile cannot delete it, so every ingest first removes the folders whose
owner is gone: the owner holds an exclusive ``flock`` on the folder's ``owner.lock`` for as
long as it works there, and the kernel releases it when the process dies, however it dies.
A folder whose lock is free is stale unless its owner (the pid in its name) is alive and it
is under a minute old (the moment between making the folder and taking the lock). A folder
of an older ratecard, with no lock file, is stale once its owner pid is gone or, without a
pid, an hour after anything in it last changed. Only folders of the current user are
touched (a warehouse in memory stages in the shared temporary folder).
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PREFIX = ".ratecard-ingest-"
LOCK = "owner.lock"
_STARTING = 60.0
"""Seconds a new folder's owner may take to lock it."""
_UNOWNED = 3600.0
"""Seconds after its last change an old-style folder (no lock, no pid) counts as stale."""


@contextmanager
def scratch_folder(beside: Path | None) -> Iterator[Path]:
    """A new private folder in ``beside`` (the system's temporary folder when None), locked
    by this process while in use and deleted afterwards; stale folders are removed first."""
    parent = beside or Path(tempfile.gettempdir())
    remove_stale(parent)
    folder = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-", dir=parent))
    try:
        with (folder / LOCK).open("w") as lock:
            # blocking: a clean-up may hold it for an instant while it looks
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def remove_stale(parent: Path) -> list[Path]:
    """Delete the scratch folders in ``parent`` whose owner is gone; return them."""
    removed: list[Path] = []
    try:
        entries = list(parent.glob(PREFIX + "*"))
    except OSError:
        return removed
    for entry in entries:
        try:
            if entry.is_symlink() or not entry.is_dir() or entry.stat().st_uid != os.getuid():
                continue
            if _in_use(entry):
                continue
        except OSError:
            continue  # gone meanwhile, or not ours to look into
        shutil.rmtree(entry, ignore_errors=True)
        removed.append(entry)
    return removed


def _in_use(folder: Path) -> bool:
    pid = _owner_pid(folder.name)
    try:
        handle = (folder / LOCK).open("r")
    except FileNotFoundError:
        if pid is not None:
            return _alive(pid)
        return time.time() - _last_change(folder) < _UNOWNED
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
    # the lock is free: stale, unless its owner is alive and still taking the lock
    return pid is not None and _alive(pid) and time.time() - _last_change(folder) < _STARTING


def _owner_pid(name: str) -> int | None:
    match = re.fullmatch(re.escape(PREFIX) + r"(\d+)-.*", name)
    return int(match.group(1)) if match else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # alive, another user's
    return True


def _last_change(folder: Path) -> float:
    times = [folder.stat().st_mtime]
    for entry in folder.iterdir():
        try:
            times.append(entry.stat().st_mtime)
        except OSError:
            continue
    return max(times)
