from django.db import models
from django.utils.translation import gettext_lazy as _


class IncidentStatus(models.TextChoices):
    OPEN = "open", _("Open")
    RESOLVED = "resolved", _("Resolved")


class Incident(models.Model):
    """One episode of a rule's condition holding for one subject (a customer, a source, a tally)."""

    rule = models.ForeignKey("alerts.AlertRule", on_delete=models.CASCADE, related_name="incidents")
    customer = models.ForeignKey("logs.Customer", null=True, blank=True, on_delete=models.CASCADE,
                                 related_name="+", help_text="The customer it is about, if any.")
    subject = models.CharField(max_length=200, help_text="What it is about: a customer slug, a source, a tally.")
    status = models.CharField(max_length=16, choices=IncidentStatus.choices, default=IncidentStatus.OPEN)
    figures = models.JSONField(default=dict, blank=True, help_text="The latest figures.")
    opened_at = models.DateTimeField()
    last_notified_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey("logs.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    muted_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-opened_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["rule", "subject"], condition=models.Q(status="open"),
                                               name="incident_one_open_per_subject")]
        indexes = [models.Index(fields=["status", "rule"], name="incident_status_idx"),
                   models.Index(fields=["customer", "-opened_at"], name="incident_customer_idx")]

    def __str__(self):
        return f"{self.rule} / {self.subject}"


class IncidentEvent(models.Model):
    """The incident's timeline: opened, notified, reminded, acknowledged, muted, resolved."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField()
    action = models.CharField(max_length=16)
    by = models.ForeignKey("logs.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    figures = models.JSONField(default=dict, blank=True)
    detail = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["at", "id"]
