"""Tables of alerts (django-tables2): rules, incidents, notifications, deliveries."""
from __future__ import annotations

import django_tables2 as tables
from django.utils.html import format_html
from django.utils.translation import gettext, gettext_lazy as _

from alerts.models import AlertRule, Delivery, Incident, Notification

NUM = {"td": {"class": "num"}, "th": {"class": "num"}}


class AlertRuleTable(tables.Table):
    name = tables.Column(verbose_name=_("Name"), linkify=("alerts:rule", {"pk": tables.A("pk")}))
    kind = tables.Column(verbose_name=_("Kind"))
    customer = tables.Column(empty_values=(), verbose_name=_("Watches"), orderable=False)
    window_minutes = tables.Column(verbose_name=_("Window (min)"), attrs=NUM)
    threshold = tables.Column(verbose_name=_("Threshold"), attrs=NUM)
    enabled = tables.BooleanColumn(verbose_name=_("Enabled"))

    class Meta:
        model = AlertRule
        fields = ()
        sequence = ("name", "kind", "customer", "window_minutes", "threshold", "enabled")
        orderable = False
        empty_text = _("No alert rules yet.")

    def render_kind(self, record):
        return record.get_kind_display()

    def render_customer(self, record):
        return record.customer.display_name if record.customer_id else gettext("Every customer")

    def render_threshold(self, value):
        return f"{value.normalize():f}"


class IncidentTable(tables.Table):
    opened_at = tables.DateTimeColumn(verbose_name=_("Opened"), format="Y-m-d H:i",
                                      linkify=("alerts:incident", {"pk": tables.A("pk")}))
    rule = tables.Column(accessor="rule__name", verbose_name=_("Rule"))
    subject = tables.Column(empty_values=(), verbose_name=_("About"))
    status = tables.Column(verbose_name=_("Status"))
    resolved_at = tables.DateTimeColumn(verbose_name=_("Resolved"), format="Y-m-d H:i")

    class Meta:
        model = Incident
        fields = ()
        sequence = ("opened_at", "rule", "subject", "status", "resolved_at")
        orderable = False
        empty_text = _("No incidents.")

    def render_subject(self, record):
        return record.customer.display_name if record.customer_id else record.subject.split(":", 1)[-1]

    def render_status(self, value, record):
        if record.status == "resolved":
            return format_html('<span class="badge badge-ok">{}</span>', record.get_status_display())
        extra = " · " + gettext("acknowledged") if record.acknowledged_at else ""
        return format_html('<span class="badge badge-bad">{}</span>{}', record.get_status_display(), extra)


class NotificationTable(tables.Table):
    created_at = tables.DateTimeColumn(verbose_name=_("When"), format="Y-m-d H:i")
    title = tables.Column(verbose_name=_("Notification"))
    body = tables.Column(verbose_name="")

    class Meta:
        model = Notification
        fields = ()
        sequence = ("created_at", "title", "body")
        orderable = False
        empty_text = _("No notifications.")
        row_attrs = {"class": lambda record: "" if record.read_at else "unread"}

    def render_title(self, value, record):
        if record.url:
            return format_html('<a href="{}">{}</a>', record.url, value)
        return value


class DeliveryTable(tables.Table):
    created_at = tables.DateTimeColumn(verbose_name=_("Queued"), format="Y-m-d H:i:s")
    channel = tables.Column(verbose_name=_("Channel"))
    target = tables.Column(verbose_name=_("To"))
    status = tables.Column(verbose_name=_("Status"))
    attempts = tables.Column(verbose_name=_("Attempts"), attrs=NUM)
    error = tables.Column(verbose_name=_("Last error"))

    class Meta:
        model = Delivery
        fields = ()
        sequence = ("created_at", "channel", "target", "status", "attempts", "error")
        orderable = False
        empty_text = _("Nothing was sent.")

    def render_target(self, value, record):
        if record.channel == "webhook":
            from urllib.parse import urlsplit

            parts = urlsplit(value)
            return f"{parts.scheme}://{parts.netloc}/…"  # the path may carry a bot's token
        return value
