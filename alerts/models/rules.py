from django.db import models
from django.utils.translation import gettext_lazy as _


class AlertKind(models.TextChoices):
    FAILED_GENERATION_RATE = "failed_generation_rate", _("Failed-generation rate")
    RATE_LIMITED_RATE = "rate_limited_rate", _("Rate-limited (429) rate")
    OVERLOADED_RATE = "overloaded_rate", _("Overloaded (503) rate")
    SERVER_ERROR_RATE = "server_error_rate", _("Server error (5xx) rate")
    AUTH_ERROR_RATE = "auth_error_rate", _("Auth error rate")
    SPEND_OVER_BUDGET = "spend_over_budget", _("Month-to-date spend over budget")
    DAILY_SPEND_SPIKE = "daily_spend_spike", _("Daily spend spike")
    GATEWAY_LAG = "gateway_lag", _("Gateway source lagging or failing")
    TALLY_OVERDUE = "tally_overdue", _("Credit overdue")
    RECONCILIATION_OVERCHARGE = "reconciliation_overcharge", _("Reconciliation found over-charges")


RATE_KINDS = (AlertKind.FAILED_GENERATION_RATE, AlertKind.RATE_LIMITED_RATE, AlertKind.OVERLOADED_RATE,
              AlertKind.SERVER_ERROR_RATE, AlertKind.AUTH_ERROR_RATE)
# Kinds about the gateway as a whole or the staff's own work: staff rules only.
STAFF_KINDS = (AlertKind.GATEWAY_LAG, AlertKind.TALLY_OVERDUE)


class WebhookFormat(models.TextChoices):
    GENERIC = "generic", _("JSON, signed (HMAC-SHA256)")
    SLACK = "slack", _("Slack")
    WECOM = "wecom", _("WeCom (企业微信)")
    DINGTALK = "dingtalk", _("DingTalk (钉钉)")
    FEISHU = "feishu", _("Feishu (飞书)")


class AlertRule(models.Model):
    """What to watch, over which window, the threshold, and where to send it.

    `customer` empty: every customer (a staff rule); set: that customer only. Rates are fractions
    (0.2 = 20%), spend thresholds US dollars, a spike threshold a multiple of the trailing average,
    a lag threshold minutes.
    """

    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=32, choices=AlertKind.choices)
    customer = models.ForeignKey("logs.Customer", null=True, blank=True, on_delete=models.CASCADE,
                                 related_name="alert_rules", help_text="Empty: every customer (staff).")
    family = models.CharField(max_length=16, blank=True, help_text="Only this model family (rates).")
    window_minutes = models.PositiveIntegerField(default=60)
    threshold = models.DecimalField(max_digits=14, decimal_places=6)
    min_calls = models.PositiveIntegerField(default=20, help_text="Calls in the window before a rate can fire.")
    remind_hours = models.PositiveIntegerField(default=24, help_text="Remind at most this often while open.")
    emails = models.JSONField(default=list, blank=True)
    webhook_url = models.URLField(max_length=500, blank=True)
    webhook_secret = models.CharField(max_length=200, blank=True)
    webhook_format = models.CharField(max_length=16, choices=WebhookFormat.choices, default=WebhookFormat.GENERIC)
    in_app = models.BooleanField(default=True, help_text="Notify in the app (the bell).")
    enabled = models.BooleanField(default=True)
    created_by = models.ForeignKey("logs.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [models.UniqueConstraint(fields=["customer", "name"], name="alertrule_customer_name_uniq")]

    def __str__(self):
        return self.name
