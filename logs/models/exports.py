from django.db import models

from logs.models.ingest import JobStatus


class ExportJob(models.Model):
    """An async Excel export of calls: the row the Celery task loads by id."""

    owner = models.ForeignKey("logs.User", on_delete=models.CASCADE, related_name="export_jobs")
    customer = models.ForeignKey("logs.Customer", null=True, blank=True, on_delete=models.CASCADE,
                                 related_name="+", help_text="Empty: a staff export over every customer.")
    kind = models.CharField(max_length=32, default="calls", help_text="calls, tally, reconciliation")
    filters = models.JSONField(default=dict, blank=True)
    date_from = models.DateField(null=True, blank=True)
    date_to = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=JobStatus.choices, default=JobStatus.QUEUED)
    rows_done = models.BigIntegerField(default=0)
    rows_total = models.BigIntegerField(null=True, blank=True)
    file = models.CharField(max_length=500, blank=True, help_text="Path under the data folder.")
    filename = models.CharField(max_length=200, blank=True)
    size = models.BigIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    attempts = models.IntegerField(default=0)
    worker = models.CharField(max_length=200, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["owner", "-created_at"], name="export_owner_idx"),
                   models.Index(fields=["status"], name="export_status_idx")]

    def __str__(self):
        return f"export #{self.pk} {self.status}"
