"""The lake's files, through Hadoop's FileSystem API of the Spark session (file:, s3a:,
hdfs:, abfss: ... whichever the cluster can reach), and the commit that puts a job's files
in place all or nothing (ADR 0072).

A job writes its files under ``<lake>/_staging/<run>/``. Its commit then

1. writes a journal, ``<lake>/_journal/<run>.json``: every staged file with its final
   place, every file the job replaces, every folder the moves create (written in the run's
   staging folder first and renamed into place, so that it is whole or absent);
2. moves the staged files into place;
3. creates ``<lake>/_journal/<run>.committed``: the commit point;
4. deletes the files replaced, the staging folder, the journal, the mark, in that order.

Every lake command first recovers (:meth:`LakeFiles.recover`): a journal without its mark
is rolled back (the files moved so far deleted, the folders made removed), one with its
mark is rolled forward (the replaced files deleted), and staging folders without a journal
(jobs killed before their commit) are deleted. So a job killed at any point leaves the lake
as it was before the job, or, past the commit point, as the job left it; readers that go
through ratecard never see a commit half done. Recovery needs no rename: on S3, where a
rename is a copy and a delete, an interrupted move leaves both copies, and rolling back
deletes both.

One lake command runs at a time on a lake (:func:`lake_lock`): a second one's recovery
would roll back the first one's commit, or delete the staging folder it is writing. The
lock is a file, ``<lake>/_lock``, created only where none exists (atomic on a local file
system and HDFS; on S3 the check and the write are two requests), naming the command, host,
process and start. A lock whose process is gone from this host (a killed command) is taken
over; any other is refused with what to do.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from pyspark.sql import SparkSession

from lake.layout import JOURNAL, LOCK, STAGING
from warehouse.errors import RatecardError

KILL_AT = "RATECARD_LAKE_TEST_KILL_AT"
"""Tests only: ``move:N`` makes a commit kill its process (SIGKILL) after its N-th move,
``committed`` right after its commit point, ``removed:N`` after the N-th replaced file it
deletes (tests/test_lake_commit.py)."""


def new_run() -> str:
    """A job's run name: when it started, and unique."""
    return f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"


def _test_kill(point: str) -> None:
    if os.environ.get(KILL_AT) == point:
        os.kill(os.getpid(), signal.SIGKILL)


def _running_here(holder: dict[str, Any]) -> bool:
    """Whether the process a lock names still runs, as far as this host can tell: a lock
    of another host is taken to be alive."""
    if holder.get("host") != socket.gethostname():
        return True
    try:
        os.kill(int(holder["pid"]), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, KeyError, TypeError, ValueError):
        return True
    return True


@contextmanager
def lake_lock(
    spark: SparkSession, lake: str, command: str, *, unlock: bool = False
) -> Iterator[list[str]]:
    """Hold the lake's lock (module docstring) for the ``with``; yields what was done to
    take it (a stale lock taken over, or one removed by ``unlock``), one line each.

    ``unlock`` removes a lock whatever holds it: for a command killed on another host, after
    its user made sure it no longer runs.
    """
    jvm: Any = spark.sparkContext._jvm
    path = jvm.org.apache.hadoop.fs.Path(f"{lake.rstrip('/')}/{LOCK}")
    fs = path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
    done: list[str] = []
    holder = {
        "command": command,
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "started": f"{datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC",
    }
    if fs.exists(path):
        stream = fs.open(path)
        try:
            text = str(jvm.org.apache.commons.io.IOUtils.toString(stream, "UTF-8"))
        finally:
            stream.close()
        try:
            held = json.loads(text)
        except ValueError:
            held = {}
        said = (
            f"{held.get('command', 'a lake command')} (process {held.get('pid', '?')} on "
            f"{held.get('host', '?')}, since {held.get('started', '?')})"
        )
        if unlock or not _running_here(held):
            fs.delete(path, False)
            why = "removed" if unlock else "taken over: its process no longer runs"
            done.append(f"the lock of {said} {why}")
        else:
            raise RatecardError(
                f"{lake}: {said} is running on this lake; one lake command runs at a time, "
                "so wait for it to finish. If it no longer runs (killed on another host), "
                f"`ratecard lake recover --lake {lake} --unlock` removes its lock"
            )
    try:
        stream = fs.create(path, False)
    except Exception as exc:  # another command created it first
        if "FileAlreadyExists" not in str(exc) and "already exists" not in str(exc):
            raise
        raise RatecardError(
            f"{lake}: another lake command took the lake's lock just now; one lake command "
            "runs at a time, so wait for it to finish"
        ) from None
    try:
        stream.write(bytearray(json.dumps(holder).encode("utf-8")))
    finally:
        stream.close()
    try:
        yield done
    finally:
        fs.delete(path, False)


class LakeFiles:
    """The file system under one lake path; an interrupted commit there is recovered first."""

    def __init__(self, spark: SparkSession, lake: str) -> None:
        jvm: Any = spark.sparkContext._jvm
        self._jvm = jvm
        self._path = jvm.org.apache.hadoop.fs.Path
        self._fs = self._path(lake).getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
        self.root = str(self._fs.makeQualified(self._path(lake)).toString()).rstrip("/")
        self.recovered = self.recover()

    def qualified(self, path: str) -> str:
        """``path`` as the file system names it (scheme included), without a final /."""
        return str(self._fs.makeQualified(self._path(path)).toString()).rstrip("/")

    def exists(self, path: str) -> bool:
        return bool(self._fs.exists(self._path(path)))

    def delete(self, path: str) -> None:
        self._fs.delete(self._path(path), True)

    def staging(self, run: str) -> str:
        """The folder a job of this run writes its files in."""
        return f"{self.root}/{STAGING}/{run}"

    def data_files(self, folder: str) -> list[str]:
        """The Parquet files under ``folder``, at any depth (partitions)."""
        if not self.exists(folder):
            return []
        found, files = [], self._fs.listFiles(self._path(folder), True)
        while files.hasNext():
            name = str(files.next().getPath().toString())
            if name.endswith(".parquet"):
                found.append(name)
        return found

    def moves(self, staged: str, final: str) -> list[tuple[str, str]]:
        """Every data file under ``staged`` with its place under ``final`` (same relative
        path): a commit's moves."""
        staged_root = self.qualified(staged)
        final_root = self.qualified(final)
        return [(name, final_root + name[len(staged_root) :]) for name in self.data_files(staged)]

    def _relative(self, path: str) -> str:
        qualified = self.qualified(path)
        if not qualified.startswith(self.root + "/"):
            raise ValueError(f"{path} is not in the lake {self.root}")
        return qualified[len(self.root) + 1 :]

    def _absolute(self, relative: str) -> str:
        return f"{self.root}/{relative}"

    def _write(self, path: str, text: str) -> None:
        stream = self._fs.create(self._path(path), True)
        try:
            stream.write(bytearray(text.encode("utf-8")))
        finally:
            stream.close()

    def _read(self, path: str) -> str:
        stream = self._fs.open(self._path(path))
        try:
            return str(self._jvm.org.apache.commons.io.IOUtils.toString(stream, "UTF-8"))
        finally:
            stream.close()

    def _new_folders(self, finals: list[str]) -> list[str]:
        """The folders that moving to ``finals`` creates, deepest first."""
        made: set[str] = set()
        for final in finals:
            folder = final.rsplit("/", 1)[0]
            while folder != self.root and folder not in made and not self.exists(folder):
                made.add(folder)
                folder = folder.rsplit("/", 1)[0]
        return sorted(made, key=lambda f: (-f.count("/"), f))

    def commit(
        self, run: str, moves: list[tuple[str, str]], replaces: list[str] | None = None
    ) -> None:
        """Move ``moves`` (staged file, final place) into place and delete ``replaces``, all
        or nothing (module docstring); the run's staging folder is gone afterwards."""
        replaces = replaces or []
        taken = [final for _, final in moves if self.exists(final)]
        if taken:
            raise OSError(f"cannot commit {run}: {taken[0]} exists already")
        journal = {
            "run": run,
            "moves": [[self._relative(s), self._relative(f)] for s, f in moves],
            "replaces": [self._relative(r) for r in replaces],
            "folders": [self._relative(f) for f in self._new_folders([f for _, f in moves])],
        }
        written = f"{self.staging(run)}/journal.json"
        self._write(written, json.dumps(journal, indent=1))
        self._fs.mkdirs(self._path(f"{self.root}/{JOURNAL}"))
        if not self._fs.rename(self._path(written), self._path(self._journal(run))):
            raise OSError(f"cannot write the journal of {run}")
        try:
            for n, (staged, final) in enumerate(moves, 1):
                target = self._path(final)
                self._fs.mkdirs(target.getParent())
                if not self._fs.rename(self._path(staged), target):
                    raise OSError(f"cannot move {staged} to {final}")
                _test_kill(f"move:{n}")
            # another lake command's recovery may have rolled this commit back meanwhile
            # (one lake command at a time: ADR 0072); then it must not pass the commit point
            if not self.exists(self._journal(run)) or not all(self.exists(f) for _, f in moves):
                raise OSError(f"the commit of {run} was rolled back by another lake command")
        except BaseException:
            self._roll_back(journal)
            raise
        self._fs.create(self._path(self._mark(run)), True).close()
        _test_kill("committed")
        self._roll_forward(journal)

    def _journal(self, run: str) -> str:
        return f"{self.root}/{JOURNAL}/{run}.json"

    def _mark(self, run: str) -> str:
        return f"{self.root}/{JOURNAL}/{run}.committed"

    def _roll_back(self, journal: dict[str, Any]) -> None:
        for _, final in journal["moves"]:
            self._fs.delete(self._path(self._absolute(final)), False)
        for folder in journal["folders"]:
            path = self._path(self._absolute(folder))
            if self._fs.exists(path) and not self._fs.listStatus(path):
                self._fs.delete(path, False)
        self.delete(self.staging(journal["run"]))
        self._fs.delete(self._path(self._journal(journal["run"])), False)

    def _roll_forward(self, journal: dict[str, Any]) -> None:
        for n, replaced in enumerate(journal["replaces"], 1):
            self._fs.delete(self._path(self._absolute(replaced)), False)
            _test_kill(f"removed:{n}")
        self.delete(self.staging(journal["run"]))
        self._fs.delete(self._path(self._journal(journal["run"])), False)
        self._fs.delete(self._path(self._mark(journal["run"])), False)

    def recover(self) -> list[str]:
        """Finish or undo the commits a killed job left (module docstring); what was done,
        one line per run."""
        done: list[str] = []
        folder = f"{self.root}/{JOURNAL}"
        names = self._names(folder)
        for name in sorted(n for n in names if n.endswith(".json")):
            run = name.removesuffix(".json")
            journal = json.loads(self._read(self._journal(run)))
            if f"{run}.committed" in names:
                self._roll_forward(journal)
                done.append(f"{run}: committed; {len(journal['replaces'])} replaced files deleted")
            else:
                self._roll_back(journal)
                done.append(f"{run}: rolled back; {len(journal['moves'])} files withdrawn")
        for name in names:
            run = name.removesuffix(".committed")
            if name.endswith(".committed") and f"{run}.json" not in names:
                self.delete(self.staging(run))
                self._fs.delete(self._path(self._mark(run)), False)
        for run in self._names(f"{self.root}/{STAGING}"):
            self.delete(self.staging(run))
            done.append(f"{run}: not committed; its staging folder deleted")
        return done

    def _names(self, folder: str) -> set[str]:
        path = self._path(folder)
        if not self._fs.exists(path):
            return set()
        return {str(s.getPath().getName()) for s in self._fs.listStatus(path)}
