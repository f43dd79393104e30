"""The command line as a user runs it: the demo, ingest with its conservation line, summary,
export, compare, and errors that name the problem and exit with status 2."""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest
import typer
from dashboard_data import build
from typer.testing import CliRunner

from conftest import TEST_SHEETS, blank_warehouse, chat, write_jsonl
from ratecard import cli, sample

runner = CliRunner()


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(cli.app, list(args), env={"COLUMNS": "200"})
    return result.exit_code, result.output


@pytest.fixture
def samples(tmp_path: Path) -> Path:
    """The demo's sample folder: beside its warehouse (in tmp_path), never in the checkout."""
    return tmp_path / "samples"


def test_demo_builds_a_billed_warehouse(tmp_path: Path, samples: Path) -> None:
    db = tmp_path / "demo.duckdb"
    code, output = run("demo", "--db", str(db), "--calls", "2000", "--no-dashboard")
    assert code == 0, output
    assert "read" in output and "loaded" in output and "quarantined" in output
    assert "runapi/MiniMax-M1" in output and "unpriced" in output
    assert "total" in output
    # the sample traffic lands beside the warehouse, wherever the package is installed
    assert (samples / "gateway.jsonl").is_file()
    # running it again is idempotent: nothing new is loaded
    code, again = run("demo", "--db", str(db), "--calls", "2000", "--no-dashboard")
    assert code == 0 and "loaded 0 " in again


def test_demo_refuses_a_real_warehouse(tmp_path: Path, samples: Path) -> None:
    db = tmp_path / "real.duckdb"
    log = write_jsonl(tmp_path / "prod.jsonl", [chat(call_id="p1")])
    assert run("ingest", "usage", str(log), "--db", str(db))[0] == 0
    code, output = run("demo", "--db", str(db), "--calls", "200", "--no-dashboard")
    assert code == 2
    # the refusal says what to do: another file (the Makefile's DB variable), or delete it
    assert output.strip() == (
        f"error: {db} holds usage from {log}; the demo will not mix sample data into a real "
        "warehouse. Build the sample in another file (`make demo DB=other.duckdb`, or "
        f"`ratecard demo --db other.duckdb`), or delete {db} to rebuild the sample there."
    )
    assert "DB ?=" in (Path(__file__).parent.parent / "Makefile").read_text(encoding="utf-8")


def test_demo_reruns_over_a_warehouse_of_an_earlier_demo(tmp_path: Path) -> None:
    # demos before this one wrote their samples into the checkout's data/samples/
    db = tmp_path / "warehouse" / "demo.duckdb"
    earlier = sample.generate(tmp_path / "checkout" / "data" / "samples", 300)
    for log in (earlier.gateway_log, earlier.runware_log):
        assert run("ingest", "usage", str(log), "--db", str(db))[0] == 0
    code, output = run("demo", "--db", str(db), "--calls", "300", "--no-dashboard")
    assert code == 0, output
    # a log of the same name elsewhere is a real warehouse's, and refused
    other = sample.generate(tmp_path / "elsewhere" / "samples", 300)
    assert run("ingest", "usage", str(other.gateway_log), "--db", str(db))[0] == 0
    code, output = run("demo", "--db", str(db), "--calls", "300", "--no-dashboard")
    assert code == 2 and f"holds usage from {other.gateway_log}" in output


def test_ingest_summary_and_export(tmp_path: Path) -> None:
    db = str(blank_warehouse(tmp_path / "w.duckdb"))
    code, output = run("ingest", "prices", str(TEST_SHEETS), "--db", db)
    assert code == 0 and "price points" in output
    log = write_jsonl(
        tmp_path / "log.jsonl",
        [
            chat(provider="runapi", model="MiniMax-M3", prompt=1_000, completion=500, call_id="x"),
            "broken {",
        ],
    )
    code, output = run("ingest", "usage", str(log), "--db", db)
    assert code == 1  # a record quarantined: loaded, but someone should look
    assert "read 2 = loaded 1 + duplicates 0 + quarantined 1" in output

    code, output = run("summary", "--db", db, "--by", "provider", "--exact")
    assert code == 0 and "0.015" in output  # (1,000 + 500) x 0.010 / 1K

    out = tmp_path / "calls.csv"
    code, output = run("export", "calls", "--db", db, "--format", "csv", "--out", str(out))
    assert code == 0 and "wrote 1 calls" in output
    with out.open(newline="", encoding="utf-8") as handle:
        assert [Decimal(r["total_cost"]) for r in csv.DictReader(handle)] == [Decimal("0.015")]

    code, output = run("bill", "--rebill", "--db", db)
    assert code == 0 and "re-priced 1 calls" in output


def test_raw_bodies_need_and_take_a_provider(tmp_path: Path) -> None:
    db = str(blank_warehouse(tmp_path / "w.duckdb"))
    run("ingest", "prices", str(TEST_SHEETS), "--db", db)
    body = chat(provider="runapi", model="MiniMax-M3", prompt=1_000, completion=500)["response"]
    bodies = write_jsonl(tmp_path / "bodies.jsonl", [body | {"created": 1790856000}])
    code, output = run("ingest", "usage", str(bodies), "--db", db)
    assert code == 2 and "name it with --provider" in output
    code, output = run("ingest", "usage", str(bodies), "--provider", "runapi", "--db", db)
    assert code == 0 and "(raw-body): read 1 = loaded 1" in output
    code, output = run("summary", "--db", db, "--by", "provider", "--exact")
    assert code == 0 and "0.015" in output  # (1,000 + 500) x 0.010 / 1K


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["summary", "--by", "colour"], "--by: unknown or repeated dimension 'colour'"),
        (["summary", "--period", "2026-13"], "no month 13"),
        (["ingest", "usage", "nowhere.jsonl"], "nowhere.jsonl: no such file"),
        (["ingest", "prices", "nowhere.yml"], "nowhere.yml: no such file or directory"),
    ],
)
def test_errors_name_the_problem_and_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    db = str(blank_warehouse(tmp_path / "w.duckdb"))
    run("ingest", "prices", str(TEST_SHEETS), "--db", db)
    code, output = run(*args, "--db", db)
    assert code == 2
    assert message in output
    assert "Traceback" not in output


def test_a_bad_sheet_stops_the_load_with_file_field_and_value(tmp_path: Path) -> None:
    sheet = tmp_path / "acme.csv"
    sheet.write_text(
        "provider,model,canonical_model,unit,currency,effective_from,input,output\n"
        "acme,m,c,1K,USD,2026-01-01,-1,1\n",
        encoding="utf-8",
    )
    code, output = run("ingest", "prices", str(sheet), "--db", str(tmp_path / "w.duckdb"))
    assert code == 2
    assert f"{sheet}: line 2: input" in output and "-1" in output


@pytest.fixture
def compared(priced: duckdb.DuckDBPyConnection, tmp_path: Path) -> str:
    """The hand-worked calls of tests/dashboard_data.py in a closed warehouse file."""
    build(priced, tmp_path)
    priced.close()
    return str(tmp_path / "warehouse.duckdb")


def quotes_csv(path: Path) -> dict[str, dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return {row["provider"]: row for row in csv.DictReader(handle)}


def test_compare_reprices_the_traffic_at_every_provider(compared: str, tmp_path: Path) -> None:
    out = tmp_path / "quotes.csv"
    code, output = run("compare", "--model", "minimax-m3", "--db", compared, "--out", str(out))
    assert code == 0, output
    # calls a, c and the free failure d cost 1.52936 where they ran (tests/test_reprice.py)
    rows = quotes_csv(out)
    assert {p: (r["calls"], r["actual_cost"], r["repriced_cost"]) for p, r in rows.items()} == {
        "reapi": ("3", "1.52936", "0.11936"),
        "runapi": ("3", "1.52936", "2.6"),
        "runware": ("3", "1.52936", "0.11832"),
        "vtrix": ("3", "1.52936", "0.1452"),
    }
    assert [p for p, r in rows.items() if r["cheapest"] == "true"] == ["runware"]
    assert rows["runware"]["difference"] == "-1.41104"
    assert {r["variant"] + ">" + r["priced_at_variant"] for r in rows.values()} == {
        "standard>standard"
    }
    # the table: to the cent, the cheapest marked; -1.41104 / 1.52936 = -92.26 %
    (line,) = [line for line in output.splitlines() if "runware" in line]
    assert "(cheapest)" in line
    assert [cell for cell in line.replace("│", " ").split() if cell[-1].isdigit() or "%" in cell][
        -4:
    ] == ["1.53", "0.12", "-1.41", "-92.3%"]


def test_compare_scopes_variants_and_what_ifs(compared: str, tmp_path: Path) -> None:
    out = tmp_path / "quotes.csv"
    base = ["compare", "--db", compared, "--out", str(out)]
    # b: 200,000 MiniMax-M2.7 highspeed tokens at 0.020/1K, at the standard 0.010/1K
    code, output = run(*base, "--model", "minimax-m2.7", "--at-variant", "standard")
    assert code == 0, output
    assert (
        "minimax-m2.7: 1 highspeed call (ran on runapi 1, billed in USD), priced at standard"
        in output
    )
    runapi = quotes_csv(out)["runapi"]
    assert (runapi["actual_cost"], runapi["repriced_cost"]) == ("4", "2")
    # only reapi's October calls: c as billed (0.02936) and the free failure d
    code, output = run(*base, "--model", "minimax-m3", "--period", "2026-10", "--provider", "reapi")
    assert code == 0, output
    reapi = quotes_csv(out)["reapi"]
    assert (reapi["calls"], reapi["actual_cost"], reapi["repriced_cost"]) == (
        "2",
        "0.02936",
        "0.02936",
    )
    # half of every call's input from the cache (tests/test_reprice.py)
    code, output = run(*base, "--model", "minimax-m3", "--cache-share", "0.5", "--exact")
    assert code == 0, output
    assert "What-if: 50% of every call's input" in output
    assert {p: r["repriced_cost"] for p, r in quotes_csv(out).items()} == {
        "reapi": "0.1052",
        "runapi": "2.6",
        "runware": "0.1044",
        "vtrix": "0.1452",
    }
    # a day without calls of the model: said, not an error
    code, output = run(*base, "--model", "minimax-m3", "--from", "2026-10-05", "--to", "2026-10-06")
    assert code == 0 and "no priced calls in this selection" in output
    # a price load for another provider leaves the calls' actual costs current; a changed
    # rate of reapi makes its calls' actual costs stale until a rebill (issue 19)
    newer = tmp_path / "newer.yml"
    newer.write_text(
        "provider: newer\nname: Newer\nsource: tests\nchecked_on: 2026-11-01\nmodels:\n"
        "  - {id: m3, canonical: minimax-m3, unit: 1M, prices: [{effective_from: 2026-01-01,"
        " input: 1, output: 1}]}\n",
        encoding="utf-8",
    )
    assert run("ingest", "prices", str(newer), "--db", compared)[0] == 0
    code, output = run(*base, "--model", "minimax-m3")
    assert code == 0 and "newer" in quotes_csv(out)
    assert "older price sheets" not in output
    cut = tmp_path / "reapi.yml"
    cut.write_text(
        (TEST_SHEETS / "reapi.yml")
        .read_text(encoding="utf-8")
        .replace("input: 0.27", "input: 0.2"),
        encoding="utf-8",
    )
    assert run("ingest", "prices", str(cut), "--db", compared)[0] == 0
    with duckdb.connect(compared, read_only=True) as con:
        (reapi_calls,) = con.execute(
            "SELECT count(*) FROM calls WHERE provider = 'reapi'"
        ).fetchall()[0]
    code, output = run(*base, "--model", "minimax-m3")
    assert reapi_calls == 2 and f"{reapi_calls} calls were billed with older price sheets" in output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--model", "nope"], "models with priced calls: minimax-m2.7, minimax-m3"),
        (["--model", "minimax-m3", "--variant", "highspeed"], "they ran on standard"),
        (
            ["--model", "minimax-m3", "--at-variant", "turbo"],
            "no price sheet sells minimax-m3 turbo; variants on sale: standard",
        ),
        (["--model", "minimax-m3", "--cache-share", "1.5"], "--cache-share: a share from 0 to 1"),
        (["--model", "minimax-m3", "--cache-share", "half"], "--cache-share: not an amount"),
        (["--model", "minimax-m3", "--timezone", "Mars/Base"], "Mars/Base"),
    ],
)
def test_compare_errors_name_the_option_and_value(
    compared: str, args: list[str], message: str
) -> None:
    code, output = run("compare", "--db", compared, *args)
    assert code == 2 and message in output, output


# ---- every command: its help, and a RatecardError as one line and status 2 ----------------

ROOT = Path(__file__).resolve().parent.parent


def commands() -> list[tuple[str, ...]]:
    """Every command the CLI declares, as the words that run it (``ingest usage``)."""
    found: list[tuple[str, ...]] = []

    def walk(group: Any, words: tuple[str, ...]) -> None:
        for name, command in sorted(group.commands.items()):
            if hasattr(command, "commands"):
                walk(command, (*words, name))
            else:
                found.append((*words, name))

    walk(typer.main.get_command(cli.app), ())
    return found


COMMANDS = commands()


def test_the_cli_has_the_seventeen_commands() -> None:
    assert [" ".join(words) for words in COMMANDS] == [
        "bill",
        "budgets check",
        "compare",
        "dashboard",
        "demo",
        "export calls",
        "ingest prices",
        "ingest usage",
        "lake bill",
        "lake ingest",
        "lake recover",
        "lake report",
        "pull prices",
        "pull usage",
        "reconcile",
        "report",
        "summary",
    ]


@pytest.mark.parametrize("words", COMMANDS, ids=" ".join)
def test_every_command_has_its_help(words: tuple[str, ...]) -> None:
    result = runner.invoke(cli.app, [*words, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert f"Usage: root {' '.join(words)} [OPTIONS]" in result.stdout
    # every command reads or writes the warehouse, or the lake
    assert ("--lake" if words[0] == "lake" else "--db") in result.stdout
    assert result.stderr == ""


FAILING = {
    # each command given a folder as its warehouse, and what else it reads before opening it
    ("bill",): [],
    ("budgets", "check"): ["--budgets", str(ROOT / "data" / "budgets.yml")],
    ("compare",): ["--model", "minimax-m3"],
    ("dashboard",): [],
    ("demo",): ["--no-dashboard", "--calls", "100"],
    ("export", "calls"): ["--out", "calls.csv"],
    ("ingest", "prices"): [str(TEST_SHEETS)],
    ("ingest", "usage"): [str(ROOT / "examples" / "bodies" / "reapi.jsonl")],
    ("pull", "prices"): [
        "openrouter",
        "--match",
        "minimax",
        "--from",
        str(ROOT / "examples" / "catalogs" / "openrouter-models.json"),
    ],
    ("pull", "usage"): ["http://127.0.0.1:9/usage"],  # refused before any request
    ("reconcile",): [],
    ("report",): ["--out", "report.csv"],
    ("summary",): [],
}


@pytest.mark.parametrize("words", [w for w in COMMANDS if w[0] != "lake"], ids=" ".join)
def test_a_ratecard_error_is_one_line_on_stderr_and_status_2(
    words: tuple[str, ...], tmp_path: Path, samples: Path
) -> None:
    assert words in FAILING, f"add `ratecard {' '.join(words)}` to FAILING"
    folder = tmp_path / "a folder"
    folder.mkdir()
    result = runner.invoke(
        cli.app, [*words, *FAILING[words], "--db", str(folder)], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines() == [
        f"error: {folder}: no warehouse here (a folder). Create one with `ratecard ingest "
        "prices` / `ratecard ingest usage`, `ratecard pull …` or `ratecard demo`, or point --db "
        "(or RATECARD_DB) at an existing warehouse."
    ]
    assert result.stdout == ""


@pytest.mark.parametrize(
    "words", [("lake", "ingest", str(ROOT / "examples" / "bodies")), ("lake", "bill")], ids=str
)
def test_a_lake_that_is_a_file_is_refused_before_spark_starts(
    words: tuple[str, ...], tmp_path: Path
) -> None:
    file = tmp_path / "lake.parquet"
    file.write_bytes(b"PAR1")
    result = runner.invoke(cli.app, [*words, "--lake", str(file)], env={"COLUMNS": "200"})
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines() == [
        f"error: --lake {file}: a file, not a lake; point --lake at the lake's folder (the "
        "first `ratecard lake ingest` creates it) or a URI such as s3a://bucket/ratecard"
    ]
    assert result.stdout == ""


def test_lake_report_on_a_file_and_lake_ingest_of_a_missing_file_are_refused_at_once(
    tmp_path: Path,
) -> None:
    file = tmp_path / "lake.parquet"
    file.write_bytes(b"PAR1")
    report = ["lake", "report", "--lake", str(file), "--period", "2026-11"]
    result = runner.invoke(cli.app, [*report, "--out", str(tmp_path / "r.csv")])
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines() == [
        f"error: --lake {file}: a file, not a lake; point --lake at the lake's folder"
    ]
    missing = tmp_path / "nope.jsonl"
    ingest = ["lake", "ingest", str(missing), "--lake", str(tmp_path / "lake")]
    result = runner.invoke(cli.app, ingest, env={"COLUMNS": "200"})
    assert result.exit_code == 2, result.output
    # said before Spark starts ("starting Spark …" is never printed), and nothing written
    assert result.stderr.splitlines() == [f"error: {missing}: no such file or folder"]
    assert not (tmp_path / "lake").exists()


def test_budgets_check_without_a_budgets_file_says_where_budgets_come_from(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # an installed ratecard run from a folder without data/budgets.yml
    monkeypatch.chdir(tmp_path)
    code, output = run("budgets", "check", "--db", str(tmp_path / "x.duckdb"))
    assert code == 2, output
    assert output.startswith(
        "error: data/budgets.yml: no such file (the default budgets file, in the current "
        "folder). Pass --budgets FILE or set RATECARD_BUDGETS; the sample budgets the demo uses "
        f"are {cli.SAMPLE_BUDGETS}"
    ), output
    assert Path(str(cli.SAMPLE_BUDGETS)).is_file()


def test_sparks_out_of_memory_error_says_what_to_do() -> None:
    """A 470 MB gateway log, one task read whole, ran a local JVM of 2 GB out of heap
    (benchmarks/FINDINGS.md): the command says how to give Spark more, not a Java trace."""
    from ratecard.lake_cli import out_of_memory
    from warehouse.errors import RatecardError

    with pytest.raises(RatecardError) as caught, out_of_memory():
        raise RuntimeError(
            "An error occurred while calling o121.parquet.\n: org.apache.spark.SparkException: "
            "Job aborted: Lost task 0.0 in stage 1.0: java.lang.OutOfMemoryError: Java heap space"
        )
    assert "RATECARD_SPARK_MEMORY=8g" in str(caught.value)
    assert "nothing was written" in str(caught.value)
    with pytest.raises(RuntimeError, match="another failure"), out_of_memory():
        raise RuntimeError("another failure")


def test_a_module_sparks_workers_cannot_import_says_what_to_do() -> None:
    """spark-submit --py-files puts a .whl on the driver's path only: the executors' Python
    workers fail with ModuleNotFoundError (seen running docs/spark.md's command as it was);
    the command says to ship a .zip or install ratecard on the nodes, not a Java trace."""
    from ratecard.lake_cli import workers_import
    from warehouse.errors import RatecardError

    worker = (
        "An exception was thrown from the Python worker. Please see the stack trace below.\n"
        'Traceback (most recent call last):\n  File "pyspark/serializers.py", line 483, in '
        "loads\n    return cloudpickle.loads(obj, encoding=encoding)\nModuleNotFoundError: "
        "No module named '{}'\n"
    )
    with pytest.raises(RatecardError) as caught, workers_import():
        raise RuntimeError(worker.format("lake"))
    assert str(caught.value).startswith(
        "Spark's Python workers cannot import lake, ratecard's own code:"
    )
    assert "cp dist/ratecard-*.whl ratecard.zip" in str(caught.value)
    with pytest.raises(RatecardError) as caught, workers_import():
        raise RuntimeError(worker.format("duckdb"))
    assert str(caught.value).startswith(
        "Spark's Python workers cannot import duckdb, which ratecard needs:"
    )
    # the driver's own import errors and any other failure pass through
    with pytest.raises(ModuleNotFoundError), workers_import():
        raise ModuleNotFoundError("No module named 'lake'")
    with pytest.raises(RuntimeError, match="another failure"), workers_import():
        raise RuntimeError("another failure")


def test_the_lake_knows_ratecards_own_packages_as_the_wheel_holds_them() -> None:
    """workers_import tells ratecard's own code from a dependency by its top-level package:
    the list must be the wheel's (pyproject.toml), or a new package's import error would be
    blamed on the nodes' dependencies."""
    import tomllib

    from ratecard.lake_cli import PACKAGES

    project = tomllib.loads((Path(__file__).parent.parent / "pyproject.toml").read_text())
    wheel = project["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]
    assert sorted(PACKAGES) == sorted(wheel)
