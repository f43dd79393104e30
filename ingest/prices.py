"""Load price sheets (YAML or CSV) into the warehouse.

A load is all-or-nothing: every file is read and checked first, and only then, in one
transaction, the price points of the providers the files cover are replaced. A sheet is the
whole truth for its provider, so loading the same files twice changes nothing, and a bad
sheet leaves the prices already in the warehouse as they were.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from ingest import exact_yaml
from ingest.text import read_text
from pricing.sheet import (
    CSV_COLUMNS,
    CSV_REQUIRED,
    PricePoint,
    PriceSheetError,
    check_points,
    parse_row,
    parse_sheet,
)
from warehouse.errors import RatecardError
from warehouse.sql import fetch_value, sql_file

SHEET = "a price sheet (YAML or CSV)"


def read_yaml(path: Path) -> list[PricePoint]:
    """Read one provider's YAML sheet into price points."""
    try:
        data: Any = exact_yaml.load(path, SHEET)
    except exact_yaml.YAMLError as exc:
        raise PriceSheetError(str(path), "(file)", f"not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise PriceSheetError(str(path), "(file)", "expected a mapping with provider and models")
    return parse_sheet(data, str(path))


def read_csv(path: Path) -> list[PricePoint]:
    """Read a CSV price sheet (one price point per row; see ARCHITECTURE.md). A byte-order
    mark, as Excel writes before the header, is dropped."""
    with io.StringIO(read_text(path, SHEET), newline="") as handle:
        reader = csv.DictReader(handle)
        header = reader.fieldnames or []
        unknown = [c for c in header if c not in CSV_COLUMNS]
        if unknown:
            raise PriceSheetError(
                str(path),
                "header",
                f"unknown column; expected some of {', '.join(CSV_COLUMNS)}",
                unknown[0],
            )
        missing = [c for c in CSV_REQUIRED if c not in header]
        if missing:
            raise PriceSheetError(str(path), "header", "missing required column", missing[0])
        points = []
        for row in reader:
            if None in row:  # more cells than header columns
                raise PriceSheetError(
                    str(path), f"line {reader.line_num}", "more cells than the header has columns"
                )
            points.append(parse_row(row, str(path), reader.line_num))
    return points


def sheet_files(paths: list[Path]) -> list[Path]:
    """The sheet files named, with directories expanded to their *.yml, *.yaml and *.csv."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(
                sorted(p for p in path.iterdir() if p.suffix.lower() in {".yml", ".yaml", ".csv"})
            )
        elif path.exists():
            files.append(path)
        else:
            raise RatecardError(f"{path}: no such file or directory")
    if not files:
        raise RatecardError(
            f"no price sheets (*.yml, *.yaml, *.csv) in {', '.join(map(str, paths))}"
        )
    return files


def read_sheets(paths: list[Path]) -> list[PricePoint]:
    """Read and check every sheet; raise on the first problem, before anything is written."""
    points: list[PricePoint] = []
    for file in sheet_files(paths):
        points.extend(read_csv(file) if file.suffix.lower() == ".csv" else read_yaml(file))
    check_points(points)
    return points


@dataclass(frozen=True)
class PriceLoad:
    batch_id: int
    providers: tuple[str, ...]
    points: int
    replaced: int
    """How many price points of those providers were in the warehouse before."""
    changed: tuple[str, ...] = ()
    """The providers whose prices this load changed (ingest/sql/changed_prices.sql): their
    calls billed before it are stale until a rebill; the others' are not."""


_COLUMNS = [f.name for f in fields(PricePoint) if f.name not in ("origin", "aliases")]


def _arrow_column(values: list[Any]) -> pa.Array:
    """One column of points for DuckDB, exactly: instants in UTC, rates as DECIMAL(18, 9)
    (what price_points stores; a Rate has at most 9 places and 9 whole digits)."""
    if any(isinstance(v, datetime) for v in values):
        utc = [None if v is None else v.astimezone(UTC) for v in values]
        return pa.array(utc, pa.timestamp("us", tz="UTC"))
    if any(isinstance(v, Decimal) for v in values):
        return pa.array(values, pa.decimal128(18, 9))
    return pa.array(values)


def _points_table(points: list[PricePoint]) -> pa.Table:
    return pa.table({c: _arrow_column([getattr(p, c) for p in points]) for c in _COLUMNS})


def _aliases_table(points: list[PricePoint]) -> pa.Table:
    aliases = sorted({(p.provider, a, p.model) for p in points for a in p.aliases})
    return pa.table(
        {
            "provider": pa.array([a[0] for a in aliases], pa.string()),
            "alias": pa.array([a[1] for a in aliases], pa.string()),
            "model": pa.array([a[2] for a in aliases], pa.string()),
        }
    )


def load_prices(con: duckdb.DuckDBPyConnection, paths: list[Path]) -> PriceLoad:
    """Check the sheets at ``paths`` and replace their providers' prices, in one transaction."""
    return load_points(con, read_sheets(paths))


def load_points(
    con: duckdb.DuckDBPyConnection, points: list[PricePoint], fmt: str = "price-sheet"
) -> PriceLoad:
    """Replace the prices of the providers in ``points`` (already checked) in one
    transaction, with their aliases; ``fmt`` names where they came from in the batch row.

    The points go in as one Arrow table and one INSERT (``executemany`` runs a row at a time;
    see benchmarks/FINDINGS.md), and are compared with the prices they replace, so that only
    a provider whose prices changed makes its billed calls stale.
    """
    if not points:
        raise RatecardError("no price points to load")
    providers = sorted({p.provider for p in points})
    started = datetime.now(UTC)
    con.execute("BEGIN TRANSACTION")  # first: it ends a result the caller left open
    try:
        con.register("loaded_points", _points_table(points))
        con.register("loaded_aliases", _aliases_table(points))
        batch_id = int(fetch_value(con, "SELECT nextval('batch_id_seq')"))
        # in price_points' own types, so that the comparison and the insert see stored values;
        # an open period is stored as 'infinity', so that the billing join needs no COALESCE
        con.execute("CREATE OR REPLACE TEMP TABLE incoming_points AS FROM price_points LIMIT 0")
        con.execute(
            "INSERT INTO incoming_points BY NAME SELECT * REPLACE (coalesce(effective_to, "
            "'infinity'::TIMESTAMPTZ) AS effective_to), $batch AS batch_id FROM loaded_points",
            {"batch": batch_id},
        )
        con.execute(
            "CREATE OR REPLACE TEMP TABLE incoming_aliases AS "
            "SELECT provider, alias, model, $batch::BIGINT AS batch_id FROM loaded_aliases",
            {"batch": batch_id},
        )
        changed = [
            str(r[0])
            for r in con.execute(
                sql_file("ingest", "changed_prices"), {"providers": providers}
            ).fetchall()
        ]
        replaced = int(
            fetch_value(
                con,
                "SELECT count(*) FROM price_points WHERE list_contains($providers, provider)",
                {"providers": providers},
            )
        )
        con.execute(
            "DELETE FROM price_points WHERE list_contains($providers, provider)",
            {"providers": providers},
        )
        con.execute("INSERT INTO price_points FROM incoming_points")
        con.execute(
            "DELETE FROM model_aliases WHERE list_contains($providers, provider)",
            {"providers": providers},
        )
        con.execute(
            "INSERT INTO model_aliases (provider, alias, model, batch_id) "
            "SELECT provider, alias, model, batch_id FROM incoming_aliases"
        )
        if changed:
            con.execute(
                "INSERT INTO price_changes SELECT unnest($changed::VARCHAR[]), $batch "
                "ON CONFLICT (provider) DO UPDATE SET changed_by = EXCLUDED.changed_by",
                {"changed": changed, "batch": batch_id},
            )
        con.execute(
            "INSERT INTO batches (batch_id, kind, source, format, started_at, finished_at, "
            "records_read, loaded, duplicates, quarantined) VALUES "
            "($batch, 'prices', $source, $format, $started, now(), $n, $n, 0, 0)",
            {
                "format": fmt,
                "batch": batch_id,
                "source": ", ".join(sorted({p.sheet for p in points})),
                "started": started,
                "n": len(points),
            },
        )
        con.execute("DROP TABLE incoming_points")
        con.execute("DROP TABLE incoming_aliases")
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    finally:
        con.unregister("loaded_points")
        con.unregister("loaded_aliases")
    return PriceLoad(batch_id, tuple(providers), len(points), replaced, tuple(changed))
