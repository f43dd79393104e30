"""The dimensions a report groups by (``--by``), and the one parser of that option.

A call's attribution (team, project, provider, model, with ``key`` its API key's
fingerprint) and the price point its bill used (canonical_model, variant: NULL for an
unpriced call): the same names and columns in ``calls_costed``, which the finance report
reads, and in the daily rollup, which the summary reads with its own ``day`` and
``currency`` besides.
"""

from __future__ import annotations

from collections.abc import Mapping

from warehouse.errors import RatecardError

DIMENSIONS: dict[str, str] = {
    "team": "team",
    "project": "project",
    "provider": "provider",
    "model": "model",
    "canonical_model": "canonical_model",
    "variant": "variant",
    "key": "api_key_id",
}
"""What ``--by`` accepts everywhere, and the column each name reads."""

NONE = "(none)"
"""How a group without a value (a call logged with no team, say) is written for a person,
in the command line's tables, the finance documents and the dashboard alike."""


def label(value: object) -> str:
    """A dimension's value for a person: :data:`NONE` for a missing one (None, or the NaN
    pandas makes of it), else its text."""
    if value is None or (isinstance(value, float) and value != value):
        return NONE
    return str(value)


def parse_by(text: str, dimensions: Mapping[str, str] = DIMENSIONS) -> tuple[str, ...]:
    """The names of a ``--by`` value (``team,provider``), each one of ``dimensions`` and
    none twice; a clear refusal otherwise."""
    names = tuple(name.strip() for name in text.split(",") if name.strip())
    unknown = [n for n in names if n not in dimensions]
    if unknown or not names or len(set(names)) != len(names):
        raise RatecardError(
            f"--by: unknown or repeated dimension {unknown[0] if unknown else text!r}; "
            f"choose from {', '.join(dimensions)}"
        )
    return names
