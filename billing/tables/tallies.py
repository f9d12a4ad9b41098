"""Tables of the tally pages: the base table of logs.tables.base."""
from __future__ import annotations

import django_tables2 as tables
from django.conf import settings
from django.urls import NoReverseMatch, reverse
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import gettext, gettext_lazy as _

from billing.choices import TallyCallStatus, TallyStatus
from billing.models import Tally, TallyCall
from billing.selectors import tally_is_overdue
from billing.services.tally import REPEATED_REASON, tally_amount
from logs.labels import label
from logs.money import usd, usd_total
from logs.tables.base import (
    BADGE_BAD,
    BADGE_OK,
    BaseTable,
    MoneyColumn,
    NumColumn,
    badge,
    category_badge,
    local_time,
)

# The tallies are listed in this order (keyset paging; the primary key breaks ties).
TALLY_ORDER = ("-month", "customer__slug", "id")
STATUS_BADGE = {TallyStatus.DRAFT: "", TallyStatus.APPROVED: "badge-warn", TallyStatus.REJECTED: "badge-bad",
                TallyStatus.CREDITED: "badge-ok"}
CALL_BADGE = {TallyCallStatus.COUNTED: "badge-ok", TallyCallStatus.REPEATED: "badge-warn",
              TallyCallStatus.EXCLUDED: "badge-bad"}


def call_url(pk) -> str:
    try:
        return reverse("logs:call", args=[pk])
    except NoReverseMatch:
        return f"/logs/{pk}/"


class TallyTable(BaseTable):
    month = tables.Column(verbose_name=_("Month"), linkify=("billing:tally", {"pk": tables.A("pk")}))
    customer = tables.Column(accessor="customer", verbose_name=_("Customer"))
    eligible = tables.Column(verbose_name=_("Eligible"))
    status = tables.Column(verbose_name=_("Status"))
    spend_usd = MoneyColumn(verbose_name=_("Spend"), places=2)
    failed_calls = NumColumn(verbose_name=_("Covered"))
    counted_calls = NumColumn(verbose_name=_("Counted"))
    amount = NumColumn(empty_values=(), verbose_name=_("Amount"))
    due_date = tables.Column(verbose_name=_("Due"))
    questions = tables.Column(accessor="open_question", verbose_name=_("Questions"), empty_values=(),
                              orderable=False)

    class Meta(BaseTable.Meta):
        model = Tally
        fields = ()
        sequence = ("month", "customer", "eligible", "status", "questions", "spend_usd", "failed_calls",
                    "counted_calls", "amount", "due_date")
        empty_text = _("No tallies match these filters.")
        attrs = {"class": "tallies"}  # noqa: RUF012
        row_attrs = {"class": lambda record: "overdue" if tally_is_overdue(record) else ""}

    def render_month(self, value):
        return date_format(value, "YEAR_MONTH_FORMAT")  # 2026-06, 2026年6月

    def render_customer(self, value):
        return value.display_name

    def render_eligible(self, value, record):
        if record.computed_at is None:
            return badge(gettext("not computed yet"))
        if value:
            return badge(gettext("eligible"), BADGE_OK)
        return badge(label("ineligible_reason", record.reason) or gettext("not eligible"), title=record.reason or "")

    def render_questions(self, record):
        if not getattr(record, "open_question", False):
            return ""
        return format_html('<a href="{}#questions">{}</a>', reverse("billing:tally", args=[record.pk]),
                           badge(gettext("open question"), "badge-warn"))

    def render_status(self, value, record):
        return badge(record.get_status_display(), STATUS_BADGE.get(record.status, ""))

    def render_amount(self, record):
        if record.computed_at is None:
            return gettext("not computed yet")
        amount = tally_amount(record)
        adjusted = record.approved_usd is not None and record.approved_usd != record.credit_usd
        return format_html("{}{}", usd_total(amount), (" " + gettext("(adjusted)")) if adjusted else "")

    def render_due_date(self, value, record):
        if tally_is_overdue(record):
            return format_html("{} {}", value.isoformat(), badge(gettext("overdue"), BADGE_BAD))
        return value.isoformat()


class TallyCallTable(BaseTable):
    created_at = tables.Column(verbose_name=_("Time"))
    request_id = tables.Column(verbose_name=_("Request ID"))
    model = tables.Column(verbose_name=_("Model"))
    category = tables.Column(verbose_name=_("Category"))
    price_usd = NumColumn(verbose_name=_("Price"))
    status = tables.Column(verbose_name=_("Status"))
    reason = tables.Column(verbose_name=_("Reason"), empty_values=())
    act = tables.Column(empty_values=(), verbose_name="")

    class Meta(BaseTable.Meta):
        model = TallyCall
        fields = ()
        empty_text = _("No covered failed calls.")

    def __init__(self, *args, can_act=False, **kw):
        super().__init__(*args, exclude=() if can_act else ("act",), **kw)

    def render_created_at(self, value):
        return local_time(value)

    def render_request_id(self, value, record):
        if record.call_id is None:
            return value
        return format_html('<a class="mono" href="{}">{}</a>', call_url(record.call_id), value)

    def render_category(self, value):
        return category_badge(value)

    def render_price_usd(self, value, record):
        return format_html("{}{}", usd(value), (" " + gettext("(catalog)")) if record.priced_from_catalog else "")

    def render_status(self, value, record):
        return badge(record.get_status_display(), CALL_BADGE.get(value, ""))

    def render_reason(self, value, record):
        if not value and record.status == TallyCallStatus.REPEATED:
            return gettext(REPEATED_REASON).format(limit=settings.NBAUDIT_PLAN_REPEAT_LIMIT)
        return value

    def render_act(self, record):
        action = "include" if record.status != TallyCallStatus.COUNTED else "exclude"
        text = gettext("re-include…") if action == "include" else gettext("exclude…")
        return format_html('<a href="?call={}&amp;action={}#call-action">{}</a>', record.request_id, action, text)
