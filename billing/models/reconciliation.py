from django.db import models

from billing.choices import ReconCategory
from logs.models.jobs import Job
from logs.money import money_field


class Reconciliation(Job):
    """A customer's local log matched against the platform's charges for a period (UTC+8 days)."""

    customer = models.ForeignKey("logs.Customer", on_delete=models.CASCADE, related_name="reconciliations")
    file = models.FileField(upload_to="reconcile/%Y/%m/", blank=True)
    filename = models.CharField(max_length=255, blank=True)
    local_format = models.CharField(max_length=16, blank=True)
    date_from = models.DateField(null=True, blank=True)
    date_to = models.DateField(null=True, blank=True)
    local_rows = models.IntegerField(default=0)
    platform_rows = models.IntegerField(default=0)
    outside_period = models.IntegerField(default=0)
    rejected = models.JSONField(default=list, blank=True, help_text='[{"line", "reason"}], the first 1000.')
    rejected_count = models.IntegerField(default=0)
    categories = models.JSONField(default=dict, blank=True)
    money = models.JSONField(default=dict, blank=True, help_text="Per category: charged, expected, over, under.")
    overcharged_usd = money_field(null=True, blank=True)
    undercharged_usd = money_field(null=True, blank=True)
    unmatched_charged_usd = money_field(null=True, blank=True)
    notify_when_done = models.BooleanField(default=False, help_text="Tell whoever started it when it ends.")
    matches_listed = models.BooleanField(
        default=True, help_text="False: too many matching request IDs to list; they are counted only.")

    class Meta(Job.Meta):
        pass


class ReconciliationItem(models.Model):
    """One request ID of a reconciliation, with its category and money impact."""

    reconciliation = models.ForeignKey(Reconciliation, on_delete=models.CASCADE, related_name="items")
    request_id = models.CharField(max_length=200)
    category = models.CharField(max_length=24, choices=ReconCategory.choices)
    # No database-level foreign key: the call table is partitioned on PostgreSQL (logs migration
    # 0003), and a call dropped by retention leaves its id here (the item keeps its own figures).
    call = models.ForeignKey("logs.Call", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                             db_constraint=False)
    local_category = models.CharField(max_length=16, blank=True)
    platform_category = models.CharField(max_length=16, blank=True)
    charges = models.IntegerField(default=0, help_text="Platform records of this request ID.")
    charged_usd = money_field(null=True, blank=True, help_text="Sum of the platform's charges.")
    local_charged_usd = money_field(null=True, blank=True)
    expected_usd = money_field(null=True, blank=True)
    over_usd = money_field(null=True, blank=True)
    under_usd = money_field(null=True, blank=True)
    detail = models.CharField(max_length=300, blank=True)
    local_line = models.IntegerField(null=True, blank=True, help_text="The local log's line of this request ID.")

    class Meta:
        indexes = [models.Index(fields=["reconciliation", "category", "request_id"], name="reconitem_idx")]
