"""A lake job killed inside its commit (lake/fs.py, ADR 0072): the lake is as it was before
the job, or, past the commit point, as the job leaves it, for DuckDB and for the next lake
command; the job run again gives what an uninterrupted run gives.

``ratecard lake ingest``, ``lake bill --rebill`` and ``lake bill --prices`` run in child
processes that SIGKILL themselves at a point of the commit (lake/fs.py's test hook). Before
recovery the files show the half-done commit (so the kill landed inside it); after ``ratecard lake
recover``, another process, every table reads back as before, row for row and file for file.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
from importlib import resources
from pathlib import Path
from typing import Any

import duckdb
import pytest
from typer.testing import CliRunner

from conftest import chat, write_jsonl
from ratecard import sample
from ratecard.cli import PRICE_SHEETS, app
from warehouse.errors import RatecardError

pyspark = pytest.importorskip("pyspark")

from lake import layout  # noqa: E402
from lake.bill import bill  # noqa: E402
from lake.fs import KILL_AT, LakeFiles, lake_lock  # noqa: E402
from lake.ingest import ingest, read_table  # noqa: E402
from lake.prices import load_sheets  # noqa: E402

pytestmark = pytest.mark.spark

ROOT = Path(__file__).resolve().parent.parent
TABLES = ("calls", "quarantine", "batches", "price_points", "model_aliases", "bills")
JOB_TIMES = "started_at, finished_at"
"""What a run of the same job writes differently: when it ran."""


def _duckdb_rows(lake: Path, *, exclude: str = "") -> dict[str, list[tuple[Any, ...]]]:
    """Every table of the lake as DuckDB reads its files: sorted rows."""
    con = duckdb.connect()
    rows: dict[str, list[tuple[Any, ...]]] = {}
    for name in TABLES:
        if not list((lake / name).glob("**/*.parquet")):
            rows[name] = []
            continue
        columns = f"* EXCLUDE ({exclude})" if exclude and name == "batches" else "*"
        query = (
            f"SELECT {columns} FROM read_parquet('{lake}/{name}/**/*.parquet', "
            "hive_partitioning = true, union_by_name = true)"
        )
        rows[name] = sorted(con.execute(query).fetchall(), key=repr)
    con.close()
    return rows


def _spark_rows(spark: Any, lake: Path) -> dict[str, list[str]]:
    """Every table as a lake command reads it (its LakeFiles recovers first)."""
    files = LakeFiles(spark, str(lake))
    schemas = {"calls": layout.CALLS, "quarantine": layout.QUARANTINE, "batches": layout.BATCHES}
    rows: dict[str, list[str]] = {}
    for name in TABLES:
        folder = layout.table(files.root, name)
        if name in schemas:
            frame = read_table(spark, files, name, schemas[name])
        elif files.data_files(folder):
            frame = spark.read.parquet(folder)
        else:
            rows[name] = []
            continue
        rows[name] = sorted(repr(tuple(r)) for r in frame.collect())
    return rows


def _files(lake: Path) -> dict[str, str]:
    """Every file of the lake's tables with its digest."""
    return {
        p.relative_to(lake).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for name in TABLES
        for p in sorted((lake / name).rglob("*"))
        if p.is_file()
    } | {
        p.relative_to(lake).as_posix(): "folder"
        for name in TABLES
        for p in (lake / name).rglob("*")
        if p.is_dir()
    }


def _leftovers(lake: Path) -> list[Path]:
    return [p for name in ("_journal", "_staging") for p in (lake / name).glob("*")]


def _lake_command(args: list[str], kill_at: str | None = None) -> subprocess.CompletedProcess[str]:
    """``ratecard lake …`` in a child process of its own (its own JVM), killing itself at
    ``kill_at`` when given."""
    env = {**os.environ, "RATECARD_SPARK_MASTER": "local[2]"}
    env.pop(KILL_AT, None)
    if kill_at is not None:
        env[KILL_AT] = kill_at
    return subprocess.run(
        [sys.executable, "-m", "ratecard", "lake", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def _killed(args: list[str], point: str) -> None:
    """Run ``ratecard lake …`` in a child process that kills itself at ``point``."""
    child = _lake_command(args, point)
    assert child.returncode == -signal.SIGKILL, (point, child.returncode, child.stderr[-2000:])


def _recover(lake: Path) -> str:
    """``ratecard lake recover`` in a fresh process, after a killed job: its output. The
    killed job's lock is taken over (its process is gone) and released."""
    assert (lake / "_lock").exists()
    child = _lake_command(["recover", "--lake", str(lake)])
    assert child.returncode == 0, child.stderr[-2000:]
    assert "taken over: its process no longer runs" in " ".join(child.stderr.split())
    assert not (lake / "_lock").exists()
    return child.stdout


@pytest.fixture(scope="module")
def lakes(spark: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Four lakes, each kept as a template to copy: ``before_ingest`` (the sample traffic's
    first files ingested and billed), ``after_ingest`` (a second ingest on it, run whole),
    ``before_rebill`` (that, billed, then a cheaper sheet for reapi loaded: two
    partitions stale) and ``after_rebill`` (rebilled, run whole); plus the second ingest's
    files."""
    folder = tmp_path_factory.mktemp("commit")
    files = sample.generate(folder / "sample", 300)
    day2 = write_jsonl(
        folder / "day2.jsonl",
        [
            chat(call_id="d1", ts="2026-10-20T08:00:00Z", prompt=1000, completion=100),
            chat(call_id="d2", ts="2026-11-02T08:00:00Z", prompt=2000, completion=10),
            chat(call_id="d3", ts="2026-12-01T00:00:00Z", provider="runapi", prompt=50),
            chat(call_id="d1", ts="2026-10-20T08:00:00Z", prompt=999),  # a conflict
            "not json",
        ],
    )
    before = folder / "before_ingest"
    with resources.as_file(PRICE_SHEETS) as sheets:
        load_sheets(spark, str(before), [sheets])
    ingest(spark, [str(files.gateway_log)], str(before))
    bill(spark, str(before))
    after = folder / "after_ingest"
    shutil.copytree(before, after)
    ingest(spark, [str(files.runware_log), str(day2)], str(after))
    before_rebill = folder / "before_rebill"
    shutil.copytree(after, before_rebill)
    bill(spark, str(before_rebill))
    sheet = (PRICE_SHEETS / "reapi.yml").read_text(encoding="utf-8")
    changed = folder / "sheets" / "reapi.yml"
    changed.parent.mkdir()
    changed.write_text(sheet.replace("input: 0.27", "input: 0.25"), encoding="utf-8")
    assert load_sheets(spark, str(before_rebill), [changed]) == ["reapi"]
    assert bill(spark, str(before_rebill)).stale == 2  # reapi's October and November
    after_rebill = folder / "after_rebill"
    shutil.copytree(before_rebill, after_rebill)
    assert bill(spark, str(after_rebill), rebill=True).partitions == 2
    return {
        "before_ingest": before,
        "after_ingest": after,
        "before_rebill": before_rebill,
        "after_rebill": after_rebill,
        "runware": files.runware_log,
        "day2": day2,
        "sheets": changed.parent,
    }


def _new_files(before: Path, after: Path) -> int:
    """How many data files a job added: the moves of its commit."""

    def names(lake: Path) -> set[str]:
        return {p.relative_to(lake).as_posix() for p in lake.rglob("*.parquet")}

    return len(names(after) - names(before))


def _copy(lakes: dict[str, Path], name: str, tmp_path: Path) -> Path:
    lake = tmp_path / "lake"
    shutil.copytree(lakes[name], lake)
    return lake


@pytest.mark.parametrize("point", ["move:1", "move:last", "committed"])
def test_a_killed_ingest_leaves_the_lake_as_before_or_as_committed(
    spark: Any, lakes: dict[str, Path], tmp_path: Path, point: str
) -> None:
    before, after = lakes["before_ingest"], lakes["after_ingest"]
    moves = _new_files(before, after)
    assert moves >= 4  # calls in several partitions, quarantine, batches
    if point == "move:last":
        point = f"move:{moves}"
    lake = _copy(lakes, "before_ingest", tmp_path)
    job = ["ingest", str(lakes["runware"]), str(lakes["day2"]), "--lake", str(lake)]
    _killed(job, point)
    assert _leftovers(lake)  # the journal and the staging folder
    # DuckDB's readers of the lake (lake report, dashboard --lake) refuse it until recovered
    refused = CliRunner().invoke(
        app,
        ["lake", "report", "--lake", str(lake), "--period", "2026-10", "--out", "x.csv"],
    )
    assert refused.exit_code == 2
    assert f"run `ratecard lake recover --lake {lake}`" in " ".join(refused.stderr.split())
    if point == "committed":
        # past the commit point: every file in place, the recovery deletes the journal
        assert "committed" in _recover(lake)
        assert _duckdb_rows(lake, exclude=JOB_TIMES) == _duckdb_rows(after, exclude=JOB_TIMES)
        assert not _leftovers(lake)
        return
    # the kill landed inside the commit: read directly, the files are half there
    assert _duckdb_rows(lake) != _duckdb_rows(before)
    assert "rolled back" in _recover(lake)
    assert not _leftovers(lake)
    assert _files(lake) == _files(before)
    assert _duckdb_rows(lake) == _duckdb_rows(before)
    assert _spark_rows(spark, lake) == _spark_rows(spark, before)
    # run again, the job gives what it gives uninterrupted
    loads = ingest(spark, [str(lakes["runware"]), str(lakes["day2"])], str(lake))
    assert [load.batch_id for load in loads] == [2, 3]
    assert _duckdb_rows(lake, exclude=JOB_TIMES) == _duckdb_rows(after, exclude=JOB_TIMES)


@pytest.mark.parametrize("point", ["move:1", "removed:1"])
def test_a_killed_rebill_keeps_the_old_bills_until_the_new_are_committed(
    spark: Any, lakes: dict[str, Path], tmp_path: Path, point: str
) -> None:
    before, after = lakes["before_rebill"], lakes["after_rebill"]
    lake = _copy(lakes, "before_rebill", tmp_path)
    _killed(["bill", "--rebill", "--lake", str(lake)], point)
    bills = _duckdb_rows(lake)["bills"]
    if point == "removed:1":
        # past the commit point with one old file deleted: the new bills all in place,
        # some old ones still beside them
        assert len(bills) > len(_duckdb_rows(after)["bills"])
        assert "committed" in _recover(lake)
        assert not _leftovers(lake)
        assert _duckdb_rows(lake) == _duckdb_rows(after)
        assert _spark_rows(spark, lake) == _spark_rows(spark, after)
        return
    # one new bill file moved in beside the old ones: read directly, duplicates
    assert len(bills) > len(_duckdb_rows(before)["bills"])
    assert "rolled back" in _recover(lake)
    assert not _leftovers(lake)
    assert _files(lake) == _files(before)
    assert _duckdb_rows(lake) == _duckdb_rows(before)
    assert _spark_rows(spark, lake) == _spark_rows(spark, before)
    assert bill(spark, str(lake), rebill=True).partitions == 2
    assert _duckdb_rows(lake) == _duckdb_rows(after)


def test_a_job_killed_before_its_commit_leaves_only_staging_which_the_next_command_deletes(
    spark: Any, lakes: dict[str, Path], tmp_path: Path
) -> None:
    lake = _copy(lakes, "before_ingest", tmp_path)
    staged = lake / "_staging" / "20261202T000000-dead" / "calls" / "part-0.parquet"
    staged.parent.mkdir(parents=True)
    shutil.copy(next((lake / "calls").rglob("*.parquet")), staged)
    files = LakeFiles(spark, str(lake))
    assert files.recovered == ["20261202T000000-dead: not committed; its staging folder deleted"]
    assert not _leftovers(lake)
    assert _files(lake) == _files(lakes["before_ingest"])


def test_a_killed_price_load_keeps_the_old_prices(
    spark: Any, lakes: dict[str, Path], tmp_path: Path
) -> None:
    before = lakes["after_ingest"]
    lake = _copy(lakes, "after_ingest", tmp_path)
    _killed(["bill", "--prices", str(lakes["sheets"]), "--lake", str(lake)], "move:1")
    # the new price points moved in beside the old: read directly, both
    prices = _duckdb_rows(lake)["price_points"]
    assert len(prices) > len(_duckdb_rows(before)["price_points"])
    assert "rolled back" in _recover(lake)
    assert not _leftovers(lake)
    assert _files(lake) == _files(before)
    assert _spark_rows(spark, lake) == _spark_rows(spark, before)
    assert load_sheets(spark, str(lake), [lakes["sheets"]]) == ["reapi"]


def test_a_second_lake_command_is_refused_while_one_runs(
    spark: Any, lakes: dict[str, Path], tmp_path: Path
) -> None:
    # a second command's recovery would delete the first one's staging folder, or roll its
    # commit back: it is refused before it touches the lake, and says who holds it
    lake = _copy(lakes, "before_ingest", tmp_path)
    with lake_lock(spark, str(lake), "ratecard lake bill") as done:
        assert done == []
        held = json.loads((lake / "_lock").read_text(encoding="utf-8"))
        assert (held["command"], held["pid"]) == ("ratecard lake bill", os.getpid())
        child = _lake_command(["ingest", str(lakes["day2"]), "--lake", str(lake)])
        assert child.returncode == 2, child.stderr[-2000:]
        said = " ".join(child.stderr.split())
        assert f"ratecard lake bill (process {os.getpid()} on {socket.gethostname()}" in said
        assert "is running on this lake; one lake command runs at a time" in said
        assert _files(lake) == _files(lakes["before_ingest"])
    assert not (lake / "_lock").exists()
    assert _files(lake) == _files(lakes["before_ingest"])


def test_a_lock_of_a_killed_command_is_taken_over_and_one_elsewhere_needs_unlock(
    spark: Any, tmp_path: Path
) -> None:
    lake = tmp_path / "lake"
    lake.mkdir()
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    here = socket.gethostname()
    lock = lake / "_lock"
    lock.write_text(
        json.dumps(
            {
                "command": "ratecard lake ingest",
                "host": here,
                "pid": int(dead.stdout),
                "started": "2026-12-02 10:00:00 UTC",
            }
        )
    )
    with lake_lock(spark, str(lake), "ratecard lake bill") as done:
        assert done == [
            f"the lock of ratecard lake ingest (process {int(dead.stdout)} on {here}, since "
            "2026-12-02 10:00:00 UTC) taken over: its process no longer runs"
        ]
    assert not lock.exists()
    lock.write_text(
        json.dumps(
            {
                "command": "ratecard lake ingest",
                "host": "elsewhere",
                "pid": 1,
                "started": "2026-12-02 10:00:00 UTC",
            }
        )
    )
    refused = pytest.raises(RatecardError, match=r"lake recover --lake .* --unlock` removes its")
    with refused, lake_lock(spark, str(lake), "ratecard lake bill"):
        pass
    assert lock.exists()
    with lake_lock(spark, str(lake), "ratecard lake recover", unlock=True) as done:
        assert done == [
            "the lock of ratecard lake ingest (process 1 on elsewhere, since 2026-12-02 "
            "10:00:00 UTC) removed"
        ]
    assert not lock.exists()
