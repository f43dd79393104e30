"""The DuckDB warehouse: connection, numbered migrations and table contracts (lowest layer)."""

from warehouse.db import SCHEMA_VERSION, connect, schema_version
from warehouse.errors import RatecardError

__all__ = ["SCHEMA_VERSION", "RatecardError", "connect", "schema_version"]
