from django.db import models

from logs.models.ingest import JobStatus


class GatewaySync(models.Model):
    """One sync of a source: a job row, its summary on the ingest batch it fed."""

    source = models.ForeignKey("gateways.GatewaySource", on_delete=models.CASCADE, related_name="syncs")
    origin = models.CharField(max_length=16, default="beat", help_text="beat, command or page")
    batch = models.ForeignKey("logs.IngestBatch", null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+", help_text="The ingest summary of the rows read.")
    high_water_from = models.BigIntegerField(default=0)
    high_water_to = models.BigIntegerField(default=0)
    # The standard job fields.
    status = models.CharField(max_length=16, choices=JobStatus.choices, default=JobStatus.QUEUED)
    customer = models.ForeignKey("logs.Customer", null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+")
    created_by = models.ForeignKey("logs.User", null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    rows_done = models.IntegerField(default=0)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["source", "-created_at"], name="gwsync_source_time_idx")]

    def __str__(self):
        return f"sync #{self.pk} of {self.source_id}"
