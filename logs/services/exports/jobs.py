"""The life cycle of export jobs: create and queue, run (claim, write, record), cancel, retry,
and the beat's housekeeping (expiry of files, stale temporary files, the reaper)."""
from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import InterfaceError, OperationalError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext

from logs.languages import language_code, language_for
from logs.models import Customer, ExportFormat, ExportJob, User
from logs.models.jobs import JobStatus
from logs.scoping import is_staff
from logs.services.exports import writer
from logs.services.exports.filters import export_filters_clean
from logs.services.exports.kinds import export_filename, export_kind
from logs.services.exports.writer import PART_PREFIX, export_path
from logs.services.jobs import job_cancel, job_claim, job_fail, job_finish, job_progress, jobs_reap

log = logging.getLogger("logs.services.exports")

ACTIVE = JobStatus.ACTIVE
STALE_AFTER = dt.timedelta(minutes=2)  # a running job without heartbeat this long lost its worker
MAX_ATTEMPTS = 2           # a job whose worker died is re-queued once, then failed
WORKER_LOST = "the worker stopped while exporting; please retry"
PART_MAX_AGE = 86400       # seconds: a temporary file of no known job is removed after this


class ExportCancelled(Exception):
    """The job was cancelled while the file was being written."""


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


def export_create(*, user, customer: Customer | None, date_from: dt.date | None, date_to: dt.date | None,
                  filters: Mapping | None = None, kind: str = "calls", notify: bool = False,
                  fmt: str = ExportFormat.XLSX, tz: str = "", language: str | None = None) -> ExportJob:
    """Record an export job for `user` and queue it (after commit).

    Days are whole days in `tz` (a zone name: the user's; empty: the billing zone). Calls may be
    exported over any time (no first and last day); other kinds need both.

    A customer's user exports its own customer only; staff may pass None for every customer.
    `notify`: tell the user when it ends (in the app, and by email where they have an address).
    `fmt`: "xlsx" or "csv" (the same rows and columns).
    `language`: of the header row and Summary sheet; default the user's own, else the request's.

    The same export (owner, customer, kind, days, filters, format, language) asked for again while
    the first is still queued or running is that first job, not a second one: it is returned with
    `job.existing` True (False on a new job).
    """
    if fmt not in ExportFormat.values:
        raise ValidationError(gettext("Unknown export format %(fmt)s: use one of %(formats)s.") % {
            "fmt": repr(fmt), "formats": ", ".join(ExportFormat.values)})
    if not user or not user.is_authenticated:
        raise PermissionDenied(gettext("Log in to export."))
    if not is_staff(user):
        if not user.customer_id:
            raise PermissionDenied(gettext("This account is linked to no customer."))
        if customer is not None and customer.pk != user.customer_id:
            raise PermissionDenied(gettext("You may export your own customer's calls only."))
        customer = user.customer
    if (date_from is None or date_to is None) and kind not in ("", "calls"):
        raise ValidationError(gettext("An export needs a first and a last day."))
    if date_from is not None and date_to is not None and date_from > date_to:
        raise ValidationError(gettext("The first day (%(first)s) is after the last day (%(last)s).") % {
            "first": date_from, "last": date_to})
    spec = export_kind(kind)
    if spec is None:
        clean = export_filters_clean(filters or {})
        if "channel" in clean and not is_staff(user):  # the gateway hides its channels from its users
            raise PermissionDenied(gettext("Channels are for staff."))
        filename = export_filename(customer=customer, date_from=date_from, date_to=date_to)
    else:
        clean = spec.clean(filters=dict(filters or {}), user=user, customer=customer)
        filename = (spec.filename(customer=customer, date_from=date_from, date_to=date_to, filters=clean)
                    if spec.filename else export_filename(customer=customer, date_from=date_from,
                                                          date_to=date_to))
    if fmt == ExportFormat.CSV and filename.endswith(".xlsx"):
        filename = filename[: -len(".xlsx")] + ".csv"
    kind = kind or "calls"
    language = language_code(language) if language else language_for(user)
    with transaction.atomic():
        # One owner's exports are created one at a time (the owner's row locked), so two clicks
        # at once still make one job.
        User.objects.select_for_update().filter(pk=user.pk).first()
        pending = export_pending(user=user, customer=customer, kind=kind, filters=clean,
                                 date_from=date_from, date_to=date_to, fmt=fmt, language=language)
        if pending is not None:
            pending.existing = True
            return pending
        job = ExportJob.objects.create(
            created_by=user, customer=customer, kind=kind, filters=clean, format=fmt,
            date_from=date_from, date_to=date_to, tz=str(tz or ""), status=JobStatus.QUEUED, filename=filename,
            notify_when_done=bool(notify), language=language,
        )
        job.existing = False
        _queue(job)
    return job


def export_pending(*, user, customer: Customer | None, kind: str, filters: dict, date_from: dt.date,
                   date_to: dt.date, fmt: str, language: str | None = None) -> ExportJob | None:
    """The owner's queued or running export of exactly these days, filters, format and language
    (the oldest), if any (any language when `language` is None). Filters are compared as JSON
    values here (key order does not matter)."""
    candidates = ExportJob.objects.filter(
        created_by=user, customer=customer, kind=kind, date_from=date_from, date_to=date_to, format=fmt,
        status__in=JobStatus.ACTIVE).order_by("created_at", "id")
    if language is not None:
        candidates = candidates.filter(language=language)
    return next((job for job in candidates if (job.filters or {}) == filters), None)


def export_cancel(*, job: ExportJob) -> bool:
    """Cancel a queued or running job; a running worker stops at its next progress check."""
    cancelled = job_cancel(job=job)
    job.refresh_from_db()
    return cancelled


def export_retry(*, job: ExportJob) -> bool:
    """Run a failed, cancelled or expired job again, from the start."""
    if job.status not in JobStatus.RETRYABLE:
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
    if not job_claim(job=ExportJob(pk=job_id), worker=worker[:200], attempts=F("attempts") + 1):
        status = ExportJob.objects.filter(pk=job_id).values_list("status", flat=True).first()
        log.info("export %s not claimed (status %s)", job_id, status)
        return status or "missing"
    job = ExportJob.objects.select_related("created_by", "customer").get(pk=job_id)
    try:
        result = writer.export_write(job=job, progress=_job_progress(job))
    except ExportCancelled:
        return JobStatus.CANCELLED
    except (OperationalError, InterfaceError):
        # Transient: the task retries; put the job back so the retry can claim it.
        try:
            ExportJob.objects.filter(pk=job_id, status=JobStatus.RUNNING).update(
                status=JobStatus.QUEUED, rows_done=0, heartbeat_at=None)
        except (OperationalError, InterfaceError):
            pass
        raise
    except Exception as exc:  # noqa: BLE001  (recorded in words, logged whole)
        log.exception("export %s failed", job_id)
        export_fail(job_id=job_id, error=_in_words(exc))
        return JobStatus.FAILED
    finished = timezone.now()
    if not job_finish(job=job, rows_done=result["rows"], rows_total=result["rows"], file=result["file"],
                      size=result["size"], finished_at=finished, heartbeat_at=finished,
                      expires_at=finished + dt.timedelta(days=settings.NBAUDIT_EXPORT_TTL_DAYS)):
        Path(result["path"]).unlink(missing_ok=True)  # cancelled during the final write
        return JobStatus.CANCELLED
    return JobStatus.DONE


def export_fail(*, job_id: int, error: str) -> None:
    """Record a job's failure once (a job already finished keeps its state)."""
    job_fail(job=ExportJob(pk=job_id), error=error)


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
        if not job_progress(job=job, rows_done=done, rows_total=total):
            raise ExportCancelled(f"export {job.pk} is no longer running")

    return progress


# --- housekeeping (beat) ------------------------------------------------------------------

def _parts_delete(job_id: int) -> None:
    """Delete the temporary files of a job's runs (its worker is gone)."""
    folder = Path(settings.NBAUDIT_EXPORT_DIR)
    for path in folder.glob(f"{PART_PREFIX}{job_id}-*.part") if folder.is_dir() else ():
        path.unlink(missing_ok=True)


def _part_job_id(name: str) -> int | None:
    """The job of a temporary file (`.export-<job id>-<random>.xlsx.part`); None: the command's."""
    head = name[len(PART_PREFIX):].split("-", 1)[0]
    return int(head) if head.isdigit() and "-" in name[len(PART_PREFIX):] else None


def exports_expire(*, now: dt.datetime | None = None) -> int:
    """Delete the files of jobs past their expiry and mark them expired; also clear the
    temporary files killed workers left behind: at once for a job no longer running, after a
    day for one of no job. Returns the number of jobs expired."""
    now = now or timezone.now()
    n = 0
    for job in ExportJob.objects.filter(status=JobStatus.DONE, expires_at__lte=now):
        _file_delete(job)
        n += ExportJob.objects.filter(pk=job.pk, status=JobStatus.DONE).update(
            status=JobStatus.EXPIRED, file="", size=None)
    folder = Path(settings.NBAUDIT_EXPORT_DIR)
    if folder.is_dir():
        cutoff = time.time() - settings.NBAUDIT_EXPORT_TTL_DAYS * 86400
        parts = [p for p in folder.iterdir() if p.name.startswith(PART_PREFIX)]
        owners = {_part_job_id(p.name) for p in parts} - {None}
        running = set(ExportJob.objects.filter(pk__in=owners, status=JobStatus.RUNNING)
                      .values_list("pk", flat=True)) if owners else set()
        for path in folder.iterdir():
            try:
                if path.name.startswith(PART_PREFIX):
                    owner = _part_job_id(path.name)
                    if owner is not None and owner not in running:
                        path.unlink()  # its job is no longer running: its worker is gone
                    elif path.stat().st_mtime < time.time() - PART_MAX_AGE:
                        path.unlink()  # a temporary file older than a day: its worker is gone
                elif path.suffix in (".xlsx", ".csv") and path.stat().st_mtime < cutoff:
                    if not ExportJob.objects.filter(file=path.name, status=JobStatus.DONE,
                                                    expires_at__gt=now).exists():
                        path.unlink()  # an old file no live job points to
            except FileNotFoundError:
                pass
    return n


def exports_reap(*, now: dt.datetime | None = None) -> dict:
    """Running jobs whose heartbeat stopped (the worker died): re-queued once, then failed;
    the dead run's temporary file is deleted either way."""
    result = jobs_reap(
        queryset=ExportJob.objects.all(), stale_after=STALE_AFTER, message=WORKER_LOST, now=now,
        requeue_if=lambda job: job.attempts < MAX_ATTEMPTS, requeue=_queue, requeue_reset={"worker": ""},
        on_reaped=lambda job: _parts_delete(job.pk))
    if result["requeued"] or result["failed"]:
        log.warning("exports reaped: re-queued %s, failed %s", result["requeued"], result["failed"])
    return result
