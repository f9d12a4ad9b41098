"""The life cycle every job row shares (logs.models.jobs, logs.services.jobs, logs.selectors.jobs):
one status set with its active states and badges, transitions that never overwrite another
party's outcome, and one status shape answered by the ingest, export and reconciliation pages."""
from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from billing.models import Reconciliation
from logs.models import ExportJob, IngestBatch
from logs.models.jobs import Job, JobStatus
from logs.selectors.jobs import job_status
from logs.services.jobs import job_cancel, job_claim, job_fail, job_finish, job_progress, jobs_reap
from tests import factories as f

pytestmark = pytest.mark.django_db


def test_every_job_model_is_a_job_with_the_same_fields():
    shared = {"status", "created_by", "customer", "rows_done", "rows_total", "error", "created_at",
              "started_at", "finished_at", "heartbeat_at"}
    for model in (IngestBatch, ExportJob, Reconciliation):
        assert issubclass(model, Job)
        assert shared <= {field.name for field in model._meta.get_fields()}
        assert model._meta.get_field("status").choices == JobStatus.choices


def test_the_status_set_knows_its_states_and_badges():
    assert set(JobStatus.ACTIVE) | set(JobStatus.TERMINAL) == set(JobStatus.values)
    assert not set(JobStatus.ACTIVE) & set(JobStatus.TERMINAL)
    assert JobStatus.is_active("queued") and JobStatus.is_active("running") and not JobStatus.is_active("done")
    assert set(JobStatus.BADGE) == set(JobStatus.values)
    assert JobStatus.badge("failed") == "badge-bad" and JobStatus.badge("done") == "badge-ok"
    shown = JobStatus.as_json()
    assert shown["running"] == {"label": "Running", "badge": "badge-warn", "active": True, "retryable": False}
    assert shown["expired"]["retryable"] and not shown["done"]["retryable"]


def test_claim_progress_finish():
    batch = IngestBatch.objects.create(origin="upload")
    assert job_claim(job=batch)
    assert not job_claim(job=batch)  # a second worker does not get it
    batch.refresh_from_db()
    assert batch.status == JobStatus.RUNNING and batch.started_at and batch.heartbeat_at
    assert job_progress(job=batch, rows_done=10, rows_total=40)
    batch.refresh_from_db()
    assert (batch.rows_done, batch.rows_total, batch.percent) == (10, 40, 25)
    assert job_finish(job=batch, rows=40)
    batch.refresh_from_db()
    assert batch.status == JobStatus.DONE and batch.finished_at and batch.rows == 40 and batch.percent == 100
    assert not job_progress(job=batch, rows_done=11)  # a finished job records no progress


def test_a_cancel_wins_over_the_worker():
    acme = f.customer("acme")
    job = ExportJob.objects.create(created_by=f.user("alice", customer_obj=acme), customer=acme)
    assert job_claim(job=job)
    assert job_cancel(job=job)
    assert not job_progress(job=job, rows_done=5)  # the worker sees it and stops
    assert not job_finish(job=job)
    assert not job_fail(job=job, error="late")
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELLED and job.error == "Cancelled." and job.rows_done == 0


def test_a_failure_is_recorded_once_in_words_with_what_the_job_got_to():
    recon = Reconciliation.objects.create(customer=f.customer("acme"))
    job_claim(job=recon)
    recon.rejected_count = 3
    assert job_fail(job=recon, error="no row in the period" + "!" * 3000, fields=("rejected_count",))
    assert not job_fail(job=recon, error="second")
    recon.refresh_from_db()
    assert recon.status == JobStatus.FAILED and recon.error.startswith("no row in the period")
    assert len(recon.error) == 2000 and recon.rejected_count == 3 and recon.finished_at


def test_the_reaper_requeues_when_the_kind_allows_and_fails_otherwise():
    stale = timezone.now() - dt.timedelta(minutes=30)
    again = IngestBatch.objects.create(origin="a", status=JobStatus.RUNNING, heartbeat_at=stale, rows_done=7)
    lost = IngestBatch.objects.create(origin="b", status=JobStatus.RUNNING, heartbeat_at=stale)
    live = IngestBatch.objects.create(origin="c", status=JobStatus.RUNNING, heartbeat_at=timezone.now())
    queued, reaped = [], []
    result = jobs_reap(queryset=IngestBatch.objects.all(), stale_after=dt.timedelta(minutes=10),
                       message="worker lost", requeue_if=lambda job: job.origin == "a", requeue=queued.append,
                       on_reaped=lambda job: reaped.append(job.pk))
    assert result == {"requeued": [again.pk], "failed": [lost.pk]}
    assert [j.pk for j in queued] == [again.pk] and sorted(reaped) == sorted([again.pk, lost.pk])
    for row, status in ((again, JobStatus.QUEUED), (lost, JobStatus.FAILED), (live, JobStatus.RUNNING)):
        row.refresh_from_db()
        assert row.status == status
    assert again.rows_done == 0 and lost.error == "worker lost"


def test_one_status_shape_for_every_job_page(client):
    acme = f.customer("acme")
    staff = f.user("sam", staff=True)
    client.force_login(staff)
    batch = IngestBatch.objects.create(origin="upload", status=JobStatus.RUNNING, rows_done=12)
    recon = Reconciliation.objects.create(customer=acme, status=JobStatus.FAILED, error="no row")
    export = ExportJob.objects.create(created_by=staff, customer=acme, status=JobStatus.DONE, rows_done=3,
                                      rows_total=3, filename="x.xlsx", size=10)
    answers = {
        "batch": client.get(reverse("logs:ingest_batch_status", args=[batch.pk])).json(),
        "recon": client.get(reverse("billing:reconciliation_status", args=[recon.pk])).json(),
        "export": client.get(reverse("logs:task_status", args=[export.pk])).json(),
    }
    keys = set(job_status(batch))
    assert all(keys <= set(a) for a in answers.values())
    assert answers["batch"] == job_status(batch) and answers["batch"]["active"] is True
    assert answers["batch"]["rows_done"] == 12 and answers["batch"]["badge"] == "badge-warn"
    assert answers["recon"]["error"] == "no row" and answers["recon"]["finished"] is True
    assert answers["export"]["percent"] == 100 and answers["export"]["download_url"]
    assert answers["export"]["badge"] == "badge-ok" and answers["export"]["size"] == 10
