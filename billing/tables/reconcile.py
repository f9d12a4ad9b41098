"""Tables of the reconciliation pages (django-tables2)."""
from __future__ import annotations

import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html

from billing.choices import ReconCategory
from billing.models import Reconciliation, ReconciliationItem
from logs.models.ingest import JobStatus

NUM = {"td": {"class": "num"}, "th": {"class": "num"}}
CATEGORY_BADGE = {
    ReconCategory.MATCH: "badge-ok",
    ReconCategory.REIMBURSABLE_FAILURE: "badge-warn",
    ReconCategory.MISSING_ON_PLATFORM: "badge-warn",
}
STATUS_BADGE = JobStatus.BADGE


def category_badge(code: str) -> str:
    return format_html('<span class="badge {}">{}</span>', CATEGORY_BADGE.get(code, "badge-bad"), code)


class ReconciliationTable(tables.Table):
    id = tables.Column(verbose_name="#", linkify=("billing:reconciliation", {"pk": tables.A("pk")}))
    created_at = tables.DateTimeColumn(verbose_name="Started", format="Y-m-d H:i")
    customer = tables.Column(accessor="customer__slug", verbose_name="Customer", order_by=("customer__slug",))
    filename = tables.Column(verbose_name="Local log")
    period = tables.Column(empty_values=(), orderable=False, verbose_name="Period (UTC+8)")
    status = tables.Column()
    local_rows = tables.Column(verbose_name="Local rows", attrs=NUM)
    platform_rows = tables.Column(verbose_name="Platform rows", attrs=NUM)
    overcharged_usd = tables.Column(verbose_name="Over-charged", attrs=NUM)
    undercharged_usd = tables.Column(verbose_name="Under-charged", attrs=NUM)
    unmatched_charged_usd = tables.Column(verbose_name="No local record", attrs=NUM)

    class Meta:
        model = Reconciliation
        fields = ()
        sequence = ("id", "created_at", "customer", "filename", "period", "status", "local_rows",
                    "platform_rows", "overcharged_usd", "undercharged_usd", "unmatched_charged_usd")
        order_by = ("-created_at",)
        empty_text = "No reconciliations yet."

    def render_period(self, record):
        if record.date_from and record.date_to:
            return f"{record.date_from} – {record.date_to}"
        return "—"

    def render_status(self, record, value):
        return format_html('<span class="badge {}">{}</span>', STATUS_BADGE.get(record.status, ""), value)


class ItemTable(tables.Table):
    request_id = tables.Column(verbose_name="Request ID")
    category = tables.Column()
    platform_category = tables.Column(verbose_name="Platform says")
    local_category = tables.Column(verbose_name="Local log says")
    charges = tables.Column(verbose_name="Charges", attrs=NUM)
    charged_usd = tables.Column(verbose_name="Charged", attrs=NUM)
    expected_usd = tables.Column(verbose_name="Expected", attrs=NUM)
    over_usd = tables.Column(verbose_name="Over", attrs=NUM)
    under_usd = tables.Column(verbose_name="Under", attrs=NUM)
    local_line = tables.Column(verbose_name="Local line", attrs=NUM)

    class Meta:
        model = ReconciliationItem
        fields = ()
        sequence = ("request_id", "category", "platform_category", "local_category", "charges", "charged_usd",
                    "expected_usd", "over_usd", "under_usd", "local_line")
        orderable = False  # keyset paging by id: the order is fixed
        empty_text = "No request IDs match these filters."

    def render_request_id(self, record, value):
        if record.call_id:
            return format_html('<a href="{}">{}</a>', reverse("logs:call", args=[record.call_id]), value)
        return value

    def render_category(self, value, record):
        return category_badge(record.category)
