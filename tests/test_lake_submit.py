"""The lake under spark-submit, as docs/spark.md's "On a cluster" shows it: the documented lines
run as written (``--master 'local[2]'`` added, local folders for the s3a: URIs), from the wheel
built from this checkout, and the lake they write is the embedded warehouse's, to the last
decimal, with the amounts worked out by hand.

The wheel, not the checkout, must be what runs: the commands run in a folder outside the
repository, with a virtualenv that holds ratecard's locked dependencies (pyspark and its
spark-submit included) but not ratecard, as both the driver's and the executors' Python;
ratecard is importable only from the wheel's zip, which ``--py-files`` ships to spark-submit's
runs and PYTHONPATH names for ``lake report``'s (no Spark: it reads with DuckDB). Spark reads a
``spark-defaults.conf`` of this test (:data:`SPARK_DEFAULTS`; and errors only in its log), as
a cluster's configuration would be, not an option of the commands.

Two spark-submit runs (ingest, bill), a JVM each: 100 s of CPU, measured; 2 minutes on two
cores shared with other work.
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import subprocess
from decimal import Decimal
from importlib import resources
from pathlib import Path

import pytest
from test_lake import BILL_COLUMNS, CALL_COLUMNS, QUARANTINE_COLUMNS, _lake_view, _rows
from test_wheel import _run, _uv, venv_env

from conftest import chat, error, write_jsonl
from conftest import embedded_warehouse as _warehouse
from ratecard.cli import PRICE_SHEETS

pytestmark = [pytest.mark.spark, pytest.mark.wheel]

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "spark.md"
SPARK_DEFAULTS = """\
spark.sql.shuffle.partitions 4
spark.ui.enabled false
spark.ui.showConsoleProgress false
spark.driver.extraJavaOptions -XX:TieredStopAtLevel=1 -XX:+UseSerialGC
"""
"""Spark's settings for the test's runs, as a cluster's spark-defaults.conf: few shuffle
partitions for a few calls, and a JVM that compiles less (its client compiler only) for jobs
of seconds: a third less CPU per run, measured."""


def documented_lines() -> list[str]:
    """The ``sh`` block of docs/spark.md's "On a cluster", a command a line (``\\`` joined)."""
    text = DOCS.read_text(encoding="utf-8")
    section = text[text.index("## On a cluster") :]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block is not None, "docs/spark.md: no sh block under 'On a cluster'"
    joined = re.sub(r"\\\n\s*", "", block.group(1))
    return [line.split("  #")[0].strip() for line in joined.splitlines() if line.strip()]


def _log(folder: Path) -> Path:
    """A November gateway log: a duplicate, a bad line, a failed call, an unpriced model and
    a call in December, at reapi's prices from 2026-10-15 (0.27 input, 0.054 cached, 1.10
    output, per 1M tokens)."""
    folder.mkdir(parents=True)
    h1 = chat(
        call_id="h1", ts="2026-11-03T10:00:00Z", prompt=500_000, cached=100_000, completion=50_000
    )
    return write_jsonl(
        folder / "gateway.jsonl",
        [
            h1,
            h1,  # a duplicate
            chat(call_id="h2", ts="2026-11-30T23:59:59Z", prompt=7, completion=10),
            "not json at all",
            error(500, ts="2026-11-05T00:00:00Z"),
            chat(call_id="h3", ts="2026-11-06T00:00:00Z", provider="nobody", model="m"),
            chat(call_id="h4", ts="2026-12-01T00:00:00Z", prompt=1_000, completion=0),
        ],
    )


def _deps_venv(folder: Path) -> Path:
    """A virtualenv of the lock's runtime dependencies with the spark extra, not ratecard
    (uv, offline, from its cache)."""
    env = venv_env() | {"UV_PROJECT_ENVIRONMENT": str(folder)}
    sync = [_uv(), "sync", "--locked", "--offline", "--no-dev", "--no-install-project"]
    _run(
        [*sync, "--extra", "spark", "--quiet", "--python", str(ROOT / ".venv" / "bin" / "python")],
        ROOT,
        env,
    )
    return folder


def test_the_documented_spark_submit_lines_run_from_the_wheel(tmp_path: Path) -> None:
    job = tmp_path / "job"
    job.mkdir()
    assert not job.resolve().is_relative_to(ROOT)
    venv = _deps_venv(tmp_path / "deps")
    python = venv / "bin" / "python"
    assert (venv / "bin" / "spark-submit").is_file()  # pyspark's own
    found = subprocess.run(
        [str(python), "-c", "import importlib.util as u; print(u.find_spec('ratecard'))"],
        cwd=job,
        env=venv_env(),
        capture_output=True,
        text=True,
        check=True,
    )
    assert found.stdout.strip() == "None"  # the virtualenv has no ratecard of its own
    pths = list(venv.glob("lib/python*/site-packages/*.pth"))
    assert not [p for p in pths if str(ROOT) in p.read_text(encoding="utf-8")]  # nor a path here

    conf = tmp_path / "conf"
    conf.mkdir()
    (conf / "spark-defaults.conf").write_text(SPARK_DEFAULTS, encoding="utf-8")
    shutil.copy(ROOT / "lake" / "log4j2.properties", conf / "log4j2.properties")
    path = [p for p in os.environ["PATH"].split(os.pathsep) if not Path(p).is_relative_to(ROOT)]
    env = venv_env() | {
        "PATH": os.pathsep.join([str(venv / "bin"), *path]),
        "PYSPARK_PYTHON": str(python),
        "PYSPARK_DRIVER_PYTHON": str(python),
        "SPARK_CONF_DIR": str(conf),
    }
    env.pop("SPARK_HOME", None)  # pyspark's spark-submit finds its own

    logs = _log(tmp_path / "logs" / "2026" / "11")
    lake = tmp_path / "lake"
    with resources.as_file(PRICE_SHEETS) as shipped:
        shutil.copytree(shipped, tmp_path / "sheets")
    places = {
        "s3a://logs/2026/11/": f"{logs.parent}/",
        "s3a://finance/ratecard": str(lake),
        "--prices sheets/": f"--prices {tmp_path / 'sheets'}/",
    }

    build, *lines = documented_lines()
    assert build == "pip wheel --no-deps . -w dist/"
    # its offline equivalent: pip would fetch hatchling, the build backend, from the network
    _run([_uv(), "build", "--wheel", "--offline", "--quiet", "--out-dir", str(job / "dist")], ROOT)
    outputs: list[str] = []
    for line in lines:
        for place, here in places.items():
            line = line.replace(place, here)
        if line.startswith("spark-submit "):
            line = line.replace("spark-submit ", "spark-submit --master 'local[2]' ", 1)
        assert "s3a:" not in line, line
        done = subprocess.run(
            ["bash", "-c", line],
            cwd=job,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        # ingest exits 1: one record is quarantined
        expected = 1 if " lake ingest " in line else 0
        assert done.returncode == expected, f"{line}\n{done.stdout}\n{done.stderr}"
        outputs.append(done.stdout)
    ingest_out, bill_out = outputs[-2:]
    assert f"{logs} (gateway-log): read 7 = loaded 5 + duplicates 1 + quarantined 1" in ingest_out
    # reapi's November and December, and nobody's November
    assert "billed 5 calls in 3 partitions" in bill_out, bill_out

    con = _warehouse(tmp_path, [logs])
    _lake_view(con, lake)
    calls = _rows(con, f"SELECT {CALL_COLUMNS} FROM calls")
    assert len(calls) == 5
    assert _rows(con, f"SELECT {CALL_COLUMNS} FROM lake_calls") == calls
    quarantine = _rows(con, f"SELECT {QUARANTINE_COLUMNS} FROM quarantine")
    assert _rows(con, f"SELECT {QUARANTINE_COLUMNS} FROM lake_quarantine") == quarantine
    counts = "source, format, records_read, loaded, duplicates, quarantined"
    assert _rows(con, f"SELECT {counts} FROM lake_batches") == _rows(
        con, f"SELECT {counts} FROM batches WHERE kind = 'usage'"
    )
    assert _rows(
        con,
        f"SELECT {BILL_COLUMNS} FROM lake_bills AS b JOIN lake_calls AS c "
        "USING (batch_id, source_line, source_item)",
    ) == _rows(con, f"SELECT {BILL_COLUMNS} FROM calls_costed WHERE billed")
    # by hand, per 1M tokens: h1 400,000 input x 0.27 + 100,000 cached x 0.054 + 50,000
    # output x 1.10; h2 7 x 0.27 + 10 x 1.10; h4 1,000 x 0.27; the failed call is free
    costs = dict(
        con.execute(
            "SELECT CASE c.status WHEN 'failed' THEN 'failed' ELSE c.call_id END, b.total_cost "
            "FROM lake_bills AS b "
            "JOIN lake_calls AS c USING (batch_id, source_line, source_item)"
        ).fetchall()
    )
    assert costs == {
        "h1": Decimal("0.1684"),
        "h2": Decimal("0.00001289"),
        "h3": None,
        "h4": Decimal("0.00027"),
        "failed": Decimal("0"),
    }

    # lake report over it, from the same zip (it starts no Spark: DuckDB reads the lake)
    report = job / "nov.csv"
    _run(
        [
            str(python),
            "ratecard_main.py",
            "lake",
            "report",
            "--lake",
            str(lake),
            "--period",
            "2026-11",
            "--by",
            "team,project",
            "--out",
            str(report),
        ],
        job,
        env | {"PYTHONPATH": str(job / "ratecard.zip")},
    )
    with report.open(encoding="utf-8", newline="") as handle:
        rows = {r["team"]: r for r in csv.DictReader(handle)}
    total = rows["total"]
    # h1, h2, the failed call and h3 (unpriced) in November; 0.1684 + 0.00001289, to the cent
    assert (total["calls"], total["failed_calls"], total["unpriced_calls"]) == ("4", "1", "1")
    assert total["input_tokens"] == "500107"
    assert total["total_cost"] == "0.17"
