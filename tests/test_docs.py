"""The documentation keeps up with the code, and its links lead somewhere.

- Every command of the CLI, and every option of every command, is in the command reference
  (docs/cli.md): a ``## ratecard <command>`` section per command, naming each of its options
  in backticks. The commands and options are read from the Typer app itself, so a new option
  without a line in the reference fails here.
- Every relative link of README.md, ARCHITECTURE.md and docs/**/*.md (images too) points at
  a file that exists inside the repository, and a ``#heading`` at a heading of that file;
  nothing points outside the repository (the design's shared folder is not shipped).
- No tracked file of the project, code, data or text, names a place outside the repository:
  no ``../shared`` folder, no absolute path under the machine's work folder.
- Every decision record in docs/decisions/ is listed in its index, docs/decisions/README.md,
  once, and its number is its own.

The commands the documents show are run by tests/test_readme_commands.py.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from typer.main import get_command

from ratecard.cli import app

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "docs" / "cli.md"
DOCUMENTS = sorted({ROOT / "README.md", ROOT / "ARCHITECTURE.md", *(ROOT / "docs").rglob("*.md")})
LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
FENCED = re.compile(r"^(```|~~~).*?^\1", re.S | re.M)
CODE = re.compile(r"`[^`\n]*`")
EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.I)  # http:, https:, mailto:
# "..", "/", "shared"; "/", "work", "/"; the seeds' folder. This file's examples must name
# them, so it alone is not searched.
OUTSIDE = re.compile(r"(?<![\w.])\.\.[/\\]shared\b|(?<![\w/.])/wor[k]/|\bshared[/]seeds\b")


def commands(group: typer.core.TyperGroup | None = None) -> Iterator[tuple[str, list[str]]]:
    """(command path, its options) for every command of the app, groups walked."""
    root = group or get_command(app)
    yield from _walk(root, [])


def _walk(command: object, path: list[str]) -> Iterator[tuple[str, list[str]]]:
    subcommands = getattr(command, "commands", None)
    params = getattr(command, "params", [])
    options = [
        name
        for param in params
        if getattr(param, "param_type_name", "") == "option"
        for name in [*param.opts, *param.secondary_opts]
        if name != "--help"
    ]
    if subcommands is None:
        yield " ".join(path), options
        return
    if options:
        yield " ".join(path), options
    for name, sub in subcommands.items():
        yield from _walk(sub, [*path, name])


def sections(text: str) -> dict[str, str]:
    """The reference's sections by heading: ``## ratecard ingest usage`` -> its text."""
    found: dict[str, str] = {}
    parts = re.split(r"^## (.+)$", text, flags=re.M)
    found[""] = parts[0]
    for heading, body in zip(parts[1::2], parts[2::2], strict=True):
        found[heading.strip()] = body
    return found


def test_the_walk_finds_every_command() -> None:
    """The walk itself: typer keeps its own click, so a wrong walk would find nothing."""
    found = dict(commands())
    assert {"ingest usage", "pull prices", "budgets check", "report", "demo"} <= set(found)
    assert "--max-page-bytes" in found["pull usage"]
    assert "--no-exact" in found["summary"]
    assert "--install-completion" in found[""]


@pytest.mark.parametrize("command, options", list(commands()), ids=lambda v: str(v) or "top")
def test_every_command_and_option_is_in_the_reference(command: str, options: list[str]) -> None:
    text = REFERENCE.read_text(encoding="utf-8")
    reference = sections(text)
    if command:
        heading = f"ratecard {command}"
        assert heading in reference, f"docs/cli.md has no section '## {heading}'"
        body = reference[heading]
    else:
        body = reference[""]
    missing = [name for name in options if not re.search(rf"`{re.escape(name)}[ `/=]", body)]
    where = f"'## ratecard {command}'" if command else "the introduction"
    assert not missing, f"docs/cli.md, {where}, does not name {', '.join(missing)}"


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*_]|\[|\]\([^)]*\)", "", heading.strip()).lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    text = FENCED.sub("", path.read_text(encoding="utf-8"))
    seen: dict[str, int] = {}
    found: set[str] = set()
    for heading in re.findall(r"^#{1,6} (.+?)\s*#*$", text, flags=re.M):
        base = slug(heading)
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    return found


def links(path: Path) -> list[str]:
    """The link targets of a Markdown file, outside code blocks and code spans."""
    text = CODE.sub("", FENCED.sub("", path.read_text(encoding="utf-8")))
    return LINK.findall(text)


def test_the_link_reader_reads_links() -> None:
    assert links(ROOT / "README.md"), "no links found in the README: the reader is broken"
    assert slug("Running `ratecard`, and *why*") == "running-ratecard-and-why"
    assert slug("FOCUS 1.2") == "focus-12"


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_points_at_a_file_in_the_repository(document: Path) -> None:
    broken: list[str] = []
    for target in links(document):
        if EXTERNAL.match(target):
            continue
        file_part, _, anchor = target.partition("#")
        resolved = (document.parent / file_part).resolve() if file_part else document
        if not resolved.is_relative_to(ROOT):
            broken.append(f"{target}: outside the repository")
        elif not resolved.exists():
            broken.append(f"{target}: no such file")
        elif anchor and resolved.suffix == ".md" and anchor not in anchors(resolved):
            broken.append(f"{target}: no heading '#{anchor}' in {resolved.relative_to(ROOT)}")
    assert not broken, f"{document.relative_to(ROOT)}: " + "; ".join(broken)


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_document_points_outside_the_repository(document: Path) -> None:
    """Not as a link, and not as a path in the text either (``../shared/seeds``)."""
    text = document.read_text(encoding="utf-8")
    outside = OUTSIDE.findall(text)
    assert not outside, f"{document.relative_to(ROOT)} points outside the repository: {outside}"


def tracked_files() -> list[Path]:
    """Every file git tracks in the checkout (the test needs a git checkout)."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout: the tracked files cannot be listed")
    return [ROOT / name for name in listed.decode().split("\0") if name]


def test_the_outside_pattern_finds_what_it_must() -> None:
    for text in ("see ../shared/STYLE.md", "/work/shared/seeds/001", "(shared/seeds/004)"):
        assert OUTSIDE.search(text), text
    for text in ("docs/providers.md", "a/work/b", "framework/", "../sharedx"):
        assert not OUTSIDE.search(text), text


def test_no_tracked_file_points_outside_the_repository() -> None:
    files = tracked_files()
    assert ROOT / "pyproject.toml" in files, "git ls-files listed no project file"
    found: list[str] = []
    for path in files:
        if path == Path(__file__).resolve() or not path.is_file():  # deleted, not committed
            continue
        data = path.read_bytes()
        if b"\0" in data:  # binary: an image, a compressed example log
            continue
        text = data.decode("utf-8", errors="replace")
        for number, line in enumerate(text.splitlines(), start=1):
            for match in OUTSIDE.finditer(line):
                found.append(f"{path.relative_to(ROOT)}:{number}: {match.group()!r}")
    assert not found, "files point outside the repository:\n" + "\n".join(found)


DECISIONS = ROOT / "docs" / "decisions"
RECORD = re.compile(r"^(\d{4})-[a-z0-9-]+\.md$")


def test_every_decision_record_is_in_the_index() -> None:
    records = sorted(p.name for p in DECISIONS.glob("*.md") if p.name != "README.md")
    index = links(DECISIONS / "README.md")
    assert len(records) > 50, records
    misnamed = [name for name in records if not RECORD.match(name)]
    assert not misnamed, f"decision records not named NNNN-title.md: {misnamed}"
    numbered = records
    numbers = [name[:4] for name in numbered]
    taken_twice = sorted({n for n in numbers if numbers.count(n) > 1})
    assert not taken_twice, f"decision record numbers used twice: {taken_twice}"
    unlisted = [name for name in numbered if name not in index]
    assert not unlisted, f"docs/decisions/README.md does not list {unlisted}"
    listed_twice = sorted({name for name in index if RECORD.match(name) and index.count(name) > 1})
    assert not listed_twice, f"docs/decisions/README.md lists more than once: {listed_twice}"
