"""YAML for configuration that holds money: numbers read as exact Decimals.

YAML's safe loader reads ``0.30`` as the float 0.299999...; a rate or an amount must stay the
decimal its author wrote. Dates stay text, so that every file format shares one date parser
(the pydantic models').
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml


class _ExactLoader(yaml.SafeLoader):
    pass


def _decimal(loader: yaml.SafeLoader, node: yaml.Node) -> Decimal:
    return Decimal(str(loader.construct_scalar(node)).replace("_", ""))  # type: ignore[arg-type]


_ExactLoader.add_constructor("tag:yaml.org,2002:float", _decimal)
_ExactLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}

YAMLError = yaml.YAMLError


def load(path: Path) -> Any:
    """The YAML document at ``path``, numbers with a fraction as Decimal."""
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_ExactLoader)
