"""YAML for configuration that holds money: numbers read as exact Decimals, and only plain
decimals read as numbers.

YAML's safe loader reads ``0.30`` as the float 0.299999...; a rate or an amount must stay the
decimal its author wrote. YAML 1.1 also reads ``010`` as 8 (octal), ``1:30`` as 90 (base 60),
``0x10`` as 16 and ``.inf`` as infinity, none of which a person writing a price means. Here
a plain scalar is a number only when it is a plain decimal: an optional minus, digits
without a leading zero, and an optional point followed by digits (``12``, ``0.30``,
``-1``); it is read as an int, or as a Decimal when it has a point. Every other scalar stays
the text it is, so a field that wants a number refuses it, naming the field and the value
(pricing.sheet.plain_number). Dates stay text too, so that every file format shares one date
parser (the pydantic models'). Booleans and null are YAML's.
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from ingest.text import read_text

# libyaml's parser where it is built (see benchmarks/FINDINGS.md), resolving and
# constructing by the rules below either way
_Base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_REPLACED = {_INT, _FLOAT, "tag:yaml.org,2002:timestamp"}


class _ExactLoader(_Base):  # type: ignore[misc]
    pass


def _int(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> int:
    return int(loader.construct_scalar(node))


def _decimal(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Decimal:
    return Decimal(loader.construct_scalar(node))


_ExactLoader.add_constructor(_INT, _int)
_ExactLoader.add_constructor(_FLOAT, _decimal)
_ExactLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in _REPLACED]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_ExactLoader.add_implicit_resolver(_INT, re.compile(r"^-?(?:0|[1-9][0-9]*)$"), list("-0123456789"))
_ExactLoader.add_implicit_resolver(
    _FLOAT, re.compile(r"^-?(?:0|[1-9][0-9]*)\.[0-9]+$"), list("-0123456789")
)

YAMLError = yaml.YAMLError


def load(path: Path, what: str = "a YAML file") -> Any:
    """The YAML document at ``path``: plain decimals as int or Decimal, the rest as text.

    A file that is not UTF-8 stops with ingest.text.NotText (naming the byte and where).
    """
    return yaml.load(read_text(path, what), Loader=_ExactLoader)
