"""Format C: a customer's local log, for reconciliation (formats.md, section C).

Three shapes are accepted:

- flat CSV or XLSX with the headers `request_id, created_at, model, http_status,
  finish_reason, block_reason, finish_message, prompt_tokens, output_tokens,
  total_tokens, images, charged_usd` (English, case-insensitive, any order; only
  `request_id` and `created_at` are required);
- nbaudit's own export of calls (XLSX or CSV, its headers in any language it writes): its
  columns map onto these (logs.services.exports.columns names which), its times are in the
  zone its Time header names, and its category code is taken as written;
- call envelopes (format A, NDJSON).

`local_log_read(source, tz=...)` streams the file and yields, per input row, either a
`LocalRow` (classified) or a `Rejected` (line number and reason); the rows around a bad
one go on. A file that is none of these is refused whole with `LocalLogError`. Values are
read and checked by `logs.parsers.values`, as in every other format.

Line numbers are physical lines where the record starts, the header being line 1 (in an
XLSX: the sheet's row number); blank lines are skipped but advance the line number.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterator
from decimal import Decimal
from operator import itemgetter
from typing import NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from logs.choices import Category
from logs.classify import classify_local_row
from logs.parsers.base import (
    XLSX_MAGIC,
    InputError,
    Record,
    Rejected,
    RowError,
    open_source,
    text_wrapper,
)
from logs.parsers.envelopes import iter_envelopes
from logs.parsers.tabular import xlsx_open, xlsx_read, xlsx_rows
from logs.parsers.values import (
    EARLIEST,
    MAX_REQUEST_ID,
    TEXT_LIMITS,
    check_unicode,
    horizon,
    parse_amount,
    parse_int,
    parse_request_id,
    parse_status,
    parse_text,
    parse_time,
)
from logs.services.exports.columns import export_header_names, header_key
from logs.timeutil import UTC, billing_tz

FLAT_HEADERS = (
    "request_id", "created_at", "model", "http_status", "finish_reason", "block_reason",
    "finish_message", "prompt_tokens", "output_tokens", "total_tokens", "images", "charged_usd",
)
REQUIRED = ("request_id", "created_at")
INT_COLUMNS = ("prompt_tokens", "output_tokens", "total_tokens", "images")
# Classifying a flat row only reads these columns; many rows share them, so verdicts are cached.
_CACHE_LIMIT = 50_000
_fromisoformat = dt.datetime.fromisoformat

FORMAT_CSV = "csv"
FORMAT_XLSX = "xlsx"
FORMAT_NDJSON = "ndjson"


class LocalLogError(InputError, ValueError):
    """The file is refused whole (not a local log, unreadable)."""


class LocalRow(NamedTuple):
    """One local row, classified. A tuple: a million of them are made per large log."""

    line: int
    request_id: str
    created_at: dt.datetime  # aware (UTC, or the log's zone for a naive time)
    category: str
    charged_usd: Decimal | None
    model: str = ""


def _text(value) -> str:
    """A header cell as text."""
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
        self.category_at = None  # an export of calls: its category code column (nbaudit's own verdict)
        for position, name in enumerate(names):
            if name in FLAT_HEADERS and name not in self.index:
                self.index[name] = position
        missing = [name for name in REQUIRED if name not in self.index]
        if missing:
            export = _export_index(header)
            if export is None:
                raise LocalLogError(
                    "not a local log: the header has no " + " and no ".join(missing)
                    + " column (expected headers: " + ", ".join(FLAT_HEADERS)
                    + "; or an nbaudit export of calls)"
                )
            self.index, self.category_at, zone = export
            tz = zone or tz
        self.tz = tz
        # Times the fast path takes as they are; any other goes by parse_time, which says why.
        self.earliest, self.latest = EARLIEST, horizon()
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
            request_id = parse_request_id(get(cells, "request_id"))
            created_at = parse_time(get(cells, "created_at"), self.tz, "created_at", self.latest)
            http_status = parse_status(get(cells, "http_status"))
            ints = {name: parse_int(get(cells, name), name) for name in INT_COLUMNS}
            charged = parse_amount(get(cells, "charged_usd"), "charged_usd")
            model = parse_text(get(cells, "model"), "model", TEXT_LIMITS["model"])
            finish_reason = parse_text(get(cells, "finish_reason"), "finish_reason")
            block_reason = parse_text(get(cells, "block_reason"), "block_reason")
            finish_message = parse_text(get(cells, "finish_message"), "finish_message")
        except RowError as exc:
            return Rejected(line, str(exc))
        raw = tuple(get(cells, name) for name in ("model", "http_status", "finish_reason", "block_reason",
                                                   "finish_message", "output_tokens", "images"))
        if self.category_at is not None:
            code = _text(cells[self.category_at]) if self.category_at < len(cells) else ""
            if code in CATEGORY_CODES:
                return LocalRow(line, request_id, created_at, code, charged, model)
        key = raw if all(isinstance(v, str) for v in raw) else None
        category = self.cache.get(key) if key is not None else None
        if category is None:
            category = classify_local_row(
                model=model or None, http_status=http_status, finish_reason=finish_reason,
                block_reason=block_reason, finish_message=finish_message,
                output_tokens=ints["output_tokens"], images=ints["images"],
            ).category
            if key is not None:
                if len(self.cache) >= _CACHE_LIMIT:
                    self.cache.clear()
                self.cache[key] = category
        return LocalRow(line, request_id, created_at, category, charged, model)

    def text_row(self, line: int, cells: list) -> LocalRow | Rejected:
        """A CSV row (all cells text): the common case fast, anything unusual by `row`.

        The fast path takes only what `row` would accept as it is; a classification is taken
        from the cache only for columns that `row` has read and checked before.
        """
        if self.category_at is not None:  # an export of calls: read by `row`, its category as written
            if len(cells) < self.width:
                cells = cells + [""] * (self.width - len(cells))
            return self.row(line, cells)
        if not all(map(str.isascii, cells)):
            try:
                for cell in cells:
                    check_unicode(cell, "the row")
            except RowError as exc:
                return Rejected(line, str(exc))
        if len(cells) < self.width:
            cells = cells + [""] * (self.width - len(cells))
        cells.append("")
        (rid, at, model, http, finish_reason, block_reason, finish_message, prompt_tokens,
         output_tokens, total_tokens, images, charged) = self.getter(cells)
        rid = rid.strip()
        if not rid or len(rid) > MAX_REQUEST_ID:
            return self.row(line, cells)
        if (prompt_tokens and not (prompt_tokens.isdigit() and len(prompt_tokens) < 10)) or (
                total_tokens and not (total_tokens.isdigit() and len(total_tokens) < 10)):
            return self.row(line, cells)
        try:
            created_at = _fromisoformat(at)
        except ValueError:
            return self.row(line, cells)
        if created_at.tzinfo is None:
            created_at = created_at.replace(tzinfo=self.tz)
        try:
            plausible = self.earliest <= created_at <= self.latest
        except OverflowError:
            plausible = False
        if not plausible:
            return self.row(line, cells)
        if charged:
            amount = self.usd_cache.get(charged)
            if amount is None:
                try:
                    amount = parse_amount(charged, "charged_usd")
                except RowError:
                    return self.row(line, cells)
                if len(self.usd_cache) < _CACHE_LIMIT:
                    self.usd_cache[charged] = amount
        else:
            amount = None
        category = self.cache.get((model, http, finish_reason, block_reason, finish_message, output_tokens, images))
        if category is None:
            return self.row(line, cells)
        return LocalRow(line, rid, created_at, category, amount, model.strip())


# ---------------------------------------------------------------------------
# nbaudit's own export of calls (billing.md: a valid local log, in any language)
# ---------------------------------------------------------------------------

CATEGORY_CODES = frozenset(Category.values)
_ZONE_IN_HEADER = re.compile(r"\(([^()]+)\)\s*$")


def _header_keys(cell) -> list[str]:
    """The names a header cell may be read as: whole, without its trailing "(...)", and each part of
    a bilingual header ("Request ID / 请求 ID", or a name per line), likewise."""
    text = _text(cell)
    parts = [text, *[p for p in text.replace(" / ", "\n").splitlines() if p.strip()]]
    keys = []
    for part in parts:
        keys.append(header_key(part))
        keys.append(header_key(_ZONE_IN_HEADER.sub("", part)))
    return keys


def _export_index(header: list):
    """(format C column -> position, category code position, zone of its times) of a header that
    is an nbaudit export of calls (its columns: logs.services.exports.columns), or None."""
    names = export_header_names()
    owner = {key: column for column, keys in names.items() for key in keys}
    index: dict[str, int] = {}
    zone = None
    for position, cell in enumerate(header):
        for key in _header_keys(cell):
            column = owner.get(key)
            if column is not None and column not in index:
                index[column] = position
                if column == "created_at":
                    match = _ZONE_IN_HEADER.search(_text(cell))
                    if match:
                        try:
                            zone = ZoneInfo(match.group(1).strip())
                        except (ValueError, KeyError, ZoneInfoNotFoundError):
                            zone = None
                break
    if not all(name in index for name in REQUIRED):
        return None
    category_at = index.pop("category", None)
    return index, category_at, zone


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


def _refuse(message: str) -> LocalLogError:
    return LocalLogError(f"not a local log: {message}")


def _read_xlsx(binary, tz: ZoneInfo) -> Iterator[LocalRow | Rejected]:
    """The first sheet with a local log's header; for an export of calls, every sheet of calls
    (an export past NBAUDIT_EXPORT_MAX_ROWS continues on "Calls (2)", ...; its Summary is not one)."""
    workbook = xlsx_open(binary, _refuse)
    found = False
    try:
        for sheet in workbook.worksheets:
            rows = sheet.iter_rows(values_only=True)
            header = None
            header_line = 0
            for item in xlsx_rows(rows, 1, _refuse):
                if isinstance(item, Rejected):
                    break
                header_line, cells = item
                try:
                    header = _FlatReader(cells, tz)
                except LocalLogError:
                    header = None
                break
            if header is None:
                continue
            found = True
            yield from xlsx_read(rows, header_line + 1, header.row, _refuse)
            if header.category_at is None:
                return
        if not found:
            raise LocalLogError(
                "not a local log: no sheet has a header row with request_id and created_at "
                "(or an nbaudit export's Time and Request ID)"
            )
    finally:
        workbook.close()


# ---------------------------------------------------------------------------
# Call envelopes (format A): the ingest's own reader, so both read an envelope alike
# ---------------------------------------------------------------------------

def _read_envelopes(binary, tz: ZoneInfo, customer_slug) -> Iterator[LocalRow | Rejected]:
    try:
        for item in iter_envelopes(binary, tz=tz, customer_slug=customer_slug or None):
            if isinstance(item, Record):
                f = item.fields
                yield LocalRow(item.line, f["request_id"], f["created_at"].astimezone(UTC),
                               f["category"], f.get("charged_usd"), f.get("model") or "")
            else:
                yield item
    except InputError as exc:
        raise LocalLogError(f"not a local log: {exc}") from None


# ---------------------------------------------------------------------------
# Entry point
# ---------------------------------------------------------------------------

def detect_format(head: bytes, name: str = "") -> str:
    if head.startswith(XLSX_MAGIC):
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
    try:
        binary, close, name = open_source(source)
    except InputError as exc:
        raise LocalLogError(str(exc)) from None
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
        stream = text_wrapper(binary)  # bytes that are not UTF-8 reject their row (text_row)
        try:
            yield from _read_csv(stream, tz)
        finally:
            stream.detach()
    finally:
        if close:
            binary.close()
