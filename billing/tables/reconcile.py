"""Tables of the reconciliation pages: the base table of logs.tables.base."""
from __future__ import annotations

import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from billing.choices import ReconCategory
from billing.models import Reconciliation, ReconciliationItem
from logs.labels import label
from logs.models.jobs import JobStatus
from logs.tables.base import (
    BADGE_BAD,
    BADGE_OK,
    BADGE_WARN,
    BaseTable,
    MoneyColumn,
    NumColumn,
    badge,
)

# Keyset orders: past reconciliations newest first; a report's items in the order they were found.
RECONCILIATION_ORDER = ("-created_at", "-id")
ITEM_ORDER = ("id",)
CATEGORY_BADGE = {
    ReconCategory.MATCH: BADGE_OK,
    ReconCategory.REIMBURSABLE_FAILURE: BADGE_WARN,
    ReconCategory.MISSING_ON_PLATFORM: BADGE_WARN,
}
STATUS_BADGE = JobStatus.BADGE


def category_badge(code: str) -> str:
    """A reconciliation category as a badge: its label (the code as the title)."""
    return badge(label("recon_category", code), CATEGORY_BADGE.get(code, BADGE_BAD), title=code)


class ReconciliationTable(BaseTable):
    id = tables.Column(verbose_name="#", linkify=("billing:reconciliation", {"pk": tables.A("pk")}))
    created_at = tables.DateTimeColumn(verbose_name=_("Started"), format="Y-m-d H:i")
    customer = tables.Column(accessor="customer", verbose_name=_("Customer"))
    filename = tables.Column(verbose_name=_("Local log"))
    period = tables.Column(empty_values=(), verbose_name=_("Period (UTC+8)"))
    status = tables.Column(verbose_name=_("Status"))
    local_rows = NumColumn(verbose_name=_("Local rows"))
    platform_rows = NumColumn(verbose_name=_("Platform rows"))
    overcharged_usd = MoneyColumn(verbose_name=_("Over-charged"))
    undercharged_usd = MoneyColumn(verbose_name=_("Under-charged"))
    unmatched_charged_usd = MoneyColumn(verbose_name=_("No local record"))

    class Meta(BaseTable.Meta):
        model = Reconciliation
        fields = ()
        sequence = ("id", "created_at", "customer", "filename", "period", "status", "local_rows",
                    "platform_rows", "overcharged_usd", "undercharged_usd", "unmatched_charged_usd")
        empty_text = _("No reconciliations yet.")

    def render_period(self, record):
        if record.date_from and record.date_to:
            return f"{record.date_from} – {record.date_to}"
        return "—"

    def render_customer(self, value):
        return value.display_name

    def render_status(self, record, value):
        return badge(record.get_status_display(), STATUS_BADGE.get(record.status, ""))


class ItemTable(BaseTable):
    request_id = tables.Column(verbose_name=_("Request ID"))
    category = tables.Column(verbose_name=_("Category"))
    platform_category = tables.Column(verbose_name=_("Platform says"))
    local_category = tables.Column(verbose_name=_("Local log says"))
    charges = NumColumn(verbose_name=_("Charges"))
    charged_usd = MoneyColumn(verbose_name=_("Platform charged"))
    expected_usd = MoneyColumn(verbose_name=_("Expected (catalog)"))
    local_charged_usd = MoneyColumn(verbose_name=_("Local log's amount"))
    over_usd = MoneyColumn(verbose_name=_("Over"))
    under_usd = MoneyColumn(verbose_name=_("Under"))
    local_line = NumColumn(verbose_name=_("Local line"))

    class Meta(BaseTable.Meta):
        model = ReconciliationItem
        fields = ()
        # the key columns first (a phone scrolls the rest): what it is, then the three amounts
        sequence = ("request_id", "category", "charged_usd", "expected_usd", "local_charged_usd", "over_usd",
                    "under_usd", "platform_category", "local_category", "charges", "local_line")
        empty_text = _("No request IDs match these filters.")

    def render_request_id(self, record, value):
        if record.call_id:
            return format_html('<a href="{}">{}</a>', reverse("logs:call", args=[record.call_id]), value)
        return value

    def render_category(self, value, record):
        return category_badge(record.category)

    def render_platform_category(self, value):
        return label("category", value)

    def render_local_category(self, value):
        return label("category", value)
