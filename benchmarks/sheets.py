"""How long a big price sheet takes to load: ``python -m benchmarks.sheets [--models 40000]``.

Writes one provider's YAML sheet with ``--models`` models (two periods each, one with a
long-context tier: about 10 MB at 40,000 models) and the same points as a CSV sheet, then
times reading and checking them (``read_sheets``) and writing them to a fresh warehouse
(``load_points``), each form on its own. The numbers go to benchmarks/FINDINGS.md by hand.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from ingest.prices import load_points, read_sheets
from warehouse import connect

PERIODS = """\
    prices:
      - effective_from: 2026-01-01
        effective_to: 2026-07-01
        input: 0.{a:06d}
        output: 1.{a:06d}
        cache_read: 0.0{a:06d}
        source: https://gw.example/pricing/history
        note: the price before the July cut
      - effective_from: 2026-07-01
        input: 0.{b:06d}
        output: 1.{b:06d}
        cache_read: 0.0{b:06d}
        tiers:
          - {{above_input_tokens: 512000, input: 0.{a:06d}, output: 2.{a:06d}}}
"""
CSV_HEADER = (
    "provider,model,canonical_model,variant,unit,currency,effective_from,effective_to,"
    "above_input_tokens,input,output,cache_read,source,note\n"
)


def write_sheets(folder: Path, models: int) -> tuple[Path, Path]:
    yml, csv = folder / "big.yml", folder / "big.csv"
    with yml.open("w", encoding="utf-8") as out:
        out.write(
            "provider: bigw\nname: Big Gateway\ncurrency: USD\n"
            "source: https://gw.example/pricing\nchecked_on: 2026-11-01\nmodels:\n"
        )
        for n in range(models):
            out.write(f"  - id: vendor/model-{n:05d}\n    canonical: model-{n:05d}\n    unit: 1M\n")
            out.write(PERIODS.format(a=n, b=n + 1))
    with csv.open("w", encoding="utf-8") as out:
        out.write(CSV_HEADER)
        for n in range(models):
            row = f"bigc,vendor/model-{n:05d},model-{n:05d},standard,1M,USD"
            out.write(
                f"{row},2026-01-01,2026-07-01,,0.{n:06d},1.{n:06d},0.0{n:06d},"
                "https://gw.example/pricing/history,the price before the July cut\n"
                f"{row},2026-07-01,,,0.{n + 1:06d},1.{n + 1:06d},0.0{n + 1:06d},,\n"
                f"{row},2026-07-01,,512000,0.{n:06d},2.{n:06d},,,\n"
            )
    return yml, csv


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=40_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ratecard-sheets-") as tmp:
        folder = Path(tmp)
        for sheet in write_sheets(folder, args.models):
            size = sheet.stat().st_size / 1e6
            started, cpu = time.perf_counter(), time.process_time()
            points = read_sheets([sheet])
            read = time.perf_counter() - started, time.process_time() - cpu
            con = connect(folder / f"{sheet.stem}-{sheet.suffix[1:]}.duckdb")
            started, cpu = time.perf_counter(), time.process_time()
            load = load_points(con, points)
            written = time.perf_counter() - started, time.process_time() - cpu
            con.close()
            # CPU seconds too: the wall clock of a machine shared with other work moves more
            print(
                f"{sheet.name}: {size:.1f} MB, {load.points:,} points; read and checked "
                f"{read[0]:.2f} s ({read[1]:.2f} CPU s), written {written[0]:.2f} s "
                f"({written[1]:.2f} CPU s)"
            )


if __name__ == "__main__":
    main()
