"""Ingest batches and reconciliations whose worker died are failed in words by the beat reapers
(logs.tasks.jobs_reap, billing.tasks.reconciliations_reap); live ones are left running."""
from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.utils import timezone

from billing.models import Reconciliation
from billing.services import reconciliation as recon_svc
from billing.tasks import reconciliation_task, reconciliations_reap
from logs.models import IngestBatch
from logs.models.ingest import JobStatus
from logs.services import ingest as ingest_svc
from logs.services.ingest import calls_ingest
from logs.tasks import jobs_reap
from tests import factories as f

pytestmark = pytest.mark.django_db

INGEST_LOST = ("the worker stopped while ingesting this file; upload the file again: "
               "already stored calls count as duplicates")
RECON_LOST = "the worker stopped while reconciling this log; run it again"


def _ago(delta: dt.timedelta) -> dt.datetime:
    return timezone.now() - delta


def _batch(**kw) -> IngestBatch:
    return IngestBatch.objects.create(origin="upload", filename="calls.ndjson", **kw)


# --- ingest ---------------------------------------------------------------------------------

def test_ingest_records_a_heartbeat_with_its_progress(fixtures_dir, monkeypatch):
    monkeypatch.setattr(ingest_svc, "CHUNK", 2)
    monkeypatch.setattr(ingest_svc, "CHUNK_COPY", 2)
    seen = []

    def progress(done):
        row = IngestBatch.objects.values("rows_done", "heartbeat_at", "started_at").latest("id")
        seen.append(row)

    batch = calls_ingest(source=fixtures_dir / "calls.ndjson", customer=f.customer("acme"), progress=progress)
    assert batch.status == JobStatus.DONE
    assert len(seen) >= 2
    for row in seen:  # each progress step is also a sign of life
        assert row["heartbeat_at"] is not None and row["heartbeat_at"] >= row["started_at"]
    assert [r["heartbeat_at"] for r in seen] == sorted(r["heartbeat_at"] for r in seen)
    assert [r["rows_done"] for r in seen] == sorted({r["rows_done"] for r in seen})
    batch.refresh_from_db()
    assert batch.heartbeat_at is not None


def test_silent_running_batches_are_failed_and_live_ones_kept():
    old = ingest_svc.INGEST_STALE_AFTER + dt.timedelta(minutes=1)
    dead = _batch(status=JobStatus.RUNNING, started_at=_ago(old * 3), heartbeat_at=_ago(old), rows_done=4000)
    never_beat = _batch(status=JobStatus.RUNNING, started_at=_ago(old), heartbeat_at=None)
    alive = _batch(status=JobStatus.RUNNING, started_at=_ago(old * 3), heartbeat_at=timezone.now())
    just_started = _batch(status=JobStatus.RUNNING, started_at=timezone.now())
    queued = _batch(status=JobStatus.QUEUED)
    done = _batch(status=JobStatus.DONE, started_at=_ago(old * 3), heartbeat_at=_ago(old),
                  finished_at=_ago(old))

    result = jobs_reap.apply().get()

    assert sorted(result["ingests_failed"]) == sorted([dead.pk, never_beat.pk])
    for batch in (dead, never_beat):
        batch.refresh_from_db()
        assert batch.status == JobStatus.FAILED
        assert batch.error == INGEST_LOST
        assert batch.finished_at is not None
    dead.refresh_from_db()
    assert dead.rows_done == 4000  # how far it got stays on the row
    for batch, status in ((alive, JobStatus.RUNNING), (just_started, JobStatus.RUNNING),
                          (queued, JobStatus.QUEUED), (done, JobStatus.DONE)):
        batch.refresh_from_db()
        assert batch.status == status and batch.error == ""
    assert jobs_reap.apply().get()["ingests_failed"] == []  # once only


def test_after_a_reaped_batch_uploading_the_file_again_stores_only_duplicates(fixtures_dir):
    acme = f.customer("acme")
    first = calls_ingest(source=fixtures_dir / "calls.ndjson", customer=acme)
    assert first.inserted > 0
    # As if its worker had died after storing every chunk, before finishing.
    old = ingest_svc.INGEST_STALE_AFTER + dt.timedelta(minutes=1)
    IngestBatch.objects.filter(pk=first.pk).update(status=JobStatus.RUNNING, heartbeat_at=_ago(old))
    assert jobs_reap.apply().get()["ingests_failed"] == [first.pk]

    again = calls_ingest(source=fixtures_dir / "calls.ndjson", customer=acme)
    assert again.status == JobStatus.DONE
    assert again.inserted == 0
    assert again.duplicates + again.conflicts == first.inserted + first.duplicates + first.conflicts


# --- reconciliation -------------------------------------------------------------------------

def test_a_reconciliation_run_records_a_heartbeat(fixtures_dir):
    acme = f.customer("acme")
    calls_ingest(source=fixtures_dir / "recon_platform_zh.csv", customer=acme)
    recon = Reconciliation.objects.create(customer=acme, filename="recon_local.csv")
    recon.file.save("recon_local.csv", ContentFile((fixtures_dir / "recon_local.csv").read_bytes()))
    reconciliation_task(recon.pk)
    recon.refresh_from_db()
    assert recon.status == JobStatus.DONE
    assert recon.heartbeat_at is not None and recon.heartbeat_at >= recon.started_at


def test_silent_running_reconciliations_are_failed_and_live_ones_kept():
    acme = f.customer("acme")
    old = recon_svc.RECON_STALE_AFTER + dt.timedelta(minutes=1)

    def make(**kw):
        return Reconciliation.objects.create(customer=acme, filename="local.csv", **kw)

    dead = make(status=JobStatus.RUNNING, started_at=_ago(old * 2), heartbeat_at=_ago(old), rows_done=50_000)
    never_beat = make(status=JobStatus.RUNNING, started_at=_ago(old))
    alive = make(status=JobStatus.RUNNING, started_at=_ago(old * 2), heartbeat_at=timezone.now())
    queued = make(status=JobStatus.QUEUED)
    done = make(status=JobStatus.DONE, started_at=_ago(old * 2), heartbeat_at=_ago(old))

    assert sorted(reconciliations_reap.apply().get()) == sorted([dead.pk, never_beat.pk])
    for recon in (dead, never_beat):
        recon.refresh_from_db()
        assert recon.status == JobStatus.FAILED and recon.error == RECON_LOST and recon.finished_at
    for recon, status in ((alive, JobStatus.RUNNING), (queued, JobStatus.QUEUED), (done, JobStatus.DONE)):
        recon.refresh_from_db()
        assert recon.status == status and recon.error == ""
    assert reconciliations_reap.apply().get() == []
    # logs' reaper leaves billing's rows alone (logs does not know billing).
    stuck = make(status=JobStatus.RUNNING, started_at=_ago(old), heartbeat_at=_ago(old))
    jobs_reap.apply().get()
    stuck.refresh_from_db()
    assert stuck.status == JobStatus.RUNNING


def test_beat_runs_both_reapers_every_minute():
    tasks = {entry["task"]: entry["schedule"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert tasks["logs.tasks.jobs_reap"] == 60.0
    assert tasks["billing.tasks.reconciliations_reap"] == 60.0
