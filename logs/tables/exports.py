"""The Async Tasks page's table of export jobs: the base table of logs.tables.base."""
from __future__ import annotations

import django_tables2 as tables
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext, gettext_lazy as _, gettext_noop

from logs.labels import label, model_label
from logs.models import ExportJob
from logs.models.ingest import JobStatus
from logs.tables.base import BaseTable, local_time

BADGE = JobStatus.BADGE


# The filters an export carries, as the Async Tasks page names them.
FILTER_LABELS = {"model": gettext_noop("model"), "category": gettext_noop("category"),
                 "failed": gettext_noop("failed only"), "token_name": gettext_noop("API key"),
                 "http_status": gettext_noop("HTTP status"), "request_id": gettext_noop("request ID"),
                 "channel": gettext_noop("channel"), "family": gettext_noop("family")}


def _filters_text(job: ExportJob) -> str:
    parts = []
    for key, value in (job.filters or {}).items():
        if value in (None, "", [], False):
            continue
        values = value if isinstance(value, list) else [value]
        if key == "model":
            values = [model_label(v) for v in values]
        elif key == "category":
            values = [label("category", v) for v in values]
        shown = gettext("yes") if value is True else ", ".join(str(v) for v in values)
        parts.append(f"{gettext(FILTER_LABELS.get(key, key.replace('_', ' ')))}: {shown}")
    return "; ".join(parts)


class ExportJobTable(BaseTable):
    id = tables.Column(verbose_name="#")
    created_at = tables.Column(verbose_name=_("Created"))
    what = tables.Column(verbose_name=_("Export"), accessor="filename", empty_values=())
    status = tables.Column(verbose_name=_("Status"), empty_values=())
    progress = tables.Column(verbose_name=_("Progress"), accessor="rows_done", empty_values=())
    size = tables.Column(verbose_name=_("Size"), empty_values=(),
                         attrs={"td": {"class": "num js-size"}, "th": {"class": "num"}})
    actions = tables.TemplateColumn(template_name="tasks/_job_actions.html", verbose_name="")

    class Meta(BaseTable.Meta):
        model = ExportJob
        fields = ()
        empty_text = _("No exports yet. Start one from the Logs page: Export, at the top right.")
        attrs = {"class": "tasks"}
        row_attrs = {
            "id": lambda record: f"job-{record.pk}",
            "data-status": lambda record: record.status,
            "data-status-url": lambda record: reverse("logs:task_status", args=[record.pk]),
            "class": "job",
        }

    def __init__(self, *args, show_owner=False, **kw):
        super().__init__(*args, **kw)
        self.show_owner = show_owner

    def render_created_at(self, value):
        return format_html('<span class="nowrap">{}</span>', local_time(value, "%Y-%m-%d %H:%M"))

    def render_what(self, value, record):
        who = record.customer.display_name if record.customer_id else gettext("all customers")
        if record.date_from is None and record.date_to is None:
            days = gettext("any time")
        else:
            days = gettext("%(first)s to %(last)s") % {"first": record.date_from or "…",
                                                        "last": record.date_to or "…"}
        extra = _filters_text(record)
        owner = " · " + gettext("by %(name)s") % {"name": record.owner.username} if self.show_owner else ""
        return format_html('<div class="mono">{}</div><div class="muted small">{} · {}{}{}</div>',
                           value, who, days, f" · {extra}" if extra else "", owner)

    def render_status(self, value, record):
        return format_html('<span class="badge {} js-status">{}</span>', BADGE.get(record.status, ""),
                           record.get_status_display())

    def render_progress(self, value, record):
        total = record.rows_total
        pct = 100 if record.status == JobStatus.DONE else (int(100 * value / total) if total else 0)
        counts = (gettext("%(done)s of %(total)s rows") % {"done": f"{value:,}", "total": f"{total:,}"}
                  if total is not None else gettext("%(done)s rows") % {"done": f"{value:,}"})
        return format_html(
            '<div class="progress" role="progressbar" aria-valuemin="0" aria-valuemax="100" '
            'aria-valuenow="{}"><span class="js-bar" style="width:{}%"></span></div>'
            '<div class="muted small js-rows">{}</div>', pct, pct, counts)

    def render_size(self, value):
        return filesizeformat(value) if value else "—"
