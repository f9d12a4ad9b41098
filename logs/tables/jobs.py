"""The Async Tasks page's table: every kind of job a user started (logs.selectors.jobs.JOB_KINDS),
newest first, each row polled by static/js/poll.js through its kind's status endpoint."""
from __future__ import annotations

import django_tables2 as tables
from django.template.defaultfilters import filesizeformat
from django.template.loader import render_to_string
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _, gettext_lazy

from logs.models.jobs import JobStatus
from logs.tables.base import BaseTable, local_time

# What a kind's progress counts (JobKind.unit), as a person reads it.
UNIT_TEXT = {"local rows": gettext_lazy("local rows"),
             "customers": gettext_lazy("customers")}


def _row_id(record) -> str:  # django-tables2 passes the row by this name
    kind = record.job_kind
    return kind.row_id(record) if kind.row_id else f"{kind.name}-{record.pk}"


class JobTable(BaseTable):
    created_at = tables.Column(verbose_name=gettext_lazy("Created"))
    what = tables.Column(verbose_name=gettext_lazy("Task"), accessor="pk", empty_values=())
    status = tables.Column(verbose_name=gettext_lazy("Status"), empty_values=())
    progress = tables.Column(verbose_name=gettext_lazy("Progress"), accessor="rows_done", empty_values=())
    size = tables.Column(verbose_name=gettext_lazy("File size"), empty_values=(),
                         attrs={"td": {"class": "num js-size"}, "th": {"class": "num"}})
    actions = tables.Column(verbose_name="", empty_values=(), accessor="pk")

    class Meta(BaseTable.Meta):
        fields = ()
        # The key columns first: on a phone the table scrolls inside its card, so what the
        # task is, its state, progress and download come before the size and the time.
        sequence = ("what", "status", "progress", "actions", "size", "created_at")
        empty_text = gettext_lazy("No tasks yet. Exports start from the Logs page (Export, at the top right); "
                                  "tally computations, reconciliations and uploads from their pages.")
        attrs = {"class": "tasks"}
        row_attrs = {
            "id": _row_id,
            "data-status": lambda record: record.status,
            "data-status-url": lambda record: record.job_kind.status_url(record),
            "data-kind": lambda record: record.job_kind.name,
            "class": "job",
        }

    def __init__(self, *args, show_owner=False, request=None, **kw):
        super().__init__(*args, **kw)
        self.show_owner = show_owner
        self.request = request

    def render_created_at(self, value):
        return format_html('<span class="nowrap">{}</span>', local_time(value, "%Y-%m-%d %H:%M"))

    def render_what(self, record):
        kind = record.job_kind
        owner = ""
        if self.show_owner and record.created_by_id:
            owner = " · " + _("by %(user)s") % {"user": record.created_by.username}
        title = kind.title(record)
        url = kind.url(record)
        head = format_html('<a href="{}">{}</a>', url, title) if url else title
        return format_html('<div><span class="badge badge-neutral job-kind">{} #{}</span> <span class="mono">{}</span>'
                           '</div><div class="muted small">{}{}</div>', kind.label, record.pk, head,
                           kind.detail(record), owner)

    def render_status(self, record):
        return format_html('<span class="badge {} js-status">{}</span>', JobStatus.badge(record.status),
                           record.get_status_display())

    def render_progress(self, value, record):
        total = record.rows_total
        pct = record.percent
        unit = record.job_kind.unit
        if unit == "rows":
            if total is not None:
                text = _("%(done)s of %(total)s rows") % {"done": f"{value:,}", "total": f"{total:,}"}
            else:
                text = _("%(done)s rows") % {"done": f"{value:,}"}
            counts = format_html('<span class="js-rows">{}</span>', text)
        else:  # poll.js fills in the number done; the total and the unit stay
            done = format_html('<span class="js-rows-done">{}</span>', value)
            words = escape(UNIT_TEXT.get(unit, unit))
            if total is not None:
                counts = mark_safe(_("%(done)s of %(total)s %(unit)s")
                                   % {"done": done, "total": f"{total:,}", "unit": words})
            else:
                counts = mark_safe(_("%(done)s %(unit)s") % {"done": done, "unit": words})
        return format_html(
            '<div class="progress" role="progressbar" aria-valuemin="0" aria-valuemax="100" '
            'aria-valuenow="{}"><span class="js-bar" style="width:{}%"></span></div>'
            '<div class="muted small">{}</div>', pct, pct, counts)

    def render_size(self, record):
        size = getattr(record, "size", None)
        return filesizeformat(size) if size else "—"

    def render_actions(self, record):
        kind = record.job_kind
        if kind.actions:
            return render_to_string(kind.actions, {"record": record}, request=self.request)
        error = format_html('<div class="job-error js-error"{}>{}</div>',
                            "" if record.status == JobStatus.FAILED else mark_safe(" hidden"), record.error)
        url = kind.url(record)
        return format_html('<div class="job-actions"><a class="btn btn-small" href="{}">{}</a></div>{}',
                           url, _("View"), error) if url else error
