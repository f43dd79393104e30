"""The lake on Spark against the embedded path, on the benchmark's own files:
``python -m benchmarks.lake --calls N --masters 'local[1],local[2],local[4]'``.

For each master, in interleaved rounds: ``ratecard lake ingest`` of the benchmark's gateway
and Runware logs (benchmarks/run.py generates them, or reuses them from ``--out``) into a
new lake, then ``ratecard lake bill --prices`` of the shipped sheets, each a child process
of its own with its JVM's start included (what a user waits for); beside them, the embedded
``ratecard ingest prices`` + ``ingest usage`` of the same files into a new warehouse. It
prints one table: median seconds per step, the lake's ingest + bill against the embedded
run, and the calls per second. The counts of the two paths are checked to agree (the tests
hold their rows equal; here only the totals are read back). Needs the ``spark`` extra and
Java 17+; ``RATECARD_SPARK_MEMORY`` (8g unless set) is the local JVM's memory. Not in CI:
the findings go into benchmarks/FINDINGS.md.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from importlib import resources
from pathlib import Path

from benchmarks.run import ROOT, data
from ratecard.cli import PRICE_SHEETS

_READ = re.compile(
    r"read ([\d,]+) = loaded ([\d,]+) \+ duplicates ([\d,]+) \+ quarantined ([\d,]+)"
)


def _timed(command: list[str], env: dict[str, str]) -> tuple[float, str]:
    """Run ``ratecard …`` in a child process; its wall time and stdout. Exit status 1 (some
    records quarantined) is a normal end."""
    started = time.perf_counter()
    child = subprocess.run(
        [sys.executable, "-m", "ratecard", *command],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    if child.returncode not in (0, 1):
        raise RuntimeError(
            f"{' '.join(command)} failed ({child.returncode}): {child.stderr[-3000:]}"
        )
    return seconds, child.stdout


def _counts(output: str) -> tuple[int, int, int, int]:
    """The conservation lines of an ingest's output, summed over its files."""
    totals = [0, 0, 0, 0]
    for match in _READ.finditer(output):
        for n, value in enumerate(match.groups()):
            totals[n] += int(value.replace(",", ""))
    read, loaded, duplicates, quarantined = totals
    return read, loaded, duplicates, quarantined


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--masters", default="local[1],local[2],local[4]")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "out")
    args = parser.parse_args(argv)
    masters = [m.strip() for m in args.masters.split(",") if m.strip()]
    files, _ = data(args.out, args.calls)
    work = args.out / "lake-work"
    env = {**os.environ}
    env.setdefault("RATECARD_SPARK_MEMORY", "8g")
    times: dict[str, dict[str, list[float]]] = {}
    counts: dict[str, tuple[int, int, int, int]] = {}
    with resources.as_file(PRICE_SHEETS) as sheets:
        for n in range(args.runs):
            for name in ["embedded", *masters]:
                shutil.rmtree(work, ignore_errors=True)
                work.mkdir(parents=True)
                print(f"round {n + 1}/{args.runs}: {name} …", flush=True)
                step = times.setdefault(name, {"ingest": [], "bill": []})
                if name == "embedded":
                    db = str(work / "bench.duckdb")
                    bill, _ = _timed(["ingest", "prices", str(sheets), "--db", db], env)
                    ingest, output = _timed(["ingest", "usage", *map(str, files), "--db", db], env)
                else:
                    lake = str(work / "lake")
                    master = ["--master", name]
                    ingest, output = _timed(
                        ["lake", "ingest", *map(str, files), "--lake", lake, *master], env
                    )
                    bill, _ = _timed(
                        ["lake", "bill", "--prices", str(sheets), "--lake", lake, *master], env
                    )
                step["ingest"].append(ingest)
                step["bill"].append(bill)
                counts[name] = _counts(output)
    shutil.rmtree(work, ignore_errors=True)
    if len(set(counts.values())) != 1:
        raise RuntimeError(f"the paths' counts differ: {counts}")
    read = counts["embedded"][0]
    embedded = statistics.median(a + b for a, b in zip(*times["embedded"].values(), strict=True))
    print(
        f"\n{args.calls:,} calls ({read:,} records read), median of {args.runs} run(s); "
        "embedded = `ingest prices` + `ingest usage` (which bills), the lake = `lake ingest` "
        "+ `lake bill --prices`, each with its JVM's start\n"
    )
    print(
        "| engine | ingest s (embedded: and bill) | bill s (embedded: the prices) | total s "
        "| records/s | against the embedded run |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for name, step in times.items():
        total = statistics.median(a + b for a, b in zip(step["ingest"], step["bill"], strict=True))
        print(
            f"| {name} | {statistics.median(step['ingest']):.1f} | "
            f"{statistics.median(step['bill']):.1f} | {total:.1f} | {read / total:,.0f} | "
            f"{total / embedded:.1f}x |"
        )
    read, loaded, duplicates, quarantined = counts["embedded"]
    print(
        f"\nthe same counts on every path: read {read:,} = loaded {loaded:,} + duplicates "
        f"{duplicates:,} + quarantined {quarantined:,}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
