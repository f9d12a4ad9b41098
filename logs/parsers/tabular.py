"""Reading tables: CSV records over physical lines, and XLSX sheets within size and row limits."""
from __future__ import annotations

import csv
import zipfile
from collections.abc import Iterator

from django.conf import settings

from logs.parsers.base import InputError, Rejected, RowError
from logs.parsers.values import check_unicode

BROKEN_QUOTE = "broken quote: the record does not parse as CSV"


def _bad_text(line: str) -> str | None:
    """The reason a line's text is bad (bytes not of the file's encoding), or None."""
    if line.isascii():
        return None
    try:
        check_unicode(line, "the line")
    except RowError as exc:
        return str(exc)
    return None


def csv_records(lines, width: int):
    """(start line, cells) per record; (start line, reason) for a bad record.

    `lines` yields (number, text). A record spans lines while a quote is open (an odd count
    of `"`); a record that then does not have the header's width is a broken quote: its first
    line is rejected and the lines after it are read again as records of their own. A line
    holding bytes that are not the file's encoding is rejected alone.
    """
    pending: list[tuple[int, str]] = []
    replay: list[tuple[int, str]] = []
    it = iter(lines)
    while True:
        if replay:
            number, line = replay.pop(0)
        else:
            nxt = next(it, None)
            if nxt is None:
                break
            number, line = nxt
        if not line.isascii():
            reason = _bad_text(line)
            if reason is not None:
                if pending:  # the open record ends here, unfinished
                    yield pending[0][0], BROKEN_QUOTE
                    replay = pending[1:] + replay
                    pending = []
                yield number, reason
                continue
        if not pending and '"' not in line:
            # The common case: one line, no quotes (what the general path below does for it).
            cells = line.rstrip("\r\n").split(",")
            if len(cells) < width and not any(c.strip() for c in cells):
                continue  # blank lines are not rows, but they advance the line number
            yield number, cells
            continue
        if not pending and not line.strip():
            continue  # blank lines are not rows, but they advance the line number
        pending.append((number, line))
        joined = "".join(part for _, part in pending)
        if joined.count('"') % 2 == 1 and len(pending) < 50:
            continue
        start = pending[0][0]
        if '"' not in joined:
            cells = joined.rstrip("\r\n").split(",")
        else:
            try:
                cells = next(csv.reader([joined.rstrip("\r\n")], strict=True))
            except csv.Error:
                cells = None
        if cells is None or (len(cells) != width and len(pending) > 1) or joined.count('"') % 2 == 1:
            yield start, BROKEN_QUOTE
            replay = pending[1:] + replay
            pending = []
            continue
        pending = []
        if len(cells) < width and not any(c.strip() for c in cells):
            continue
        yield start, cells
    if pending:
        yield pending[0][0], BROKEN_QUOTE
        for number, line in pending[1:]:
            yield from csv_records(iter([(number, line)]), width)


# --- XLSX --------------------------------------------------------------------------------------

def xlsx_limits() -> tuple[int, int, int]:
    """(decompressed bytes, rows a sheet, compression ratio) an XLSX may have.

    NBAUDIT_XLSX_MAX_BYTES, NBAUDIT_XLSX_MAX_ROWS, NBAUDIT_XLSX_MAX_RATIO.
    """
    return (int(getattr(settings, "NBAUDIT_XLSX_MAX_BYTES", 1 << 30)),
            int(getattr(settings, "NBAUDIT_XLSX_MAX_ROWS", 1_048_576)),
            int(getattr(settings, "NBAUDIT_XLSX_MAX_RATIO", 100)))


# A member this large must not compress better than the ratio limit (a real export: about 20 to 1).
RATIO_FROM = 16 * 1024 * 1024


def xlsx_check_size(stream, refuse=InputError) -> None:
    """Refuse an archive that decompresses past the limits (a zip bomb) before reading it.

    zipfile stops every member at its declared size (and fails its CRC if it holds more), so
    the declared sizes bound what reading can cost.
    """
    max_bytes, _, max_ratio = xlsx_limits()
    try:
        with zipfile.ZipFile(stream) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise refuse(f"the XLSX file cannot be opened ({exc.__class__.__name__})") from None
    finally:
        stream.seek(0)
    total = sum(info.file_size for info in members)
    if total > max_bytes:
        raise refuse(f"the XLSX file decompresses to {total:,} bytes, over the limit of {max_bytes:,} "
                     f"(NBAUDIT_XLSX_MAX_BYTES)")
    for info in members:
        ratio = info.file_size // max(info.compress_size, 1)
        if info.file_size > RATIO_FROM and ratio > max_ratio:
            raise refuse(f"the XLSX file's {info.filename} decompresses {ratio:,} times its size "
                         f"({info.file_size:,} bytes), over the limit of {max_ratio} times "
                         f"(NBAUDIT_XLSX_MAX_RATIO): a zip bomb, not an export")


def xlsx_open(stream, refuse=InputError):
    """An openpyxl workbook (read-only, values), after the size check."""
    from openpyxl import load_workbook

    xlsx_check_size(stream, refuse)
    try:
        return load_workbook(stream, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 -- openpyxl raises many kinds for a damaged archive
        raise refuse(f"the XLSX file cannot be opened ({exc.__class__.__name__})") from None


def xlsx_rows(rows_iter, first: int, refuse=InputError) -> Iterator[tuple[int, list] | Rejected]:
    """(sheet row number, cells) from `first` on, blank rows left out, within the row limit.

    The row over the limit is rejected with the reason and the rest of the sheet is not read;
    a sheet that cannot be read further refuses the rest of the file.
    """
    _, max_rows, _ = xlsx_limits()
    number = first - 1
    while True:
        try:
            cells = next(rows_iter, None)
        except Exception as exc:  # noqa: BLE001 -- damaged sheet XML: openpyxl and lxml raise many kinds
            raise refuse(f"the XLSX sheet cannot be read after row {number} "
                         f"({exc.__class__.__name__})") from None
        if cells is None:
            return
        number += 1
        if number > max_rows:
            yield Rejected(number, f"the sheet is over the limit of {max_rows:,} rows "
                                   f"(NBAUDIT_XLSX_MAX_ROWS): this row and the rest are not read")
            return
        if not any(v is not None and (not isinstance(v, str) or v.strip()) for v in cells):
            continue
        yield number, list(cells)


def xlsx_read(rows_iter, first: int, row, refuse=InputError) -> Iterator:
    """`row(number, cells)` for each row of `xlsx_rows`; the row over the limit as its Rejected."""
    for item in xlsx_rows(rows_iter, first, refuse):
        yield item if isinstance(item, Rejected) else row(*item)
