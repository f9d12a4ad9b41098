"""Running a reconciliation: create and queue the row, run it (load the local log into the
stage, settle the period, match), and the reaper for runs whose worker stopped.

The period is whole days in the billing zone (UTC+8): given, or from the day of the first
local row to the day of the last. A local log with no row in the period is refused.
"""
from __future__ import annotations

import datetime as dt
import logging
import os
import time
from dataclasses import dataclass

from django.db import connection, transaction

from billing.models import Reconciliation
from billing.services.reconciliation.matching import _match, _price_missing
from billing.services.reconciliation.staging import _Stage
from logs.models import Customer
from logs.parsers import LocalLogError, LocalRow, Rejected, local_log_read
from logs.services.jobs import job_claim, job_fail, job_progress, jobs_fail_silent
from logs.timeutil import billing_tz, day_range

log = logging.getLogger("billing.services.reconciliation")

BATCH = 25_000
PROGRESS_EVERY = 50_000
MAX_REJECTED_KEPT = 1000
# A running reconciliation records heartbeat_at with its progress and before the matching (one
# transaction); one silent this long lost its worker: billing.tasks.reconciliations_reap fails it.
RECON_STALE_AFTER = dt.timedelta(minutes=15)
RECON_WORKER_LOST = "the worker stopped while reconciling this log; run it again"


class ReconciliationRefused(ValueError):
    """The local log cannot be reconciled (no row in the period, not a local log, bad dates)."""


@dataclass
class _Period:
    date_from: dt.date
    date_to: dt.date

    @property
    def bounds(self) -> tuple[dt.datetime, dt.datetime]:
        return day_range(self.date_from, self.date_to, billing_tz())


def reconciliation_create(*, customer: Customer, user=None, upload=None, filename: str = "",
                          date_from: dt.date | None = None, date_to: dt.date | None = None,
                          notify: bool = False) -> Reconciliation:
    """A queued reconciliation row (the uploaded file stored with it). Raises ReconciliationRefused.

    `notify`: tell the user who started it when it ends."""
    _check_dates(date_from, date_to)
    recon = Reconciliation(customer=customer, created_by=user if getattr(user, "pk", None) else None,
                           date_from=date_from, date_to=date_to, notify_when_done=bool(notify),
                           filename=(filename or getattr(upload, "name", "") or "")[:255])
    if upload is not None:
        recon.file.save(recon.filename or "local-log", upload, save=False)
    recon.save()
    return recon


def reconciliation_enqueue(*, reconciliation: Reconciliation) -> None:
    """Queue the task once the row is committed."""
    from billing.tasks import reconciliation_task

    rid = reconciliation.pk
    transaction.on_commit(lambda: reconciliation_task.delay(rid))


def _check_dates(date_from, date_to) -> None:
    if date_from and date_to and date_from > date_to:
        raise ReconciliationRefused(f"the period starts ({date_from}) after it ends ({date_to})")


def reconciliation_run(*, reconciliation: Reconciliation | None = None, source=None,
                       customer: Customer | None = None, date_from: dt.date | None = None,
                       date_to: dt.date | None = None, user=None, filename: str = "") -> Reconciliation:
    """Run a reconciliation: the given row, or a new one for (customer, source, period).

    `source` is a path, bytes or a binary file object; when None, the row's stored file.
    On refusal the row is marked failed with the message and ReconciliationRefused is raised.
    """
    if reconciliation is None:
        if customer is None or source is None:
            raise TypeError("reconciliation_run needs a reconciliation, or a customer and a source")
        if not filename and isinstance(source, (str, os.PathLike)):
            filename = os.path.basename(os.fspath(source))
        reconciliation = reconciliation_create(customer=customer, user=user, filename=filename,
                                               date_from=date_from, date_to=date_to)
    recon = reconciliation
    job_claim(job=recon, only_from=None)
    recon.refresh_from_db()
    try:
        _check_dates(recon.date_from, recon.date_to)
        if source is None:
            if not recon.file:
                raise ReconciliationRefused("no local log was given")
            recon.file.open("rb")
            try:
                _run(recon, recon.file)
            finally:
                recon.file.close()
        else:
            _run(recon, source)
    except (ReconciliationRefused, LocalLogError) as exc:
        _fail(recon, str(exc))
        raise ReconciliationRefused(str(exc)) from None
    except Exception:
        log.exception("reconciliation %s failed", recon.pk)
        _fail(recon, "The reconciliation failed because of an internal error; staff have been told.")
        raise
    return recon


def reconciliations_reap(*, now: dt.datetime | None = None) -> list[int]:
    """Running reconciliations whose worker stopped (silent for RECON_STALE_AFTER): failed, in
    words. Nothing of a failed run is kept but the row, so running it again is safe. Returns the
    ids failed."""
    failed = jobs_fail_silent(queryset=Reconciliation.objects.all(), stale_after=RECON_STALE_AFTER,
                              message=RECON_WORKER_LOST, now=now)
    if failed:
        log.warning("reconciliations reaped (worker lost): %s", failed)
    return failed


def _fail(recon: Reconciliation, message: str) -> None:
    job_fail(job=recon, error=message, fields=("rejected", "rejected_count", "rows_done"))


class _Clock:
    """Durations of a run's phases, logged at INFO (and read by the benchmark)."""

    def __init__(self):
        self.phases: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.phases[name] = round(now - self._last, 3)
        self._last = now


def _run(recon: Reconciliation, source) -> None:
    stage = _Stage(recon.pk)
    clock = recon._clock = _Clock()
    stage.create()
    try:
        first, last, parsed = _load(recon, stage, source)
        clock.lap("load")
        period = _period(recon, first, last, parsed)
        start, end = period.bounds
        with connection.cursor() as cur:
            cur.execute(
                f"SELECT COUNT(*), SUM(CASE WHEN created_at >= %(start)s AND created_at < %(end)s THEN 1 ELSE 0 END) "
                f"FROM {stage.name}", {"start": stage.param(start), "end": stage.param(end)})
            total, inside = cur.fetchone()
        inside = int(inside or 0)
        if inside == 0:
            raise ReconciliationRefused(
                f"the local log has no row in the period {period.date_from} to {period.date_to} "
                f"(UTC+8): {total} rows read, {recon.rejected_count} rejected"
            )
        recon.date_from, recon.date_to = period.date_from, period.date_to
        recon.local_rows = inside
        recon.outside_period = int(total) - inside
        clock.lap("period")
        _price_missing(recon, stage, start, end)
        clock.lap("price_missing")
        # The matching runs in one transaction (no progress visible until it commits): a last
        # sign of life before it; RECON_STALE_AFTER leaves it room.
        job_progress(job=recon)
        with transaction.atomic():
            if stage.pg:
                with connection.cursor() as cur:
                    cur.execute("SET LOCAL work_mem = '256MB'")
                    cur.execute("SET LOCAL jit = off")
            stage.keep_first(start, end)
            clock.lap("first_rows")
            _match(recon, stage, start, end, clock)
    finally:
        stage.drop()
    log.info("reconciliation %s: %s", recon.pk, clock.phases)


def _load(recon: Reconciliation, stage: _Stage, source):
    """Stream the local log into the stage. Returns (first time, last time, rows parsed)."""
    done = 0
    batch: list[LocalRow] = []
    rejected: list[dict] = []
    rejected_count = 0

    def remember_format(fmt):
        recon.local_format = fmt

    for item in local_log_read(source, tz=billing_tz(), customer_slug=recon.customer.slug,
                               on_format=remember_format):
        done += 1
        if type(item) is Rejected:
            rejected_count += 1
            if len(rejected) < MAX_REJECTED_KEPT:
                rejected.append({"line": item.line, "reason": item.reason})
        else:
            batch.append(item)
            if len(batch) >= BATCH:
                stage.load(batch)
                batch = []
        if done % PROGRESS_EVERY == 0:
            job_progress(job=recon, rows_done=done)
    stage.load(batch)
    recon.rows_done = done
    recon.rejected = rejected
    recon.rejected_count = rejected_count
    job_progress(job=recon, rows_done=done, local_format=recon.local_format, rejected=rejected,
                 rejected_count=rejected_count)
    first, last = stage.span()
    return first, last, done - rejected_count


def _period(recon: Reconciliation, first, last, parsed: int) -> _Period:
    tz = billing_tz()
    if parsed == 0:
        raise ReconciliationRefused(
            f"the local log has no valid row ({recon.rejected_count} rejected)" if recon.rejected_count
            else "the local log has no row")
    date_from = recon.date_from or first.astimezone(tz).date()
    date_to = recon.date_to or last.astimezone(tz).date()
    if date_from > date_to:
        raise ReconciliationRefused(
            f"the local log has no row in the period {date_from} to {date_to} (UTC+8): "
            f"its rows run from {first.astimezone(tz).date()} to {last.astimezone(tz).date()}")
    return _Period(date_from, date_to)
