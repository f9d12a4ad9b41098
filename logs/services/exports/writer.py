"""The one Excel writer of exports: calls (with a kind's extra columns) or a kind's own rows.

The file is written in write-only mode into a temporary file (`.export-<job>-….xlsx.part`)
beside its final place and moved there only when complete, so no partial file is ever
offered for download. Every text cell goes through the same cleaning: characters Excel
refuses are dropped, long texts cut, and a text a spreadsheet would read as a formula or
an error (`=…`, `+…`, `-…`, `@…`, `#N/A`) is written as inert text.
"""
from __future__ import annotations

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
from logs.languages import CHINESE, ENGLISH, language_code
from logs.models import Customer, ExportJob
from logs.pagination import keyset_batches
from logs.services.exports.filters import FILTER_KEYS
from logs.services.exports.kinds import ExportKind, export_filename, export_kind, export_queryset
from logs.timeutil import billing_tz

BATCH = 5000               # rows per keyset query
PROGRESS_SECONDS = 0.5     # progress (rows done, heartbeat) at least this often (target: 2 s)
CHECK_EVERY = 50           # rows between looks at the clock
CELL_MAX = 32767           # Excel's limit on the characters of one cell
MONEY_FORMAT = '"$"#,##0.000000'
DATE_FORMAT = "yyyy-mm-dd hh:mm:ss"
DAY_FORMAT = "yyyy-mm-dd"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
PART_PREFIX = ".export-"


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


# (header, field, width, type) of the Calls sheet. Types: time, text, int, money, customer, failed,
# logtype, reason. Headers are msgids, written in the job's language; in Chinese, a column the
# gateway's own export has is named as there (GATEWAY_ZH, formats.md), so that nbaudit's import
# reads a Chinese export back (a call again is a duplicate).
CALL_COLUMNS = [
    (gettext_noop("Time (%(tz)s)"), "created_at", 20, "time"),
    (gettext_noop("Request ID"), "request_id", 30, "text"),
    (gettext_noop("Customer"), "customer_id", 14, "customer"),
    (gettext_noop("Model"), "model", 28, "text"),
    (gettext_noop("Token name"), "token_name", 16, "text"),
    (gettext_noop("Type"), "category", 8, "logtype"),
    (gettext_noop("HTTP status"), "http_status", 8, "int"),
    (gettext_noop("Category"), "category", 15, "text"),
    (gettext_noop("Failed"), "category", 8, "failed"),
    (gettext_noop("Reason"), "reason", 40, "reason"),
    (gettext_noop("Finish reason"), "finish_reason", 16, "text"),
    (gettext_noop("Finish message"), "finish_message", 30, "text"),
    (gettext_noop("Error"), "error_text", 40, "text"),
    (gettext_noop("Images"), "images", 7, "int"),
    (gettext_noop("Image size"), "image_size", 8, "text"),
    (gettext_noop("Prompt tokens"), "prompt_tokens", 9, "int"),
    (gettext_noop("Output tokens"), "output_tokens", 9, "int"),
    (gettext_noop("Thoughts tokens"), "thoughts_tokens", 9, "int"),
    (gettext_noop("Total tokens"), "total_tokens", 9, "int"),
    (gettext_noop("Latency (ms)"), "latency_ms", 9, "int"),
    (gettext_noop("Billing mode"), "billing_mode", 11, "text"),
    (gettext_noop("Charged (USD)"), "charged_usd", 14, "money"),
    (gettext_noop("Expected (USD)"), "expected_usd", 14, "money"),
]
PROMPT_COLUMN = (gettext_noop("Prompt"), "prompt", 50, "text")
# The gateway export's own Chinese names (formats.md, section B): interface, not translations.
# 花费 is a cost in US dollars; 详情 the details (an error row's error text); 用户 the customer.
GATEWAY_ZH = {
    "created_at": "时间", "request_id": "请求ID", "customer_id": "用户", "model": "模型", "token_name": "令牌",
    "logtype": "类型", "prompt_tokens": "提示", "output_tokens": "补全", "charged_usd": "花费",
    "error_text": "详情",
}
# The Type column's values: the gateway's log types (a request error is an error row).
LOG_TYPE_VALUES = {ENGLISH: ("consume", "error"), CHINESE: ("消费", "错误")}


def _header(msgid: str, field: str, kind: str) -> str:
    if translation.get_language() == CHINESE:
        named = GATEWAY_ZH.get("logtype" if kind == "logtype" else field)
        if named:
            return named
    return gettext(msgid) % {"tz": settings.NBAUDIT_BILLING_TZ} if "%(tz)s" in msgid else gettext(msgid)


def _columns(*, with_prompt: bool) -> list[tuple[str, str, int, str]]:
    """The Calls sheet's columns, headers in the active language."""
    cols = CALL_COLUMNS + ([PROMPT_COLUMN] if with_prompt else [])
    return [(_header(h, field, kind), field, width, kind) for h, field, width, kind in cols]


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
    if job.date_from is None or job.date_to is None:
        raise ValidationError(gettext("An export needs a first and a last day."))
    if progress is None and job.pk:
        from logs.services.exports.jobs import _job_progress

        progress = _job_progress(job)
    tz = billing_tz()
    job_kind = export_kind(job.kind)
    max_rows = max(1, int(settings.NBAUDIT_EXPORT_MAX_ROWS))
    plan = _Plan(job=job, kind=job_kind, batch=batch)
    spec, total, calls = plan.spec, plan.total, plan.calls
    slugs = dict(Customer.objects.values_list("pk", "slug")) if calls else {}
    language = translation.get_language()
    consume, error = LOG_TYPE_VALUES.get(language, LOG_TYPE_VALUES[ENGLISH])

    if out_path is None:
        name = job.filename or export_filename(customer=job.customer, date_from=job.date_from,
                                               date_to=job.date_to)
        final = export_dir() / (f"{job.pk}-{name}" if job.pk else name)
    else:
        final = Path(out_path).resolve()
        final.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=final.parent, prefix=f"{PART_PREFIX}{job.pk}-" if job.pk else PART_PREFIX,
                               suffix=".xlsx.part")
    os.close(fd)

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
                        out.append(text_cell(slugs.get(value, str(value))))
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
    size = final.stat().st_size
    try:
        rel = str(final.relative_to(Path(settings.NBAUDIT_EXPORT_DIR).resolve()))
    except ValueError:
        rel = str(final)
    return {"rows": done, "path": str(final), "file": rel, "size": size, "sheets": sheets}


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


def _category_label(code: str) -> str:
    try:
        return str(Category(code).label)
    except ValueError:
        return code


def _summary(wb, *, job: ExportJob, kind: ExportKind | None, done: int, sheets: list[str], by_category: dict,
             by_model: dict, tz, calls: bool) -> None:
    """The Summary sheet: what was exported (range, filters, the kind's lines) and, for calls,
    their counts and totals."""
    ws = wb.create_sheet(gettext("Summary"))
    st = _Styles(ws)
    ws.column_dimensions["A"].width = 28
    for letter in "BCD":
        ws.column_dimensions[letter].width = 18
    text = st.text_cell

    def bold(v):
        return st.cell(v, st.bold)

    def money(v):
        return st.cell(v, st.money)
    filters = job.filters or {}
    generated = timezone.now().astimezone(tz).replace(tzinfo=None)
    ws.append([bold(gettext(kind.title) if kind is not None else gettext("nbaudit export of calls"))])
    ws.append([gettext("Customer"), text(job.customer.slug if job.customer_id else gettext("all customers"))])
    ws.append([gettext("First day"), st.cell(job.date_from, st.day)])
    ws.append([gettext("Last day"), st.cell(job.date_to, st.day)])
    ws.append([gettext("Days in"), text(settings.NBAUDIT_BILLING_TZ)])
    ws.append([gettext("Times in"), text(settings.NBAUDIT_BILLING_TZ)])
    for line in (kind.summary(job=job) if kind is not None and kind.summary else []):
        line = list(line)
        if line and isinstance(line[0], str):
            line[0] = gettext(line[0])  # a kind's labels are msgids (billing/exports.py)
        ws.append([text(v) if isinstance(v, str) else v for v in line])
    for key in FILTER_KEYS:
        value = filters.get(key)
        if value in (None, "", [], False):
            continue
        shown = ", ".join(value) if isinstance(value, list) else (gettext("yes") if value is True else value)
        ws.append([gettext("Filter: %(key)s") % {"key": key}, text(shown) if isinstance(shown, str) else shown])
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
    ws.append([bold(gettext("By category")), *heads, bold(gettext("Category"))])
    for cat in sorted(by_category, key=lambda k: (-by_category[k][0], k)):
        n, c, e = by_category[cat]
        ws.append([text(cat), n, money(c), money(e), text(_category_label(cat))])
    ws.append([])
    ws.append([bold(gettext("By model")), *heads])
    for model in sorted(by_model, key=lambda k: (-by_model[k][0], k)):
        n, c, e = by_model[model]
        ws.append([text(model), n, money(c), money(e)])
