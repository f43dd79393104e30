"""Text files people hand to ratecard (price sheets, catalogs, budgets): UTF-8 or a clear stop.

A binary file, or one saved in another encoding, must not end in a UnicodeDecodeError
traceback: the stop names the file, the first byte that is not UTF-8 and where it is. A
leading byte-order mark (what Excel and Notepad write) is dropped.
"""

from __future__ import annotations

from pathlib import Path

from warehouse.errors import RatecardError


class NotText(RatecardError):
    """Bytes that are not UTF-8 text."""


def decode_text(data: bytes, where: str, what: str) -> str:
    """``data`` as UTF-8 text (a BOM dropped); ``what`` names the kind of file in the stop."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        # the codec reports the place after the BOM it dropped
        offset = exc.start + (len(data) - len(exc.object))
        raise NotText(
            f"{where}: not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at offset {offset:,}): "
            f"{what} is a UTF-8 text file; check that the path names the right file, or save "
            "it as UTF-8"
        ) from None


def read_text(path: Path, what: str, max_bytes: int | None = None) -> str:
    """The text of the file at ``path``; refused past ``max_bytes`` before it is read."""
    if max_bytes is not None and path.stat().st_size > max_bytes:
        raise RatecardError(
            f"{path}: {path.stat().st_size:,} bytes, over the limit of {max_bytes:,} for "
            f"{what}; check the file, or raise the limit"
        )
    return decode_text(path.read_bytes(), str(path), what)
