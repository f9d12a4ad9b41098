"""Long jobs: one row per run of a job, loaded by id by its Celery task.

Every job kind (ingest batches, exports, reconciliations; gateway syncs and alert deliveries
to come) is a model inheriting `Job`, so status, owner, customer, progress, heartbeat,
error and timestamps are named and mean the same everywhere, and the lifecycle helpers
(`logs.services.jobs`: job_claim, job_progress, job_finish, job_fail, jobs_reap), the status
JSON (`logs.selectors.jobs.job_status`), the badges and the page poller (static/js/poll.js)
work on any of them. A new kind adopts it in a few lines:

    class GatewaySync(Job):                      # status, created_by, customer, rows_done, ...
        gateway = models.CharField(max_length=64)

        class Meta(Job.Meta):                    # ordering newest first
            pass

then `makemigrations`; its service claims the row with `job_claim`, reports `job_progress`
every N rows (which is also the heartbeat), ends with `job_finish` or `job_fail`, and a beat
task calls `jobs_reap(queryset=GatewaySync.objects.all(), stale_after=..., message=...)`.
A subclass may override a field (a required customer, another related name) or drop one
(`field = None`).
"""
from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class JobStatus(models.TextChoices):
    """A job's state, with what every page and the poller ask of it: active or finished, and
    its badge (rendered into pages; the JavaScript keeps no map of its own)."""

    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")
    EXPIRED = "expired", _("Expired")

    @classmethod
    def is_active(cls, value) -> bool:
        """Still to run or running (a page polls it; it may be cancelled)."""
        return value in cls.ACTIVE

    @classmethod
    def badge(cls, value) -> str:
        return cls.BADGE.get(value, "")

    @classmethod
    def as_json(cls) -> dict:
        """{code: {"label", "badge", "active", "retryable"}}: what the poller needs, rendered
        into the page."""
        return {code: {"label": label, "badge": cls.badge(code), "active": cls.is_active(code),
                       "retryable": code in cls.RETRYABLE}
                for code, label in cls.choices}


# Set after the class body so that they are not members of the choice set.
JobStatus.ACTIVE = (JobStatus.QUEUED, JobStatus.RUNNING)
JobStatus.TERMINAL = (JobStatus.DONE, JobStatus.FAILED, JobStatus.CANCELLED, JobStatus.EXPIRED)
JobStatus.RETRYABLE = (JobStatus.FAILED, JobStatus.CANCELLED, JobStatus.EXPIRED)
JobStatus.BADGE = {
    JobStatus.QUEUED: "badge-neutral", JobStatus.RUNNING: "badge-warn", JobStatus.DONE: "badge-ok",
    JobStatus.FAILED: "badge-bad", JobStatus.CANCELLED: "badge-neutral", JobStatus.EXPIRED: "badge-neutral",
}


class Job(models.Model):
    """What every long job shares: its state, whose it is, how far it got, its last sign of life."""

    status = models.CharField(max_length=16, choices=JobStatus.choices, default=JobStatus.QUEUED)
    created_by = models.ForeignKey("logs.User", null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", help_text="Who started it (empty: a command or beat).")
    customer = models.ForeignKey("logs.Customer", null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+")
    rows_done = models.BigIntegerField(default=0, help_text="Progress: rows handled so far.")
    rows_total = models.BigIntegerField(null=True, blank=True, help_text="Rows to handle, when known.")
    error = models.TextField(blank=True, help_text="Why it failed, in words.")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(
        null=True, blank=True, help_text="When the worker last recorded progress; a running job silent "
                                         "for long lost its worker (the reaper fails or re-queues it).")

    class Meta:
        abstract = True
        ordering = ["-created_at", "-id"]

    @property
    def is_active(self) -> bool:
        return JobStatus.is_active(self.status)

    @property
    def badge(self) -> str:
        return JobStatus.badge(self.status)

    @property
    def percent(self) -> int:
        """Progress in percent: 100 when done, 0 while the total is unknown."""
        if self.status == JobStatus.DONE:
            return 100
        return int(100 * self.rows_done / self.rows_total) if self.rows_total else 0
