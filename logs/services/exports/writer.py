"""The one writer of exports (Excel, or CSV: the same rows and columns): calls (with a kind's
extra columns) or a kind's own rows.

The file is written in write-only mode into a temporary file (`.export-<job>-….xlsx.part`)
beside its final place and moved there only when complete, so no partial file is ever
offered for download. Every text cell goes through the same cleaning: characters Excel
refuses are dropped, long texts cut, and a text a spreadsheet would read as a formula or
an error (`=…`, `+…`, `-…`, `@…`, `#N/A`) is written as inert text.
"""
from __future__ import annotations

import csv
import functools
import os
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_noop
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from logs.choices import REQUEST_ERROR, Category
from logs.classify.reasons import reason_text
from logs.labels import label, model_label
from logs.languages import CHINESE, ENGLISH, language_code
from logs.models import Customer, ExportJob
from logs.pagination import keyset_batches
from logs.services.exports.columns import call_columns, column_header, column_type
from logs.services.exports.filters import FILTER_KEYS
from logs.services.exports.kinds import (
    ExportKind,
    export_filename,
    export_kind,
    export_queryset,
    job_tz,
)
from logs.timeutil import billing_tz, zone_label

BATCH = 5000               # rows per keyset query
PROGRESS_SECONDS = 0.5     # progress (rows done, heartbeat) at least this often (target: 2 s)
CHECK_EVERY = 50           # rows between looks at the clock
CELL_MAX = 32767           # Excel's limit on the characters of one cell
# US$ with thousands separators, as many places as the amount carries (2 to 6): logs.money.usd in Excel
MONEY_FORMAT = '"US$"#,##0.00####'
DATE_FORMAT = "yyyy-mm-dd hh:mm:ss"
DAY_FORMAT = "yyyy-mm-dd"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
PART_PREFIX = ".export-"
# The Summary's filter lines, as the Logs page names its filters.
FILTER_LABELS = {"model": gettext_noop("model"), "category": gettext_noop("category"),
                 "failed": gettext_noop("failed only"), "token_name": gettext_noop("API key"),
                 "http_status": gettext_noop("HTTP status"), "request_id": gettext_noop("request ID"),
                 "channel": gettext_noop("channel")}


# --- where files go -------------------------------------------------------------------------

def export_dir() -> Path:
    path = Path(settings.NBAUDIT_EXPORT_DIR)
    path.mkdir(parents=True, exist_ok=True)
    return path


def export_path(job: ExportJob) -> Path | None:
    """Where a finished job's file is (None when it has none)."""
    if not job.file:
        return None
    return Path(settings.NBAUDIT_EXPORT_DIR) / job.file


# --- cells ----------------------------------------------------------------------------------

def _clean_text(value: str) -> str:
    value = ILLEGAL_CHARACTERS_RE.sub("", value)
    if len(value) > CELL_MAX:
        value = value[: CELL_MAX - 1] + "…"
    return value


class _Styles:
    """Cell styles made once per workbook; cells share them (no per-cell style lookups)."""

    def __init__(self, ws):
        def proto(**kw):
            cell = WriteOnlyCell(ws)
            for k, v in kw.items():
                setattr(cell, k, v)
            return cell._style

        self.ws = ws
        self.date = proto(number_format=DATE_FORMAT)
        self.day = proto(number_format=DAY_FORMAT)
        self.money = proto(number_format=MONEY_FORMAT)
        self.text = proto(quotePrefix=True)
        self.bold = proto(font=Font(bold=True))

    def cell(self, value, style):
        c = WriteOnlyCell(self.ws, value=value)
        c._style = style
        return c

    def text_cell(self, value):
        """Text as text: a value a spreadsheet would read as a formula or error stays inert."""
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            value = str(value)
        value = _clean_text(value)
        if value.startswith(FORMULA_START) or value in ERROR_CODES:
            c = WriteOnlyCell(self.ws)
            c._value = value
            c.data_type = "s"
            c._style = self.text
            return c
        return value


# The Type column's values: the gateway's log types (a request error is an error row).
LOG_TYPE_VALUES = {ENGLISH: ("consume", "error"), CHINESE: ("消费", "错误")}


def _columns(*, with_prompt: bool) -> list[tuple[str, str, int, str]]:
    """(header, field, width, type) of the Calls sheet, from the one list of columns (columns.py),
    headers in the active language (in Chinese the gateway's own names where it has them, so that
    nbaudit's import reads a Chinese export back: a call again is a duplicate)."""
    tzname = settings.NBAUDIT_BILLING_TZ
    return [(column_header(c, tzname=tzname), c.field, c.width, column_type(c))
            for c in call_columns(with_prompt=with_prompt)]


def export_headers(*, with_prompt: bool | None = None, language: str = ENGLISH) -> list[str]:
    if with_prompt is None:
        with_prompt = settings.NBAUDIT_STORE_PROMPTS
    with translation.override(language_code(language)):
        return [c[0] for c in _columns(with_prompt=with_prompt)]


@functools.lru_cache(maxsize=4096)
def _reason_in(reason: str, language: str) -> str:
    """A stored reason in `language` (reasons repeat: read once per language)."""
    with translation.override(language):
        return reason_text(reason)


# --- the sheets' rows -----------------------------------------------------------------------

class _Plan:
    """What one export writes: headers and widths, the (type, index) of each cell in a row,
    the pages of rows, their number when known, and whether rows are calls (totals kept)."""

    def __init__(self, *, job: ExportJob, kind: ExportKind | None, batch: int):
        self.kind, self.sheet, self.extra = kind, gettext("Calls"), None
        if kind is not None and kind.rows is not None:
            cols = [(gettext(c[0]), c[1], c[2] if len(c) > 2 else "text") for c in kind.columns]
            self.headers, self.widths = [c[0] for c in cols], [c[1] for c in cols]
            self.spec = [(c[2], i) for i, c in enumerate(cols)]
            self.sheet, self.calls = gettext(kind.sheet), False
            self.pages = kind.rows(job=job, batch=batch)
            self.total = kind.count(job=job) if kind.count else None
            return
        extra_cols = list(kind.columns) if kind is not None else []
        cols = _columns(with_prompt=bool(settings.NBAUDIT_STORE_PROMPTS))
        fields = ["created_at", "id"]
        for c in cols[1:]:
            if c[1] not in fields:
                fields.append(c[1])
        self.headers = [c[0] for c in cols] + [gettext(h) for h, _ in extra_cols]
        self.widths = [c[2] for c in cols] + [w for _, w in extra_cols]
        self.spec = [("time", 0)] + [(c[3], fields.index(c[1])) for c in cols[1:]]
        self.fields = fields
        self.i_cat, self.i_model = fields.index("category"), fields.index("model")
        self.i_charged, self.i_expected = fields.index("charged_usd"), fields.index("expected_usd")
        if extra_cols:
            self.extra = (kind.values, (None,) * len(extra_cols))
        self.calls = True
        qs = export_queryset(job=job)
        self.total = qs.count()
        self.pages = keyset_batches(qs, fields, batch)


def export_write(*, job: ExportJob, out_path: str | os.PathLike | None = None,
                 progress: Callable[[int, int | None], None] | None = None,
                 batch: int = BATCH, progress_seconds: float = PROGRESS_SECONDS) -> dict:
    """Write the job's rows (its calls, or its kind's rows) to an .xlsx file; returns
    {"rows", "path", "file", "size", "sheets"}.

    `out_path`: where to put the file (default: the export folder, named after the job).
    `progress(rows_done, rows_total)` is called at least every `progress_seconds` while
    writing (default for a saved job: record it on the row, stop if cancelled).
    Headers, sheet names and the Summary are in the job's language (English when it has none).
    """
    with translation.override(language_code(job.language)):
        return _export_write(job=job, out_path=out_path, progress=progress, batch=batch,
                             progress_seconds=progress_seconds)


def _export_write(*, job: ExportJob, out_path, progress, batch: int, progress_seconds: float) -> dict:
    if (job.date_from is None or job.date_to is None) and export_kind(job.kind) is not None:
        raise ValidationError(gettext("An export needs a first and a last day."))
    if progress is None and job.pk:
        from logs.services.exports.jobs import _job_progress

        progress = _job_progress(job)
    tz = billing_tz()
    job_kind = export_kind(job.kind)
    max_rows = max(1, int(settings.NBAUDIT_EXPORT_MAX_ROWS))
    plan = _Plan(job=job, kind=job_kind, batch=batch)
    spec, total, calls = plan.spec, plan.total, plan.calls
    customers = list(Customer.objects.values_list("pk", "slug", "name")) if calls else []
    names = {pk: name or slug for pk, slug, name in customers}
    slugs = {pk: slug for pk, slug, _ in customers}
    language = translation.get_language()
    consume, error = LOG_TYPE_VALUES.get(language, LOG_TYPE_VALUES[ENGLISH])

    if out_path is None:
        name = job.filename or export_filename(customer=job.customer, date_from=job.date_from,
                                               date_to=job.date_to)
        final = export_dir() / (f"{job.pk}-{name}" if job.pk else name)
    else:
        final = Path(out_path).resolve()
        final.parent.mkdir(parents=True, exist_ok=True)
    as_csv = getattr(job, "format", "xlsx") == "csv"
    fd, tmp = tempfile.mkstemp(dir=final.parent, prefix=f"{PART_PREFIX}{job.pk}-" if job.pk else PART_PREFIX,
                               suffix=".csv.part" if as_csv else ".xlsx.part")
    os.close(fd)
    if as_csv:
        try:
            done = _csv_write(plan=plan, job=job, path=tmp, tz=tz, names=names, slugs=slugs,
                              types=(consume, error), progress=progress, progress_seconds=progress_seconds)
            os.replace(tmp, final)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return _written(final, done, [])

    wb = Workbook(write_only=True)
    by_category: dict = defaultdict(lambda: [0, Decimal(0), Decimal(0)])
    by_model: dict = defaultdict(lambda: [0, Decimal(0), Decimal(0)])
    sheets: list[str] = []
    done = 0
    check_every = CHECK_EVERY
    last_tick = time.monotonic()
    if progress:
        progress(0, total)
    try:
        ws = styles = None
        in_sheet = 0
        headers, widths = plan.headers, plan.widths
        lastcol = get_column_letter(len(headers))

        def sheet_close(ws, n):
            ws.auto_filter.ref = f"A1:{lastcol}{n + 1}"

        def sheet_open(title):
            ws = wb.create_sheet(title)
            sheets.append(title)
            styles = _Styles(ws)
            ws.freeze_panes = "A2"
            for i, width in enumerate(widths, 1):
                ws.column_dimensions[get_column_letter(i)].width = width
            ws.append([styles.cell(h, styles.bold) for h in headers])
            return ws, styles

        for page in plan.pages:
            extra = plan.extra[0](job=job, rows=page) if plan.extra else None
            for row in page:
                if ws is None or in_sheet >= max_rows:
                    if ws is not None:
                        sheet_close(ws, in_sheet)
                    ws, styles = sheet_open(plan.sheet if not sheets else f"{plan.sheet} ({len(sheets) + 1})")
                    in_sheet = 0
                    date_style, money_style, text_cell, make = styles.date, styles.money, styles.text_cell, styles.cell
                out = []
                for kind, i in spec:
                    value = row[i]
                    if value is None:
                        out.append(None)
                    elif kind == "text":
                        out.append(text_cell(value) if value != "" else None)
                    elif kind == "money":
                        out.append(make(value, money_style))
                    elif kind == "int":
                        out.append(value)
                    elif kind == "time":
                        out.append(make(value.astimezone(tz).replace(tzinfo=None), date_style))
                    elif kind == "customer":
                        out.append(text_cell(names.get(value, str(value))))
                    elif kind == "customer_slug":
                        out.append(text_cell(slugs.get(value, str(value))))
                    elif kind.startswith("label:"):
                        out.append(text_cell(label(kind[6:], value)) if value != "" else None)
                    elif kind == "failed":
                        out.append(value != Category.SUCCESS)
                    elif kind == "logtype":
                        out.append(error if value in REQUEST_ERROR else consume)
                    elif kind == "reason":
                        out.append(text_cell(_reason_in(value, language)) if value != "" else None)
                    elif kind == "day":
                        out.append(make(value, styles.day))
                    else:
                        out.append(value)
                if extra is not None:
                    out.extend(text_cell(v) for v in extra.get(row[1], plan.extra[1]))
                ws.append(out)
                in_sheet += 1
                done += 1
                if calls:
                    charged, expected = row[plan.i_charged], row[plan.i_expected]
                    for acc in (by_category[row[plan.i_cat]], by_model[row[plan.i_model]]):
                        acc[0] += 1
                        if charged is not None:
                            acc[1] += charged
                        if expected is not None:
                            acc[2] += expected
                if not done % check_every and progress:
                    now = time.monotonic()
                    if now - last_tick >= progress_seconds:
                        progress(done, total)
                        last_tick = now
        if ws is None:  # no rows: an empty sheet, header only
            ws, styles = sheet_open(plan.sheet)
        sheet_close(ws, in_sheet)
        _summary(wb, job=job, kind=job_kind, done=done, sheets=sheets, by_category=by_category,
                 by_model=by_model, tz=tz, calls=calls)
        if progress:
            progress(done, total)
        _save(wb, tmp, progress=progress, done=done, total=total, seconds=progress_seconds)
        os.replace(tmp, final)
    except BaseException:
        _discard(wb)
        Path(tmp).unlink(missing_ok=True)
        raise
    return _written(final, done, sheets)


def _written(final: Path, done: int, sheets: list[str]) -> dict:
    size = final.stat().st_size
    try:
        rel = str(final.relative_to(Path(settings.NBAUDIT_EXPORT_DIR).resolve()))
    except ValueError:
        rel = str(final)
    return {"rows": done, "path": str(final), "file": rel, "size": size, "sheets": sheets}


# --- CSV ------------------------------------------------------------------------------------

CSV_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


def _csv_text(value) -> str:
    """A text cell of a CSV file: cleaned as in Excel, and one a spreadsheet would read as a
    formula or an error starts with an apostrophe (Excel shows it as text)."""
    if value is None or value == "":
        return ""
    value = _clean_text(value if isinstance(value, str) else str(value))
    return "'" + value if value.startswith(FORMULA_START) or value in ERROR_CODES else value


def _csv_write(*, plan: _Plan, job: ExportJob, path, tz, names: dict, slugs: dict, types: tuple[str, str],
               progress, progress_seconds: float) -> int:
    """The same rows and columns as the Excel file's first sheet, streamed row by row into a
    UTF-8 file with a byte-order mark (so Excel reads Chinese text right): no Summary, no
    split into sheets, money as plain decimals, times in the billing zone. Returns the rows."""
    done, last_tick = 0, time.monotonic()
    total = plan.total
    language = translation.get_language()
    if progress:
        progress(0, total)
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(plan.headers)
        for page in plan.pages:
            extra = plan.extra[0](job=job, rows=page) if plan.extra else None
            for row in page:
                line = []
                for kind, i in plan.spec:
                    value = row[i]
                    if value is None:
                        line.append("")
                    elif kind == "text":
                        line.append(_csv_text(value))
                    elif kind == "time":
                        line.append(value.astimezone(tz).strftime(CSV_TIME_FORMAT))
                    elif kind == "customer":
                        line.append(_csv_text(names.get(value, str(value))))
                    elif kind == "customer_slug":
                        line.append(_csv_text(slugs.get(value, str(value))))
                    elif kind == "logtype":
                        line.append(types[1] if value in REQUEST_ERROR else types[0])
                    elif kind == "reason":
                        line.append(_csv_text(_reason_in(value, language)) if value != "" else "")
                    elif kind.startswith("label:"):
                        line.append(_csv_text(label(kind[6:], value)))
                    elif kind == "failed":
                        line.append("TRUE" if value != Category.SUCCESS else "FALSE")
                    elif kind == "bool":
                        line.append("TRUE" if value else "FALSE")
                    elif kind == "day":
                        line.append(value.isoformat())
                    else:  # int, money (a Decimal: written as it is, every place kept)
                        line.append(str(value))
                if extra is not None:
                    line.extend(_csv_text(v) for v in extra.get(row[1], plan.extra[1]))
                out.writerow(line)
                done += 1
                if not done % CHECK_EVERY and progress:
                    now = time.monotonic()
                    if now - last_tick >= progress_seconds:
                        progress(done, total)
                        last_tick = now
    if progress:
        progress(done, total)
    return done


def _save(wb, path, *, progress, done, total, seconds) -> None:
    """Save (zip) the workbook in a thread while this one keeps the heartbeat going: zipping
    a million rows takes a while, and a silent job would look like a dead worker."""
    failure: list[BaseException] = []

    def run():
        try:
            wb.save(path)
        except BaseException as exc:  # noqa: BLE001  (re-raised in the calling thread)
            failure.append(exc)

    thread = threading.Thread(target=run, name="export-save", daemon=True)
    thread.start()
    try:
        while True:
            thread.join(max(seconds, 0.05))
            if not thread.is_alive():
                break
            if progress:
                progress(done, total)
    finally:
        thread.join()
    if failure:
        raise failure[0]


def _discard(wb) -> None:
    """Abandon a write-only workbook: close and remove its worksheets' temporary files."""
    for ws in wb.worksheets:
        writer = getattr(ws, "_writer", None)
        if writer is None:
            continue
        for step in (lambda: ws._rows and ws._rows.close(), lambda: writer.xf.close(), writer.cleanup):
            try:
                step()
            except Exception:  # noqa: BLE001  (best effort: the file may already be gone)
                pass


def _summary(wb, *, job: ExportJob, kind: ExportKind | None, done: int, sheets: list[str], by_category: dict,
             by_model: dict, tz, calls: bool) -> None:
    """The Summary sheet: what was exported (range, filters, the kind's lines) and, for calls,
    their counts and totals."""
    ws = wb.create_sheet(gettext("Summary"))
    st = _Styles(ws)
    ws.column_dimensions["A"].width = 28
    for letter in "BCDE":
        ws.column_dimensions[letter].width = 18
    text = st.text_cell

    def bold(v):
        return st.cell(v, st.bold)

    def money(v):
        return st.cell(v, st.money)
    filters = job.filters or {}
    generated = timezone.now().astimezone(tz).replace(tzinfo=None)
    ws.append([bold(gettext(kind.title) if kind is not None else gettext("nbaudit export of calls"))])
    ws.append([gettext("Customer"), text(job.customer.display_name if job.customer_id else gettext("all customers"))])
    ws.append([gettext("First day"), st.cell(job.date_from, st.day) if job.date_from else text(gettext("any"))])
    ws.append([gettext("Last day"), st.cell(job.date_to, st.day) if job.date_to else text(gettext("any"))])
    ws.append([gettext("Days in"), text(zone_label(job_tz(job)))])
    ws.append([gettext("Times in"), text(zone_label(tz))])
    for line in (kind.summary(job=job) if kind is not None and kind.summary else []):
        line = list(line)
        if line and isinstance(line[0], str):
            line[0] = gettext(line[0])  # a kind's labels are msgids (billing/exports.py)
        ws.append([text(v) if isinstance(v, str) else money(v) if isinstance(v, Decimal) else v for v in line])
    for key in FILTER_KEYS:
        value = filters.get(key)
        if value in (None, "", [], False):
            continue
        values = value if isinstance(value, list) else [value]
        if key == "model":
            values = [model_label(v) for v in values]
        elif key == "category":
            values = [label("category", v) for v in values]
        shown = gettext("yes") if value is True else ", ".join(str(v) for v in values)
        ws.append([gettext("Filter: %(key)s") % {"key": gettext(FILTER_LABELS.get(key, key))}, text(shown)])
    if kind is None and not any(filters.get(k) for k in FILTER_KEYS):
        ws.append([gettext("Filters"), gettext("none")])
    ws.append([gettext("Generated"), st.cell(generated, st.date)])
    ws.append([gettext("Call sheets") if calls else gettext("%(sheet)s sheets") % {"sheet": sheets[0]},
               text(", ".join(sheets))])
    if not calls:
        return
    ws.append([])
    charged = sum((v[1] for v in by_category.values()), Decimal(0))
    expected = sum((v[2] for v in by_category.values()), Decimal(0))
    failed = sum(v[0] for k, v in by_category.items() if k != Category.SUCCESS)
    heads = [bold(gettext("Calls")), bold(gettext("Charged (USD)")), bold(gettext("Expected (USD)"))]
    ws.append([bold(gettext("Totals")), *heads])
    ws.append([gettext("All calls"), done, money(charged), money(expected)])
    ws.append([gettext("Failed calls"), failed])
    ws.append([])
    ws.append([bold(gettext("By category")), *heads, bold(gettext("Category code"))])
    for cat in sorted(by_category, key=lambda k: (-by_category[k][0], k)):
        n, c, e = by_category[cat]
        ws.append([text(label("category", cat)), n, money(c), money(e), text(cat)])
    ws.append([])
    ws.append([bold(gettext("By model")), *heads])
    for model in sorted(by_model, key=lambda k: (-by_model[k][0], k)):
        n, c, e = by_model[model]
        ws.append([text(model), n, money(c), money(e)])
