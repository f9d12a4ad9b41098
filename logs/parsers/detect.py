"""Which format an input is, from its first bytes."""
from __future__ import annotations

import codecs
import csv

from logs.choices import Source
from logs.parsers.base import XLSX_MAGIC, InputError
from logs.parsers.gateway import KIND_HELP, gateway_columns


def head_text(head: bytes) -> str:
    """The first bytes of a text file as text: a BOM dropped, a character cut at the end left out.

    Bytes that are not UTF-8 further in are decoded as lone surrogates: the row holding them is
    the one rejected, as anywhere else in the file.
    """
    head = head.removeprefix(codecs.BOM_UTF8)
    return codecs.getincrementaldecoder("utf-8")(errors="surrogateescape").decode(head, final=False)


def detect(head: bytes) -> tuple[str, str]:
    """(source, container) from the first bytes: ("calls", "json") / ("gateway", "csv"|"xlsx")."""
    if head.startswith(XLSX_MAGIC):
        return Source.GATEWAY, "xlsx"
    if b"\x00" in head:
        raise InputError(f"this is a binary file, not text: {KIND_HELP}")
    text = head_text(head)
    stripped = text.lstrip()
    if stripped.startswith(("{", "[")):
        return Source.CALLS, "json"
    first = stripped.splitlines()[0] if stripped else ""
    cols = gateway_columns(next(csv.reader([first]), []))
    if "time" in cols and "type" in cols:
        return Source.GATEWAY, "csv"
    if not stripped:
        raise InputError(f"the file is empty: {KIND_HELP}")
    try:
        first.encode("utf-8")
    except UnicodeEncodeError:
        raise InputError(f"the file is not UTF-8 text: {KIND_HELP}") from None
    raise InputError(f"no known header or JSON found: {KIND_HELP}")
