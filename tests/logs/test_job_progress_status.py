"""A job reporting progress is running: no page shows "Queued" beside rows already read."""
from __future__ import annotations

import pytest
from django.urls import reverse

from logs.models import IngestBatch
from logs.models.jobs import JobStatus
from logs.services.jobs import job_cancel, job_progress

pytestmark = pytest.mark.django_db


def _badge_line(client, batch) -> str:
    """The status line of the batch page (the badge and what follows it)."""
    page = client.get(reverse("logs:ingest_batch", args=[batch.pk])).content.decode()
    start = page.index('<div class="card" id="batch"')
    return page[start:page.index("</p>", start)]


def test_progress_on_a_queued_row_makes_it_running(staff_client):
    batch = IngestBatch.objects.create(status=JobStatus.QUEUED, origin="upload", filename="big.csv")
    page = _badge_line(staff_client, batch)
    assert "Queued" in page and "rows read so far" not in page and "waiting for a worker" in page

    assert job_progress(job=batch, rows_done=12683)
    batch.refresh_from_db()
    assert batch.status == JobStatus.RUNNING and batch.started_at is not None
    status = staff_client.get(reverse("logs:ingest_batch_status", args=[batch.pk])).json()
    assert status["status_label"] == "Running" and status["rows_done"] == 12683
    page = _badge_line(staff_client, batch)
    assert "12,683</span> rows read so far" in page and "Queued" not in page


def test_a_cancelled_job_stays_cancelled():
    batch = IngestBatch.objects.create(status=JobStatus.QUEUED, origin="upload")
    assert job_cancel(job=batch)
    assert not job_progress(job=batch, rows_done=5)
    batch.refresh_from_db()
    assert batch.status == JobStatus.CANCELLED
