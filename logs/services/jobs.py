"""Job rows (status, heartbeat): what every long job shares."""
from __future__ import annotations

import datetime as dt

from django.db.models import Q
from django.utils import timezone

from logs.models.ingest import JobStatus


def jobs_fail_silent(*, queryset, stale_after: dt.timedelta, message: str,
                     now: dt.datetime | None = None) -> list[int]:
    """Fail, with `message`, the running rows of `queryset` silent for `stale_after`.

    Silent: no heartbeat since then (or, never having beaten, started or created before then).
    A row is failed only if its heartbeat is still the one read, so a worker that reported
    meanwhile is left alone. The model needs status, heartbeat_at, started_at, created_at,
    error and finished_at. Returns the ids failed.
    """
    now = now or timezone.now()
    stale = now - stale_after
    running = queryset.filter(status=JobStatus.RUNNING)
    silent = running.filter(
        Q(heartbeat_at__lt=stale) | Q(heartbeat_at__isnull=True, started_at__lt=stale)
        | Q(heartbeat_at__isnull=True, started_at__isnull=True, created_at__lt=stale))
    failed = []
    for pk, heartbeat in silent.values_list("pk", "heartbeat_at"):
        if running.filter(pk=pk, heartbeat_at=heartbeat).update(
                status=JobStatus.FAILED, error=message, finished_at=now):
            failed.append(pk)
    return failed
