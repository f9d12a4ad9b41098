"""Excel exports of calls: one code path for the Celery task, the page and the command.

`export_create` records the job and queues the task after commit; the task calls
`export_job_run`, which claims the row and calls `export_write`; the `export` command
calls `export_write` directly. The file is written in write-only mode into a temporary
file beside its final place and moved there only when complete, so no partial file is
ever offered for download.
"""
from __future__ import annotations

import datetime as dt
import logging
import os
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import InterfaceError, OperationalError, transaction
from django.db.models import F, Q
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from logs.choices import Category
from logs.filters import call_filters_json
from logs.models import Call, Customer, ExportJob
from logs.models.ingest import JobStatus
from logs.pagination import keyset_batches
from logs.scoping import is_staff, scope_calls
from logs.selectors.calls import calls_filter
from logs.timeutil import billing_tz

log = logging.getLogger(__name__)

# The filters an export carries: the same names as the Logs page and the read API.
FILTER_KEYS = ("model", "category", "failed", "token_name", "http_status", "request_id")
ACTIVE = (JobStatus.QUEUED, JobStatus.RUNNING)
BATCH = 5000               # calls per keyset query
PROGRESS_SECONDS = 0.5     # progress (rows done, heartbeat) at least this often (target: 2 s)
CHECK_EVERY = 50           # rows between looks at the clock
STALE_AFTER = dt.timedelta(minutes=2)  # a running job without heartbeat this long lost its worker
MAX_ATTEMPTS = 2           # a job whose worker died is re-queued once, then failed
CELL_MAX = 32767           # Excel's limit on the characters of one cell
MONEY_FORMAT = '"$"#,##0.000000'
DATE_FORMAT = "yyyy-mm-dd hh:mm:ss"
DAY_FORMAT = "yyyy-mm-dd"
WORKER_LOST = "the worker stopped while exporting; please retry"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class ExportCancelled(Exception):
    """The job was cancelled while the file was being written."""


# --- kinds ------------------------------------------------------------------------------

@dataclass(frozen=True)
class ExportKind:
    """A kind of export other apps add without logs knowing them (billing registers "tally" in
    its AppConfig.ready): which calls, extra text columns after the call columns, Summary lines.

    Each callable takes keyword arguments only:
    - clean(filters, user, customer) -> the job's filters (JSON); raises ValidationError or
      PermissionDenied. `customer` is the job's customer (a customer's user: always its own).
    - calls(job, calls) -> the job's calls, narrowed from `calls` (already scoped to the job's
      owner and customer).
    - values(job, rows) -> {call id: tuple of the extra columns' values}, for one batch of rows
      (each row starts with created_at, id).
    - summary(job) -> [(label, value)] for the Summary sheet.
    - filename(customer, date_from, date_to, filters) -> the file's name.
    """

    title: str
    clean: Callable[..., dict]
    calls: Callable[..., object]
    columns: Sequence[tuple[str, int]] = ()
    values: Callable[..., dict] | None = None
    summary: Callable[..., list] | None = None
    filename: Callable[..., str] | None = None


EXPORT_KINDS: dict[str, ExportKind] = {}


def export_kind_register(*, name: str, kind: ExportKind) -> None:
    """Add (or replace) a kind of export; "calls" is the built-in one."""
    if name == "calls":
        raise ValueError('"calls" is the built-in export kind')
    EXPORT_KINDS[name] = kind


def export_kind(name: str) -> ExportKind | None:
    """The registered kind (None for the built-in "calls"); an unknown one is a ValidationError."""
    if not name or name == "calls":
        return None
    try:
        return EXPORT_KINDS[name]
    except KeyError:
        raise ValidationError(f"unknown kind of export {name!r}") from None


# --- filters ---------------------------------------------------------------------------

def export_filters_clean(params: Mapping) -> dict:
    """The export filters of a request's parameters (or a dict), JSON-ready, empty ones left out.

    Raises ValidationError with a message in words for a value that cannot be a filter.
    """
    return call_filters_json(params)


def export_queryset(*, job: ExportJob):
    """The calls of a job: scoped to its customer (and to what its owner may see), filtered
    (a registered kind narrows the scoped calls itself)."""
    if job.owner_id:
        qs = scope_calls(job.owner, job.customer)
        if job.customer_id:  # a job naming a customer its owner may not see gets nothing
            qs = qs.filter(customer_id=job.customer_id)
    elif job.customer_id:
        qs = Call.objects.filter(customer_id=job.customer_id)
    else:
        qs = Call.objects.all()
    kind = export_kind(job.kind)
    if kind is not None:
        return kind.calls(job=job, calls=qs)
    f = job.filters or {}
    return calls_filter(
        qs,
        date_from=job.date_from,
        date_to=job.date_to,
        model=f.get("model") or None,
        categories=f.get("category") or None,
        failed=bool(f.get("failed")),
        token_name=f.get("token_name") or None,
        http_status=f.get("http_status"),
        request_id=f.get("request_id") or None,
    )


def export_filename(*, customer: Customer | None, date_from: dt.date, date_to: dt.date) -> str:
    who = customer.slug if customer is not None else "all"
    return f"nbaudit-{who}-{date_from.isoformat()}-{date_to.isoformat()}.xlsx"


def export_dir() -> Path:
    path = Path(settings.NBAUDIT_EXPORT_DIR)
    path.mkdir(parents=True, exist_ok=True)
    return path


def export_path(job: ExportJob) -> Path | None:
    """Where a finished job's file is (None when it has none)."""
    if not job.file:
        return None
    return Path(settings.NBAUDIT_EXPORT_DIR) / job.file


# --- creating and changing jobs ---------------------------------------------------------

def _queue(job: ExportJob) -> None:
    """Send the task once the job row is committed; a broker that cannot be reached fails
    the job in words (the user can retry) instead of leaving it queued for ever."""
    from logs.tasks import export_run

    job_id = job.pk

    def send():
        try:
            export_run.delay(job_id)
        except Exception:  # noqa: BLE001  (kombu raises several kinds of connection errors)
            log.exception("could not queue export %s", job_id)
            export_fail(job_id=job_id, error="The export could not be queued (the task queue is "
                                             "unreachable); please retry in a moment.")

    transaction.on_commit(send)


def export_create(*, user, customer: Customer | None, date_from: dt.date, date_to: dt.date,
                  filters: Mapping | None = None, kind: str = "calls") -> ExportJob:
    """Record an export job for `user` and queue it (after commit).

    A customer's user exports its own customer only; staff may pass None for every customer.
    """
    if not user or not user.is_authenticated:
        raise PermissionDenied("Log in to export.")
    if not is_staff(user):
        if not user.customer_id:
            raise PermissionDenied("This account is linked to no customer.")
        if customer is not None and customer.pk != user.customer_id:
            raise PermissionDenied("You may export your own customer's calls only.")
        customer = user.customer
    if date_from is None or date_to is None:
        raise ValidationError("An export needs a first and a last day.")
    if date_from > date_to:
        raise ValidationError(f"The first day ({date_from}) is after the last day ({date_to}).")
    spec = export_kind(kind)
    if spec is None:
        clean = export_filters_clean(filters or {})
        filename = export_filename(customer=customer, date_from=date_from, date_to=date_to)
    else:
        clean = spec.clean(filters=dict(filters or {}), user=user, customer=customer)
        filename = (spec.filename(customer=customer, date_from=date_from, date_to=date_to, filters=clean)
                    if spec.filename else export_filename(customer=customer, date_from=date_from,
                                                          date_to=date_to))
    with transaction.atomic():
        job = ExportJob.objects.create(
            owner=user, customer=customer, kind=kind or "calls", filters=clean,
            date_from=date_from, date_to=date_to, status=JobStatus.QUEUED, filename=filename,
        )
        _queue(job)
    return job


def export_cancel(*, job: ExportJob) -> bool:
    """Cancel a queued or running job; a running worker stops at its next progress check."""
    now = timezone.now()
    n = ExportJob.objects.filter(pk=job.pk, status__in=ACTIVE).update(
        status=JobStatus.CANCELLED, finished_at=now, error="Cancelled.")
    job.refresh_from_db()
    return bool(n)


def export_retry(*, job: ExportJob) -> bool:
    """Run a failed, cancelled or expired job again, from the start."""
    if job.status not in (JobStatus.FAILED, JobStatus.CANCELLED, JobStatus.EXPIRED):
        return False
    _file_delete(job)
    with transaction.atomic():
        n = ExportJob.objects.filter(pk=job.pk, status=job.status).update(
            status=JobStatus.QUEUED, error="", rows_done=0, rows_total=None, file="", size=None,
            attempts=0, worker="", heartbeat_at=None, started_at=None, finished_at=None,
            expires_at=None)
        if n:
            _queue(job)
    job.refresh_from_db()
    return bool(n)


def _file_delete(job: ExportJob) -> None:
    path = export_path(job)
    if path is not None:
        try:
            path.unlink()
        except FileNotFoundError:
            pass


# --- running a job -----------------------------------------------------------------------

def export_job_run(*, job_id: int, worker: str = "") -> str:
    """Claim the job, write its file, record the outcome. Returns the final status.

    Transient database errors (OperationalError, InterfaceError) are re-raised for the
    task to retry, with the job put back in the queue; any other error fails the job
    with a message in words.
    """
    now = timezone.now()
    claimed = ExportJob.objects.filter(pk=job_id, status=JobStatus.QUEUED).update(status=JobStatus.RUNNING, started_at=now, heartbeat_at=now, worker=worker[:200],
             attempts=F("attempts") + 1, error="", rows_done=0)
    if not claimed:
        status = ExportJob.objects.filter(pk=job_id).values_list("status", flat=True).first()
        log.info("export %s not claimed (status %s)", job_id, status)
        return status or "missing"
    job = ExportJob.objects.select_related("owner", "customer").get(pk=job_id)
    try:
        result = export_write(job=job)
    except ExportCancelled:
        return JobStatus.CANCELLED
    except (OperationalError, InterfaceError):
        # Transient: the task retries; put the job back so the retry can claim it.
        try:
            ExportJob.objects.filter(pk=job_id, status=JobStatus.RUNNING).update(status=JobStatus.QUEUED)
        except (OperationalError, InterfaceError):
            pass
        raise
    except Exception as exc:  # noqa: BLE001  (recorded in words, logged whole)
        log.exception("export %s failed", job_id)
        export_fail(job_id=job_id, error=_in_words(exc))
        return JobStatus.FAILED
    finished = timezone.now()
    n = ExportJob.objects.filter(pk=job_id, status=JobStatus.RUNNING).update(
        status=JobStatus.DONE, rows_done=result["rows"], rows_total=result["rows"],
        file=result["file"], size=result["size"], finished_at=finished, heartbeat_at=finished,
        expires_at=finished + dt.timedelta(days=settings.NBAUDIT_EXPORT_TTL_DAYS))
    if not n:  # cancelled during the final write
        Path(result["path"]).unlink(missing_ok=True)
        return JobStatus.CANCELLED
    return JobStatus.DONE


def export_fail(*, job_id: int, error: str) -> None:
    """Record a job's failure once (a job already finished keeps its state)."""
    ExportJob.objects.filter(pk=job_id, status__in=ACTIVE).update(
        status=JobStatus.FAILED, error=error[:2000], finished_at=timezone.now())


def _in_words(exc: BaseException) -> str:
    from celery.exceptions import SoftTimeLimitExceeded

    if isinstance(exc, SoftTimeLimitExceeded):
        return "The export took longer than the time limit; narrow the date range or the filters and retry."
    if isinstance(exc, OSError):
        return f"The file could not be written ({exc.strerror or exc}); please retry or tell the staff."
    if isinstance(exc, ValidationError):
        return "; ".join(exc.messages)
    return f"The export failed: {exc.__class__.__name__}: {exc}".strip()


def _job_progress(job: ExportJob) -> Callable[[int, int | None], None]:
    """Record rows done and the heartbeat; stop if the job was cancelled meanwhile."""

    def progress(done: int, total: int | None) -> None:
        n = ExportJob.objects.filter(pk=job.pk, status=JobStatus.RUNNING).update(
            rows_done=done, rows_total=total, heartbeat_at=timezone.now())
        if not n:
            raise ExportCancelled(f"export {job.pk} is no longer running")

    return progress


# --- housekeeping (beat) ------------------------------------------------------------------

def exports_expire(*, now: dt.datetime | None = None) -> int:
    """Delete the files of jobs past their expiry and mark them expired; also clear stale
    temporary files a killed worker left behind. Returns the number of jobs expired."""
    now = now or timezone.now()
    n = 0
    for job in ExportJob.objects.filter(status=JobStatus.DONE, expires_at__lte=now):
        _file_delete(job)
        n += ExportJob.objects.filter(pk=job.pk, status=JobStatus.DONE).update(
            status=JobStatus.EXPIRED, file="", size=None)
    folder = Path(settings.NBAUDIT_EXPORT_DIR)
    if folder.is_dir():
        cutoff = time.time() - settings.NBAUDIT_EXPORT_TTL_DAYS * 86400
        for path in folder.iterdir():
            try:
                if path.name.startswith(".export-") and path.stat().st_mtime < time.time() - 86400:
                    path.unlink()  # a temporary file older than a day: its worker is gone
                elif path.suffix == ".xlsx" and path.stat().st_mtime < cutoff:
                    if not ExportJob.objects.filter(file=path.name, status=JobStatus.DONE,
                                                    expires_at__gt=now).exists():
                        path.unlink()  # an old file no live job points to
            except FileNotFoundError:
                pass
    return n


def exports_reap(*, now: dt.datetime | None = None) -> dict:
    """Running jobs whose heartbeat stopped (the worker died): re-queued once, then failed."""
    now = now or timezone.now()
    stale = now - STALE_AFTER
    requeued, failed = [], []
    jobs = ExportJob.objects.filter(status=JobStatus.RUNNING).filter(
        Q(heartbeat_at__lt=stale) | Q(heartbeat_at__isnull=True, started_at__lt=stale)
        | Q(heartbeat_at__isnull=True, started_at__isnull=True, created_at__lt=stale))
    for job in jobs:
        with transaction.atomic():
            still = ExportJob.objects.filter(pk=job.pk, status=JobStatus.RUNNING,
                                             heartbeat_at=job.heartbeat_at)
            if job.attempts < MAX_ATTEMPTS:
                if still.update(status=JobStatus.QUEUED, worker="", rows_done=0, heartbeat_at=None):
                    _queue(job)
                    requeued.append(job.pk)
            elif still.update(status=JobStatus.FAILED, error=WORKER_LOST, finished_at=now):
                failed.append(job.pk)
    if requeued or failed:
        log.warning("exports reaped: re-queued %s, failed %s", requeued, failed)
    return {"requeued": requeued, "failed": failed}


# --- writing the file -------------------------------------------------------------------

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


# (header, width, kind) of the Calls sheet. Kinds: time, text, int, money, bool.
def _columns(*, with_prompt: bool) -> list[tuple[str, str, int, str]]:
    tzname = settings.NBAUDIT_BILLING_TZ
    cols = [
        (f"Time ({tzname})", "created_at", 20, "time"),
        ("Request ID", "request_id", 30, "text"),
        ("Customer", "customer_id", 14, "customer"),
        ("Model", "model", 28, "text"),
        ("Token name", "token_name", 16, "text"),
        ("HTTP status", "http_status", 8, "int"),
        ("Category", "category", 15, "text"),
        ("Failed", "category", 8, "failed"),
        ("Reason", "reason", 40, "text"),
        ("Finish reason", "finish_reason", 16, "text"),
        ("Finish message", "finish_message", 30, "text"),
        ("Error", "error_text", 40, "text"),
        ("Images", "images", 7, "int"),
        ("Image size", "image_size", 8, "text"),
        ("Prompt tokens", "prompt_tokens", 9, "int"),
        ("Output tokens", "output_tokens", 9, "int"),
        ("Thoughts tokens", "thoughts_tokens", 9, "int"),
        ("Total tokens", "total_tokens", 9, "int"),
        ("Latency (ms)", "latency_ms", 9, "int"),
        ("Billing mode", "billing_mode", 11, "text"),
        ("Charged (USD)", "charged_usd", 14, "money"),
        ("Expected (USD)", "expected_usd", 14, "money"),
    ]
    if with_prompt:
        cols.append(("Prompt", "prompt", 50, "text"))
    return cols


def export_headers(*, with_prompt: bool | None = None) -> list[str]:
    if with_prompt is None:
        with_prompt = settings.NBAUDIT_STORE_PROMPTS
    return [c[0] for c in _columns(with_prompt=with_prompt)]


def _keyset(qs, fields: list[str], batch: int):
    """Rows in (created_at, id) order, BATCH at a time, each query continuing after the last."""
    for rows in _keyset_pages(qs, fields, batch):
        yield from rows


def _keyset_pages(qs, fields: list[str], batch: int):
    """Pages (lists) of rows in (created_at, id) order, each query continuing after the last."""
    return keyset_batches(qs, fields, batch)


def export_write(*, job: ExportJob, out_path: str | os.PathLike | None = None,
                 progress: Callable[[int, int | None], None] | None = None,
                 batch: int = BATCH, progress_seconds: float = PROGRESS_SECONDS) -> dict:
    """Write the job's calls to an .xlsx file; returns {"rows", "path", "file", "size", "sheets"}.

    `out_path`: where to put the file (default: the export folder, named after the job).
    `progress(rows_done, rows_total)` is called at least every `progress_seconds` while
    writing (default for a saved job: record it on the row, stop if cancelled).
    """
    if job.date_from is None or job.date_to is None:
        raise ValidationError("An export needs a first and a last day.")
    if progress is None and job.pk:
        progress = _job_progress(job)
    tz = billing_tz()
    job_kind = export_kind(job.kind)
    extra_cols = list(job_kind.columns) if job_kind is not None else []
    no_extra = (None,) * len(extra_cols)
    with_prompt = bool(settings.NBAUDIT_STORE_PROMPTS)
    cols = _columns(with_prompt=with_prompt)
    max_rows = max(1, int(settings.NBAUDIT_EXPORT_MAX_ROWS))
    fields = ["created_at", "id"]
    for c in cols[1:]:
        if c[1] not in fields:
            fields.append(c[1])
    spec = [(c[3], fields.index(c[1])) for c in cols[1:]]
    i_cat, i_model = fields.index("category"), fields.index("model")
    i_charged, i_expected = fields.index("charged_usd"), fields.index("expected_usd")
    qs = export_queryset(job=job)
    total = qs.count()
    slugs = dict(Customer.objects.values_list("pk", "slug"))

    if out_path is None:
        name = job.filename or export_filename(customer=job.customer, date_from=job.date_from,
                                               date_to=job.date_to)
        final = export_dir() / (f"{job.pk}-{name}" if job.pk else name)
    else:
        final = Path(out_path).resolve()
        final.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=final.parent, prefix=".export-", suffix=".xlsx.part")
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
        headers = [c[0] for c in cols] + [h for h, _ in extra_cols]
        widths = [c[2] for c in cols] + [w for _, w in extra_cols]
        lastcol = get_column_letter(len(headers))

        def sheet_close(ws, n):
            ws.auto_filter.ref = f"A1:{lastcol}{n + 1}"

        for page in _keyset_pages(qs, fields, batch):
            extra = job_kind.values(job=job, rows=page) if extra_cols else None
            for row in page:
                if ws is None or in_sheet >= max_rows:
                    if ws is not None:
                        sheet_close(ws, in_sheet)
                    title = "Calls" if not sheets else f"Calls ({len(sheets) + 1})"
                    ws = wb.create_sheet(title)
                    sheets.append(title)
                    styles = _Styles(ws)
                    ws.freeze_panes = "A2"
                    for i, width in enumerate(widths, 1):
                        ws.column_dimensions[get_column_letter(i)].width = width
                    ws.append([styles.cell(h, styles.bold) for h in headers])
                    in_sheet = 0
                    date_style, money_style, text_cell, make = styles.date, styles.money, styles.text_cell, styles.cell
                created = row[0].astimezone(tz).replace(tzinfo=None)
                out = [make(created, date_style)]
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
                    elif kind == "customer":
                        out.append(text_cell(slugs.get(value, str(value))))
                    elif kind == "failed":
                        out.append(value != Category.SUCCESS)
                    else:
                        out.append(value)
                if extra is not None:
                    out.extend(text_cell(v) for v in extra.get(row[1], no_extra))
                ws.append(out)
                in_sheet += 1
                done += 1
                charged, expected = row[i_charged], row[i_expected]
                for acc in (by_category[row[i_cat]], by_model[row[i_model]]):
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
        if ws is None:  # no calls: an empty Calls sheet, header only
            ws = wb.create_sheet("Calls")
            sheets.append("Calls")
            styles = _Styles(ws)
            ws.freeze_panes = "A2"
            ws.append([styles.cell(h, styles.bold) for h in headers])
        sheet_close(ws, in_sheet)
        _summary(wb, job=job, done=done, sheets=sheets, by_category=by_category, by_model=by_model,
                 tz=tz)
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


def _summary(wb, *, job: ExportJob, done: int, sheets: list[str], by_category: dict, by_model: dict,
             tz) -> None:
    """The Summary sheet: what was exported (range, filters) and its counts and totals."""
    ws = wb.create_sheet("Summary")
    st = _Styles(ws)
    ws.column_dimensions["A"].width = 28
    for letter in "BCD":
        ws.column_dimensions[letter].width = 18
    bold, text = (lambda v: st.cell(v, st.bold)), st.text_cell
    money = (lambda v: st.cell(v, st.money))
    filters = job.filters or {}
    generated = timezone.now().astimezone(tz).replace(tzinfo=None)
    kind = export_kind(job.kind)
    ws.append([bold(kind.title if kind is not None else "nbaudit export of calls")])
    ws.append(["Customer", text(job.customer.slug if job.customer_id else "all customers")])
    ws.append(["First day", st.cell(job.date_from, st.day)])
    ws.append(["Last day", st.cell(job.date_to, st.day)])
    ws.append(["Days in", text(settings.NBAUDIT_BILLING_TZ)])
    for label, value in (kind.summary(job=job) if kind is not None and kind.summary else []):
        ws.append([label, text(value) if isinstance(value, str) else value])
    for key in FILTER_KEYS:
        value = filters.get(key)
        if value in (None, "", [], False):
            continue
        shown = ", ".join(value) if isinstance(value, list) else ("yes" if value is True else value)
        ws.append([f"Filter: {key}", text(shown) if isinstance(shown, str) else shown])
    if kind is None and not any(filters.get(k) for k in FILTER_KEYS):
        ws.append(["Filters", "none"])
    ws.append(["Generated", st.cell(generated, st.date)])
    ws.append(["Call sheets", text(", ".join(sheets))])
    ws.append([])
    charged = sum((v[1] for v in by_category.values()), Decimal(0))
    expected = sum((v[2] for v in by_category.values()), Decimal(0))
    failed = sum(v[0] for k, v in by_category.items() if k != Category.SUCCESS)
    ws.append([bold("Totals"), bold("Calls"), bold("Charged (USD)"), bold("Expected (USD)")])
    ws.append(["All calls", done, money(charged), money(expected)])
    ws.append(["Failed calls", failed])
    ws.append([])
    ws.append([bold("By category"), bold("Calls"), bold("Charged (USD)"), bold("Expected (USD)")])
    for cat in sorted(by_category, key=lambda k: (-by_category[k][0], k)):
        n, c, e = by_category[cat]
        ws.append([text(cat), n, money(c), money(e)])
    ws.append([])
    ws.append([bold("By model"), bold("Calls"), bold("Charged (USD)"), bold("Expected (USD)")])
    for model in sorted(by_model, key=lambda k: (-by_model[k][0], k)):
        n, c, e = by_model[model]
        ws.append([text(model), n, money(c), money(e)])
