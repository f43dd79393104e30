"""The documentation keeps up with the code, and its links lead somewhere.

- Every command of the CLI, and every option of every command, is in the command reference
  (docs/cli.md): a ``## ratecard <command>`` section per command, naming each of its options
  in backticks. The commands and options are read from the Typer app itself, so a new option
  without a line in the reference fails here.
- Every relative link of README.md, ARCHITECTURE.md and docs/**/*.md (images too) points at
  a file that exists inside the repository, and a ``#heading`` at a heading of that file;
  nothing points outside the repository (the design's shared folder is not shipped).

The commands the documents show are run by tests/test_readme_commands.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from typer.main import get_command

from ratecard.cli import app

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "docs" / "cli.md"
DOCUMENTS = sorted(
    {ROOT / "README.md", ROOT / "ARCHITECTURE.md", *(ROOT / "docs").rglob("*.md")}
)
LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
FENCED = re.compile(r"^(```|~~~).*?^\1", re.S | re.M)
CODE = re.compile(r"`[^`\n]*`")
EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.I)  # http:, https:, mailto:


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
    outside = re.findall(r"(?<![\w./])\.\./shared\b|(?<![\w/])/work/\S+|\bshared/seeds\b", text)
    assert not outside, f"{document.relative_to(ROOT)} points outside the repository: {outside}"
