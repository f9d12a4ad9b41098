"""The export task and the beat jobs: retries, failures in words, cancel, expiry, the reaper."""
from __future__ import annotations

import datetime as dt
import os
import time

import pytest
from django.db import OperationalError
from django.utils import timezone

from logs.models import ExportJob
from logs.models.ingest import JobStatus
from logs.services import exports as svc
from logs.services.exports import jobs as export_jobs, writer
from logs.tasks import export_run, exports_expire, jobs_reap
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def eager():
    from nbaudit.celery import app

    old = app.conf.task_always_eager, app.conf.task_eager_propagates
    # Not propagating lets eager retries run as a worker would run them.
    app.conf.task_always_eager, app.conf.task_eager_propagates = True, False
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = old


@pytest.fixture
def job(django_capture_on_commit_callbacks):
    acme = f.customer("acme")
    alice = f.user("alice", customer_obj=acme)
    for i in range(3):
        f.call(acme, created_at=dt.datetime(2026, 10, 2, 9, i, tzinfo=f.UTC8))
    with django_capture_on_commit_callbacks(execute=False) as queued:
        j = svc.export_create(user=alice, customer=None, date_from=dt.date(2026, 10, 1),
                              date_to=dt.date(2026, 10, 31), filters={})
    assert len(queued) == 1  # queued after commit, not before
    return j


def test_task_writes_the_file(job, eager):
    assert export_run.apply(args=[job.pk]).get() == JobStatus.DONE
    job.refresh_from_db()
    assert job.status == JobStatus.DONE and job.rows_done == 3 and job.attempts == 1
    path = svc.export_path(job)
    assert path.exists() and path.stat().st_size == job.size
    assert job.worker and job.heartbeat_at and job.started_at <= job.finished_at
    # No temporary file left beside it.
    assert [p.name for p in path.parent.iterdir()] == [path.name]


def test_transient_database_error_is_retried(job, eager, monkeypatch):
    real, calls = svc.export_write, []

    def flaky(**kw):
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("server closed the connection unexpectedly")
        return real(**kw)

    monkeypatch.setattr(writer, "export_write", flaky)
    export_run.apply(args=[job.pk])
    job.refresh_from_db()
    assert len(calls) == 2
    assert job.status == JobStatus.DONE and job.attempts == 2 and job.error == ""


def test_database_lost_every_time_fails_once_in_words(job, eager, monkeypatch):
    calls = []

    def down(**kw):
        calls.append(1)
        raise OperationalError("could not connect to server")

    monkeypatch.setattr(writer, "export_write", down)
    result = export_run.apply(args=[job.pk])
    assert result.failed() and isinstance(result.result, OperationalError)
    job.refresh_from_db()
    assert len(calls) == export_run.max_retries + 1
    assert job.status == JobStatus.FAILED
    assert "database connection was lost" in job.error and "retry" in job.error
    assert "Traceback" not in job.error


def test_other_errors_fail_at_once_in_words(job, eager, monkeypatch):
    from celery.exceptions import SoftTimeLimitExceeded

    calls = []

    def slow(**kw):
        calls.append(1)
        raise SoftTimeLimitExceeded()

    monkeypatch.setattr(writer, "export_write", slow)
    assert export_run.apply(args=[job.pk]).get() == JobStatus.FAILED
    job.refresh_from_db()
    assert len(calls) == 1
    assert job.status == JobStatus.FAILED and "time limit" in job.error


def test_cancelled_before_start_is_not_run(job, eager):
    svc.export_cancel(job=job)
    assert export_run.apply(args=[job.pk]).get() == JobStatus.CANCELLED
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELLED and not job.file


def test_cancel_while_running_stops_and_leaves_no_file(job, monkeypatch):
    monkeypatch.setattr(writer, "CHECK_EVERY", 1)
    ExportJob.objects.filter(pk=job.pk).update(status=JobStatus.RUNNING)
    job.refresh_from_db()
    seen = []
    real = export_jobs._job_progress(job)

    def progress(done, total):
        seen.append(done)
        if done:  # the user presses Cancel while rows are being written
            svc.export_cancel(job=job)
        real(done, total)

    with pytest.raises(svc.ExportCancelled):
        svc.export_write(job=job, progress=progress, progress_seconds=0, batch=1)
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELLED
    assert seen[-1] < 3  # stopped before the end
    assert list(svc.export_dir().iterdir()) == []


def test_progress_and_heartbeat_recorded_while_running(job, monkeypatch):
    monkeypatch.setattr(writer, "CHECK_EVERY", 1)
    ExportJob.objects.filter(pk=job.pk).update(status=JobStatus.RUNNING)
    job.refresh_from_db()
    beats = []
    real = export_jobs._job_progress(job)

    def progress(done, total):
        real(done, total)
        row = ExportJob.objects.get(pk=job.pk)
        beats.append((row.rows_done, row.rows_total, row.heartbeat_at))

    svc.export_write(job=job, progress=progress, progress_seconds=0, batch=1)
    assert beats[0][:2] == (0, 3) and beats[-1][:2] == (3, 3)
    assert [b[0] for b in beats] == sorted(b[0] for b in beats) and len(beats) >= 4
    assert all(b[2] is not None for b in beats)


def test_expiry_deletes_files_and_marks_jobs(job, eager):
    export_run.apply(args=[job.pk])
    job.refresh_from_db()
    path = svc.export_path(job)
    stray = svc.export_dir() / ".export-dead.xlsx.part"
    stray.write_bytes(b"partial")
    old = time.time() - 2 * 86400
    os.utime(stray, (old, old))
    assert exports_expire.apply().get() == 0  # nothing due yet
    assert path.exists() and not stray.exists()

    ExportJob.objects.filter(pk=job.pk).update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    assert exports_expire.apply().get() == 1
    job.refresh_from_db()
    assert job.status == JobStatus.EXPIRED and not path.exists() and not job.file


def test_reaper_requeues_once_then_fails(job, eager, django_capture_on_commit_callbacks):
    stale = timezone.now() - dt.timedelta(minutes=5)
    ExportJob.objects.filter(pk=job.pk).update(status=JobStatus.RUNNING, attempts=1, heartbeat_at=stale,
                                               started_at=stale, worker="dead-host 123")
    fresh = ExportJob.objects.create(owner=job.owner, customer=job.customer, date_from=job.date_from,
                                     date_to=job.date_to, status=JobStatus.RUNNING, attempts=1,
                                     heartbeat_at=timezone.now(), started_at=stale)
    with django_capture_on_commit_callbacks(execute=True):
        result = jobs_reap.apply().get()
    assert result == {"requeued": [job.pk], "failed": [], "ingests_failed": []}
    job.refresh_from_db()
    assert job.status == JobStatus.DONE and job.attempts == 2  # re-queued, and the re-run finished
    fresh.refresh_from_db()
    assert fresh.status == JobStatus.RUNNING  # its worker is alive

    # The second death: failed, with the message a user can act on.
    ExportJob.objects.filter(pk=job.pk).update(status=JobStatus.RUNNING, heartbeat_at=stale)
    assert jobs_reap.apply().get() == {"requeued": [], "failed": [job.pk], "ingests_failed": []}
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert job.error == "the worker stopped while exporting; please retry"


def test_export_task_is_configured_to_survive():
    from django.conf import settings

    assert export_run.name == "logs.tasks.export_run"
    assert settings.CELERY_TASK_ROUTES[export_run.name]["queue"] == "exports"
    assert export_run.acks_late is True
    assert set(export_run.autoretry_for) == {OperationalError, __import__("django.db").db.InterfaceError}
    assert 0 < export_run.max_retries <= 5
    assert 0 < export_run.soft_time_limit < export_run.time_limit


def test_unreachable_queue_fails_the_job_in_words(monkeypatch, django_capture_on_commit_callbacks):
    acme = f.customer("acme")
    alice = f.user("alice", customer_obj=acme)

    def no_broker(*a, **kw):
        raise ConnectionRefusedError(111, "Connection refused")

    monkeypatch.setattr(export_run, "delay", no_broker)
    with django_capture_on_commit_callbacks(execute=True):
        job = svc.export_create(user=alice, customer=acme, date_from=dt.date(2026, 10, 1),
                                date_to=dt.date(2026, 10, 31), filters={})
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and "could not be queued" in job.error


def test_a_killed_workers_temporary_file_goes_with_the_reaper_and_the_expiry(job, eager, django_capture_on_commit_callbacks):
    """A worker killed mid-write leaves `.export-<job>-….part`: the reaper deletes it when it
    settles the job; the expiry beat deletes the parts of jobs no longer running at once."""
    stale = timezone.now() - dt.timedelta(minutes=5)
    ExportJob.objects.filter(pk=job.pk).update(status=JobStatus.RUNNING, attempts=2, heartbeat_at=stale)
    dead = svc.export_dir() / f".export-{job.pk}-abc123.xlsx.part"
    dead.write_bytes(b"partial")
    assert jobs_reap.apply().get()["failed"] == [job.pk]
    assert not dead.exists()

    running = ExportJob.objects.create(owner=job.owner, customer=job.customer, date_from=job.date_from,
                                       date_to=job.date_to, status=JobStatus.RUNNING, heartbeat_at=timezone.now())
    live = svc.export_dir() / f".export-{running.pk}-def456.xlsx.part"
    left = svc.export_dir() / f".export-{job.pk}-ghi789.xlsx.part"  # its job failed: nobody writes it
    young = svc.export_dir() / ".export-jkl012.xlsx.part"  # the command's, still being written
    for path in (live, left, young):
        path.write_bytes(b"partial")
        os.utime(path, (time.time(), time.time()))  # written "now", on the suite's clock too
    exports_expire.apply().get()
    assert live.exists() and young.exists() and not left.exists()
