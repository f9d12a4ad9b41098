from django.db import models

from logs.models.jobs import Job


class GatewaySync(Job):
    """One sync of a source: a job row, its summary on the ingest batch it fed."""

    source = models.ForeignKey("gateways.GatewaySource", on_delete=models.CASCADE, related_name="syncs")
    origin = models.CharField(max_length=16, default="beat", help_text="beat, command or page")
    batch = models.ForeignKey("logs.IngestBatch", null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+", help_text="The ingest summary of the rows read.")
    high_water_from = models.BigIntegerField(default=0)
    high_water_to = models.BigIntegerField(default=0)
    class Meta(Job.Meta):
        indexes = [models.Index(fields=["source", "-created_at"], name="gwsync_source_time_idx")]

    def __str__(self):
        return f"sync #{self.pk} of {self.source_id}"
