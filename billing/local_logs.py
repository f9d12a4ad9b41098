"""A customer's local log, for reconciliation (formats.md, section C).

Two shapes are accepted:

- flat CSV or XLSX with the headers `request_id, created_at, model, http_status,
  finish_reason, block_reason, finish_message, prompt_tokens, output_tokens,
  total_tokens, images, charged_usd` (English, case-insensitive, any order; only
  `request_id` and `created_at` are required);
- call envelopes (format A, NDJSON).

`local_log_read(source, tz=...)` streams the file and yields, per input row, either a
`LocalRow` (classified) or a `Rejected` (line number and reason); the rows around a bad
one go on. A file that is none of these is refused whole with `LocalLogError`.

Line numbers are physical lines where the record starts, the header being line 1 (in an
XLSX: the sheet's row number); blank lines are skipped but advance the line number.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import os
from collections.abc import Iterator
from dataclasses import dataclass
from operator import itemgetter
from typing import NamedTuple
from decimal import Decimal
from zoneinfo import ZoneInfo

from logs.classify import classify_local_row
from logs.money import parse_usd
from logs.parsers import parse_int, parse_time
from logs.timeutil import UTC, billing_tz

FLAT_HEADERS = (
    "request_id", "created_at", "model", "http_status", "finish_reason", "block_reason",
    "finish_message", "prompt_tokens", "output_tokens", "total_tokens", "images", "charged_usd",
)
REQUIRED = ("request_id", "created_at")
INT_COLUMNS = ("http_status", "prompt_tokens", "output_tokens", "total_tokens", "images")
MAX_REQUEST_ID = 200
# Classifying a flat row only reads these columns; many rows share them, so verdicts are cached.
_CACHE_LIMIT = 50_000

FORMAT_CSV = "csv"
FORMAT_XLSX = "xlsx"
FORMAT_NDJSON = "ndjson"


class LocalLogError(ValueError):
    """The file is refused whole (not a local log, unreadable)."""


class LocalRow(NamedTuple):
    """One local row, classified. A tuple: a million of them are made per large log."""

    line: int
    request_id: str
    created_at: dt.datetime  # aware (UTC, or the log's zone for a naive time)
    category: str
    charged_usd: Decimal | None
    model: str = ""


@dataclass(frozen=True, slots=True)
class Rejected:
    line: int
    reason: str


# ---------------------------------------------------------------------------
# Values
# ---------------------------------------------------------------------------

_fromisoformat = dt.datetime.fromisoformat


def _usd_or_none(value, name: str = "charged_usd") -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, str) and not value.strip():
        return None
    try:
        return parse_usd(value)
    except ValueError:
        raise ValueError(f"{name} is not a number: {str(value)[:40]!r}") from None


def _request_id(value) -> str:
    if value is None or isinstance(value, bool):
        raise ValueError("request_id is missing")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    if not text:
        raise ValueError("request_id is empty")
    if len(text) > MAX_REQUEST_ID:
        raise ValueError(f"request_id is longer than {MAX_REQUEST_ID} characters")
    return text


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


# ---------------------------------------------------------------------------
# Flat rows
# ---------------------------------------------------------------------------

class _FlatReader:
    """Turns a flat row (a list of cells) into a LocalRow, given the header."""

    def __init__(self, header: list, tz: ZoneInfo):
        names = [_text(h).lower().lstrip("\ufeff").strip() for h in header]
        self.index = {}
        for position, name in enumerate(names):
            if name in FLAT_HEADERS and name not in self.index:
                self.index[name] = position
        missing = [name for name in REQUIRED if name not in self.index]
        if missing:
            raise LocalLogError(
                "not a local log: the header has no " + " and no ".join(missing)
                + " column (expected headers: " + ", ".join(FLAT_HEADERS) + ")"
            )
        self.tz = tz
        self.cache: dict = {}
        self.usd_cache: dict = {}
        self.width = len(names)
        # The fast path for text cells: every column in one call; a missing column reads
        # the empty cell appended at the end of the row.
        self.getter = itemgetter(*[self.index.get(name, -1) for name in FLAT_HEADERS])

    def _cell(self, cells, name):
        position = self.index.get(name)
        if position is None or position >= len(cells):
            return None
        return cells[position]

    def row(self, line: int, cells) -> LocalRow | Rejected:
        get = self._cell
        try:
            request_id = _request_id(get(cells, "request_id"))
            created_at = parse_time(get(cells, "created_at"), self.tz, "created_at")
            ints = {name: parse_int(get(cells, name), name) for name in INT_COLUMNS}
            charged = _usd_or_none(get(cells, "charged_usd"))
        except ValueError as exc:
            return Rejected(line, str(exc))
        model = _text(get(cells, "model"))
        finish_reason = _text(get(cells, "finish_reason"))
        block_reason = _text(get(cells, "block_reason"))
        finish_message = _text(get(cells, "finish_message"))
        raw = tuple(get(cells, name) for name in ("model", "http_status", "finish_reason", "block_reason",
                                                   "finish_message", "output_tokens", "images"))
        key = raw if all(isinstance(v, str) for v in raw) else None
        category = self.cache.get(key) if key is not None else None
        if category is None:
            category = classify_local_row(
                model=model or None, http_status=ints["http_status"], finish_reason=finish_reason,
                block_reason=block_reason, finish_message=finish_message,
                output_tokens=ints["output_tokens"], images=ints["images"],
            ).category
            if key is not None:
                if len(self.cache) >= _CACHE_LIMIT:
                    self.cache.clear()
                self.cache[key] = category
        return LocalRow(line, request_id, created_at, category, charged, model)

    def text_row(self, line: int, cells: list) -> LocalRow | Rejected:
        """A CSV row (all cells text): the common case fast, anything unusual by `row`."""
        if len(cells) < self.width:
            cells = cells + [""] * (self.width - len(cells))
        cells.append("")
        (rid, at, model, http, finish_reason, block_reason, finish_message, prompt_tokens,
         output_tokens, total_tokens, images, charged) = self.getter(cells)
        rid = rid.strip()
        if not rid or len(rid) > MAX_REQUEST_ID:
            return self.row(line, cells)
        if (prompt_tokens and not prompt_tokens.isdigit()) or (total_tokens and not total_tokens.isdigit()):
            return self.row(line, cells)
        try:
            created_at = _fromisoformat(at)
        except ValueError:
            return self.row(line, cells)
        if created_at.tzinfo is None:
            created_at = created_at.replace(tzinfo=self.tz)
        if charged:
            amount = self.usd_cache.get(charged)
            if amount is None:
                try:
                    amount = parse_usd(charged)
                except ValueError:
                    return self.row(line, cells)
                if len(self.usd_cache) < _CACHE_LIMIT:
                    self.usd_cache[charged] = amount
        else:
            amount = None
        category = self.cache.get((model, http, finish_reason, block_reason, finish_message, output_tokens, images))
        if category is None:
            return self.row(line, cells)
        return LocalRow(line, rid, created_at, category, amount, model.strip())


def _is_blank(cells) -> bool:
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in cells)


def _read_csv(stream: io.TextIOBase, tz: ZoneInfo) -> Iterator[LocalRow | Rejected]:
    # The csv reader tracks physical lines: a record starts on the line after the last one read.
    reader = csv.reader(stream, strict=True)
    reader_line = 0
    header = None
    try:
        for cells in reader:
            start = reader_line + 1
            reader_line = reader.line_num
            if header is None:
                if _is_blank(cells):
                    continue
                header = _FlatReader(cells, tz)
                continue
            if not cells or (not cells[0].strip() and _is_blank(cells)):
                continue
            yield header.text_row(start, cells)
    except csv.Error as exc:
        yield Rejected(reader_line + 1, f"CSV record cannot be parsed: {exc}")
        # The csv module cannot resume inside a broken record: the rest of the file is
        # read again from the next physical line.
        yield from _resume_csv(stream, header, tz, reader.line_num + 1)
    if header is None:
        raise LocalLogError("not a local log: the file is empty")


def _resume_csv(stream, header, tz, next_line) -> Iterator[LocalRow | Rejected]:
    if header is None:
        raise LocalLogError("not a local log: the header cannot be read")
    reader = csv.reader(stream, strict=True)
    offset = next_line - 1
    last = 0
    try:
        for cells in reader:
            start = offset + last + 1
            last = reader.line_num
            if not cells or (not cells[0].strip() and _is_blank(cells)):
                continue
            yield header.text_row(start, cells)
    except csv.Error as exc:
        yield Rejected(offset + last + 1, f"CSV record cannot be parsed: {exc}")
        yield from _resume_csv(stream, header, tz, offset + reader.line_num + 1)


def _read_xlsx(binary, tz: ZoneInfo) -> Iterator[LocalRow | Rejected]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(binary, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds on a broken file
        raise LocalLogError(f"not a readable XLSX file ({exc.__class__.__name__})") from None
    try:
        for sheet in workbook.worksheets:
            rows = sheet.iter_rows(values_only=True)
            header = None
            header_line = 0
            for number, cells in enumerate(rows, start=1):
                if _is_blank(cells):
                    continue
                header_line = number
                try:
                    header = _FlatReader(list(cells), tz)
                except LocalLogError:
                    header = None
                break
            if header is None:
                continue
            for number, cells in enumerate(rows, start=header_line + 1):
                if _is_blank(cells):
                    continue
                yield header.row(number, cells)
            return
        raise LocalLogError(
            "not a local log: no sheet has a header row with request_id and created_at"
        )
    finally:
        workbook.close()


# ---------------------------------------------------------------------------
# Call envelopes (format A): the ingest's own reader, so both read an envelope alike
# ---------------------------------------------------------------------------

def _read_envelopes(binary, tz: ZoneInfo, customer_slug) -> Iterator[LocalRow | Rejected]:
    from logs import parsers

    try:
        for item in parsers.iter_envelopes(binary, tz=tz, customer_slug=customer_slug or None):
            if isinstance(item, parsers.Record):
                f = item.fields
                yield LocalRow(item.line, f["request_id"], f["created_at"].astimezone(UTC),
                               f["category"], f.get("charged_usd"), f.get("model") or "")
            else:
                yield Rejected(item.line, item.reason)
    except parsers.InputError as exc:
        raise LocalLogError(f"not a local log: {exc}") from None


# ---------------------------------------------------------------------------
# Entry point
# ---------------------------------------------------------------------------

def _open_binary(source):
    """(binary file object, close it?, name)."""
    if isinstance(source, (bytes, bytearray)):
        return io.BytesIO(bytes(source)), True, ""
    if isinstance(source, (str, os.PathLike)):
        return open(source, "rb"), True, os.fspath(source)
    return source, False, getattr(source, "name", "") or ""


def detect_format(head: bytes, name: str = "") -> str:
    if head.startswith(b"PK\x03\x04"):
        return FORMAT_XLSX
    text = head.lstrip(b"\xef\xbb\xbf").lstrip()
    if text[:1] in (b"{", b"["):
        return FORMAT_NDJSON
    lowered = name.lower()
    if lowered.endswith((".ndjson", ".jsonl", ".json")):
        return FORMAT_NDJSON
    if lowered.endswith(".xlsx"):
        return FORMAT_XLSX
    return FORMAT_CSV


def local_log_read(source, *, tz: ZoneInfo | str | None = None, customer_slug: str | None = None,
                   fmt: str = "auto", on_format=None) -> Iterator[LocalRow | Rejected]:
    """Stream a local log: a LocalRow or a Rejected per input row. Raises LocalLogError."""
    if isinstance(tz, str):
        tz = ZoneInfo(tz)
    tz = tz or billing_tz()
    binary, close, name = _open_binary(source)
    try:
        head = binary.read(4096)
        try:
            binary.seek(0)
        except (AttributeError, OSError):
            raise LocalLogError("the local log cannot be read twice (not seekable)") from None
        if fmt == "auto":
            fmt = detect_format(head, name)
        if on_format:
            on_format(fmt)
        if fmt == FORMAT_XLSX:
            yield from _read_xlsx(binary, tz)
            return
        if b"\x00" in head:
            raise LocalLogError("not a local log: the file is binary, neither CSV, XLSX nor NDJSON")
        if fmt == FORMAT_NDJSON:
            yield from _read_envelopes(binary, tz, customer_slug)
            return
        stream = io.TextIOWrapper(binary, encoding="utf-8-sig", errors="strict", newline="")
        try:
            yield from _read_csv(stream, tz)
        except UnicodeDecodeError:
            raise LocalLogError("not a local log: the file is not UTF-8 text") from None
        finally:
            stream.detach()
    finally:
        if close:
            binary.close()
