"""The DuckDB warehouse: connection, numbered migrations and table contracts (lowest layer)."""

from warehouse.db import SCHEMA_VERSION, connect, schema_version, transaction
from warehouse.errors import RatecardError
from warehouse.lock import WarehouseLocked

__all__ = [
    "SCHEMA_VERSION",
    "RatecardError",
    "WarehouseLocked",
    "connect",
    "schema_version",
    "transaction",
]
