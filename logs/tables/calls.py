"""The Logs page's table: the base table, columns a user can choose; no sorting: newest first."""
from __future__ import annotations

import django_tables2 as tables
from django.urls import reverse
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from logs.choices import Category
from logs.labels import label
from logs.models import Call
from logs.tables.base import BaseTable, MoneyColumn, NumColumn, category_badge, local_time, money

# Shown when the user has not chosen.
# The key columns first (time, request, what happened): on a phone the rest scroll into view.
DEFAULT_COLUMNS = ("created_at", "request_id", "category", "model", "token_name", "http_status",
                   "images", "latency_ms", "charged_usd")
ALWAYS = ("created_at", "request_id", "category")


class CallTable(BaseTable):
    created_at = tables.Column(verbose_name=_("Time"))
    request_id = tables.Column(verbose_name=_("Request ID"))
    category = tables.Column(verbose_name=_("Category / reason"))
    customer = tables.Column(accessor="customer", verbose_name=_("Customer"))
    model = tables.Column(verbose_name=_("Model"))
    family = tables.Column(verbose_name=_("Family"))
    token_name = tables.Column(verbose_name=_("API key"))
    http_status = NumColumn(verbose_name=_("HTTP"))
    images = NumColumn(verbose_name=_("Images"))
    drafts = NumColumn(verbose_name=_("Drafts"))
    image_size = tables.Column(verbose_name=_("Size"))
    latency_ms = NumColumn(verbose_name=_("Latency"))
    charged_usd = MoneyColumn(verbose_name=_("Charged"))
    expected_usd = MoneyColumn(verbose_name=_("Expected"))
    billing_mode = tables.Column(verbose_name=_("Billing"))
    route = tables.Column(verbose_name=_("Route"))
    source = tables.Column(verbose_name=_("Source"))
    finish_reason = tables.Column(verbose_name=_("Finish reason"))
    prompt_tokens = NumColumn(verbose_name=_("In tokens"))
    output_tokens = NumColumn(verbose_name=_("Out tokens"))

    always = ALWAYS
    default_columns = DEFAULT_COLUMNS

    class Meta(BaseTable.Meta):
        model = Call
        fields = ()
        empty_text = _("No calls match these filters.")
        attrs = {"class": "calls"}  # noqa: RUF012
        row_attrs = {"class": lambda record: "failed" if record.category != Category.SUCCESS else ""}  # noqa: RUF012

    def body_html(self) -> str:
        """The rows as HTML, rendered directly: django-tables2's per-cell template machinery
        costs ~2 ms a row, most of a Logs page's time. Same render_* methods, same escaping."""
        names = [c.name for c in self.columns]
        renderers = []
        for name in names:
            column = self.columns[name]
            td = column.attrs.get("td", {}).get("class")
            accessor = str(column.accessor).split("__")
            method = getattr(self, f"render_{name}", None)
            renderers.append((f' class="{td}"' if td else "", accessor, method))
        out = []
        for record in self.data:
            cells = []
            for td, accessor, method in renderers:
                value = record
                for part in accessor:
                    value = getattr(value, part, None) if value is not None else None
                if value is None or value == "":
                    html = "—"
                elif method is not None:
                    html = conditional_escape(method(value=value, record=record))
                else:
                    html = conditional_escape(value)
                cells.append(f"<td{td}>{html}</td>")
            failed = ' class="failed"' if record.category != Category.SUCCESS else ""
            out.append(f"<tr{failed}>{''.join(cells)}</tr>")
        return mark_safe("\n".join(out))

    def render_created_at(self, value, record=None):
        return format_html('<span class="nowrap">{}</span>', local_time(value))

    def render_request_id(self, value, record):
        return format_html('<a class="mono" href="{}">{}</a>', reverse("logs:call", args=[record.pk]), value)

    def render_category(self, value, record):
        return category_badge(value, reason=record.reason)

    def render_latency_ms(self, value, record=None):
        return f"{value / 1000:.1f} s"

    def render_charged_usd(self, value, record=None):
        return money(value)

    def render_expected_usd(self, value, record=None):
        return money(value)

    def render_billing_mode(self, value, record):
        return record.get_billing_mode_display()

    def render_customer(self, value, record=None):
        return value.display_name

    def render_family(self, value, record=None):
        return label("family", value)

    def render_source(self, value, record=None):
        return label("source", value)
