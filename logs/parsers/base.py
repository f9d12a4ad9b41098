"""What every reader shares: the outcomes of a row, the refusal of a whole input, opening and decoding."""
from __future__ import annotations

import codecs
import io
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class InputError(Exception):
    """The whole input is refused: not of the kind declared or detected."""


class RowError(ValueError):
    """One row is bad; the message is the reason shown to the user."""


class Record:
    """A call read from the input: its line, customer, `Call` fields, and the incoming record.

    `raw` (the incoming record whole, kept for a conflict) is built only when read: a reader
    may pass `raw_from=(function, argument)` instead of `raw`, so the millions of rows that
    are no conflict never pay for it.
    """

    __slots__ = ("_raw", "_raw_from", "customer_slug", "fields", "line")

    def __init__(self, line: int, customer_slug: str, fields: dict[str, Any],
                 raw: dict[str, Any] | None = None, *, raw_from: tuple | None = None):
        self.line = line
        self.customer_slug = customer_slug
        self.fields = fields            # Call fields
        self._raw = raw
        self._raw_from = raw_from

    @property
    def raw(self) -> dict[str, Any]:
        if self._raw is None:
            if self._raw_from is not None:
                fn, arg = self._raw_from
                self._raw = fn(arg)
                self._raw_from = None
            else:
                self._raw = {}
        return self._raw

    @raw.setter
    def raw(self, value: dict[str, Any]) -> None:
        self._raw, self._raw_from = value, None

    def __repr__(self) -> str:
        return f"Record(line={self.line!r}, customer_slug={self.customer_slug!r}, fields={self.fields!r})"

    def __eq__(self, other) -> bool:
        if not isinstance(other, Record):
            return NotImplemented
        return (self.line, self.customer_slug, self.fields, self.raw) == (
            other.line, other.customer_slug, other.fields, other.raw)


@dataclass(frozen=True, slots=True)
class Skipped:
    """A row that is not a call (a top-up, a refund...): counted, not stored."""

    line: int
    reason: str


@dataclass(frozen=True, slots=True)
class Rejected:
    """A bad row: its line and the reason."""

    line: int
    reason: str


XLSX_MAGIC = b"PK\x03\x04"
# Bytes that are not the file's encoding are decoded to lone surrogates (U+DC80..U+DCFF), so
# that the row holding them, and only it, is rejected (values.check_unicode) and the rest go on.
DECODE_ERRORS = "surrogateescape"


def open_source(source) -> tuple[io.BufferedIOBase, bool, str]:
    """(binary file object, close it when done?, name) of a path, bytes or an open file."""
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.is_file():
            raise InputError(f"no such file: {path}")
        return open(path, "rb"), True, path.name
    if isinstance(source, (bytes, bytearray, memoryview)):
        return io.BytesIO(bytes(source)), True, ""
    return source, False, os.path.basename(getattr(source, "name", "") or "")


def text_reader(stream):
    """The stream as UTF-8 text (a leading BOM dropped), bad bytes kept as lone surrogates."""
    return codecs.getreader("utf-8-sig")(stream, errors=DECODE_ERRORS)


def text_wrapper(stream) -> io.TextIOWrapper:
    """As `text_reader`, line by line with newlines kept as they are (for CSV)."""
    return io.TextIOWrapper(stream, encoding="utf-8-sig", errors=DECODE_ERRORS, newline="")
