"""Reads of job rows: the export jobs a user may see, and the one status shape every job's
status endpoint answers (ingest batches, exports, reconciliations)."""
from __future__ import annotations

from django.db.models import QuerySet

from logs.models import ExportJob
from logs.models.jobs import JobStatus
from logs.scoping import is_staff


def jobs_visible(user) -> QuerySet:
    """The export jobs a user may see: their own; staff, every one."""
    qs = ExportJob.objects.select_related("customer", "created_by")
    return qs if is_staff(user) else qs.filter(created_by=user)


def job_status(job, **extra) -> dict:
    """A job's state as its status endpoint answers it, and the poller (static/js/poll.js) reads:
    the code, its label and badge, whether it is still active, progress, the error of a failed
    job; `extra`: what the kind adds (an export's file name, size and download address)."""
    return {
        "id": job.pk,
        "status": job.status,
        "status_label": job.get_status_display(),
        "badge": JobStatus.badge(job.status),
        "active": JobStatus.is_active(job.status),
        "finished": not JobStatus.is_active(job.status),
        "rows_done": job.rows_done,
        "rows_total": job.rows_total,
        "percent": job.percent,
        "error": job.error if job.status == JobStatus.FAILED else "",
        **extra,
    }
