"""ratecard's benchmarks: ``make bench`` measures ten million calls and writes RESULTS.md.

    python -m benchmarks.run [--calls 10000000] [--runs 3] [--out benchmarks/out]
                             [--results benchmarks/RESULTS.md]
                             [--sizes 1000000,2000000,4000000,10000000] [--browser]

Data comes from the same generator as the demo (ratecard/sample.py), written once per size
into --out and reused. Every measurement runs in its own process, so that its peak resident
memory is its own; times are medians of --runs runs. The baselines run in the same session
on the same data, so that the ratios hold on a noisy machine. ``--browser`` also measures the
dashboard in Chromium (benchmarks/browser.py) over the warehouse of each size. The test
suite runs this in a smoke mode (--calls 20000 --runs 1) so it never rots; the full run
stays out of CI.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

from ratecard import sample
from ratecard.sample import SEED, START, generate

ROOT = Path(__file__).resolve().parent.parent
INCREMENT_SHARE = 100
"""Step 3's later batch is one call in this many of the main traffic (100,000 at ten million)."""
GENAI_CALLS = 100_000


def increment(calls: int) -> int:
    """The size of step 3's batch: sized to the run, so the smoke run stays small."""
    return max(calls // INCREMENT_SHARE, 100)


@dataclass
class Measure:
    name: str
    runs: list[dict[str, Any]] = field(default_factory=list)
    peak_mb: list[float] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        return float(statistics.median(float(r["seconds"]) for r in self.runs))

    @property
    def peak(self) -> float:
        return max(self.peak_mb)

    def per_second(self, key: str = "calls") -> float:
        return float(self.runs[0][key]) / self.seconds


def step(measure: Measure, *args: str) -> dict[str, Any]:
    """Run ``benchmarks.steps`` in a child process; record its result and peak memory.

    The page cache is flushed first: a step must not pay for writing out the files that the
    steps before it wrote or copied (ADR 0038).
    """
    os.sync()
    with tempfile.TemporaryFile() as output:
        child = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.steps", *args], stdout=output, cwd=ROOT
        )
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        output.seek(0)
        text = output.read().decode()
    if child.returncode != 0:
        raise RuntimeError(f"step {args} failed ({child.returncode}): {text}")
    result: dict[str, Any] = json.loads(text.strip().splitlines()[-1])
    measure.runs.append(result)
    measure.peak_mb.append(usage.ru_maxrss / 1024)  # Linux reports KiB
    return result


def generator_version() -> str:
    """A digest of the generator's source: cached data from another version is not reused."""
    return hashlib.sha256(Path(sample.__file__).read_bytes()).hexdigest()[:10]


def data(out: Path, calls: int) -> tuple[list[Path], Path]:
    """The benchmark's usage files, and a later batch of ``increment(calls)`` for step 3."""
    version = generator_version()
    folder = out / f"data-{calls}-{version}"
    files = [folder / "gateway.jsonl", folder / "runware.jsonl"]
    if not all(f.exists() for f in files):
        print(f"generating {calls:,} calls into {folder} …", flush=True)
        generate(folder, calls, workers=os.cpu_count() or 1)
    more = increment(calls)
    batch = out / f"batch-{more}-{version}"
    if not (batch / "gateway.jsonl").exists():
        # a day after the main traffic, with another seed: new calls, no duplicates
        generate(batch, more, seed=SEED + 1, start=START + timedelta(days=90), days=1)
    return files, batch / "gateway.jsonl"


STEP_ONE = ("ingest", "floor_read", "floor_columns", "floor_cat", "floor_write")
"""Step 1 and its floors, measured in the same round so that their ratios hold on a noisy
machine: the bare read_ndjson, the explicit-columns read_ndjson (issue 23), the page-cache
read and the write floor."""


def step_one(
    m: dict[str, Measure], files: list[Path], work: Path, n: int, keep: Path | None
) -> None:
    """One round of step 1 and its floors over ``files``; the ingested warehouse is copied to
    ``keep`` when given (the later steps' base)."""
    db, floor = work / f"ingest-{n}.duckdb", work / f"floor-{n}.duckdb"
    step(m["ingest"], "ingest", str(db), *map(str, files))
    if keep is not None:
        shutil.copy(db, keep)
    step(m["floor_read"], "floor_read", str(floor), str(files[0]))
    floor.unlink()
    step(m["floor_columns"], "floor_columns", str(floor), str(files[0]))
    floor.unlink()
    step(m["floor_cat"], "floor_cat", str(files[0]))
    step(m["floor_write"], "floor_write", str(floor), str(db))
    floor.unlink()
    db.unlink()


def rebill_round(m: dict[str, Measure], base: Path, work: Path) -> None:
    """Step 2 and its floor over a copy of ``base``, measured in the same round."""
    copy = work / "copy.duckdb"
    shutil.copy(base, copy)
    step(m["rebill"], "rebill", str(copy))
    step(m["floor_bill"], "floor_bill", str(copy))
    copy.unlink()


def run(calls: int, runs: int, out: Path, browser: bool = False) -> dict[str, Measure]:
    files, batch = data(out, calls)
    work = out / "work"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    m = {
        name: Measure(name)
        for name in (
            *STEP_ONE,
            "rebill",
            "floor_bill",
            "incremental",
            "dashboard",
            "browser",
            "genai_prices",
        )
    }
    base = work / "base.duckdb"
    for n in range(runs):
        print(f"run {n + 1}/{runs}: ingest and bill {calls:,} calls, and its floors", flush=True)
        step_one(m, files, work, n, base if n == 0 else None)
    for n in range(runs):
        print(f"run {n + 1}/{runs}: rebill, incremental batch, dashboard", flush=True)
        rebill_round(m, base, work)
        copy = work / "copy.duckdb"
        shutil.copy(base, copy)
        step(m["incremental"], "incremental", str(copy), str(batch))
        step(m["dashboard"], "dashboard", str(base))
        if browser:
            step(m["browser"], "browser", str(base))
    step(m["genai_prices"], "genai_prices", str(base), str(min(GENAI_CALLS, calls)))
    return m


CURVE_STEPS = (*STEP_ONE, "rebill", "floor_bill", "browser")
"""What the size curve measures at each size: step 1 and its floors, step 2 and its floor
over the warehouse step 1 wrote, and (``--browser``) the dashboard in Chromium over it."""


def curve(
    sizes: list[int],
    runs: int,
    out: Path,
    main: tuple[int, dict[str, Measure]],
    browser: bool = False,
) -> dict[int, dict[str, Measure]]:
    """Step 1 and its floors, step 2 and its floor, and the dashboard in the browser, at
    each size (``--sizes``): is every cost linear in its input, and does each ratio hold at
    every size? The main run's size is a point of the curve without being measured again."""
    if not sizes:
        return {}
    work = out / "work-curve"
    points = {main[0]: {name: main[1][name] for name in CURVE_STEPS}}
    for calls in sizes:
        if calls in points:
            continue
        files, _ = data(out, calls)
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        points[calls] = {name: Measure(name) for name in CURVE_STEPS}
        base = work / "base.duckdb"
        for n in range(runs):
            print(f"size curve, {calls:,} calls: run {n + 1}/{runs}", flush=True)
            step_one(points[calls], files, work, n, base if n == 0 else None)
        for _ in range(runs):
            rebill_round(points[calls], base, work)
            if browser:
                step(points[calls]["browser"], "browser", str(base))
    shutil.rmtree(work, ignore_errors=True)
    return points


def per_run_ratios(step: Measure, floor: Measure, key: str = "records") -> list[float]:
    """Time per record (or per call) of each run of a step over that of the floor's run of the
    same round (measured right after it, so both met the machine in the same state)."""
    return [
        (float(s["seconds"]) / float(s[key])) / (float(f["seconds"]) / float(f[key]))
        for s, f in zip(step.runs, floor.runs, strict=True)
    ]


FLOORS = (
    ("floor_read", "records"),
    ("floor_columns", "records"),
    ("floor_cat", "records"),
    ("floor_write", "calls"),
)
"""Step 1's floors, and what each counts: lines read, or calls written."""
NOT_MEASURED = "not measured yet on a quiet machine"


def against(ingest: Measure, floor: Measure, key: str) -> str:
    """Step 1's time per record (or per call) over the floor's, medians and each round's."""
    if not floor.runs:
        return NOT_MEASURED
    median = floor.per_second(key) / ingest.per_second(key)
    rounds = ", ".join(f"{r:.2f}x" for r in per_run_ratios(ingest, floor, key))
    return f"{median:.2f}x (rounds {rounds})"


@dataclass(frozen=True)
class Target:
    what: str
    met: bool
    measured: str


def targets(
    m: dict[str, Measure], calls: int = 0, points: dict[int, dict[str, Measure]] | None = None
) -> list[Target]:
    ingest, read, write = m["ingest"], m["floor_read"], m["floor_write"]
    rebill, bill = m["rebill"], m["floor_bill"]
    pages = {
        p: statistics.median(r["pages"][p] for r in m["dashboard"].runs)
        for p in m["dashboard"].runs[0]["pages"]
    }
    billing_rate, genai_rate = rebill.per_second(), m["genai_prices"].per_second()
    peak = max(m["ingest"].peak, m["rebill"].peak, m["incremental"].peak)
    columns = m.get("floor_columns", Measure("floor_columns"))
    return [
        Target(
            "Step 1 at most 1.5x the explicit-columns read_ndjson floor (time per record)",
            bool(columns.runs)
            and columns.per_second("records") <= 1.5 * ingest.per_second("records"),
            against(ingest, columns, "records"),
        ),
        # per record: step 1 reads both files, the floor the gateway log only
        Target(
            "Step 1 at most 2x its bare read_ndjson floor (time per record)",
            read.per_second("records") <= 2 * ingest.per_second("records"),
            f"{read.per_second('records') / ingest.per_second('records'):.2f}x (each run with "
            "the floor measured right after it: "
            + ", ".join(f"{r:.2f}x" for r in per_run_ratios(ingest, read))
            + ")",
        ),
        Target(
            "Step 1 at least 1.5 million calls per second",
            ingest.per_second("records") >= 1_500_000,
            # the two floors show what this machine allows: reading alone, writing alone
            f"{ingest.per_second('records'):,.0f} records/s (the log read alone: "
            f"{read.per_second('records'):,.0f} records/s; the calls table written alone: "
            f"{write.per_second():,.0f} calls/s)",
        ),
        Target(
            "Step 2 at most 1.5x its bare range-join floor",
            rebill.seconds <= 1.5 * bill.seconds,
            f"{rebill.seconds / bill.seconds:.2f}x",
        ),
        Target(
            "Step 3 under 3 seconds",
            m["incremental"].seconds < 3,
            f"{m['incremental'].seconds:.2f} s",
        ),
        Target(
            "Every dashboard page's queries under 300 ms",
            max(pages.values()) < 0.3,
            ", ".join(f"{p} {t * 1000:.0f} ms" for p, t in pages.items()),
        ),
        Target("Peak memory under 2 GB for steps 1-3", peak < 2048, f"{peak:,.0f} MB"),
        Target(
            "Billing at least 300x the per-call genai-prices loop",
            billing_rate >= 300 * genai_rate,
            f"{billing_rate / genai_rate:,.0f}x",
        ),
        staged_ids(ingest),
        rebill_at_every_size({calls: m, **(points or {})}),
        *(browser_targets(m["browser"], calls) if m.get("browser", Measure("")).runs else []),
    ]


REBILL_FROM = 1_000_000
"""The size from which step 2 must stay within its floor (issue 23)."""


def rebill_at_every_size(points: dict[int, dict[str, Measure]]) -> Target:
    """Step 2 at most 1x its floor at every size measured from REBILL_FROM calls up (at every
    size measured when none is that large, as in the smoke run)."""
    sizes = sorted(c for c, p in points.items() if c and p.get("rebill", Measure("")).runs)
    judged = [c for c in sizes if c >= REBILL_FROM] or sizes
    ratios = {c: points[c]["rebill"].seconds / points[c]["floor_bill"].seconds for c in judged}
    return Target(
        "Step 2 at most 1x its bare range-join floor at every size from 1M calls up",
        bool(ratios) and max(ratios.values()) <= 1,
        ", ".join(f"{c:,} calls {r:.2f}x" for c, r in ratios.items()) or NOT_MEASURED,
    )


def browser_pages(browser: Measure, visit: str) -> dict[str, float]:
    """Each page's median seconds from a click on its link to its charts drawn."""
    names = browser.runs[0][visit]
    return {p: statistics.median(r[visit][p]["seconds"] for r in browser.runs) for p in names}


def browser_targets(browser: Measure, calls: int) -> list[Target]:
    """The dashboard in Chromium (issue 23): first load under 3 s, every page drawn under
    1 s after a click on its link, warm (the targets are set over ten million calls; this
    judges the run's size, which the measured column names)."""
    warm = browser_pages(browser, "warm")
    return [
        Target(
            "Dashboard's first load under 3 s in Chromium",
            browser.seconds < 3,
            f"{browser.seconds:.2f} s at {calls:,} calls",
        ),
        Target(
            "Every dashboard page drawn under 1 s after a click on its link, warm",
            max(warm.values()) < 1,
            f"at {calls:,} calls: " + ", ".join(f"{p} {t:.2f} s" for p, t in warm.items()),
        ),
    ]


ROW_GROUP = 122_880
"""DuckDB's rows per row group: only full ones are compressed before a checkpoint."""


def staged_ids(ingest: Measure) -> Target:
    """ADR 0012: step 1's scratch table stores call_id uncompressed and the other text
    compressed (told apart only once a file fills a row group, as the full run's do)."""
    staged = {c: set(k) for c, k in ingest.runs[0].get("staged_compression", {}).items()}
    ids, provider = staged.get("call_id", set()), staged.get("provider", set())
    full = int(ingest.runs[0]["records"]) >= 2 * ROW_GROUP
    return Target(
        "Staged call ids stored uncompressed, the other text compressed (ADR 0012)",
        ids == {"Uncompressed"} and (not full or provider != {"Uncompressed"}),
        "; ".join(f"{c}: {', '.join(sorted(k))}" for c, k in sorted(staged.items()))
        or "not measured",
    )


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        memory = (
            next(
                int(line.split()[1])
                for line in Path("/proc/meminfo").read_text().splitlines()
                if line.startswith("MemTotal")
            )
            / 1024
            / 1024
        )
    except (OSError, StopIteration):
        memory = 0.0
    return (
        f"{cpu}, {os.cpu_count()} cores, {memory:.0f} GiB; Python "
        f"{platform.python_version()}, DuckDB {duckdb.__version__}"
    )


FLOOR_LABELS = {
    "floor_read": "   floor: bare read_ndjson of the gateway log (auto-detected columns)",
    "floor_columns": "   floor: read_ndjson with explicit columns and the typed extraction of "
    "every shape, gateway log",
    "floor_cat": "   floor: page-cache read of the gateway log (cat > /dev/null)",
    "floor_write": "   floor: the full calls row written (bare copy of the calls table step 1 "
    "wrote)",
}


CURVE_LABELS = {
    "ingest": "ingest + bill",
    "floor_read": "read_ndjson, auto-detected",
    "floor_columns": "read_ndjson, explicit columns",
    "floor_cat": "page-cache read",
    "floor_write": "calls row written",
}


def curve_table(points: dict[int, dict[str, Measure]]) -> list[str]:
    """The size curve: each cost in µs per record at each size (linear when a column stays
    flat), and step 1 against the explicit-columns floor at that size."""
    keys = {"ingest": "records", **dict(FLOORS)}
    lines = [
        "",
        "Size curve (median s, and µs per line read or per call written):",
        "",
        "| calls | " + " | ".join(CURVE_LABELS.values()) + " | step 1 against explicit columns |",
        "|---:|" + "---:|" * len(CURVE_LABELS) + "---|",
    ]
    for calls, m in sorted(points.items()):
        cells = [
            f"{m[n].seconds:.2f} s, {1e6 / m[n].per_second(keys[n]):.2f} µs" for n in CURVE_LABELS
        ]
        ratio = against(m["ingest"], m["floor_columns"], "records")
        lines.append(f"| {calls:,} | " + " | ".join(cells) + f" | {ratio} |")
    return lines


def rebill_curve(points: dict[int, dict[str, Measure]]) -> list[str]:
    """Step 2 against its floor at each size (a fixed cost shows as a ratio that falls as
    the size grows)."""
    lines = [
        "",
        "Rebill against its floor at each size (median s, and µs per call):",
        "",
        "| calls | rebill every call | floor: bare range-join bill | rebill against it (rounds) |",
        "|---:|---:|---:|---|",
    ]
    for calls, m in sorted(points.items()):
        rebill, floor = m.get("rebill", Measure("")), m.get("floor_bill", Measure(""))
        if not rebill.runs:
            continue
        rounds = ", ".join(f"{r:.2f}x" for r in per_run_ratios(rebill, floor, "calls"))
        lines.append(
            f"| {calls:,} | {rebill.seconds:.2f} s, {1e6 / rebill.per_second():.2f} µs | "
            f"{floor.seconds:.2f} s, {1e6 / floor.per_second():.2f} µs | "
            f"{rebill.seconds / floor.seconds:.2f}x ({rounds}) |"
        )
    return lines


def browser_table(browsed: dict[int, Measure]) -> list[str]:
    """The dashboard in Chromium at each size: the first load, and each page from a click on
    its link to its charts drawn, cold (first visit) and warm (second), with the bytes the
    server sent over the websocket and the points its figures hold (last run's)."""
    from benchmarks.browser import LINKS

    lines = [
        "",
        "Dashboard in Chromium (benchmarks/browser.py; median s from a click on a sidebar link "
        "to the page's charts drawn, cold = first visit, warm = second; bytes the server sent "
        "for the visit; points in the page's figures):",
        "",
        "| calls | first load | " + " | ".join(LINKS) + " |",
        "|---:|---:|" + "---:|" * len(LINKS),
    ]
    for calls, browser in sorted(browsed.items()):
        cold, warm = browser_pages(browser, "cold"), browser_pages(browser, "warm")
        last = browser.runs[-1]["warm"]
        cells = [
            f"{cold[p]:.2f} / {warm[p]:.2f} s, {last[p]['bytes'] / 1024:,.0f} KB, "
            f"{last[p]['points']:,} points"
            for p in LINKS
        ]
        second = statistics.median(float(r["second_load"]) for r in browser.runs)
        lines.append(
            f"| {calls:,} | {browser.seconds:.2f} s ({second:.2f} s for a second browser) | "
            + " | ".join(cells)
            + " |"
        )
    return lines


def report(
    m: dict[str, Measure],
    calls: int,
    runs: int,
    command: str,
    at: str,
    points: dict[int, dict[str, Measure]] | None = None,
) -> str:
    floors = [(FLOOR_LABELS[name], m.get(name, Measure(name)), key) for name, key in FLOORS]
    rows = [
        ("1. ingest + bill (gateway log and Runware task log)", m["ingest"], "records"),
        *floors,
        ("2. rebill every call", m["rebill"], "calls"),
        ("   floor: bare range-join bill", m["floor_bill"], "calls"),
        (f"3. ingest + bill {increment(calls):,} more calls", m["incremental"], "records"),
        ("4. dashboard queries, all pages", m["dashboard"], None),
        (
            f"   baseline: genai-prices calc_price loop ({m['genai_prices'].runs[0]['calls']:,} "
            "calls)",
            m["genai_prices"],
            "calls",
        ),
    ]
    lines = [
        "<!-- Generated by `make bench` (python -m benchmarks.run); the findings below the",
        "     numbers come from benchmarks/FINDINGS.md. Do not edit by hand. -->",
        "# Benchmarks",
        "",
        f"Command: `{command}` — {calls:,} calls, median of {runs} run(s), {at}.",
        f"Machine: {machine()}.",
        "",
        "| step | median s | throughput /s | peak memory MB | step 1 against it (time per "
        "record) |",
        "|---|---:|---:|---:|---|",
    ]
    for label, measure, key in rows:
        ratio = ""
        if measure.name in FLOOR_LABELS:
            ratio = against(m["ingest"], measure, key or "records")
        if not measure.runs:
            lines.append(f"| {label} | {NOT_MEASURED} | | | {ratio} |")
            continue
        rate = f"{measure.per_second(key):,.0f}" if key else ""
        lines.append(
            f"| {label} | {measure.seconds:.2f} | {rate} | {measure.peak:,.0f} | {ratio} |"
        )
    if points:
        lines += curve_table(points)
        lines += rebill_curve(points)
    none = Measure("")
    browsed = {c: p["browser"] for c, p in (points or {}).items() if p.get("browser", none).runs}
    if m.get("browser", none).runs:
        browsed[calls] = m["browser"]
    if browsed:
        lines += browser_table(browsed)
    pages = m["dashboard"].runs
    lines += [
        "",
        "Dashboard queries per page (median ms): "
        + ", ".join(
            f"{p} {statistics.median(r['pages'][p] for r in pages) * 1000:.0f}"
            for p in pages[0]["pages"]
        ),
        "",
        "| target | met | measured |",
        "|---|---|---|",
    ]
    for target in targets(m, calls, points):
        lines.append(f"| {target.what} | {'yes' if target.met else '**no**'} | {target.measured} |")
    findings = ROOT / "benchmarks" / "FINDINGS.md"
    if findings.exists():
        lines += ["", findings.read_text(encoding="utf-8").strip()]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "out")
    parser.add_argument("--results", type=Path, default=ROOT / "benchmarks" / "RESULTS.md")
    parser.add_argument(
        "--sizes",
        type=lambda text: [int(size) for size in text.split(",")],
        default=[],
        help="Also measure step 1 and its floors at each of these sizes (comma-separated "
        "calls, e.g. 1000000,2000000,4000000,10000000) and print the size curve, the "
        "--calls run's own measurements its point at that size.",
    )
    parser.add_argument(
        "--browser",
        action="store_true",
        help="Also measure the dashboard in Chromium (benchmarks/browser.py) over the "
        "warehouse of --calls and of each of --sizes.",
    )
    parser.add_argument(
        "--render-only",
        action="store_true",
        help="Rewrite RESULTS.md from the last run's measurements (after "
        "editing FINDINGS.md), without measuring again.",
    )
    args = parser.parse_args(argv)
    saved = args.out / "measurements.json"
    if args.render_only:
        state = json.loads(saved.read_text(encoding="utf-8"))
        measures = {
            name: Measure(name, m["runs"], m["peak_mb"]) for name, m in state["measures"].items()
        }
        points = {
            int(calls): {n: Measure(n, m["runs"], m["peak_mb"]) for n, m in point.items()}
            for calls, point in state.get("curve", {}).items()
        }
        text = report(
            measures, state["calls"], state["runs"], state["command"], state["at"], points
        )
    else:
        command = "python -m benchmarks.run " + " ".join(argv if argv is not None else sys.argv[1:])
        measures = run(args.calls, args.runs, args.out, args.browser)
        points = curve(args.sizes, args.runs, args.out, (args.calls, measures), args.browser)
        at = f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
        saved.write_text(
            json.dumps(
                {
                    "calls": args.calls,
                    "runs": args.runs,
                    "command": command.strip(),
                    "at": at,
                    "measures": {
                        n: {"runs": m.runs, "peak_mb": m.peak_mb} for n, m in measures.items()
                    },
                    "curve": {
                        calls: {n: {"runs": m.runs, "peak_mb": m.peak_mb} for n, m in p.items()}
                        for calls, p in points.items()
                    },
                }
            ),
            encoding="utf-8",
        )
        text = report(measures, args.calls, args.runs, command.strip(), at, points)
    args.results.write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
