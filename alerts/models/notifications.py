from django.db import models
from django.utils.translation import gettext_lazy as _

from logs.models.jobs import Job


class Notification(models.Model):
    """A message in the app (the bell): for one user."""

    user = models.ForeignKey("logs.User", on_delete=models.CASCADE, related_name="notifications")
    title = models.CharField(max_length=300)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=300, blank=True)
    incident = models.ForeignKey("alerts.Incident", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "read_at"], name="notification_unread_idx"),
                   models.Index(fields=["user", "-created_at", "-id"], name="notification_user_idx")]


class Channel(models.TextChoices):
    EMAIL = "email", _("Email")
    WEBHOOK = "webhook", _("Webhook")


class Delivery(Job):
    """One message to one email address or webhook: a job row with its attempts (the delivery log)."""

    channel = models.CharField(max_length=16, choices=Channel.choices)
    target = models.CharField(max_length=500, help_text="An address, or a webhook URL.")
    webhook_format = models.CharField(max_length=16, blank=True)
    subject = models.CharField(max_length=300)
    body = models.TextField()
    payload = models.JSONField(default=dict, blank=True, help_text="What a webhook is sent, before its shape.")
    rule = models.ForeignKey("alerts.AlertRule", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    incident = models.ForeignKey("alerts.Incident", null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="deliveries")
    customer = models.ForeignKey("logs.Customer", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    attempts = models.IntegerField(default=0)
    log = models.JSONField(default=list, blank=True, help_text='[{"at", "result"}], one per attempt.')

    class Meta(Job.Meta):
        indexes = [models.Index(fields=["status", "created_at"], name="delivery_status_idx")]
