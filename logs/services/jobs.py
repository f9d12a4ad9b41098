"""The life cycle of job rows (logs.models.jobs.Job), the same for every kind of job.

    queued --job_claim--> running --job_progress (also the heartbeat)... --job_finish--> done
                                                                      or --job_fail--> failed
    queued or running --job_cancel--> cancelled
A running row silent for its kind's `stale_after` lost its worker: `jobs_reap` (from a beat
task) fails it in words, or puts it back in the queue when the kind allows one more try.

Each helper writes with a conditional UPDATE (on status, and for the reaper on the
heartbeat read), so a cancel, a reaper and a worker never overwrite each other's outcome;
each returns whether its write took. The row instance passed in is updated to match.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext

from logs.models.jobs import JobStatus
from logs.signals import job_ended

ERROR_MAX = 2000  # characters of an error kept on the row


def _set(job, values: dict) -> None:
    for name, value in values.items():
        if not hasattr(value, "resolve_expression"):  # an F() expression: refreshed by the caller
            setattr(job, name, value)


def job_claim(*, job, only_from: Iterable[str] | None = (JobStatus.QUEUED,), **values) -> bool:
    """Mark `job` running from now (started, first heartbeat, no error, no progress yet).

    `only_from`: the states it may be claimed from (None: any, for a run started by hand);
    `values`: further fields to write with it. False: someone else has it (or it was cancelled).
    """
    now = timezone.now()
    values = {"status": JobStatus.RUNNING, "started_at": now, "heartbeat_at": now, "error": "",
              "rows_done": 0, **values}
    rows = type(job).objects.filter(pk=job.pk)
    if only_from is not None:
        rows = rows.filter(status__in=list(only_from))
    if not rows.update(**values):
        return False
    _set(job, values)
    return True


def job_progress(*, job, rows_done: int | None = None, rows_total: int | None = None, **values) -> bool:
    """Record progress and a heartbeat on a running job. False: it is no longer active
    (cancelled, or failed by the reaper): the worker should stop.

    A job that reports progress is running: a row still marked queued (a worker that skipped
    the claim, a re-queued row picked up again) becomes running with its first progress, so
    no page shows "Queued" beside rows already read."""
    now = timezone.now()
    values = {"heartbeat_at": now, "status": JobStatus.RUNNING, **values}
    if rows_done is not None:
        values["rows_done"] = rows_done
    if rows_total is not None:
        values["rows_total"] = rows_total
    rows = type(job).objects.filter(pk=job.pk)
    if not rows.filter(status=JobStatus.RUNNING).update(**values) and not rows.filter(
            status=JobStatus.QUEUED).update(started_at=now, **values):
        return False
    _set(job, values)
    return True


def job_finish(*, job, only_running: bool = True, save: bool = False, **values) -> bool:
    """Mark `job` done now, with `values` (its results).

    `only_running`: only if it is still running (a cancel meanwhile wins; False returned).
    `save`: save the whole instance instead (a job whose service filled in its results on it).
    """
    now = timezone.now()
    values = {"status": JobStatus.DONE, "error": "", "finished_at": now, **values}
    if save:
        _set(job, values)
        job.save()
    else:
        rows = type(job).objects.filter(pk=job.pk)
        if only_running:
            rows = rows.filter(status=JobStatus.RUNNING)
        if not rows.update(**values):
            return False
        _set(job, values)
    job_ended.send(sender=type(job), job=job)
    return True


def job_fail(*, job, error: str, fields: Iterable[str] = ()) -> bool:
    """Record a job's failure once, in words: a job already finished keeps its state.

    `fields`: names of further attributes of `job` to store with it (what it got to).
    """
    values = {"status": JobStatus.FAILED, "error": error[:ERROR_MAX], "finished_at": timezone.now(),
              **{name: getattr(job, name) for name in fields}}
    if not type(job).objects.filter(pk=job.pk, status__in=JobStatus.ACTIVE).update(**values):
        return False
    _set(job, values)
    job_ended.send(sender=type(job), job=job)
    return True


def job_cancel(*, job, error: str | None = None) -> bool:
    """Cancel a queued or running job; a running worker stops at its next job_progress.

    `error`: what the job's page says (default "Cancelled.", in the language of who cancelled)."""
    error = gettext("Cancelled.") if error is None else error
    values = {"status": JobStatus.CANCELLED, "finished_at": timezone.now(), "error": error}
    if not type(job).objects.filter(pk=job.pk, status__in=JobStatus.ACTIVE).update(**values):
        return False
    _set(job, values)
    job_ended.send(sender=type(job), job=job)
    return True


def jobs_silent(*, queryset, stale_after: dt.timedelta, now: dt.datetime | None = None):
    """The running rows of `queryset` silent for `stale_after`: no heartbeat since then (or,
    never having beaten, started or created before then)."""
    stale = (now or timezone.now()) - stale_after
    return queryset.filter(status=JobStatus.RUNNING).filter(
        Q(heartbeat_at__lt=stale) | Q(heartbeat_at__isnull=True, started_at__lt=stale)
        | Q(heartbeat_at__isnull=True, started_at__isnull=True, created_at__lt=stale))


def jobs_reap(*, queryset, stale_after: dt.timedelta, message: str, now: dt.datetime | None = None,
              requeue_if: Callable | None = None, requeue: Callable | None = None,
              requeue_reset: dict | None = None, on_reaped: Callable | None = None) -> dict:
    """Settle the rows of `queryset` whose worker stopped (silent for `stale_after`).

    Each is failed with `message`, unless `requeue_if(job)` (given) says it gets another try
    (say, attempts left): then the row is put back in the queue (with `requeue_reset` written
    too) and `requeue(job)` is called inside the transaction (queue the task with
    transaction.on_commit).
    `on_reaped(job)` runs for every row settled, before a re-queue (say, to delete its
    temporary file).
    A row is settled only if its heartbeat is still the one read, so a worker that reported
    meanwhile is left alone. Returns {"requeued": [ids], "failed": [ids]}.
    """
    now = now or timezone.now()
    requeued, failed = [], []
    model = queryset.model
    for job in jobs_silent(queryset=queryset, stale_after=stale_after, now=now):
        with transaction.atomic():
            still = model.objects.filter(pk=job.pk, status=JobStatus.RUNNING, heartbeat_at=job.heartbeat_at)
            if requeue_if is not None and requeue_if(job):
                if still.update(status=JobStatus.QUEUED, rows_done=0, heartbeat_at=None, **(requeue_reset or {})):
                    if on_reaped is not None:
                        on_reaped(job)  # before the next run can start
                    requeue(job)
                    requeued.append(job.pk)
            elif still.update(status=JobStatus.FAILED, error=message[:ERROR_MAX], finished_at=now):
                if on_reaped is not None:
                    on_reaped(job)
                failed.append(job.pk)
    return {"requeued": requeued, "failed": failed}


def jobs_fail_silent(*, queryset, stale_after: dt.timedelta, message: str,
                     now: dt.datetime | None = None) -> list[int]:
    """Fail, with `message`, the running rows of `queryset` silent for `stale_after`, with no
    second try (ingest batches, reconciliations: the user runs them again). Returns the ids failed."""
    return jobs_reap(queryset=queryset, stale_after=stale_after, message=message, now=now)["failed"]
