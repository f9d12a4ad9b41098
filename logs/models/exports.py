from django.db import models

from logs.models.jobs import Job


class ExportFormat(models.TextChoices):
    """The file an export writes: the same rows and columns either way."""

    XLSX = "xlsx", "Excel (.xlsx)"
    CSV = "csv", "CSV (.csv, faster)"


class ExportJob(Job):
    """An async Excel export (of calls, or of a registered kind): the row the Celery task loads by id.

    Its owner is `created_by` (required here: a job is downloaded by its owner); `owner` is
    the same, by the name the export pages use.
    """

    created_by = models.ForeignKey("logs.User", on_delete=models.CASCADE, related_name="export_jobs")
    notify_when_done = models.BooleanField(default=False, help_text="Tell the owner when it ends.")
    customer = models.ForeignKey("logs.Customer", null=True, blank=True, on_delete=models.CASCADE,
                                 related_name="+", help_text="Empty: a staff export over every customer.")
    kind = models.CharField(max_length=32, default="calls", help_text="calls, tally, reconciliation")
    format = models.CharField(max_length=8, choices=ExportFormat.choices, default=ExportFormat.XLSX,
                              help_text="xlsx (Excel, with a Summary sheet) or csv (UTF-8 with BOM, one table).")
    filters = models.JSONField(default=dict, blank=True)
    date_from = models.DateField(null=True, blank=True)
    date_to = models.DateField(null=True, blank=True)
    tz = models.CharField(max_length=64, blank=True,
                          help_text="The zone the days are cut in (the user's); empty: the billing zone.")
    file = models.CharField(max_length=500, blank=True, help_text="Path under the data folder.")
    filename = models.CharField(max_length=200, blank=True)
    size = models.BigIntegerField(null=True, blank=True)
    attempts = models.IntegerField(default=0)
    worker = models.CharField(max_length=200, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    language = models.CharField(
        max_length=16, blank=True,
        help_text="The requester's language: the header row and Summary sheet (en, zh-hans).")

    class Meta(Job.Meta):
        indexes = [models.Index(fields=["created_by", "-created_at"], name="export_owner_idx"),
                   models.Index(fields=["status"], name="export_status_idx")]

    def __str__(self):
        return f"export #{self.pk} {self.status}"

    @property
    def owner(self):
        return self.created_by

    @owner.setter
    def owner(self, user):
        self.created_by = user

    @property
    def owner_id(self):
        return self.created_by_id
