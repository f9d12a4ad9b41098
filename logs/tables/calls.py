"""The Logs page's table (django-tables2). Columns a user can choose; no sorting: newest first."""
from __future__ import annotations

import django_tables2 as tables
from django.urls import reverse
from django.utils import timezone
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe

from logs.choices import Category, group_of
from logs.models import Call

# Shown when the user has not chosen.
DEFAULT_COLUMNS = ("created_at", "request_id", "model", "token_name", "category", "http_status",
                   "images", "latency_ms", "charged_usd")
ALWAYS = ("created_at", "request_id", "category")


def _money(value):
    return "—" if value is None else f"${value:,.6f}".rstrip("0").rstrip(".") if value else "$0"


class CallTable(tables.Table):
    created_at = tables.Column(verbose_name="Time")
    request_id = tables.Column(verbose_name="Request ID")
    customer = tables.Column(accessor="customer__slug", verbose_name="Customer")
    model = tables.Column()
    family = tables.Column(verbose_name="Family")
    token_name = tables.Column(verbose_name="API key")
    category = tables.Column(verbose_name="Category / reason")
    http_status = tables.Column(verbose_name="HTTP", attrs={"td": {"class": "num"}, "th": {"class": "num"}})
    images = tables.Column(attrs={"td": {"class": "num"}, "th": {"class": "num"}})
    drafts = tables.Column(attrs={"td": {"class": "num"}, "th": {"class": "num"}})
    image_size = tables.Column(verbose_name="Size")
    latency_ms = tables.Column(verbose_name="Latency", attrs={"td": {"class": "num"}, "th": {"class": "num"}})
    charged_usd = tables.Column(verbose_name="Charged", attrs={"td": {"class": "num"}, "th": {"class": "num"}})
    expected_usd = tables.Column(verbose_name="Expected", attrs={"td": {"class": "num"}, "th": {"class": "num"}})
    billing_mode = tables.Column(verbose_name="Billing")
    route = tables.Column()
    source = tables.Column()
    finish_reason = tables.Column(verbose_name="Finish reason")
    prompt_tokens = tables.Column(verbose_name="In tokens", attrs={"td": {"class": "num"}, "th": {"class": "num"}})
    output_tokens = tables.Column(verbose_name="Out tokens", attrs={"td": {"class": "num"}, "th": {"class": "num"}})

    class Meta:
        model = Call
        fields = ()
        orderable = False
        empty_text = "No calls match these filters."
        attrs = {"class": "calls"}
        template_name = "logs/_calls_table.html"
        row_attrs = {"class": lambda record: "failed" if record.category != Category.SUCCESS else ""}

    def __init__(self, *args, columns=None, **kw):
        columns = set(columns or DEFAULT_COLUMNS) | set(ALWAYS)
        exclude = [name for name in self.base_columns if name not in columns]
        super().__init__(*args, exclude=exclude, **kw)

    @classmethod
    def column_choices(cls) -> list[tuple[str, str]]:
        return [(name, str(col.verbose_name or name.replace("_", " ").capitalize()))
                for name, col in cls.base_columns.items() if name not in ALWAYS]

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
        return format_html('<span class="nowrap">{}</span>',
                           timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S"))

    def render_request_id(self, value, record):
        return format_html('<a class="mono" href="{}">{}</a>', reverse("logs:call", args=[record.pk]), value)

    def render_category(self, value, record):
        if value == Category.SUCCESS:
            return format_html('<span class="badge badge-ok">{}</span>', record.get_category_display())
        kind = "badge-warn" if group_of(value) == "failed generation" else "badge-bad"
        return format_html('<span class="badge {}" title="{}">{}</span><div class="reason">{}</div>',
                           kind, group_of(value), record.get_category_display(), record.reason)

    def render_latency_ms(self, value, record=None):
        return f"{value / 1000:.1f} s"

    def render_charged_usd(self, value, record=None):
        return _money(value)

    def render_expected_usd(self, value, record=None):
        return _money(value)

    def render_billing_mode(self, value, record):
        return record.get_billing_mode_display()
