from django.db import models

from logs.choices import Source
from logs.money import money_field


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"
    EXPIRED = "expired", "Expired"


class IngestBatch(models.Model):
    """One ingest of a file or an API request, with its summary: every row accounted for."""

    source = models.CharField(max_length=16, choices=Source.choices, blank=True, help_text="The detected kind.")
    declared_format = models.CharField(max_length=16, default="auto")
    origin = models.CharField(max_length=16, default="command", help_text="command, upload or api")
    filename = models.CharField(max_length=255, blank=True)
    file = models.FileField(upload_to="uploads/%Y/%m/", blank=True)
    customer = models.ForeignKey("logs.Customer", null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+", help_text="Named by the import; else from the data.")
    tz = models.CharField(max_length=64, blank=True)
    created_by = models.ForeignKey("logs.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    api_token = models.ForeignKey("logs.ApiToken", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(max_length=16, choices=JobStatus.choices, default=JobStatus.QUEUED)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(
        null=True, blank=True, help_text="When the worker last recorded progress; a running batch silent "
                                         "for long lost its worker (logs.tasks.jobs_reap).")
    rows_done = models.IntegerField(default=0)
    rows = models.IntegerField(default=0)
    inserted = models.IntegerField(default=0)
    duplicates = models.IntegerField(default=0)
    conflicts = models.IntegerField(default=0)
    skipped = models.IntegerField(default=0)
    rejected = models.JSONField(default=list, blank=True, help_text='[{"line", "reason"}]')
    categories = models.JSONField(default=dict, blank=True)
    customers_created = models.JSONField(default=list, blank=True)
    notes = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"ingest #{self.pk} {self.filename or self.origin}"

    def summary(self) -> dict:
        return {
            "batch": self.pk,
            "format": self.source,
            "rows": self.rows,
            "inserted": self.inserted,
            "duplicates": self.duplicates,
            "conflicts": self.conflicts,
            "skipped": self.skipped,
            "rejected": list(self.rejected),
            "categories": dict(self.categories),
            "customers_created": list(self.customers_created),
            "notes": list(self.notes),
        }


class IngestConflict(models.Model):
    """A second, different record of a (customer, request ID): kept whole, beside the call."""

    batch = models.ForeignKey(IngestBatch, null=True, blank=True, on_delete=models.SET_NULL, related_name="conflict_rows")
    customer = models.ForeignKey("logs.Customer", on_delete=models.CASCADE, related_name="+")
    request_id = models.CharField(max_length=200)
    line = models.IntegerField(null=True, blank=True)
    created_at = models.DateTimeField(help_text="The incoming record's call time.")
    charged_usd = money_field(null=True, blank=True)
    category = models.CharField(max_length=16, blank=True, help_text="The incoming record's own category.")
    differences = models.JSONField(default=list, blank=True, help_text="Fields that differ.")
    record = models.JSONField(help_text="The incoming record, whole.")
    ingested_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["customer", "created_at"], name="conflict_cust_time_idx"),
                   models.Index(fields=["customer", "request_id"], name="conflict_cust_req_idx")]
