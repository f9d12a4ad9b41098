from decimal import Decimal

from django.db import models

from billing.choices import IneligibleReason, TallyCallStatus, TallyStatus
from logs.models.jobs import Job
from logs.money import money_field


class Tally(models.Model):
    """A customer's month of the failed-generation reimbursement plan (billing.md)."""

    customer = models.ForeignKey("logs.Customer", on_delete=models.PROTECT, related_name="tallies")
    month = models.DateField(help_text="The first day of the month (UTC+8).")
    eligible = models.BooleanField(default=False)
    reason = models.CharField(max_length=32, choices=IneligibleReason.choices, blank=True)
    spend_usd = money_field(default=Decimal(0), help_text="Exact sum of charges in the month.")
    failed_calls = models.IntegerField(default=0)
    excluded_calls = models.IntegerField(default=0)
    counted_calls = models.IntegerField(default=0)
    gross_usd = money_field(default=Decimal(0))
    discount_factor = models.DecimalField(max_digits=8, decimal_places=4, default=Decimal(1))
    credit_usd = money_field(places=2, default=Decimal(0))
    approved_usd = money_field(places=2, null=True, blank=True)
    status = models.CharField(max_length=16, choices=TallyStatus.choices, default=TallyStatus.DRAFT)
    due_date = models.DateField()
    breakdown = models.JSONField(default=list, blank=True, help_text="By model family and category.")
    credited_ref = models.CharField(max_length=200, blank=True)
    computed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-month", "customer__slug"]
        constraints = [models.UniqueConstraint(fields=["customer", "month"], name="tally_customer_month_uniq")]

    def __str__(self):
        return f"{self.customer_id} {self.month:%Y-%m}"


class TallyCall(models.Model):
    """A covered failed call of a tally, with its status and the price that counts."""

    # A tally's calls are written in bulk (100,000s of rows for a big month), so the table keeps
    # one index, (tally, created_at, id), and no database-level foreign keys: checking every row's
    # references at commit took as long as the tally itself. The tally row is locked while its
    # calls are replaced, and a tally keeps its own copy of what counts (request ID, time, price).
    tally = models.ForeignKey(Tally, on_delete=models.CASCADE, related_name="calls",
                              db_constraint=False, db_index=False)
    call = models.ForeignKey("logs.Call", null=True, on_delete=models.SET_NULL, related_name="+",
                             db_constraint=False, db_index=False)
    request_id = models.CharField(max_length=200)
    created_at = models.DateTimeField()
    model = models.CharField(max_length=200)
    family = models.CharField(max_length=16, blank=True)
    category = models.CharField(max_length=16)
    price_usd = money_field(help_text="What was charged, or the catalog price where none was logged.")
    priced_from_catalog = models.BooleanField(
        default=False, help_text="No charge was logged: the catalog's per-request price x group ratio."
    )
    prompt_fingerprint = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=16, choices=TallyCallStatus.choices)
    reason = models.CharField(max_length=300, blank=True)

    class Meta:
        indexes = [models.Index(fields=["tally", "created_at", "id"], name="tallycall_tally_key_idx")]


class TallyOverride(models.Model):
    """A staff decision on a single call of a draft, re-applied whenever the draft is recomputed."""

    customer = models.ForeignKey("logs.Customer", on_delete=models.CASCADE, related_name="+")
    month = models.DateField()
    # No database-level foreign key: the call table is partitioned on PostgreSQL (logs migration 0003).
    call = models.ForeignKey("logs.Call", on_delete=models.CASCADE, related_name="+", db_constraint=False)
    exclude = models.BooleanField(help_text="True: excluded by staff; False: re-included.")
    reason = models.CharField(max_length=300)
    by = models.ForeignKey("logs.User", null=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["customer", "month", "call"], name="tallyoverride_uniq")]


class TallyEvent(models.Model):
    """The audit trail: who, when, what, amount before and after."""

    tally = models.ForeignKey(Tally, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(auto_now_add=True)
    by = models.ForeignKey("logs.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    action = models.CharField(max_length=32)
    detail = models.TextField(blank=True)
    amount_before = money_field(places=2, null=True, blank=True)
    amount_after = money_field(places=2, null=True, blank=True)
    status_before = models.CharField(max_length=16, blank=True)
    status_after = models.CharField(max_length=16, blank=True)

    class Meta:
        ordering = ["at", "id"]


class TallyRun(Job):
    """A staff "compute now": one customer's month (`customer`) or every enrolled customer's
    (no customer), run by a Celery task; its progress is customers done of customers to do, so
    the tallies page and the Async Tasks page show it while it runs."""

    month = models.DateField(help_text="The first day of the month computed (UTC+8).")
    tally_ids = models.JSONField(default=list, blank=True, help_text="The tallies it computed.")
    frozen = models.IntegerField(default=0, help_text="Tallies left as they were (approved, rejected, credited).")

    class Meta(Job.Meta):
        pass

    def __str__(self):
        return f"tally run #{self.pk} {self.month:%Y-%m} {self.status}"
